"""What one grading run produced (the data the reports are made from)."""

from __future__ import annotations

from dataclasses import dataclass

from autograder.grading.plugin import TestOutcome
from autograder.intake.loader import Submission
from autograder.spec import Assignment


@dataclass
class GradeRun:
    """Everything one grading run produced."""

    assignment: Assignment
    submission: Submission
    outcomes: list[TestOutcome]
    problems: list[str]  # for the student
    suite_problems: list[str]  # the grader's own failures (not the student's)
    isolation: list[str]
    warnings: list[str]
    elapsed: float
    exit_code: int
    peak_rss_mb: float | None = None  # the sandboxed child's peak resident memory
    slowest_call: tuple[float, str] | None = None  # wall seconds of the longest call, and which

    @property
    def grader_failed(self) -> bool:
        return bool(self.suite_problems) or self.exit_code not in (0, 1)
