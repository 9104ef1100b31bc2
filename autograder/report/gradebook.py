"""Write hidden-suite scores into nbgrader's gradebook, and read the hand-graded points back.

nbgrader keeps one ``Grade`` per graded cell of a submitted notebook, and
``nbgrader export`` sums them.  The hidden suite is not a cell of the notebook,
so it gets a grade cell of its own, :data:`HIDDEN_CELL`, worth the assignment's
points, next to the cells nbgrader created when it released the assignment: the
visible-test cells (worth 0) and the written answers, graded by hand.  For each
submission this module does what ``nbgrader autograde`` would:

* the hidden suite's score becomes the :data:`HIDDEN_CELL` grade's ``auto_score``
  and the visible-test cells get 0 of their 0 points, all with
  ``needs_manual_grade`` false (a TA's ``manual_score``, if any, still wins);
  the written answers keep ``needs_manual_grade`` true until a TA grades them;
* the submission's ``timestamp`` is nbgrader's (``timestamp.txt``, the time
  ``nbgrader submit`` recorded), updated on a resubmission, so that
  ``nbgrader export`` sees it; a submission past its due date gets the penalty of
  nbgrader's ``LateSubmissionPlugin`` (``late_penalty``), as ``AssignLatePenalties``
  sets it during ``nbgrader autograde``.

nbgrader runs the ``alembic`` command when it opens a gradebook: it is looked for on PATH
and next to this interpreter (a virtual environment's ``bin/``) before anything is graded
(:func:`check_alembic`).  A relative SQLite path is resolved against the course folder, as
nbgrader's own default ``<course>/gradebook.db`` is (:func:`resolve_url`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from autograder.spec import Assignment

HIDDEN_CELL = "hidden_tests"
COURSE_ID = "nntrain"


class GradebookError(Exception):
    """The gradebook cannot be used (the message says what to do)."""


@dataclass(frozen=True)
class ManualScore:
    """The hand-graded written answers of one submission."""

    score: float | None  # None until every written answer is graded
    max_score: float
    pending: tuple[str, ...]  # the grade ids still waiting for a TA


def check_alembic() -> str:
    """Make ``alembic`` findable for nbgrader (PATH, else this interpreter's bin/); its path."""
    found = shutil.which("alembic")
    if found:
        return found
    beside = Path(sys.executable).parent / "alembic"
    if beside.is_file() and os.access(beside, os.X_OK):
        os.environ["PATH"] = os.pathsep.join([str(beside.parent), os.environ.get("PATH", "")])
        return str(beside)
    raise GradebookError(
        "nbgrader's gradebook needs the `alembic` command (installed with nbgrader), which is "
        f"neither on PATH nor next to {sys.executable}; install nbgrader into this environment "
        "or put its bin/ folder on PATH")


def resolve_url(url: str, base: Path) -> str:
    """``url`` with a relative SQLite path made absolute against ``base`` (others unchanged)."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception as error:  # sqlalchemy raises ArgumentError and ValueError alike
        raise GradebookError(f"--gradebook {url!r} is not a database URL ({error})") from None
    if not parsed.drivername.startswith("sqlite") or not parsed.database \
            or parsed.database == ":memory:" or Path(parsed.database).is_absolute():
        return url
    path = (base / parsed.database).resolve()
    return parsed.set(database=str(path)).render_as_string(hide_password=False)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """nbgrader's models trigger SQLAlchemy 2's deprecation and relationship warnings."""
    with warnings.catch_warnings():
        try:
            from sqlalchemy.exc import MovedIn20Warning, SAWarning
        except ImportError:  # older SQLAlchemy
            from sqlalchemy.exc import SAWarning

            MovedIn20Warning = SAWarning  # the class name it stands for
        warnings.simplefilter("ignore", SAWarning)
        warnings.simplefilter("ignore", MovedIn20Warning)
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def record_scores(db_url: str, assignment: Assignment,
                  results_by_student: dict[str, dict[str, Any] | None],
                  course_id: str = COURSE_ID, *,
                  timestamps: dict[str, datetime | None] | None = None,
                  notebook_name: str | None = None,
                  late_penalty: Callable[[str, float, float], float | None] | None = None
                  ) -> int:
    """Store every student's hidden-suite score (and submission time); return how many.

    ``late_penalty(student, score, seconds_late)`` is nbgrader's plugin method (None: none).
    """
    check_alembic()
    timestamps = timestamps or {}
    notebook_name = notebook_name or assignment.name
    with _quiet():
        from nbgrader.api import Grade, Gradebook, MissingEntry

        recorded = 0
        with Gradebook(db_url, course_id=course_id) as gradebook:
            gradebook.update_or_create_assignment(assignment.name)
            gradebook.update_or_create_notebook(notebook_name, assignment.name)
            cell = gradebook.update_or_create_grade_cell(
                HIDDEN_CELL, notebook_name, assignment.name,
                max_score=float(assignment.total_points), cell_type="code",
            )
            for student, results in sorted(results_by_student.items()):
                if results is None:
                    continue
                gradebook.update_or_create_student(student)
                when = timestamps.get(student)
                try:
                    submission = gradebook.find_submission(assignment.name, student)
                except MissingEntry:
                    submission = gradebook.add_submission(assignment.name, student)
                if when is not None:  # a resubmission moves the time on
                    submission.timestamp = when
                notebook = next(n for n in submission.notebooks if n.name == notebook_name)
                grades = {grade.cell.name: grade for grade in notebook.grades}
                if HIDDEN_CELL not in grades:  # the submission predates the hidden-tests cell
                    grades[HIDDEN_CELL] = Grade(cell_id=cell.id, notebook=notebook)
                    gradebook.db.add(grades[HIDDEN_CELL])
                for name, grade in grades.items():
                    if name == HIDDEN_CELL:
                        grade.auto_score = float(results.get("score", 0))
                        grade.needs_manual_grade = False
                    elif grade.cell.cell_type == "code" and not grade.cell.max_score:
                        grade.auto_score = 0.0  # a visible-test cell: 0 of its 0 points
                        grade.needs_manual_grade = False
                gradebook.db.flush()
                gradebook.db.expire(notebook)  # its score is a SQL expression over the grades
                notebook.late_submission_penalty = None
                late = submission.total_seconds_late
                if late > 0 and late_penalty is not None:
                    penalty = late_penalty(student, float(notebook.score), late)
                    if penalty is not None:
                        notebook.late_submission_penalty = min(max(float(penalty), 0.0),
                                                               float(notebook.score))
                recorded += 1
            gradebook.db.commit()
    return recorded


def manual_scores(db_url: str, assignment: Assignment, students: list[str],
                  course_id: str = COURSE_ID, *,
                  notebook_name: str | None = None) -> dict[str, ManualScore]:
    """The written answers' points of each student, as the gradebook holds them now.

    Students without a submission, or in a gradebook that has no written-answer cells for
    the assignment (not made by ``nbgrader generate_assignment``), are left out: unknown.
    """
    check_alembic()
    notebook_name = notebook_name or assignment.name
    found: dict[str, ManualScore] = {}
    with _quiet():
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(db_url, course_id=course_id) as gradebook:
            for student in students:
                try:
                    notebook = gradebook.find_submission_notebook(
                        notebook_name, assignment.name, student)
                except MissingEntry:
                    continue
                written = [g for g in notebook.grades if g.cell.name != HIDDEN_CELL
                           and g.cell.max_score]
                if not written:  # a gradebook that nbgrader did not release this assignment in
                    continue
                pending = tuple(sorted(g.cell.name for g in written if g.needs_manual_grade
                                       and g.manual_score is None))
                total = sum(float(g.cell.max_score) for g in written)
                score = None if pending else sum(float(g.score or 0) for g in written)
                found[student] = ManualScore(score, total, pending)
    return found
