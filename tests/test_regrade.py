"""Regrades that say what changed: whose score moved, from what to what, and which tests."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.batch.regrade import compare, format_changes

REPO = Path(__file__).resolve().parent.parent
A1 = "a1_activations_init"
SOLUTION = REPO / "solutions" / "source" / A1 / f"{A1}.ipynb"
RELEASE = REPO / "assignments" / A1 / f"{A1}.ipynb"
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def _results(**tests: tuple[str, float]) -> dict:
    rows = [{"name": n, "status": s, "score": p, "max_score": 5} for n, (s, p) in tests.items()]
    return {"score": sum(r["score"] for r in rows), "tests": rows}


def test_a_flipped_test_is_reported_with_the_scores_and_the_reason() -> None:
    before = _results(a=("passed", 5), b=("failed", 0))
    after = _results(a=("passed", 5), b=("passed", 5))
    change = compare("ann", before, after, ["the hidden suite changed"])
    assert change is not None
    assert (change.score_before, change.score_after, change.delta) == (5, 10, 5)
    assert [(t.name, t.before, t.after) for t in change.tests] == [("b", "failed", "passed")]
    lines = format_changes([change])
    assert lines[1] == "  ann: 5 -> 10 (+5); regraded because the hidden suite changed"
    assert lines[2].strip() == "b: failed -> passed (0 -> 5)"


def test_tests_that_appear_or_vanish_count_as_changes() -> None:
    change = compare("ann", _results(a=("passed", 5)), _results(b=("failed", 0)), ["x"])
    assert change is not None
    assert {(t.name, t.before, t.after) for t in change.tests} == {
        ("a", "passed", "absent"), ("b", "absent", "failed")}


def test_nothing_moved_or_first_grading_is_no_change() -> None:
    same = _results(a=("passed", 5))
    assert compare("ann", same, _results(a=("passed", 5)), ["the grader changed"]) is None
    assert compare("ann", None, same, ["not graded yet"]) is None
    assert format_changes([]) == ["no score or test result changed"]


def _grade_batch(root: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", "grade-batch", A1, str(root),
                           "--out", str(out), "--jobs", "1", "--no-progress", *extra],
                          capture_output=True, text=True, env=ENV, cwd=REPO, timeout=900)


@pytest.mark.slow
def test_dry_run_shows_the_change_and_writes_nothing_then_the_regrade_writes_it(
        tmp_path: Path) -> None:
    root = tmp_path / "course"
    for student, source in (("alice", SOLUTION), ("bob", RELEASE)):
        (root / "submitted" / student / A1).mkdir(parents=True)
        shutil.copy(source, root / "submitted" / student / A1 / f"{A1}.ipynb")
    out = tmp_path / "grades" / "grades.csv"
    first = _grade_batch(root, out)
    assert first.returncode == 0, first.stderr
    # Make alice's stored result one an older suite gave: one test failed, 5 points fewer.
    stored = out.parent / "results" / "alice" / "results.json"
    results = json.loads(stored.read_text())
    flipped = results["tests"][0]
    flipped.update(status="failed", output="the old suite's mistake")
    results["score"] -= flipped["score"]
    old_score, flipped["score"] = results["score"], 0
    results["extra_data"]["resume_key"]["suite"] = "an older suite"
    stored.write_text(json.dumps(results, indent=2))
    before = stored.read_bytes()
    csv_before = out.read_bytes()

    dry = _grade_batch(root, out, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "1 would be graded, 1 already up to date" in dry.stdout, dry.stdout
    assert f"alice: {old_score:g} -> 100" in dry.stdout
    assert "regraded because the hidden suite changed" in dry.stdout
    assert f"{flipped['name']}: failed -> passed" in dry.stdout
    assert "dry run: nothing was written" in dry.stdout
    assert stored.read_bytes() == before and out.read_bytes() == csv_before

    real = _grade_batch(root, out)
    assert real.returncode == 0, real.stderr
    assert f"alice: {old_score:g} -> 100" in real.stdout
    assert json.loads(stored.read_text())["score"] == 100
    with open(out, newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert rows["alice"]["score"] == "100"  # the class CSV was rebuilt from the new result
