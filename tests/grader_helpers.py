"""Helpers for tests of the grader and of the hidden suites (GRADER.md, "Test helpers").

``make_submission`` writes a copy of an assignment's solution (or released)
notebook with the answer cells of some parts replaced; ``grade_notebook`` grades
a notebook through the real grader code path and returns its results dict.
``write_notebook`` builds a notebook from scratch (for loader tests and for
submissions that do not start from a course notebook).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from autograder.notebook import release_path, solution_path
from autograder.runner import grade_submission
from autograder.sandbox import Limits


def _grade_id(cell: dict[str, Any]) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _code_cell(source: str, grade_id: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if grade_id is not None:
        metadata["nbgrader"] = {"grade_id": grade_id, "solution": grade_id != "imports",
                                "grade": False, "locked": grade_id == "imports",
                                "schema_version": 3}
    return {"cell_type": "code", "execution_count": None, "metadata": metadata, "outputs": [],
            "source": source}


def make_submission(assignment: str, tmp_path: str | Path,
                    replace: dict[str, str] | None = None, *, source: str = "solution",
                    extra_cells: Sequence[str] = (), filename: str | None = None,
                    base: str | Path | None = None) -> Path:
    """A copy of the ``source`` notebook ("solution" or "release") with parts replaced.

    ``replace`` maps a part's name to the code of its new answer cell;
    ``extra_cells`` are appended as untagged code cells (exploratory cells, which
    the grader must never run); ``base`` overrides the notebook that is copied.
    The file is written to ``tmp_path / filename`` (default ``<assignment>.ipynb``).
    """
    if base is None:
        if source not in ("solution", "release"):
            raise ValueError(f"source must be 'solution' or 'release', got {source!r}")
        base = solution_path(assignment) if source == "solution" else release_path(assignment)
    notebook = json.loads(Path(base).read_text(encoding="utf-8"))
    remaining = dict(replace or {})
    for cell in notebook["cells"]:
        name = _grade_id(cell)
        if cell.get("cell_type") == "code" and name in remaining:
            cell["source"] = remaining.pop(name)
            cell["outputs"] = []
    if remaining:
        raise KeyError(f"{base} has no answer cell for {sorted(remaining)}")
    notebook["cells"].extend(_code_cell(code) for code in extra_cells)
    path = Path(tmp_path) / (filename or f"{assignment}.ipynb")
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path


def write_notebook(path: str | Path, cells: Iterable[tuple[str | None, str]], *,
                   nbformat: int = 4) -> Path:
    """Write a notebook whose code cells are ``(grade_id or None, source)`` pairs."""
    notebook = {"cells": [_code_cell(source, grade_id) for grade_id, source in cells],
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                            "language": "python"}},
                "nbformat": nbformat, "nbformat_minor": 5}
    path = Path(path)
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path


def grade_notebook(assignment: str, path: str | Path, **options: Any) -> dict[str, Any]:
    """The results.json dict of ``path``, through the real grader code path.

    Options are those of :func:`autograder.runner.run_suite` (``device``,
    ``limits``, ``suite_dir``, ``isolation``, ``audit``, ...) plus shortcuts for
    the limits: ``call_timeout``, ``total_timeout``, ``memory_mb``.
    """
    shortcuts = {key: options.pop(key) for key in ("call_timeout", "total_timeout", "memory_mb")
                 if key in options}
    if shortcuts:
        limits = options.pop("limits", None) or Limits()
        for key, value in shortcuts.items():
            setattr(limits, key, value)
        options["limits"] = limits
    return grade_submission(assignment, path, **options)
