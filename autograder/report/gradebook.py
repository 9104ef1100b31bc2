"""Write hidden-suite scores into nbgrader's gradebook.

nbgrader keeps one ``Grade`` per graded cell of a submitted notebook, and
``nbgrader export`` sums them.  The hidden suite is not a cell of the notebook,
so it gets a grade cell of its own, :data:`HIDDEN_CELL`, worth the assignment's
100 points, next to the cells nbgrader created when it released the assignment
(the visible tests, worth 0, and the manually graded free-response answers).
Its score is stored as the cell's ``auto_score``; a TA's ``manual_score`` on
it, if any, still wins, as everywhere in nbgrader.  Any SQLAlchemy URL works,
``sqlite:///gradebook.db`` being nbgrader's default.
"""

from __future__ import annotations

from typing import Any

from autograder.spec import Assignment

HIDDEN_CELL = "hidden_tests"
COURSE_ID = "nntrain"


def record_scores(db_url: str, assignment: Assignment,
                  results_by_student: dict[str, dict[str, Any] | None],
                  course_id: str = COURSE_ID) -> int:
    """Store every student's hidden-suite score; return how many were recorded."""
    from nbgrader.api import Grade, Gradebook, MissingEntry

    recorded = 0
    with Gradebook(db_url, course_id=course_id) as gradebook:
        gradebook.update_or_create_assignment(assignment.name)
        # The notebook is named after its file stem, as nbgrader names it.
        gradebook.update_or_create_notebook(assignment.name, assignment.name)
        cell = gradebook.update_or_create_grade_cell(
            HIDDEN_CELL, assignment.name, assignment.name,
            max_score=float(assignment.total_points), cell_type="code",
        )
        for student, results in sorted(results_by_student.items()):
            if results is None:
                continue
            gradebook.update_or_create_student(student)
            try:
                submission = gradebook.find_submission(assignment.name, student)
            except MissingEntry:
                submission = gradebook.add_submission(assignment.name, student)
            notebook = next(n for n in submission.notebooks if n.name == assignment.name)
            try:
                grade = gradebook.find_grade(HIDDEN_CELL, assignment.name, assignment.name,
                                             student)
            except MissingEntry:  # the submission predates the hidden-tests cell
                grade = Grade(cell_id=cell.id, notebook=notebook)
                gradebook.db.add(grade)
            grade.auto_score = float(results.get("score", 0))
            recorded += 1
        gradebook.db.commit()
    return recorded
