"""The local worker pool: a worker that dies costs one submission, never another's grade."""

from __future__ import annotations

import json
import os
from pathlib import Path

from autograder.batch import pool
from autograder.config import GradingConfig
from autograder.intake.submissions import Submission
from autograder.report.results import error_results

A1 = "a1_activations_init"


def _fake_grade_one(assignment, submission, results_dir, config):
    """Stands in for a grading: kills its worker for one student, scores the others."""
    if submission.student == "kills-its-worker":
        os._exit(1)
    results = error_results(assignment, "stand-in grading")
    results["score"] = 42
    return results


def test_a_dead_worker_costs_only_the_submission_that_killed_it(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(pool, "grade_one", _fake_grade_one)
    students = ["ann", "kills-its-worker", "bob", "cy", "dee"]
    submissions = []
    for student in students:
        path = tmp_path / "submitted" / student / f"{A1}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text("{}")
        submissions.append(Submission(student, path))
    results_dir = tmp_path / "results"
    summary = pool.grade_batch(A1, submissions, results_dir, GradingConfig(jobs=2),
                               progress=False)
    assert sorted(summary["recorded"]) == sorted(students)  # each written exactly once
    for student in students:
        results = json.loads((results_dir / student / "results.json").read_text())
        if student == "kills-its-worker":
            assert results["score"] == 0 and pool.WORKER_DIED in results["output"]
            assert results["extra_data"]["grader_failed"]
        else:
            assert results["score"] == 42, student
    assert oct(results_dir.stat().st_mode & 0o777) == oct(0o700)
