"""What a finished batch writes for the instructor and for nbgrader.

Called by ``grade-batch`` (:mod:`autograder.commands.grade_batch`) once every
submission has its ``results.json``; :func:`add_arguments` declares the flags of
what it writes:

* the class CSV (``--out``) and beside it ``<stem>_tests.csv``, the per-test detail
  (:mod:`autograder.report.feedback`);
* each student's ``feedback.md``, rewritten with the written answers' points once
  the gradebook holds them;
* with ``--gradebook``: the scores and submission times in nbgrader's gradebook
  (:mod:`autograder.report.gradebook`) and, for an nbgrader course, the
  ``autograded/`` tree that ``nbgrader generate_feedback`` and ``release_feedback``
  deliver to the students (:mod:`autograder.report.nbgrader_course`).
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any

from autograder.report import nbgrader_course
from autograder.report.feedback import Written, write_class_csv, write_feedback, write_tests_csv
from autograder.spec import Assignment


def _gradebook_url(value: str) -> str:
    """Checked while the arguments are parsed, so a missing ``alembic`` stops the batch early."""
    from autograder.report.gradebook import GradebookError, check_alembic

    try:
        check_alembic()
    except GradebookError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gradebook", metavar="URL", default=None, type=_gradebook_url,
                        help="also write the scores and submission times into this nbgrader "
                             "gradebook (an SQLAlchemy URL, e.g. sqlite:///gradebook.db; a "
                             "relative path is taken from the course folder) and, for an "
                             "nbgrader course, the autograded/ tree nbgrader's feedback "
                             "commands read")


def tests_csv_path(out: Path) -> Path:
    """Where the per-test detail of the class CSV ``out`` goes."""
    return out.with_name(f"{out.stem}_tests.csv")


def _timestamps(course: Path | None, assignment: Assignment,
                results: dict[str, dict[str, Any] | None]) -> dict[str, datetime | None]:
    found: dict[str, datetime | None] = {}
    for student, result in results.items():
        path = (result or {}).get("extra_data", {}).get("submission_path")
        if path:
            folder = Path(path).parent
        elif course is not None:
            folder = course / "submitted" / student / assignment.name
        else:
            continue
        found[student] = nbgrader_course.read_timestamp(folder)
    return found


def publish(args: argparse.Namespace, assignment: Assignment, out: Path,
            results: dict[str, dict[str, Any] | None]) -> list[str]:
    """Write the CSVs, the feedback, and the gradebook and autograded/ if asked; one line each."""
    directory = getattr(args, "directory", None)
    course = nbgrader_course.course_root(directory) if directory is not None else None
    results_dir = getattr(args, "results_dir", None) or out.parent / "results"
    cells = nbgrader_course.written_cells(assignment)
    times = _timestamps(course, assignment, results) if course is not None else {}
    written = {student: Written(cells) for student in results}
    written_lines: list[str] = []
    if args.gradebook:
        from autograder.report.gradebook import manual_scores, record_scores, resolve_url

        url = resolve_url(args.gradebook, course or Path.cwd())
        database = url.split("sqlite:///", 1)[1] if url.startswith("sqlite:///") else None
        new = database is not None and not Path(database).exists()
        late = nbgrader_course.late_penalty_of(course) if course is not None else None
        count = record_scores(url, assignment, results, timestamps=times, late_penalty=late)
        for student, manual in manual_scores(url, assignment, sorted(results)).items():
            written[student] = Written(cells, manual.score)
        created = ", a new database" if new else ""
        written_lines.append(f"gradebook: {url} ({count} scores{created})")
        if course is not None:
            for student, result in sorted(results.items()):
                if result is None:
                    continue
                path = result.get("extra_data", {}).get("submission_path")
                nbgrader_course.write_autograded(course, assignment, student,
                                                 Path(path) if path else None, result,
                                                 written[student])
            written_lines.append(f"nbgrader autograded/: {course / 'autograded'} (then "
                                 f"`nbgrader generate_feedback {assignment.name}`)")
    for student, result in results.items():
        if result is not None:
            write_feedback(results_dir / student / "feedback.md", result, written[student])
    stamps = {s: t.isoformat(sep=" ") + " UTC" if t else None for s, t in times.items()}
    write_class_csv(out, assignment, results, written=written, submitted_at=stamps,
                    written_cells=cells)
    write_tests_csv(tests_csv_path(out), results)
    return [f"class CSV: {out}", f"per-test CSV: {tests_csv_path(out)}", *written_lines]
