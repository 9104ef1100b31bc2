"""When a stored result may be reused: the resume key of a batch.

A submission's ``results.json`` records the key it was graded under
(``extra_data.resume_key``); a later batch reuses it only while every component is
unchanged:

* ``notebook``: the sha256 of the submitted file;
* ``config``: the verdict-relevant grading configuration
  (:meth:`autograder.config.GradingConfig.verdict_key`: device, limits, visibility, ...);
* ``suite``: a digest of the assignment's hidden suite and the checks and fixtures it uses;
* ``grader``: a digest of the rest of the grader's code and the torch version (less the
  code that only reads finished results, :data:`AFTER_GRADING`).

:func:`stale_reasons` says which changed, so a regrade can tell the instructor why.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from functools import cache
from pathlib import Path
from typing import Any

from autograder.config import GradingConfig

PACKAGE_DIR = Path(__file__).resolve().parent.parent
SUITES_DIR = PACKAGE_DIR / "grading" / "suites"
# What a suite runs besides its own folder.
SUITE_SUPPORT = (PACKAGE_DIR / "grading" / "checks.py", PACKAGE_DIR / "grading" / "fixtures.py")
_SKIP = {"__pycache__", ".pytest_cache"}
# Code that only reads finished results (the class report, the regrade diff): editing it
# cannot change a verdict, so it does not make a class's results stale.
AFTER_GRADING = tuple(PACKAGE_DIR / p for p in (
    "commands/report.py", "report/class_report.py", "report/class_page.py",
    "report/similarity.py", "batch/regrade.py"))


def _digest(files: list[Path], root: Path) -> str:
    hasher = hashlib.sha256()
    for path in sorted(files):
        hasher.update(path.relative_to(root).as_posix().encode() + b"\0")
        hasher.update(hashlib.sha256(path.read_bytes()).digest())
    return hasher.hexdigest()


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not _SKIP & set(p.parts)
            and p.suffix not in (".pyc", ".pyo")]


@cache
def suite_digest(assignment: str) -> str:
    """The hidden suite of ``assignment``, with the checks and fixtures it imports."""
    return _digest([*_files(SUITES_DIR / assignment), *SUITE_SUPPORT], PACKAGE_DIR)


@cache
def grader_digest() -> str:
    """The grader's code outside the suites, and the torch it grades with."""
    files = [p for p in _files(PACKAGE_DIR) if not p.is_relative_to(SUITES_DIR)
             and p not in SUITE_SUPPORT and p not in AFTER_GRADING]
    try:
        torch_version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        torch_version = "none"
    return f"{_digest(files, PACKAGE_DIR)[:32]}+torch-{torch_version}"


def resume_key(assignment: str, notebook_sha256: str | None,
               config: GradingConfig) -> dict[str, Any]:
    return {"notebook": notebook_sha256, "config": config.verdict_key(),
            "suite": suite_digest(assignment), "grader": grader_digest()}


_WHY = {"notebook": "the submitted notebook changed", "config": "the grading configuration "
        "changed", "suite": "the hidden suite changed", "grader": "the grader changed"}


def stale_reasons(recorded: Any, current: dict[str, Any]) -> list[str]:
    """Why a stored result cannot be reused (empty: it can)."""
    if not isinstance(recorded, dict):
        return ["no resume key was recorded"]
    reasons = []
    for name, why in _WHY.items():
        if recorded.get(name) != current[name]:
            if name == "config" and isinstance(recorded.get(name), dict):
                changed = sorted(k for k in current[name]
                                 if recorded[name].get(k) != current[name][k])
                why += f" ({', '.join(changed)})" if changed else ""
            reasons.append(why)
    return reasons
