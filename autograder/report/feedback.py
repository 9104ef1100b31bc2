"""What a batch writes besides results.json: a student's feedback and the class CSV.

The feedback is Markdown a student can read as plain text: the score, then one
line per hidden test with its points and, when it failed, the message the
suite wrote for the student.  The CSV has one row per student and one column per
test, plus a ``status`` column that says whether the score is a grade
(``ok``) or why it is not (``timeout``, ``crashed``, ``invalid``, ``error``).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from autograder.report.results import atomic_write_text
from autograder.spec import Assignment

STATUS_COLUMNS = ("student", "assignment", "score", "max_score", "status")


def read_results(path: Path) -> dict[str, Any] | None:
    """The results.json at ``path``, or None when it is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def submission_status(results: dict[str, Any] | None) -> str:
    if results is None:
        return "missing"
    return str(results.get("extra_data", {}).get("status", "ok"))


def max_score(results: dict[str, Any]) -> float:
    return float(sum(t.get("max_score", 0) for t in results.get("tests", [])))


def render_feedback(results: dict[str, Any]) -> str:
    """Markdown feedback for one student."""
    extra = results.get("extra_data", {})
    title = extra.get("assignment", "assignment")
    total = max_score(results) or extra.get("max_score", 0)
    lines = [f"# Feedback: {title}", "", f"**Score: {_points(results.get('score', 0))} / "
             f"{_points(total)}**", ""]
    if results.get("output"):
        lines += [results["output"].strip(), ""]
    tests = results.get("tests", [])
    if tests:
        lines += ["| | test | points |", "|---|---|---|"]
        for test in tests:
            mark = "pass" if test.get("status") == "passed" else "FAIL"
            lines.append(f"| {mark} | {test.get('name', '?')} | "
                         f"{_points(test.get('score', 0))} / {_points(test.get('max_score', 0))} |")
        failures = [t for t in tests if t.get("status") != "passed" and t.get("output")]
        if failures:
            lines += ["", "## What went wrong", ""]
            for test in failures:
                message = test["output"].strip().replace("\n", "\n  ")
                lines.append(f"- **{test.get('name', '?')}**: {message}")
    return "\n".join(lines) + "\n"


def write_feedback(path: Path, results: dict[str, Any]) -> None:
    atomic_write_text(path, render_feedback(results))


def write_class_csv(path: Path, assignment: Assignment,
                    results_by_student: dict[str, dict[str, Any] | None]) -> None:
    """One row per student; test columns in the order the suite reported them."""
    test_names: list[str] = []
    for results in results_by_student.values():
        for test in (results or {}).get("tests", []):
            if test.get("name") not in test_names:
                test_names.append(test.get("name"))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*STATUS_COLUMNS, *test_names])
    for student, results in sorted(results_by_student.items()):
        scores = {t.get("name"): t.get("score", 0) for t in (results or {}).get("tests", [])}
        writer.writerow([
            student, assignment.name,
            _points((results or {}).get("score", 0)), _points(assignment.total_points),
            submission_status(results),
            *(_points(scores[name]) if name in scores else "" for name in test_names),
        ])
    atomic_write_text(path, buffer.getvalue())


def _points(value: Any) -> str:
    number = float(value or 0)
    return str(int(number)) if number.is_integer() else f"{number:.2f}"
