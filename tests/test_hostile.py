"""The hostile catalogue (tests/hostile/cases.py): each attack costs exactly the parts it breaks.

Every case is the a3 solution with one part replaced by hostile code and is graded
by the real hidden suite.  The tests check that the score is exactly the points of
the parts that still work, that results.json is valid, that the grader survived
(and reports no failure of its own), and that the attack left no trace outside the
sandbox: no files, no marker written by unpickling in the grader, torch unpatched.
"""

from __future__ import annotations

import json
import math
import uuid
from pathlib import Path

import pytest
import torch
from grader_helpers import find_cell, grade_notebook, make_submission, read_notebook
from hostile.cases import CASES

from autograder.report.results import validate, write_results
from autograder.sandbox.inside.limits import Limits
from autograder.spec import get_assignment, solution_path

REPO = Path(__file__).resolve().parent.parent
A3 = get_assignment("a3_optim_schedules")
PARENT_TORCH = (torch.allclose, torch.isclose, torch.equal, torch.Tensor.__eq__, math.isclose,
                abs)


@pytest.fixture(scope="module")
def solution_cells() -> dict[str, str]:
    notebook = read_notebook(solution_path(A3.name))
    return {part.name: find_cell(notebook, part.name).source for part in A3.parts}


def _traces(tag: str, root: Path) -> list[Path]:
    candidates = [REPO / "pwned", Path(f"/etc/pwned-{tag}"), Path(f"/var/tmp/pwned-{tag}"),
                  Path(f"/dev/shm/pwned-{tag}"),
                  REPO / "autograder" / "grading" / "suites" / A3.name / "pwned.py",
                  Path("/autograder/results/results.json")]
    found = [path for path in candidates if path.exists()]
    return found + [path for path in root.rglob("*") if path.name in ("pwned", "marker")]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_hostile_submission_scores_exactly_its_working_parts(case, tmp_path, solution_cells):
    folder = tmp_path / "submission"
    folder.mkdir()
    tag = uuid.uuid4().hex[:12]
    repo_results = REPO / "results.json"
    before = repo_results.stat().st_mtime_ns if repo_results.exists() else None
    fill = {"repo": REPO, "notebook_dir": folder, "marker": tmp_path / "marker", "tag": tag}
    replace = {part: code.format(solution=solution_cells[part], **fill)
               for part, code in case.replace.items()}
    path = make_submission(A3.name, folder, replace, extra_cells=case.extra_cells)

    results = grade_notebook(A3.name, path, limits=Limits(call_timeout=3, total_timeout=120,
                                                          memory_mb=1024))

    validate(results)
    assert not results["extra_data"]["grader_failed"], results["extra_data"]["grader_problems"]
    scored: dict[str, float] = {}
    for test in results["tests"]:
        scored[test["tags"][0]] = scored.get(test["tags"][0], 0) + test["score"]
    lost = {part.name for part in A3.parts} if case.every_part_lost else set(case.lost)
    expected = {part.name: 0 if part.name in lost else part.points for part in A3.parts}
    for part, words in case.partly.items():  # exactly the tests named by `words` fail
        failed = [t for t in results["tests"] if t["tags"][0] == part and t["status"] == "failed"]
        assert failed and all(any(w in t["name"] for w in words) for t in failed), failed
        expected[part] -= sum(t["max_score"] for t in failed)
    assert scored == expected, [t for t in results["tests"] if t["status"] == "failed"]
    assert results["score"] == sum(expected.values())
    messages = " ".join(t["output"] for t in results["tests"] if t["status"] == "failed")
    for text in case.expect_in_output:
        assert text in messages

    # Nothing escaped: no files outside the sandbox, no code run in the grader, torch intact.
    assert _traces(tag, tmp_path) == []
    assert sorted(p.name for p in folder.iterdir()) == [path.name]
    after = repo_results.stat().st_mtime_ns if repo_results.exists() else None
    assert after == before
    assert (torch.allclose, torch.isclose, torch.equal, torch.Tensor.__eq__, math.isclose,
            abs) == PARENT_TORCH
    out = write_results(tmp_path / "out" / "results.json", results)
    assert json.loads(out.read_text())["score"] == results["score"]


def test_the_catalogue_is_complete():
    names = {case.name for case in CASES}
    assert len(names) == len(CASES) >= 15
    for attack in ("infinite_loop", "memory_hog", "fork_bomb", "os_exit", "sys_exit_at_import",
                   "read_secrets", "write_outside", "import_nntrain", "monkeypatch_torch",
                   "fake_results_json", "print_fake_results", "huge_output", "segfault",
                   "socket", "pickle_bomb"):
        assert attack in names
    for attack in ("forbidden_routes", "switch_the_guard_off", "modify_and_restore",
                   "lone_surrogate", "expanding_reply", "forged_call_reply", "nan_values"):
        assert attack in names
    for case in CASES:
        assert set(case.replace) | set(case.lost) | set(case.partly) <= {
            part.name for part in A3.parts}
