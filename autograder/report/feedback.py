"""What a batch writes besides results.json: a student's feedback and the class's CSVs.

The feedback is Markdown a student reads as plain text: the score once, a table
with one row per graded function (points, tests passed, state), the details only
of what failed, and the written answers named with their points (graded by hand
in nbgrader; their points join the total once a TA has graded them).

The class CSV has one row per student: the status, the submission time, the total
(functions plus written answers, out of the same maximum nbgrader reports), the
two parts of it, and one column per function.  The per-test detail goes into a
second, long-format CSV (student, function, test, points).

A function is *not attempted* when every one of its tests failed because the
released stub's ``NotImplementedError`` was raised; a submission is *not
attempted* when all its functions are.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.report.results import atomic_write_text
from autograder.spec import Assignment

CSV_COLUMNS = ("student", "assignment", "status", "submitted_at", "score", "max_score",
               "functions_score", "functions_max", "manual_score", "manual_max")
TEST_COLUMNS = ("student", "function", "test", "score", "max_score", "status")
NOT_ATTEMPTED = "not attempted"
_STUB = "raised NotImplementedError"


@dataclass(frozen=True)
class Written:
    """The hand-graded written answers of an assignment and, once graded, one student's points."""

    cells: tuple[tuple[str, float], ...]  # (grade id, points) in notebook order
    score: float | None = None  # None: not (fully) graded yet

    @property
    def max_score(self) -> float:
        return float(sum(points for _, points in self.cells))


def read_results(path: Path) -> dict[str, Any] | None:
    """The results.json at ``path``, or None when it is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def part_of(test: dict[str, Any]) -> str:
    tags = test.get("tags") or []
    return str(tags[0]) if tags else str(test.get("name", "?")).split(":", 1)[0]


def part_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Per function, in suite order: points, maximum, tests passed, tests, state, failures."""
    rows: dict[str, dict[str, Any]] = {}
    for test in results.get("tests", []):
        if test.get("max_score", 0) == 0 and test.get("name") == "Submission":
            continue  # Gradescope's visible submission check, not a test of a function
        row = rows.setdefault(part_of(test), {"score": 0.0, "max": 0.0, "passed": 0, "tests": 0,
                                              "failures": []})
        row["score"] += float(test.get("score", 0))
        row["max"] += float(test.get("max_score", 0))
        row["tests"] += 1
        if test.get("status") == "passed":
            row["passed"] += 1
        else:
            row["failures"].append(test)
    out = []
    for name, row in rows.items():
        failures = row["failures"]
        if not failures:
            state = "ok"
        elif row["passed"] == 0 and all(_STUB in (t.get("output") or "") for t in failures):
            state = NOT_ATTEMPTED
        else:
            state = "partly" if row["score"] else "failed"
        out.append({"part": name, **row, "state": state})
    return out


def submission_status(results: dict[str, Any] | None) -> str:
    """``ok``, ``not attempted``, or why the score is not a grade (missing, error, ...)."""
    if results is None:
        return "missing"
    status = str(results.get("extra_data", {}).get("status", "ok"))
    rows = part_rows(results)
    if status == "ok" and rows and all(r["state"] == NOT_ATTEMPTED for r in rows):
        return NOT_ATTEMPTED
    return status


def result_notes(results: dict[str, Any]) -> list[str]:
    """The lines of results.json's ``output`` under its score line (the notes, the reasons)."""
    lines = (results.get("output") or "").strip().splitlines()
    return lines[1:] if lines and lines[0].startswith("Score:") else lines


def max_score(results: dict[str, Any]) -> float:
    return float(sum(t.get("max_score", 0) for t in results.get("tests", [])))


