"""grade-batch on an nbgrader tree: CSV, feedback, resumability and nbgrader's gradebook."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.intake.submissions import discover_submissions
from autograder.report.feedback import render_feedback
from autograder.report.results import validate

REPO = Path(__file__).resolve().parent.parent
A1 = "a1_activations_init"
SOLUTION = REPO / "solutions" / "source" / A1 / f"{A1}.ipynb"
RELEASE = REPO / "assignments" / A1 / f"{A1}.ipynb"
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def _submit(root: Path, student: str, source: Path | None = None, text: str | None = None,
            name: str = f"{A1}.ipynb") -> Path:
    folder = root / "submitted" / student / A1
    folder.mkdir(parents=True)
    target = folder / name
    if source is not None:
        shutil.copy(source, target)
    elif text is not None:
        target.write_text(text)
    return target


def _grade_batch(root: Path, out: Path, *extra: str, **kwargs) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "autograder", "grade-batch", A1, str(root),
               "--out", str(out), "--jobs", "2", "--no-progress", *extra]
    return subprocess.run(command, capture_output=True, text=True, env=ENV, cwd=REPO,
                          timeout=900, **kwargs)


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_discovery_understands_both_layouts(tmp_path: Path) -> None:
    _submit(tmp_path, "alice", SOLUTION)
    _submit(tmp_path, "bob", text="print('hi')", name="answers.py")
    (tmp_path / "submitted" / "carol" / A1).mkdir(parents=True)
    _submit(tmp_path, "dan", SOLUTION, name="renamed.ipynb")
    found = {s.student: s for s in discover_submissions(tmp_path, A1)}
    assert sorted(found) == ["alice", "bob", "carol", "dan"]
    assert found["alice"].path.name == f"{A1}.ipynb"
    assert found["bob"].path.name == "answers.py"
    assert found["carol"].path is None and "expected" in found["carol"].problem
    assert found["dan"].path.name == "renamed.ipynb"
    # the submitted/ folder itself, and a flat folder of notebooks
    assert len(discover_submissions(tmp_path / "submitted", A1)) == 4
    flat = tmp_path / "flat"
    flat.mkdir()
    shutil.copy(SOLUTION, flat / "erin.ipynb")
    (flat / ".ipynb_checkpoints").mkdir()
    assert [s.student for s in discover_submissions(flat, A1)] == ["erin"]


def test_feedback_tabulates_the_functions_and_the_failure_messages() -> None:
    results = {"score": 3, "tests": [
        {"name": "relu matches torch", "score": 3, "max_score": 3, "status": "passed"},
        {"name": "relu_backward at zero", "score": 0, "max_score": 5, "status": "failed",
         "output": "relu_backward at x == 0 should be 0"}],
        "extra_data": {"assignment": A1}}
    text = render_feedback(results)
    assert "Score: 3 / 8" in text
    assert "| `relu_backward at zero` | 0 / 5 | 0 / 1 | failed |" in text
    assert "relu_backward at x == 0 should be 0" in text


@pytest.mark.slow
def test_batch_grades_a_class_writes_csv_feedback_and_gradebook(tmp_path: Path) -> None:
    root = tmp_path / "course"
    _submit(root, "alice", SOLUTION)
    _submit(root, "bob", RELEASE)
    _submit(root, "carol", text="{ this is not json")
    _submit(root, "dan", text="def relu(x):\n    return x\n", name="a1.py")
    (root / "submitted" / "erin" / A1).mkdir(parents=True)
    out = tmp_path / "grades" / "grades.csv"
    db = tmp_path / "gradebook.db"

    done = _grade_batch(root, out, "--gradebook", f"sqlite:///{db}")
    assert done.returncode == 0, done.stderr
    rows = _rows(out)
    assert sorted(rows) == ["alice", "bob", "carol", "dan", "erin"]
    assert rows["alice"]["score"] == "100" and rows["alice"]["status"] == "ok"
    assert all(rows[s]["score"] == "0" for s in ("bob", "carol", "dan", "erin"))
    assert rows["erin"]["status"] == "error"
    # the maximum nbgrader reports: the hidden suite's 100 and the written answers' points
    from autograder.report.nbgrader_course import written_cells
    from autograder.spec import get_assignment

    manual = sum(points for _, points in written_cells(get_assignment(A1)))
    assert manual > 0 and all(rows[s]["max_score"] == str(int(100 + manual)) for s in rows)
    assert all(rows[s]["functions_max"] == "100" for s in rows)
    # one column per function after the fixed columns (the per-test detail: grades_tests.csv)
    assert len(next(iter(rows.values()))) == 10 + len(get_assignment(A1).parts)
    assert rows["bob"]["status"] == "not attempted"  # the untouched stub
    for student in rows:
        folder = out.parent / "results" / student
        results = json.loads((folder / "results.json").read_text())
        validate(results)
        feedback = (folder / "feedback.md").read_text()
        assert f"Score: {rows[student]['score']} / 100" in feedback
    assert "could not be graded" in (out.parent / "results" / "carol" / "feedback.md").read_text()

    # nbgrader's own export reads the scores back from the gradebook
    exported = tmp_path / "export.csv"
    subprocess.run(["nbgrader", "export", f"--db=sqlite:///{db}", f"--to={exported}",
                    "--CourseDirectory.course_id=nntrain"],
                   cwd=tmp_path, env=ENV, check=True, capture_output=True, timeout=300)
    with open(exported, newline="") as handle:
        scores = {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(handle)}
    assert scores["alice"] == 100.0 and scores["bob"] == 0.0

    # Nothing changed: nothing regraded.  A resubmission: only that one.
    again = _grade_batch(root, out)
    assert "0 graded, 5 already up to date" in again.stdout
    shutil.copy(SOLUTION, root / "submitted" / "bob" / A1 / f"{A1}.ipynb")
    again = _grade_batch(root, out)
    assert "1 graded, 4 already up to date" in again.stdout
    assert _rows(out)["bob"]["score"] == "100"


@pytest.mark.slow
def test_a_killed_batch_resumes_without_losing_or_duplicating(tmp_path: Path) -> None:
    root = tmp_path / "course"
    for index in range(6):
        _submit(root, f"student{index}", SOLUTION if index % 2 == 0 else RELEASE)
    out = tmp_path / "grades.csv"
    results = tmp_path / "results"
    command = [sys.executable, "-m", "autograder", "grade-batch", A1, str(root), "--out",
               str(out), "--jobs", "1", "--no-progress"]
    process = subprocess.Popen(command, env=ENV, cwd=REPO, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and len(list(results.glob("*/results.json"))) < 2:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    graded_before = len(list(results.glob("*/results.json")))
    assert 2 <= graded_before < 6, "kill the batch midway"
    for path in results.glob("*/results.json"):
        json.loads(path.read_text())  # every file on disk is whole

    done = _grade_batch(root, out)
    assert done.returncode == 0, done.stderr
    assert f"{6 - graded_before} graded, {graded_before} already up to date" in done.stdout
    rows = _rows(out)
    assert sorted(rows) == [f"student{i}" for i in range(6)]
    assert [rows[s]["score"] for s in sorted(rows)] == ["100", "0"] * 3
