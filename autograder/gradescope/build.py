"""``python -m autograder gradescope ASSIGNMENT``: build the Gradescope autograder zip.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once
to build its image, and runs ``run_autograder`` for every submission (see
Gradescope's "autograder specifications").  The zip holds:

* ``setup.sh`` — chooses a Python >= 3.11 (the image's, the distribution's or a
  standalone build), installs CPU torch and the ``grader`` extra's dependencies into
  ``/autograder/venv`` and makes ``/autograder/source`` readable by root only: the
  grader and the suite run from there and are never installed into site-packages;
* ``run_autograder`` — grades the upload (a notebook, or a .zip holding one) with
  :mod:`autograder.gradescope.run`, which writes ``/autograder/results/results.json``;
* ``gradescope.json`` — which assignment, and the grading configuration
  (:class:`autograder.config.GradingConfig`, the same settings as every command);
* the sources: ``pyproject.toml`` and ``autograder`` with this assignment's suite only.

``nntrain``, the solutions and the book are not in the zip: no hidden suite uses
``nntrain`` as an oracle (the suites compare against torch in float64 and exact
properties), so the grader does not need it.
"""

from __future__ import annotations

import os
import subprocess
import zipfile
from collections.abc import Sequence
from pathlib import Path

from autograder.config import GradingConfig
from autograder.spec import ASSIGNMENTS, REPO_ROOT, get_assignment

TEMPLATES = Path(__file__).resolve().parent / "templates"
SUITES = Path("autograder") / "grading" / "suites"
# Files and folders of the repository that the zip carries (relative to REPO_ROOT).
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "autograder")
CONFIG_NAME = "gradescope.json"
# On Gradescope students see each hidden test's result once the grades are published.
TEST_VISIBILITY = "after_published"
_SKIP_PARTS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints"}


def build_zip(assignment: str, out_dir: Path, config: GradingConfig | None = None, *,
              torch_version: str | None = None) -> Path:
    """Write ``<out_dir>/<assignment>_gradescope.zip`` and return its path."""
    get_assignment(assignment)  # a clear error for a wrong name
    config = config or GradingConfig(test_visibility=TEST_VISIBILITY)
    if torch_version is None:
        import torch

        torch_version = torch.__version__.split("+")[0]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{assignment}_gradescope.zip"
    tmp = path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        setup = (TEMPLATES / "setup.sh").read_text().replace("@TORCH_VERSION@", torch_version)
        _add_text(archive, "setup.sh", setup, executable=True)
        _add_text(archive, "run_autograder", (TEMPLATES / "run_autograder").read_text(),
                  executable=True)
        _add_text(archive, CONFIG_NAME, config_text(assignment, config))
        for name in SOURCES:
            source = REPO_ROOT / name
            files = [source] if source.is_file() else sorted(source.rglob("*"))
            for file in files:
                relative = file.relative_to(REPO_ROOT)
                other_suite = (relative.is_relative_to(SUITES) and relative != SUITES
                               and relative.relative_to(SUITES).parts[0] != assignment)
                if file.is_file() and not _SKIP_PARTS.intersection(file.parts) \
                        and not other_suite:
                    archive.write(file, relative.as_posix())
    tmp.replace(path)
    return path


def config_text(assignment: str, config: GradingConfig) -> str:
    """``gradescope.json``: the assignment and the grading configuration, one JSON object."""
    import json

    data = json.loads(config.to_json())
    return json.dumps({"assignment": assignment, "config": data}, indent=2, sort_keys=True) + "\n"


def read_config(text: str) -> tuple[str, GradingConfig]:
    """The assignment and configuration of a ``gradescope.json`` (ConfigError if malformed)."""
    import json

    from autograder.config import ConfigError

    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{CONFIG_NAME} is not valid JSON ({error})") from None
    if not isinstance(data, dict) or data.get("assignment") not in ASSIGNMENTS:
        raise ConfigError(f"{CONFIG_NAME} names no known assignment")
    return data["assignment"], GradingConfig.from_json(json.dumps(data.get("config", {})))


def _add_text(archive: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def simulate(zip_path: Path, root: Path, submission: Path, *, python: str | None = None,
             command_prefix: Sequence[str] = ()) -> subprocess.Popen:
    """Start ``run_autograder`` in a Gradescope-like layout under ``root`` (tests, benchmarks).

    The zip is unpacked into ``root/source`` and the submission (a file, or a folder's
    contents) copied into ``root/submission``; ``python`` (default: this interpreter)
    stands in for the virtual environment setup.sh would have built; run_autograder
    puts the zip's own copy of the grader first on the path, so that it, not this
    checkout, is what runs.
    Returns the running process; the results land in ``root/results/results.json``.
    """
    import shutil
    import sys

    source = root / "source"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(source)
    (root / "submission").mkdir(parents=True)
    (root / "results").mkdir()
    if submission.is_dir():
        shutil.copytree(submission, root / "submission", dirs_exist_ok=True)
    else:
        shutil.copy(submission, root / "submission" / submission.name)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root),
           "AUTOGRADER_PYTHON": python or sys.executable}
    env.pop("PYTHONPATH", None)  # run_autograder puts the zip's source first, as on Gradescope
    return subprocess.Popen([*command_prefix, "bash", str(source / "run_autograder")], env=env,
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
