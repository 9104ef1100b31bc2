"""What an instructor and a student read: feedback.md, the class CSVs, nbgrader's gradebook."""

from __future__ import annotations

import csv
import os
import sys
import warnings
from datetime import datetime
from pathlib import Path

import pytest

from autograder.report.feedback import (
    NOT_ATTEMPTED,
    Written,
    render_feedback,
    submission_status,
    write_class_csv,
    write_tests_csv,
)
from autograder.report.gradebook import (
    HIDDEN_CELL,
    GradebookError,
    check_alembic,
    manual_scores,
    record_scores,
    resolve_url,
)
from autograder.report.nbgrader_course import late_penalty_of, written_cells
from autograder.spec import get_assignment

A1 = get_assignment("a1_activations_init")


def _test(part: str, name: str, score: float, points: float, output: str = "") -> dict:
    return {"name": f"{part}: {name}", "score": score, "max_score": points, "tags": [part],
            "status": "passed" if score == points else "failed", "output": output}


RESULTS = {"score": 3, "output": "Score: 3 / 13\nNotes on your submission:\n- cell 9 ignored",
           "extra_data": {"assignment": A1.name, "status": "ok"},
           "tests": [_test("relu", "test_relu_matches_torch", 3, 3),
                     _test("relu", "test_relu_backward_at_zero", 0, 5,
                           "relu_backward at x == 0 should be 0, got 1"),
                     _test("gelu", "test_gelu_exact", 0, 3, "`gelu` raised NotImplementedError"),
                     _test("gelu", "test_gelu_tanh", 0, 2, "`gelu` raised NotImplementedError")]}


def test_feedback_is_a_table_per_function_then_only_the_failures() -> None:
    text = render_feedback(RESULTS, Written((("q_dead_relu", 5.0), ("q_init", 5.0))))
    assert text.count("Score:") == 1 and "3 / 13 for the functions" in text
    assert "out of 23 in all" in text  # the maximum nbgrader reports, functions + written
    assert "| `relu` | 3 / 8 | 1 / 2 | partly |" in text
    assert f"| `gelu` | 0 / 5 | 0 / 2 | {NOT_ATTEMPTED} |" in text
    failures = text.split("## What failed", 1)[1]
    assert "relu_backward at x == 0 should be 0, got 1" in failures
    assert "test_relu_matches_torch" not in failures  # passed: no detail
    assert "NotImplementedError" not in failures  # not attempted: the table says it
    assert "`q_dead_relu` (5), `q_init` (5)" in text and "cell 9 ignored" in text
    graded = render_feedback(RESULTS, Written((("q_dead_relu", 5.0), ("q_init", 5.0)), 7.0))
    assert "**Score: 10 / 23** (functions 3 / 13, written answers 7 / 10)" in graded


def test_an_untouched_stub_is_not_attempted_not_ok() -> None:
    stub = {**RESULTS, "tests": [t for t in RESULTS["tests"] if t["tags"] == ["gelu"]]}
    assert submission_status(stub) == NOT_ATTEMPTED
    assert submission_status(RESULTS) == "ok" and submission_status(None) == "missing"


