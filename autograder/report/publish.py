"""What a finished batch writes for the instructor: the class CSV and nbgrader's gradebook.

Called by ``grade-batch`` (:mod:`autograder.commands.grade_batch`) once every
submission has its ``results.json``; :func:`add_arguments` declares the flags of
what it writes.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from autograder.report.feedback import write_class_csv
from autograder.spec import Assignment


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gradebook", metavar="URL", default=None,
                        help="also write the scores into this nbgrader gradebook "
                             "(an SQLAlchemy URL, e.g. sqlite:///gradebook.db)")


def publish(args: argparse.Namespace, assignment: Assignment, out: Path,
            results: dict[str, dict[str, Any] | None]) -> list[str]:
    """Write the class CSV (and the gradebook if asked); return one line per thing written."""
    write_class_csv(out, assignment, results)
    written = [f"class CSV: {out}"]
    if args.gradebook:
        from autograder.report.gradebook import record_scores

        record_scores(args.gradebook, assignment, results)
        written.append(f"gradebook: {args.gradebook}")
    return written
