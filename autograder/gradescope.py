"""``python -m autograder gradescope ASSIGNMENT``: build the Gradescope autograder zip.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once
to build its image, and runs ``run_autograder`` for every submission (see
Gradescope's "autograder specifications").  The zip holds:

* ``setup.sh`` — installs CPU torch and this project (grader, hidden suites,
  ``nntrain`` as the suites' oracle) with its ``grader`` extra;
* ``run_autograder`` — grades ``/autograder/submission/*.ipynb`` with
  :mod:`autograder.gradescope_run`, which writes ``/autograder/results/results.json``;
* ``gradescope.json`` — which assignment, and who sees what when;
* the sources: ``pyproject.toml``, ``src/nntrain``, ``autograder`` (suites included).

The solutions and the book are not in the zip.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import zipfile
from collections.abc import Sequence
from pathlib import Path

from autograder.spec import ASSIGNMENTS, get_assignment

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "templates"
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
# Files and folders of the repository that the zip carries (relative to REPO_ROOT).
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "src/nntrain", "autograder")
_SKIP_PARTS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", choices=sorted(ASSIGNMENTS))
    parser.add_argument("--out", type=Path, default=Path("gradescope"),
                        help="folder for the zip (default: ./gradescope)")
    parser.add_argument("--test-visibility", choices=VISIBILITIES, default="after_published",
                        help="when students see each hidden test (default: after_published)")
    parser.add_argument("--visibility", choices=VISIBILITIES, default="visible",
                        help="when students see their total score (default: visible)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--torch-version", default=None,
                        help="torch version setup.sh installs (default: the one installed here)")


def run(args: argparse.Namespace) -> int:
    path = build_zip(args.assignment, args.out, test_visibility=args.test_visibility,
                     visibility=args.visibility, device=args.device,
                     torch_version=args.torch_version)
    print(f"wrote {path}: upload it as the assignment's autograder on Gradescope")
    return 0


def build_zip(assignment: str, out_dir: Path, *, test_visibility: str = "after_published",
              visibility: str = "visible", device: str = "auto",
              torch_version: str | None = None) -> Path:
    """Write ``<out_dir>/<assignment>_gradescope.zip`` and return its path."""
    get_assignment(assignment)  # a clear error for a wrong name
    if torch_version is None:
        import torch

        torch_version = torch.__version__.split("+")[0]
    config = {"assignment": assignment, "test_visibility": test_visibility,
              "visibility": visibility, "device": device}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{assignment}_gradescope.zip"
    tmp = path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        setup = (TEMPLATES / "setup.sh").read_text().replace("@TORCH_VERSION@", torch_version)
        _add_text(archive, "setup.sh", setup, executable=True)
        _add_text(archive, "run_autograder", (TEMPLATES / "run_autograder").read_text(),
                  executable=True)
        _add_text(archive, "gradescope.json", json.dumps(config, indent=2) + "\n")
        for name in SOURCES:
            source = REPO_ROOT / name
            files = [source] if source.is_file() else sorted(source.rglob("*"))
            for file in files:
                if file.is_file() and not _SKIP_PARTS.intersection(file.parts):
                    archive.write(file, file.relative_to(REPO_ROOT).as_posix())
    tmp.replace(path)
    return path


def _add_text(archive: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def simulate(zip_path: Path, root: Path, submission: Path, *, python: str | None = None,
             command_prefix: Sequence[str] = ()) -> subprocess.Popen:
    """Start ``run_autograder`` in a Gradescope-like layout under ``root`` (tests, benchmarks).

    The zip is unpacked into ``root/source`` and the submission copied into
    ``root/submission``; ``python`` (default: this interpreter) stands in for the
    virtual environment setup.sh would have built, and the zip's own copy of the
    grader is put first on its path so that it, not this checkout, is what runs.
    Returns the running process; the results land in ``root/results/results.json``.
    """
    import shutil
    import sys

    source = root / "source"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(source)
    (root / "submission").mkdir(parents=True)
    (root / "results").mkdir()
    shutil.copy(submission, root / "submission" / submission.name)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root),
           "AUTOGRADER_PYTHON": python or sys.executable,
           "PYTHONPATH": os.pathsep.join([str(source), str(source / "src")])}
    return subprocess.Popen([*command_prefix, "bash", str(source / "run_autograder")], env=env,
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
