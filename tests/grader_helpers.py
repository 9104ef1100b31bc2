"""Helpers for tests of the grader and of the hidden suites (autograder/DESIGN.md).

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

import nbformat

from autograder.config import GradingConfig
from autograder.grading.runner import grade_submission
from autograder.intake.cells import grade_id, imports_cell, select_answer_cells
from autograder.spec import get_assignment, release_path, solution_path


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    """A notebook as nbformat version 4."""
    return nbformat.read(str(path), as_version=4)


def find_cell(nb: nbformat.NotebookNode, wanted_id: str) -> nbformat.NotebookNode | None:
    """The first cell (code or markdown) whose ``grade_id`` is ``wanted_id``, or ``None``."""
    return next((cell for cell in nb.cells if grade_id(cell) == wanted_id), None)


def graded_cells(nb: nbformat.NotebookNode, assignment: str) -> list[nbformat.NotebookNode]:
    """What the grader runs: the imports cell and each part's answer cell, in notebook order."""
    spec = get_assignment(assignment)
    chosen = {choice.index for choice in select_answer_cells(nb.cells, spec).values()}
    imports = imports_cell(nb.cells)
    if imports is not None:
        chosen.add(imports)
    return [nb.cells[i] for i in sorted(chosen)]


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

    Options: the settings of :class:`autograder.config.GradingConfig` (``device``,
    ``limits``, ``isolation``, ``audit``, ``visibility``, ...), shortcuts for the
    limits (``call_timeout``, ``total_timeout``, ``memory_mb``), and those of
    :func:`autograder.grading.runner.run_suite` (``suite_dir``, ``hide``).
    """
    config = options.pop("config", None) or GradingConfig()
    settings = {key: options.pop(key) for key in list(options)
                if key not in ("suite_dir", "hide")}
    if settings:
        config = config.replace(**settings)
    return grade_submission(assignment, path, config, **options)
