"""Grading end to end: points per test function, student-facing messages, results.json, CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from grader_helpers import grade_notebook, write_notebook

from autograder.report.results import validate

REPO = Path(__file__).resolve().parent.parent
TINY = Path(__file__).resolve().parent / "grader_suites" / "a3_optim_schedules"
A3 = "a3_optim_schedules"
TOTAL = 15  # the tiny suite's points

IMPORTS = "import math\nimport torch"
GOOD = {
    "linear_scaling_rule": "def linear_scaling_rule(base_lr, batch_size, base_batch_size=256):\n"
                           "    return base_lr * batch_size / base_batch_size\n",
    "step_lr": "def step_lr(t, base_lr, step_size, gamma=0.1):\n"
               "    return base_lr * gamma ** (t // step_size)\n",
    "cosine_lr": "def cosine_lr(t, base_lr, total_steps, min_lr=0.0):\n"
                 "    t = min(t, total_steps)\n"
                 "    cosine = 1 + math.cos(math.pi * t / total_steps)\n"
                 "    return min_lr + (base_lr - min_lr) * cosine / 2\n",
    "clip_grad_norm": "def clip_grad_norm(grads, max_norm, norm_type=2.0):\n"
                      "    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm("
                      "g, norm_type) for g in grads]), norm_type)\n"
                      "    scale = min(1.0, max_norm / (float(total) + 1e-6))\n"
                      "    for g in grads:\n        g.mul_(scale)\n    return total\n",
}


def notebook(tmp_path, replace=None, name="submission.ipynb", extra=()):
    parts = dict(GOOD, **(replace or {}))
    cells = [("imports", IMPORTS), *((part, code) for part, code in parts.items()), *extra]
    return write_notebook(tmp_path / name, cells)


def grade(path, **options):
    options.setdefault("call_timeout", 5)
    return grade_notebook(A3, path, suite_dir=TINY, **options)


def by_part(results):
    scores: dict[str, float] = {}
    for test in results["tests"]:
        scores[test["tags"][0]] = scores.get(test["tags"][0], 0) + test["score"]
    return scores


def test_a_correct_submission_scores_every_point(tmp_path):
    results = grade(notebook(tmp_path))
    validate(results)
    assert results["score"] == TOTAL and results["extra_data"]["max_score"] == TOTAL
    assert all(test["status"] == "passed" for test in results["tests"])
    assert not results["extra_data"]["grader_failed"]


def test_points_belong_to_a_test_function_not_to_each_case(tmp_path):
    wrong_after_ten = ("def step_lr(t, base_lr, step_size, gamma=0.1):\n"
                       "    return base_lr * gamma ** (min(t, 9) // step_size)\n")
    results = grade(notebook(tmp_path, {"step_lr": wrong_after_ten}))
    tests = {test["name"]: test for test in results["tests"]}
    decays = tests["step_lr: test_step_lr_decays_every_step_size"]
    assert decays["score"] == 0 and decays["max_score"] == 3
    assert decays["output"] == "[12] step_lr is wrong at t=12"
    assert tests["step_lr: test_step_lr_accepts_a_gamma"]["score"] == 1
    assert results["score"] == TOTAL - 3


def test_messages_are_the_assertions_not_pytests_diff(tmp_path):
    results = grade(notebook(tmp_path, {
        "linear_scaling_rule": "def linear_scaling_rule(base_lr, batch_size, base_batch_size=256):"
                               "\n    return 0.123456\n",
        "cosine_lr": "def cosine_lr(t, base_lr, total_steps, min_lr=0.0):\n    return 0.987654\n",
    }))
    tests = {test["tags"][0]: test for test in results["tests"]}
    assert tests["linear_scaling_rule"]["output"] == \
        "linear_scaling_rule(0.1, 512) is 0.123456, not 0.2"
    bare = tests["cosine_lr"]["output"]
    assert bare == "a check of this test failed" and "0.987654" not in bare


def test_errors_in_student_code_become_messages(tmp_path):
    results = grade(notebook(tmp_path, {
        "step_lr": "def step_lr(t, base_lr, step_size, gamma=0.1):\n"
                   "    raise ValueError('not yet')\n",
    }))
    outputs = {test["name"]: test["output"] for test in results["tests"]}
    assert "`step_lr` raised ValueError: not yet" in \
        outputs["step_lr: test_step_lr_accepts_a_gamma"]
    assert by_part(results)["step_lr"] == 0 and results["score"] == TOTAL - 4


def test_a_forbidden_built_in_costs_only_the_part_that_uses_it(tmp_path):
    results = grade(notebook(tmp_path, {
        "clip_grad_norm": "def clip_grad_norm(grads, max_norm, norm_type=2.0):\n"
                          "    return torch.nn.utils.clip_grad_norm_(grads, max_norm, norm_type)\n",
    }))
    scores = by_part(results)
    assert scores["clip_grad_norm"] == 0 and results["score"] == TOTAL - 5
    output = next(t["output"] for t in results["tests"] if t["tags"] == ["clip_grad_norm"])
    assert "`clip_grad_norm` uses `torch.nn.utils.clip_grad_norm_`" in output
    assert "forbidden" in results["output"]


def test_a_missing_part_says_so_and_costs_only_its_points(tmp_path):
    path = write_notebook(tmp_path / "s.ipynb", [("imports", IMPORTS)] + [
        (part, code) for part, code in GOOD.items() if part != "cosine_lr"])
    results = grade(path)
    output = next(t["output"] for t in results["tests"] if t["tags"] == ["cosine_lr"])
    assert output.startswith("`cosine_lr` is not defined in the submission")
    assert results["score"] == TOTAL - 4


def test_exploratory_cells_never_run(tmp_path):
    path = notebook(tmp_path, extra=[(None, "import os\nos._exit(1)"),
                                     (None, "while True:\n    pass")])
    assert grade(path)["score"] == TOTAL


@pytest.mark.parametrize("content, reason", [
    (b"", "is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
    (b'{"cells": [], "nbformat": 3}', "format 3"),
])
def test_an_unreadable_submission_scores_zero_with_the_reason(tmp_path, content, reason):
    path = tmp_path / "submission.ipynb"
    path.write_bytes(content)
    results = grade(path)
    validate(results)
    assert results["score"] == 0 and len(results["tests"]) == 5
    assert reason in results["output"] and results["extra_data"]["status"] == "unreadable"
    assert all(reason in test["output"] for test in results["tests"])


def test_a_broken_suite_is_the_graders_failure_not_the_students(tmp_path):
    suite = tmp_path / "suite" / A3
    suite.mkdir(parents=True)
    (suite / "test_broken.py").write_text("import does_not_exist\n")
    results = grade_notebook(A3, notebook(tmp_path), suite_dir=suite)
    validate(results)
    assert results["extra_data"]["grader_failed"]
    assert "The grader itself failed" in results["output"]


def run_cli(*args, cwd=REPO):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "autograder", "grade", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def test_the_cli_writes_results_and_exits_zero_whatever_the_score(tmp_path):
    out = tmp_path / "out" / "results.json"
    good = run_cli(A3, notebook(tmp_path), "--out", out, "--suite", TINY, "--timeout", 5)
    assert good.returncode == 0, good.stderr
    results = json.loads(out.read_text())
    validate(results)
    assert results["score"] == TOTAL and f"Score: {TOTAL} / {TOTAL}" in good.stdout
    empty = tmp_path / "empty.ipynb"
    empty.write_bytes(b"")
    bad = run_cli(A3, empty, "--out", out, "--suite", TINY)
    assert bad.returncode == 0, bad.stderr
    assert json.loads(out.read_text())["score"] == 0 and "is empty" in bad.stdout
    assert not list(out.parent.glob(".*.tmp"))  # the atomic write left nothing behind


def test_the_cli_exits_non_zero_when_the_grader_fails(tmp_path):
    out = tmp_path / "results.json"
    broken = run_cli(A3, notebook(tmp_path), "--out", out, "--suite", tmp_path / "no-suite")
    assert broken.returncode == 1
    results = json.loads(out.read_text())
    validate(results)
    assert results["extra_data"]["grader_failed"]


@pytest.mark.slow
def test_check_every_solution_scores_full_marks_and_every_stub_zero(capsys):
    from autograder.commands import build_parser, check

    args = build_parser().parse_args(["check", "--timeout", "30"])
    assert check.run(args) == 0, capsys.readouterr().out
    lines = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("ok ") for line in lines) == 6 and lines[-1] == "check passed"


# ---------------------------------------------------------------------------- one session, many
def test_one_collected_suite_grades_each_submission_on_its_own(tmp_path):
    """The suite is collected once per process; a submission never sees the one before it."""
    from autograder.grading.session import session_for

    good = notebook(tmp_path, name="good.ipynb")
    broken = notebook(tmp_path, replace={"step_lr": "def step_lr(*a, **k):\n    return 0.0\n"},
                      name="broken.ipynb")
    first = grade_notebook(A3, good, suite_dir=TINY)
    session = session_for(TINY, "auto")
    middle = grade_notebook(A3, broken, suite_dir=TINY)
    last = grade_notebook(A3, good, suite_dir=TINY)
    assert session_for(TINY, "auto") is session  # collected once
    assert first["score"] == last["score"] == TOTAL and middle["score"] < TOTAL
    assert first["tests"] == last["tests"]


def test_cases_of_a_device_that_does_not_run_here_are_not_collected(tmp_path):
    from autograder.grading.session import session_for

    grade_notebook(A3, notebook(tmp_path), suite_dir=TINY, device="cpu")
    plugin = session_for(TINY, "cpu").plugin
    assert plugin.outcomes and all(o.skipped == 0 for o in plugin.outcomes.values())


def test_the_childs_peak_memory_is_reported(tmp_path):
    small = grade_notebook(A3, notebook(tmp_path, name="small.ipynb"), suite_dir=TINY)
    hungry = dict(GOOD)
    hungry["step_lr"] = "_ballast = torch.ones(50_000_000)  # 200 MB, touched\n" + GOOD["step_lr"]
    big = grade_notebook(A3, notebook(tmp_path, replace=hungry, name="big.ipynb"),
                         suite_dir=TINY)
    assert 0 < small["extra_data"]["peak_rss_mb"] < big["extra_data"]["peak_rss_mb"]
    assert big["extra_data"]["peak_rss_mb"] >= small["extra_data"]["peak_rss_mb"] + 150
