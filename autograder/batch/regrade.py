"""What a regrade changed: whose score moved, from what to what, and which tests did it.

When a suite is fixed mid-term, ``grade-batch`` regrades only the submissions
whose resume key changed (:mod:`autograder.batch.resume`); for each of them
:func:`compare` sets the stored result beside the new one.  A :class:`Change`
is reported when the score or any test's status differs, with the resume key's
reasons (why it was regraded) and the tests whose status flipped (why the score
moved).  ``grade-batch`` prints the changes before it writes the CSV or the
gradebook; ``--dry-run`` prints them and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TestChange:
    """One test whose result differs: its status and points before and after."""

    name: str
    before: str  # "passed", "failed" or "absent" (the test did not exist or did not run)
    after: str
    points_before: float
    points_after: float


@dataclass(frozen=True)
class Change:
    """A regraded submission whose result differs from the stored one."""

    student: str
    score_before: float | None  # None: never graded before
    score_after: float
    reasons: list[str]  # why it was regraded (the resume key's components that changed)
    tests: list[TestChange] = field(default_factory=list)

    @property
    def delta(self) -> float:
        return self.score_after - (self.score_before or 0.0)


def _tests(results: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {str(t.get("name")): t for t in (results or {}).get("tests", [])}


def compare(student: str, before: dict[str, Any] | None, after: dict[str, Any],
            reasons: list[str]) -> Change | None:
    """The change from ``before`` (None: not graded before) to ``after``; None if nothing moved.

    A first grading is not a change: only a result that existed can change.
    """
    if before is None:
        return None
    old, new = _tests(before), _tests(after)
    flipped = []
    for name in [*old, *(n for n in new if n not in old)]:
        was, now = old.get(name), new.get(name)
        status_was = str(was.get("status")) if was else "absent"
        status_now = str(now.get("status")) if now else "absent"
        points_was = float(was.get("score", 0)) if was else 0.0
        points_now = float(now.get("score", 0)) if now else 0.0
        if status_was != status_now or points_was != points_now:
            flipped.append(TestChange(name, status_was, status_now, points_was, points_now))
    score_before, score_after = float(before.get("score", 0)), float(after.get("score", 0))
    if score_before == score_after and not flipped:
        return None
    return Change(student, score_before, score_after, list(reasons), flipped)


def _points(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{round(float(value), 2):g}"


def format_changes(changes: list[Change], *, tests_shown: int = 6) -> list[str]:
    """Lines for the instructor: one per changed student, then the tests that flipped."""
    if not changes:
        return ["no score or test result changed"]
    lines = [f"{len(changes)} result(s) changed:"]
    for change in sorted(changes, key=lambda c: (-abs(c.delta), c.student)):
        sign = "+" if change.delta > 0 else ""
        lines.append(f"  {change.student}: {_points(change.score_before)} -> "
                     f"{_points(change.score_after)} ({sign}{_points(change.delta)}); "
                     f"regraded because {'; '.join(change.reasons) or 'asked'}")
        for test in change.tests[:tests_shown]:
            lines.append(f"      {test.name}: {test.before} -> {test.after} "
                         f"({_points(test.points_before)} -> {_points(test.points_after)})")
        if len(change.tests) > tests_shown:
            lines.append(f"      ... and {len(change.tests) - tests_shown} more tests")
    return lines
