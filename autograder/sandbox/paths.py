"""Which folders the sandbox hides from the child and which it shows it (read-only).

:func:`zygote_config` is the zygote's whole configuration: the standard library
and the site-packages holding torch are exposed read-only; the repository, the
``autograder`` and ``nntrain`` packages, home folders and the submissions are
covered by empty folders.
"""

from __future__ import annotations

import grp
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the autograder package
INSIDE_DIR = Path(__file__).resolve().parent / "inside"
BOOT_SCRIPT = INSIDE_DIR / "boot.py"


def _site_dirs() -> list[str]:
    """The site-packages folders the child needs: torch's, numpy's and the interpreter's."""
    dirs: list[str] = []
    for name in ("torch", "numpy"):
        spec = importlib.util.find_spec(name)
        if spec and spec.submodule_search_locations:
            dirs.append(str(Path(next(iter(spec.submodule_search_locations))).resolve().parent))
    for entry in sys.path:
        if entry.endswith(("site-packages", "dist-packages")) and os.path.isdir(entry):
            dirs.append(str(Path(entry).resolve()))
    return list(dict.fromkeys(dirs))


def _package_dir(name: str) -> str | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec and spec.submodule_search_locations:
        return str(Path(next(iter(spec.submodule_search_locations))).resolve())
    return None


def _world_readable(path: str) -> bool:
    """True when "others" may traverse every ancestor of ``path`` and read it."""
    current = Path(path)
    try:
        if os.stat(current).st_mode & 5 != 5:
            return False
        for parent in current.parents:
            if not os.stat(parent).st_mode & 0o001:
                return False
    except OSError:
        return False
    return True


def secret_paths() -> list[str]:
    """What the child must never read: the repository, the grader, nntrain and the solutions."""
    paths = [str(PACKAGE_DIR)]
    repository = PACKAGE_DIR.parent
    site = _site_dirs()
    if str(repository) not in site:  # a checkout, not an installed package
        paths.append(str(repository))
    for name in ("nntrain",):
        found = _package_dir(name)
        if found:
            paths.append(found)
            parent = str(Path(found).parent)
            if parent not in site and Path(parent).name == "src":
                paths.append(parent)
    return list(dict.fromkeys(paths))


def _stdlib_dirs() -> list[str]:
    """The standard library's folders (the pure-Python one and the compiled extensions')."""
    import math

    dirs = [os.path.dirname(os.__file__)]
    if getattr(math, "__file__", None):
        dirs.append(os.path.dirname(math.__file__))
    return [str(Path(d).resolve()) for d in dict.fromkeys(dirs)]


def _torch_distributions() -> list[str]:
    """Top-level entries of site-packages that belong to torch, numpy and what they require."""
    import importlib.metadata as metadata
    import re

    entries: set[str] = set()
    seen: set[str] = set()
    queue = ["torch", "numpy"]
    while queue:
        name = re.split(r"[ ;<>=!~\[(]", queue.pop(), maxsplit=1)[0].lower().replace("_", "-")
        if not name or name in seen:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        queue += [r for r in dist.requires or [] if "extra ==" not in r]
        for file in dist.files or []:
            top = file.parts[0] if file.parts else ""
            if top == "__pycache__":  # shared with other distributions: only its own files
                entries.add(str(Path(str(dist.locate_file(file))).resolve()))
            elif top and top != ".." and not top.endswith(".pth"):
                entries.add(str(Path(str(dist.locate_file(top))).resolve()))
    return sorted(entries)


def landlock_paths() -> dict[str, list[str]]:
    """The child's allow-list (:mod:`autograder.sandbox.inside.landlock`): what it may read."""
    arch = os.uname().machine
    base_lib = Path(sys.base_prefix) / "lib"
    system = ["/usr/lib64", "/lib64", f"/usr/lib/{arch}-linux-gnu", f"/lib/{arch}-linux-gnu",
              "/etc/ld.so.cache", "/etc/localtime", "/sys", "/dev/urandom",
              # /proc/self resolves, in the child, to its own folder: Landlock does not stop
              # a root child from reading /proc/PID/environ of the grader.
              "/proc/self", "/proc/thread-self", "/proc/cpuinfo", "/proc/meminfo",
              "/proc/stat",
              "/dev/random", "/dev/zero", "/dev/null"]
    devices = [f"/dev/{name}" for name in (os.listdir("/dev") if os.path.isdir("/dev") else [])
               if name.startswith("nvidia")]
    return {"read": [*_stdlib_dirs(), *(str(p) for p in sorted(base_lib.glob("libpython*"))),
                     *_torch_distributions(), *system, *devices],
            "list": _site_dirs(),
            "write": ["/dev/null", *devices]}


def probe_paths() -> list[str]:
    """Files of the grader that must not open in the child (checked before grading)."""
    probes = [str(PACKAGE_DIR / "__init__.py"), str(PACKAGE_DIR / "spec.py")]
    probes += [str(p) for p in sorted((PACKAGE_DIR / "grading" / "suites").glob("*/test_*.py"))[:1]]
    nntrain = _package_dir("nntrain")
    if nntrain:
        probes.append(str(Path(nntrain) / "__init__.py"))
    solutions = PACKAGE_DIR.parent / "solutions" / "source"
    probes += [str(p) for p in sorted(solutions.glob("*/*.ipynb"))[:1]]
    return probes


def zygote_config(isolation: str, audit: bool) -> dict[str, Any]:
    stdlib = _stdlib_dirs()
    site = _site_dirs()
    expose = list(dict.fromkeys(
        [os.path.join(sys.prefix, "lib"), os.path.join(sys.base_prefix, "lib"), *stdlib, *site]))
    secrets = secret_paths()
    hide = [*secrets, "/root", "/home", "/autograder", "/srv", "/mnt", "/media",
            os.getcwd(), os.path.expanduser("~")]
    hide = [p for p in dict.fromkeys(str(Path(h).resolve()) for h in hide) if p != "/"]
    try:
        nogroup = grp.getgrnam("nogroup").gr_gid
    except KeyError:
        nogroup = 65534
    return {
        "parent_pid": os.getpid(),
        "site_dirs": site,
        "expose": [p for p in expose if os.path.isdir(p)],
        "hide": hide,
        "protected": secrets,
        "refused_packages": ["nntrain", "autograder"],
        "isolation": isolation,
        "audit": audit,
        "uid_base": 1_000_000_000,
        "gid": nogroup,
        "stdlib_world_readable": all(_world_readable(d) for d in stdlib),
        "landlock": landlock_paths(),
        "probes": probe_paths(),
    }
