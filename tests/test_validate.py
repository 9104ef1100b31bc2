"""``python -m autograder validate``: the per-function report a student reads.

The slow tests execute a3 (the quickest notebook) in a fresh kernel three
ways: the solution (all passed, exit 0), the released stub (all not
implemented, exit 1) and a partly wrong submission (each status once).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nbformat
import pytest
from grader_helpers import find_cell, read_notebook

from autograder.commands import validate
from autograder.spec import get_assignment, release_path, solution_path

A3 = "a3_optim_schedules"
PARTS = [part.name for part in get_assignment(A3).parts]


def _args(notebook, timeout: int) -> argparse.Namespace:
    """validate's arguments, as its command line builds them."""
    from autograder.commands import build_parser

    return build_parser().parse_args(["validate", str(notebook), "--timeout", str(timeout)])


def test_error_line_is_one_line() -> None:
    error = {"ename": "AssertionError", "evalue": "Tensor-likes are not close!\n\nMismatched: 3"}
    assert validate.error_line(error) == "AssertionError: Tensor-likes are not close! Mismatched: 3"
    assert validate.error_line({"ename": "ValueError", "evalue": ""}) == "ValueError"
    assert len(validate.error_line({"ename": "E", "evalue": "x" * 1000})) == 300


def test_format_report_lists_every_function_and_a_summary() -> None:
    report = validate.Report(Path("hw.ipynb"), A3, [
        validate.PartResult("step_lr", validate.PASSED),
        validate.PartResult("adam", validate.FAILED, "AssertionError: step 1: not close"),
        validate.PartResult("adagrad", validate.NOT_IMPLEMENTED),
        validate.PartResult("rmsprop", validate.MISSING, "no answer cell defines rmsprop"),
    ])
    text = validate.format_report(report)
    lines = text.splitlines()
    assert lines[0] == f"Visible tests of hw.ipynb ({A3}):"
    assert any(line.split()[:2] == ["FAILED", "adam"] and line.endswith("not close")
               for line in lines)
    assert any(line.split() == ["not", "implemented", "adagrad"] for line in lines)
    assert "1 passed, 1 failed, 1 not implemented, 1 missing (of 4 functions)." in text
    assert not report.passed and "All visible tests pass" not in text


def test_assignment_is_guessed_from_the_name_or_the_cells(tmp_path) -> None:
    nb = read_notebook(release_path(A3))
    assert validate.guess_assignment(nb, Path(f"{A3}.ipynb")).name == A3
    assert validate.guess_assignment(nb, tmp_path / "my homework.ipynb").name == A3
    with pytest.raises(ValueError, match="--assignment"):
        validate.guess_assignment(nbformat.v4.new_notebook(), tmp_path / "empty.ipynb")


def test_a_missing_notebook_is_a_usage_error(tmp_path, capsys) -> None:
    args = _args(tmp_path / "nope.ipynb", 10)
    assert validate.run(args) == 2
    assert "no such notebook" in capsys.readouterr().out


def _statuses(output: str) -> dict[str, str]:
    """Part name -> status word(s), read back from the printed report."""
    found = {}
    for line in output.splitlines():
        words = line.split()
        for width in (1, 2):
            if len(words) > width and words[width] in PARTS:
                found[words[width]] = " ".join(words[:width]).lower()
    return found


@pytest.mark.slow
def test_solution_passes(capsys) -> None:
    status = validate.run(_args(solution_path(A3), 120))
    output = capsys.readouterr().out
    assert status == 0, output
    assert _statuses(output) == dict.fromkeys(PARTS, "passed")
    assert "All visible tests pass" in output


@pytest.mark.slow
def test_stub_is_not_implemented(capsys) -> None:
    status = validate.run(_args(release_path(A3), 120))
    output = capsys.readouterr().out
    assert status == 1
    assert _statuses(output) == dict.fromkeys(PARTS, "not implemented"), output


@pytest.mark.slow
def test_partly_wrong_notebook(tmp_path, capsys) -> None:
    nb = read_notebook(solution_path(A3))
    # a wrong answer: Adam without bias correction
    adam = find_cell(nb, "adam")
    adam.source = adam.source.replace("m_hat = exp_avg / (1 - beta1**step)", "m_hat = exp_avg")
    # a stub, as released
    find_cell(nb, "rmsprop").source = find_cell(read_notebook(release_path(A3)), "rmsprop").source
    # a syntax error
    find_cell(nb, "linear_scaling_rule").source = "def linear_scaling_rule(base_lr, batch_size:\n"
    # deleted
    nb.cells.remove(find_cell(nb, "multistep_lr"))
    # nbgrader's metadata lost, the function still there: found by its definition
    find_cell(nb, "adagrad").metadata = {}
    path = tmp_path / "submission.ipynb"
    nbformat.write(nb, path)

    status = validate.run(_args(path, 120))
    output = capsys.readouterr().out
    assert status == 1
    expected = dict.fromkeys(PARTS, "passed")
    expected.update(adam="failed", rmsprop="not implemented", linear_scaling_rule="failed",
                    multistep_lr="missing")
    assert _statuses(output) == expected, output
    lines = {line.split()[1]: line for line in output.splitlines() if line.startswith("  FAILED")}
    assert "AssertionError" in lines["adam"] and "step 1" in lines["adam"]
    assert "the answer cell raised SyntaxError" in lines["linear_scaling_rule"]
    assert "no answer cell defines multistep_lr" in output


def test_validate_applies_the_graders_forbidden_name_rule(tmp_path) -> None:
    """A silu calling torch.sigmoid passes its visible tests but scores 0: validate says so."""
    from grader_helpers import make_submission

    a1 = get_assignment("a1_activations_init")
    path = make_submission(a1.name, tmp_path, replace={
        "silu": "def silu(x):\n    return x * torch.sigmoid(x)\n",
        "relu": "import torch.nn.functional as F\n\n\ndef relu(x):\n    return F.relu(x)\n"})
    static = validate.forbidden_uses(path, a1)
    silu = validate.forbidden_detail(static, "silu")
    assert silu is not None and "`torch.sigmoid`" in silu and "scores its tests 0" in silu
    assert "torch.nn.functional" in (validate.forbidden_detail(static, "relu") or "")
    assert validate.forbidden_detail(static, "sigmoid") is None