def test_class_csv_has_subtotals_time_and_the_full_maximum(tmp_path: Path) -> None:
    out = tmp_path / "grades.csv"
    cells = (("q_dead_relu", 5.0), ("q_init", 5.0))
    write_class_csv(out, A1, {"alice": RESULTS, "bob": None},
                    written={"alice": Written(cells, 6.0)}, written_cells=cells,
                    submitted_at={"alice": "2026-12-01 10:00:00 UTC"})
    with open(out, newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    alice = rows["alice"]
    assert alice["score"] == "9" and alice["max_score"] == str(A1.total_points + 10)
    assert alice["functions_score"] == "3" and alice["manual_score"] == "6"
    assert alice["relu"] == "3" and alice["gelu"] == "0"
    assert alice["submitted_at"] == "2026-12-01 10:00:00 UTC"
    assert rows["bob"]["status"] == "missing" and rows["bob"]["manual_score"] == ""
    assert len(alice) == 10 + len(A1.parts)  # one column per function, not per test
    detail = tmp_path / "tests.csv"
    write_tests_csv(detail, {"alice": RESULTS})
    with open(detail, newline="") as handle:
        tests = list(csv.DictReader(handle))
    assert len(tests) == 4 and tests[1]["function"] == "relu"
    assert tests[1]["test"] == "test_relu_backward_at_zero" and tests[1]["max_score"] == "5"


def test_the_released_notebook_names_the_written_answers() -> None:
    cells = written_cells(A1)
    assert cells and all(points > 0 for _, points in cells)


def test_relative_gradebook_urls_are_resolved_against_the_course(tmp_path: Path) -> None:
    assert resolve_url("sqlite:///gradebook.db", tmp_path) == f"sqlite:///{tmp_path}/gradebook.db"
    assert resolve_url(f"sqlite:///{tmp_path}/x.db", Path("/elsewhere")) == \
        f"sqlite:///{tmp_path}/x.db"
    assert resolve_url("postgresql://u@h/db", tmp_path) == "postgresql://u@h/db"
    with pytest.raises(GradebookError, match="not a database URL"):
        resolve_url("not a url", tmp_path)


def test_alembic_is_found_next_to_the_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    if not (Path(sys.executable).parent / "alembic").exists():
        pytest.skip("this environment has no alembic beside its interpreter")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert check_alembic() == str(Path(sys.executable).parent / "alembic")
    assert os.environ["PATH"].startswith(str(Path(sys.executable).parent))
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    with pytest.raises(GradebookError, match="alembic"):
        check_alembic()


def _course_gradebook(url: str) -> None:
    """A gradebook as `nbgrader generate_assignment` leaves it: a visible test, a written answer."""
    from nbgrader.api import Gradebook

    check_alembic()  # nbgrader runs `alembic`; pytest may run without the venv's bin/ on PATH

    with Gradebook(url, course_id="nntrain") as gradebook:
        gradebook.add_assignment(A1.name, duedate=datetime(2026, 12, 1, 12, 0, 0))
        gradebook.add_notebook(A1.name, A1.name)
        gradebook.add_grade_cell("test_relu", A1.name, A1.name, max_score=0, cell_type="code")
        gradebook.add_grade_cell("q_dead_relu", A1.name, A1.name, max_score=5,
                                 cell_type="markdown")
        gradebook.add_solution_cell("q_dead_relu", A1.name, A1.name)


def test_gradebook_flags_timestamp_and_manual_points(tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    _course_gradebook(url)
    first = datetime(2026, 12, 1, 10, 0, 0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record_scores(url, A1, {"alice": RESULTS, "bob": {"score": 0, "tests": []}},
                      timestamps={"alice": first})
    assert [str(w.message) for w in caught] == []  # no SQLAlchemy warnings spam
    with Gradebook(url, course_id="nntrain") as gradebook:
        notebook = gradebook.find_submission_notebook(A1.name, A1.name, "alice")
        flags = {g.cell.name: g.needs_manual_grade for g in notebook.grades}
        assert flags == {HIDDEN_CELL: False, "test_relu": False, "q_dead_relu": True}
        assert gradebook.find_grade(HIDDEN_CELL, A1.name, A1.name, "alice").score == 3
        assert gradebook.find_submission(A1.name, "alice").timestamp == first
        gradebook.find_grade("q_dead_relu", A1.name, A1.name, "alice").manual_score = 4
        gradebook.db.commit()
    (tmp_path / "nbgrader_config.py").write_text(
        'c = get_config()\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    zero = late_penalty_of(tmp_path)  # the course's nbgrader configuration
    record_scores(url, A1, {"alice": RESULTS}, timestamps={"alice": first}, late_penalty=zero)
    with Gradebook(url, course_id="nntrain") as gradebook:
        on_time = gradebook.find_submission_notebook(A1.name, A1.name, "alice")
        assert on_time.late_submission_penalty is None
    later = datetime(2026, 12, 2, 9, 30, 0)  # resubmitted after the due date
    record_scores(url, A1, {"alice": RESULTS}, timestamps={"alice": later}, late_penalty=zero)
    with Gradebook(url, course_id="nntrain") as gradebook:
        assert gradebook.find_submission(A1.name, "alice").timestamp == later
        late = gradebook.find_submission_notebook(A1.name, A1.name, "alice")
        assert late.late_submission_penalty == late.score == 3 + 4
    manual = manual_scores(url, A1, ["alice", "bob", "carol"])
    assert manual["alice"].score == 4 and manual["alice"].max_score == 5
    assert manual["bob"].score is None and manual["bob"].pending == ("q_dead_relu",)
    assert "carol" not in manual