def render_feedback(results: dict[str, Any], written: Written | None = None) -> str:
    """Markdown feedback for one student."""
    extra = results.get("extra_data", {})
    title = extra.get("assignment", "assignment")
    functions_max = max_score(results) or float(extra.get("max_score", 0))
    score = float(results.get("score", 0))
    lines = [f"# Feedback: {title}", ""]
    if written and written.cells and written.score is not None:
        lines.append(f"**Score: {_points(score + written.score)} / "
                     f"{_points(functions_max + written.max_score)}** (functions "
                     f"{_points(score)} / {_points(functions_max)}, written answers "
                     f"{_points(written.score)} / {_points(written.max_score)})")
    elif written and written.cells:
        lines.append(f"**Score: {_points(score)} / {_points(functions_max)} for the functions**;"
                     f" the written answers ({_points(written.max_score)} more points, out of "
                     f"{_points(functions_max + written.max_score)} in all) are graded by hand")
    else:
        lines.append(f"**Score: {_points(score)} / {_points(functions_max)}**")
    notes = result_notes(results)
    if notes:
        lines += ["", *notes]
    rows = part_rows(results)
    if rows:
        lines += ["", "| Function | Points | Tests passed | |", "|---|---:|---:|---|"]
        for row in rows:
            lines.append(f"| `{row['part']}` | {_points(row['score'])} / {_points(row['max'])} |"
                         f" {row['passed']} / {row['tests']} | {row['state']} |")
    failed = [row for row in rows if row["failures"] and row["state"] != NOT_ATTEMPTED]
    if failed:
        lines += ["", "## What failed"]
        for row in failed:
            lines += ["", f"### `{row['part']}`", ""]
            for test in row["failures"]:
                name = str(test.get("name", "?")).split(": ", 1)[-1]
                message = (test.get("output") or "failed").strip().replace("\n", "\n  ")
                lines.append(f"- {name}: {message}")
    if written and written.cells:
        cells = ", ".join(f"`{cell}` ({_points(points)})" for cell, points in written.cells)
        state = ("graded" if written.score is not None
                 else "graded by hand in nbgrader; not graded yet")
        lines += ["", "## Written answers", "", f"{cells}: {state}."]
    return "\n".join(lines) + "\n"


def write_feedback(path: Path, results: dict[str, Any], written: Written | None = None) -> None:
    atomic_write_text(path, render_feedback(results, written))


def write_class_csv(path: Path, assignment: Assignment,
                    results_by_student: dict[str, dict[str, Any] | None], *,
                    written: dict[str, Written] | None = None,
                    submitted_at: dict[str, str | None] | None = None,
                    written_cells: tuple[tuple[str, float], ...] = ()) -> None:
    """One row per student: status, time, total and its parts, one column per function."""
    written = written or {}
    submitted_at = submitted_at or {}
    parts = [part.name for part in assignment.parts]
    manual_max = Written(written_cells).max_score
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*CSV_COLUMNS, *parts])
    for student, results in sorted(results_by_student.items()):
        functions = float((results or {}).get("score", 0))
        mine = written.get(student)
        manual = mine.score if mine is not None else None
        subtotals = {row["part"]: row["score"] for row in part_rows(results or {})}
        writer.writerow([
            student, assignment.name, submission_status(results), submitted_at.get(student) or "",
            _points(functions + (manual or 0)), _points(assignment.total_points + manual_max),
            _points(functions), _points(assignment.total_points),
            "" if manual is None else _points(manual), _points(manual_max),
            *(_points(subtotals[name]) if name in subtotals else "" for name in parts),
        ])
    atomic_write_text(path, buffer.getvalue())


def write_tests_csv(path: Path, results_by_student: dict[str, dict[str, Any] | None]) -> None:
    """Every test of every student, one row each (the detail behind the class CSV)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(TEST_COLUMNS)
    for student, results in sorted(results_by_student.items()):
        for test in (results or {}).get("tests", []):
            name = str(test.get("name", "?"))
            writer.writerow([student, part_of(test), name.split(": ", 1)[-1],
                             _points(test.get("score", 0)), _points(test.get("max_score", 0)),
                             test.get("status", "")])
    atomic_write_text(path, buffer.getvalue())


def _points(value: Any) -> str:
    number = float(value or 0)
    return str(int(number)) if number.is_integer() else f"{number:.2f}"
