"""A term in a temporary nbgrader course, with nbgrader's own commands and exchange.

release_assignment -> three students fetch_assignment and submit -> collect -> grade-batch
--gradebook (a relative URL, run by the venv's python without its bin/ on PATH) -> a TA
grades a written answer -> export -> generate_feedback -> release_feedback ->
fetch_feedback; then a resubmission.  Slow: it runs nbgrader a dozen times and grades.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.commands import release
from autograder.report.gradebook import HIDDEN_CELL, check_alembic
from autograder.report.nbgrader_course import written_cells
from autograder.spec import get_assignment

REPO = Path(__file__).resolve().parent.parent
A2 = "a2_regularization"
SOLUTION = REPO / "solutions" / "source" / A2 / f"{A2}.ipynb"
BIN = str(Path(sys.executable).parent)


def _nbgrader(cwd: Path, *args: str, user: str = "instructor", exchange: Path) -> str:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "USER": user,
           "LOGNAME": user, "HOME": str(cwd)}
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args,
                           f"--Exchange.root={exchange}", "--log-level=INFO"], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"nbgrader {args}: {done.stdout}{done.stderr}"
    return done.stdout + done.stderr


def _submit(students: Path, exchange: Path, name: str, notebook: Path | None) -> None:
    home = students / name
    home.mkdir(parents=True, exist_ok=True)
    if not (home / A2).exists():
        _nbgrader(home, "fetch_assignment", A2, "--course", "nntrain", user=name,
                  exchange=exchange)
    if notebook is not None:
        shutil.copy(notebook, home / A2 / f"{A2}.ipynb")
    # nbgrader takes the student id from the OS user; one machine plays three students.
    _nbgrader(home, "submit", A2, "--course", "nntrain", f"--student={name}", user=name,
              exchange=exchange)


def _grade_batch(course: Path, out: Path) -> subprocess.CompletedProcess:
    # The venv's python without its bin/ on PATH: alembic must still be found.
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "autograder", "grade-batch", A2, str(course),
                           "--out", str(out), "--jobs", "2", "--no-progress",
                           "--gradebook", "sqlite:///gradebook.db"],
                          capture_output=True, text=True, env=env, cwd=out.parent,
                          timeout=1200)


def _csv(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as handle:
        return {row.get("student") or row.get("student_id"): row
                for row in csv.DictReader(handle)}


@pytest.mark.slow
def test_a_term_with_nbgrader_exchange_gradebook_and_feedback(tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    course = release.generate_course([A2], tmp_path / "work")
    _nbgrader(course, "release_assignment", A2, exchange=exchange)
    students = tmp_path / "students"
    _submit(students, exchange, "alice", SOLUTION)
    _submit(students, exchange, "bob", None)  # the released stub, untouched
    _submit(students, exchange, "carol", SOLUTION)
    _nbgrader(course, "collect", A2, exchange=exchange)
    assert (course / "submitted" / "alice" / A2 / "timestamp.txt").is_file()

    grades = tmp_path / "grades"
    grades.mkdir()
    out = grades / "grades.csv"
    done = _grade_batch(course, out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "SAWarning" not in done.stderr, done.stderr
    assert f"sqlite:///{course / 'gradebook.db'}" in done.stdout, done.stdout  # resolved
    assert not (grades / "gradebook.db").exists()

    spec = get_assignment(A2)
    manual = written_cells(spec)
    manual_max = sum(points for _, points in manual)
    rows = _csv(out)
    assert rows["alice"]["score"] == "100" and rows["bob"]["status"] == "not attempted"
    assert rows["alice"]["max_score"] == str(int(100 + manual_max))
    assert rows["alice"]["submitted_at"].startswith(time.strftime("%Y-"))
    assert (grades / "grades_tests.csv").is_file()

    check_alembic()
    url = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(url, course_id="nntrain") as gradebook:
        for student in ("alice", "bob", "carol"):
            submission = gradebook.find_submission(A2, student)
            assert submission.timestamp is not None
            notebook = gradebook.find_submission_notebook(A2, A2, student)
            hidden = [g for g in notebook.grades if g.cell.name == HIDDEN_CELL]
            assert hidden and not hidden[0].needs_manual_grade
            waiting = {g.cell.name for g in notebook.grades if g.needs_manual_grade}
            assert waiting == {cell for cell, _ in manual}, waiting  # only the written answers
        # A TA grades alice's written answers (full marks) in the formgrader.
        for cell, points in manual:
            grade = gradebook.find_grade(cell, A2, A2, "alice")
            grade.manual_score = points
            grade.needs_manual_grade = False
        gradebook.db.commit()
        first_bob = gradebook.find_submission(A2, "bob").timestamp

    again = _grade_batch(course, out)  # nothing to regrade; the totals take the TA's points
    assert again.returncode == 0 and "0 graded" in again.stdout, again.stdout + again.stderr
    rows = _csv(out)
    assert rows["alice"]["score"] == str(int(100 + manual_max))
    assert rows["alice"]["manual_score"] == str(int(manual_max))
    assert rows["carol"]["manual_score"] == ""
    feedback = (grades / "results" / "alice" / "feedback.md").read_text()
    assert f"**Score: {int(100 + manual_max)} / {int(100 + manual_max)}**" in feedback

    # nbgrader's own export and feedback commands work on what grade-batch wrote.
    _nbgrader(course, "export", "--to=export.csv", exchange=exchange)
    exported = _csv(course / "export.csv")
    assert float(exported["alice"]["score"]) == 100 + manual_max
    assert float(exported["alice"]["max_score"]) == 100 + manual_max
    assert exported["alice"]["timestamp"] and float(exported["bob"]["score"]) == 0
    _nbgrader(course, "generate_feedback", A2, exchange=exchange)
    page = (course / "feedback" / "alice" / A2 / f"{A2}.html").read_text()
    assert "Hidden tests" in page and "dropout" in page
    _nbgrader(course, "release_feedback", A2, exchange=exchange)
    _nbgrader(students / "alice", "fetch_feedback", A2, "--course", "nntrain",
              "--student=alice", user="alice", exchange=exchange)
    fetched = list((students / "alice" / A2 / "feedback").rglob("*.html"))
    assert fetched and "Hidden tests" in fetched[0].read_text()

    # bob resubmits a finished notebook: regraded, and the time moves on.
    time.sleep(1.1)
    _submit(students, exchange, "bob", SOLUTION)
    _nbgrader(course, "collect", "--update", A2, exchange=exchange)
    third = _grade_batch(course, out)
    # (how many are regraded is test_batch's concern: a suite edited meanwhile regrades all)
    assert third.returncode == 0, third.stdout + third.stderr
    assert _csv(out)["bob"]["score"] == "100"
    with Gradebook(url, course_id="nntrain") as gradebook:
        assert gradebook.find_submission(A2, "bob").timestamp > first_bob
