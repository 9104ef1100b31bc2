"""The zygote: isolates itself once, imports torch once, forks one sandboxed child per request.

Trusted code that never runs student code.  Started by the grader
(:mod:`autograder.sandbox.zygote`) as ``python -I -S -B boot.py FD``: isolated mode,
no site-packages.  It

1. builds a private view of the file system (a mount namespace): empty tmpfs over
   the repository, the packages ``nntrain``/``autograder``, home folders and the
   submissions; the Python standard library and the site-packages holding torch
   re-exposed read-only; everything read-only;
2. imports torch, then forks a :class:`~.child.Child` for each spawn request of the
   grader (the request carries the child's pipes as file descriptors).

When namespaces are unavailable (e.g. an unprivileged container) the zygote says so
in its report; the audit hook and resource limits remain.
Standard library only before isolation (see this folder's ``__init__``).
"""

from __future__ import annotations

import contextlib
import importlib.abc
import os
import signal
import socket
import sys
import traceback
from typing import Any

from . import implementation_guard
from .child import Child
from .framing import recv_json, send_json
from .syscalls import (
    CLONE_NEWNS,
    CLONE_NEWUSER,
    MS_BIND,
    MS_NODEV,
    MS_NOSUID,
    MS_PRIVATE,
    MS_REC,
    make_tree_readonly,
    mount,
    unshare,
    write_file,
)


# ----------------------------------------------------------------------------- import barrier
class RefuseImports(importlib.abc.MetaPathFinder):
    """Meta-path finder that refuses whole top-level packages (defence in depth)."""

    def __init__(self, names: list[str]) -> None:
        self.names = set(names)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {fullname!r} (not available to "
                                      "submissions)", name=fullname)
        return None


# ----------------------------------------------------------------------------- the file system view
def _depth(path: str) -> int:
    return len([p for p in path.split("/") if p])


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def build_view(hide: list[str], expose: list[str]) -> list[str]:
    """Cover ``hide`` with empty tmpfs, bind ``expose`` back read-only, make / read-only."""
    done = []
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    handles = {}
    for path in expose:
        with contextlib.suppress(OSError):
            handles[path] = os.open(path, os.O_PATH | os.O_DIRECTORY)
    covered: list[tuple[str, bool]] = []  # (path, shows the original directory)

    def shows_original(path: str) -> bool:
        nearest = max(((p, original) for p, original in covered if _under(path, p)),
                      key=lambda item: len(item[0]), default=None)
        return nearest is None or nearest[1]

    ops = sorted([(_depth(p), 0, p) for p in hide] + [(_depth(p), 1, p) for p in handles])
    for _, kind, path in ops:
        if kind == 0:
            if os.path.isdir(path) and shows_original(path):
                mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
                covered.append((path, False))
                done.append(f"hid {path}")
        elif not shows_original(path):
            os.makedirs(path, mode=0o755, exist_ok=True)
            mount(f"/proc/self/fd/{handles[path]}", path, None, MS_BIND | MS_REC)
            covered.append((path, True))
            done.append(f"re-exposed {path}")
    for fd in handles.values():
        os.close(fd)
    make_tree_readonly("/")
    return done


# ----------------------------------------------------------------------------- the zygote
class Zygote:
    def __init__(self, sock: socket.socket, config: dict[str, Any]) -> None:
        self.sock = sock
        self.config = config
        self.report: dict[str, Any] = {"mode": "none", "layers": [], "warnings": []}

    def isolate(self) -> None:
        wanted = self.config.get("isolation", "auto")
        hide, expose = self.config["hide"], self.config["expose"]
        if wanted == "none":
            self.report["warnings"].append("isolation was switched off by the caller")
            return
        if os.geteuid() == 0 and wanted in ("auto", "root"):
            try:
                unshare(CLONE_NEWNS)
                steps = build_view(hide, expose)
                self.report["mode"] = "root"
                self.report["layers"].append(
                    "private mount namespace: repository, packages and submissions hidden, "
                    "standard library and site-packages read-only, / read-only")
                self.report["view"] = steps
                return
            except OSError as error:
                self.report["warnings"].append(f"mount namespace unavailable ({error})")
                if wanted == "root":
                    return
        if wanted in ("auto", "userns"):
            try:
                uid, gid = os.geteuid(), os.getegid()
                unshare(CLONE_NEWUSER | CLONE_NEWNS)
                write_file("/proc/self/setgroups", "deny")
                write_file("/proc/self/uid_map", f"0 {uid} 1")
                write_file("/proc/self/gid_map", f"0 {gid} 1")
                steps = build_view(hide, expose)
                self.report["mode"] = "userns"
                self.report["layers"].append(
                    "user and mount namespaces: repository, packages and submissions hidden, "
                    "/ read-only")
                self.report["view"] = steps
                return
            except OSError as error:
                self.report["warnings"].append(f"user namespace unavailable ({error})")
        self.report["warnings"].append(
            "no mount namespace: the repository is hidden only by the audit hook")

    def serve(self) -> None:
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
        while True:
            try:
                request, fds = recv_json(self.sock, max_fds=8)
            except OSError:
                return
            if request is None:
                return
            try:
                pid = os.fork()
            except OSError as error:
                for fd in fds:
                    os.close(fd)
                send_json(self.sock, {"error": f"fork failed: {error}"})
                continue
            if pid == 0:
                try:
                    self.sock.close()
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    Child(request, fds, self.config, self.report).run()
                except BaseException:  # the child must never return into the loop
                    traceback.print_exc()
                os._exit(70)
            for fd in fds:
                os.close(fd)
            send_json(self.sock, {"forked": pid})


# ----------------------------------------------------------------------------- entry point
def main() -> None:
    sock = socket.socket(fileno=int(sys.argv[1]))
    config, _ = recv_json(sock)
    if config is None:
        return
    # No PR_SET_PDEATHSIG here: it fires when the *thread* that started us ends.  The zygote
    # ends when the grader closes the socket instead (also when the grader is killed).
    if os.getppid() != config["parent_pid"]:
        return
    # -I -S left the standard library only; add the site-packages holding torch and numpy.
    sys.path[:] = [p for p in sys.path if os.path.isdir(p)] + config["site_dirs"]
    sys.meta_path.insert(0, RefuseImports(config["refused_packages"]))
    zygote = Zygote(sock, config)
    zygote.isolate()
    import numpy  # noqa: F401 - warm the imports the children share
    import torch

    torch.set_num_threads(1)
    implementation_guard.prepare()
    for name in ("tokenize", "traceback", "linecache", "faulthandler", "resource", "math",
                 "random", "functools", "itertools", "collections", "dataclasses", "typing",
                 "numbers", "statistics", "operator"):
        __import__(name)
    # The children's protocol relies on the transport's decoder knowing how to collect generators.
    send_json(sock, {"ready": True, "report": zygote.report})
    zygote.serve()

