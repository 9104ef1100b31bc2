"""Gradescope's results.json: build it from a grading run, validate it, write it atomically.

Format (Gradescope autograder specification)::

    {"score": 87.0, "execution_time": 3.2, "output": "...", "visibility": "visible",
     "tests": [{"name": "relu: test_relu_matches_torch", "score": 3, "max_score": 3,
                "status": "passed", "output": "", "visibility": "visible", "tags": ["relu"]}],
     "extra_data": {...}}

The schema of that format ships in ``autograder/schemas``; every file the grader
writes is checked against it first.  A results file is always written, also
when the submission is unreadable (score 0 and the reason in ``output``) or the
grader itself failed (then ``extra_data.grader_failed`` is true).
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder.config import VISIBILITIES

if TYPE_CHECKING:
    from autograder.grading.outcome import GradeRun

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "gradescope_results.schema.json"


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(float(value), 4)


def build_results(run: GradeRun, *, visibility: str = "visible",
                  test_visibility: str | None = None) -> dict[str, Any]:
    """The results dict of one grading run (score = sum of the passed tests' points).

    ``visibility`` is the score's, ``test_visibility`` each test's (default: the same).
    """
    test_visibility = test_visibility or visibility
    for value in (visibility, test_visibility):
        if value not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {VISIBILITIES}, got {value!r}")
    part_order = {part.name: i for i, part in enumerate(run.assignment.parts)}
    outcomes = sorted(run.outcomes, key=lambda o: (part_order.get(o.part or "", len(part_order)),
                                                   o.order))
    tests = []
    for outcome in outcomes:
        ok = outcome.ok
        if ok:
            output = ""
        elif outcome.messages:
            output = "\n".join(dict.fromkeys(outcome.messages[:3]))
        elif outcome.skipped:
            output = "not run (skipped)"
        else:
            output = "not run"
        test: dict[str, Any] = {
            "name": f"{outcome.part}: {outcome.name}" if outcome.part else outcome.name,
            "score": _number(outcome.points if ok else 0),
            "max_score": _number(outcome.points),
            "status": "passed" if ok else "failed",
            "output": output,
            "visibility": test_visibility,
        }
        if outcome.part:
            test["tags"] = [outcome.part]
        tests.append(test)
    score = sum(test["score"] for test in tests)
    maximum = sum(test["max_score"] for test in tests)
    lines = [f"Score: {_number(score)} / {_number(maximum)}"]
    if run.submission.fatal:
        lines.append(f"Your notebook could not be graded: {run.submission.fatal}")
    problems = [p for p in dict.fromkeys(run.problems) if p != run.submission.fatal]
    if problems:
        lines.append("Notes on your submission:")
        lines += [f"- {problem}" for problem in problems[:40]]
    if run.grader_failed:
        lines.append("The grader itself failed while grading this submission (this is not a "
                     "problem of your notebook; your instructor has been told):")
        lines += [f"- {problem}" for problem in run.suite_problems[:10]]
    return {
        "score": _number(score),
        "execution_time": round(run.elapsed, 3),
        "output": "\n".join(lines),
        "visibility": visibility,
        "tests": tests,
        "extra_data": {
            "assignment": run.assignment.name,
            "submission": run.submission.path.name,
            "max_score": _number(maximum),
            "isolation": run.isolation,
            "isolation_warnings": run.warnings,
            "status": ("grader_error" if run.grader_failed
                       else "unreadable" if run.submission.fatal else "ok"),
            "grader_failed": run.grader_failed,
            "grader_problems": run.suite_problems,
            "peak_rss_mb": (round(run.peak_rss_mb, 1) if run.peak_rss_mb is not None
                            else None),
            # what the per-call limits are measured against (autograder check prints it)
            "slowest_call": ({"seconds": round(run.slowest_call[0], 4),
                              "call": run.slowest_call[1]} if run.slowest_call else None),
        },
    }


def error_results(assignment: str, reason: str, elapsed: float = 0.0, *,
                  grader_failed: bool = False) -> dict[str, Any]:
    """Results for a submission that could not be graded at all (score 0, ``reason`` shown)."""
    from autograder.spec import ASSIGNMENTS

    spec = ASSIGNMENTS.get(assignment)
    if grader_failed:
        text = ("The grader itself failed while grading this submission (this is not a problem "
                f"of your notebook; your instructor has been told): {reason}")
    else:
        text = f"Your submission could not be graded: {reason}"
    return {
        "score": 0,
        "execution_time": round(elapsed, 3),
        "output": text,
        "visibility": "visible",
        "tests": [],
        "extra_data": {"assignment": assignment,
                       "max_score": spec.total_points if spec else 0,
                       "status": "grader_error" if grader_failed else "error",
                       "grader_failed": grader_failed,
                       "grader_problems": [reason] if grader_failed else []},
    }


@cache
def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


@cache
def _compiled_validator() -> Any:
    # fastjsonschema compiles the schema to a function once; importing jsonschema instead
    # costs seconds of CPU on every cold start (its format checkers), which Gradescope pays
    # for every upload.
    import fastjsonschema

    return fastjsonschema.compile(_schema())


class ResultsInvalid(ValueError):
    """A results dict that does not follow Gradescope's format (the message says where)."""


def validate(results: dict[str, Any]) -> None:
    """Raise :class:`ResultsInvalid` unless ``results`` follows Gradescope's format."""
    import fastjsonschema

    try:
        _compiled_validator()(results)
    except fastjsonschema.JsonSchemaException as error:
        raise ResultsInvalid(f"results.json does not follow Gradescope's format: "
                             f"{error.message}") from None


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` so that a reader sees the old file or the new one, never half.

    The file is private to the grader's user (0600; folders this call creates 0700): a
    sandboxed child running as another uid cannot read other students' results, even on
    a machine without namespaces.  Text is encoded with ``backslashreplace``, so a lone
    surrogate (from a student's message or a file name that is not UTF-8) is written as
    an escape instead of failing the write.
    """
    path = Path(path)
    missing = [p for p in [path.parent, *path.parent.parents] if not p.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    for folder in missing:
        os.chmod(folder, 0o700)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def write_results(path: str | Path, results: dict[str, Any]) -> Path:
    """Validate ``results`` against Gradescope's schema and write it to ``path`` atomically."""
    validate(results)
    return atomic_write_text(path, json.dumps(results, indent=2, ensure_ascii=False) + "\n")


def format_report(results: dict[str, Any], *, width: int = 100) -> str:
    """A short human-readable report: the score, the notes, one line per failed test."""
    lines = [results.get("output", "").splitlines()[0] if results.get("output") else ""]
    tests = results.get("tests", [])
    passed = sum(1 for t in tests if t["status"] == "passed")
    lines.append(f"{passed}/{len(tests)} tests passed in {results.get('execution_time', 0):.1f} s")
    for line in results.get("output", "").splitlines()[1:]:
        lines.append(line if len(line) <= width else line[: width - 3] + "...")
    failed = [t for t in tests if t["status"] == "failed"]
    if failed:
        lines.append("Failed tests:")
    for test in failed:
        message = test.get("output", "").splitlines()[0] if test.get("output") else ""
        text = f"  {test['name']} (0/{test['max_score']}): {message}"
        lines.append(text if len(text) <= width else text[: width - 3] + "...")
    return "\n".join(lines)
