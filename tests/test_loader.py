"""Loading submissions: graded cells by metadata or definition, malformed files refused clearly."""

from __future__ import annotations

import json
import time

import pytest
from grader_helpers import write_notebook

from autograder.intake.loader import load_submission, strip_ipython_syntax
from autograder.spec import get_assignment

A3 = get_assignment("a3_optim_schedules")


def names(submission):
    return [cell.name for cell in submission.cells]


def test_cells_are_found_by_grade_id_and_nothing_else_runs(tmp_path):
    path = write_notebook(tmp_path / "a.ipynb", [
        ("imports", "import math"),
        (None, "print('exploration, never run')"),
        ("linear_scaling_rule",
         "def linear_scaling_rule(base_lr, batch_size, base_batch_size=256):\n"
         "    return base_lr * batch_size / base_batch_size"),
        ("test_linear_scaling_rule", "assert linear_scaling_rule(0.1, 256) == 0.1"),
        ("step_lr", "def step_lr(t, base_lr, step_size, gamma=0.1):\n    return 0.0"),
    ])
    submission = load_submission(path, A3)
    assert submission.fatal is None
    assert names(submission) == ["imports", "linear_scaling_rule", "step_lr"]
    assert all(cell.matched_by == "metadata" for cell in submission.cells)
    assert "exploration" not in "".join(cell.code for cell in submission.cells)
    assert "cosine_lr" in submission.missing and "step_lr" not in submission.missing


def test_lost_metadata_falls_back_to_the_defining_cell_and_the_imports(tmp_path):
    path = write_notebook(tmp_path / "a.ipynb", [
        (None, "import math\nimport torch\nx = torch.ones(3)"),
        (None, "def step_lr(t, base_lr, step_size, gamma=0.1):\n    return 1.0"),
        (None, "def _helper():\n    pass\n\ndef step_lr(t, base_lr, step_size, gamma=0.1):\n"
               "    return base_lr * gamma ** (t // step_size)"),
    ])
    submission = load_submission(path, A3)
    assert names(submission) == ["imports", "step_lr"]
    assert submission.cells[0].code == "import math\nimport torch"  # imports only, no x = ...
    assert "gamma **" in submission.parts["step_lr"].code  # the last definition wins
    assert any("lost its nbgrader metadata" in p for p in submission.problems)


def test_duplicate_grade_ids_grade_the_last_cell(tmp_path):
    path = write_notebook(tmp_path / "a.ipynb", [
        ("step_lr", "def step_lr(*a):\n    return 1"),
        ("step_lr", "def step_lr(*a):\n    return 2"),
    ])
    submission = load_submission(path, A3)
    assert "return 2" in submission.parts["step_lr"].code
    assert any("2 cells carry grade_id 'step_lr'" in p for p in submission.problems)


def test_a_cell_with_a_syntax_error_is_reported_and_skipped(tmp_path):
    path = write_notebook(tmp_path / "a.ipynb", [
        ("imports", "import math"), ("step_lr", "def step_lr(t:\n    return"),
        ("linear_lr", "def linear_lr(*a):\n    return 0.0"),
    ])
    submission = load_submission(path, A3)
    assert "step_lr" not in submission.parts and "linear_lr" in submission.parts
    assert "SyntaxError" in submission.missing["step_lr"]


def test_ipython_magics_do_not_break_a_cell():
    code = "%matplotlib inline\n!pip install x\ndef f():\n    return 1\n"
    cleaned = strip_ipython_syntax(code)
    namespace: dict = {}
    exec(cleaned, namespace)
    assert namespace["f"]() == 1
    assert strip_ipython_syntax("%%time\nx = 1") == ""


@pytest.mark.parametrize("content, match", [
    (b"", "is empty"),
    (b"{not json", "invalid JSON"),
    (b"def f():\n    return 1\nimport torch\n", "looks like Python"),
    ("caf\u00e9".encode("latin-1") + b" \xff\xfe", "not UTF-8"),
    (b"[1, 2, 3]", "not a Jupyter notebook"),
    (json.dumps({"nbformat": 3, "worksheets": []}).encode(), "format 3"),
    (json.dumps({"nbformat": 5, "cells": []}).encode(), "format 5"),
    (b"[" * 100_000, "not a valid notebook"),
])
def test_malformed_files_get_a_clear_message(tmp_path, content, match):
    path = tmp_path / "submission.ipynb"
    path.write_bytes(content)
    submission = load_submission(path, A3)
    assert submission.fatal is not None and match in submission.fatal
    assert submission.cells == []
    assert set(submission.missing) == {part.name for part in A3.parts}


def test_a_python_file_is_refused(tmp_path):
    path = tmp_path / "a3_optim_schedules.py"
    path.write_text("def step_lr(t, base_lr, step_size, gamma=0.1):\n    return base_lr\n")
    submission = load_submission(path, A3)
    assert ".py file" in submission.fatal


def test_a_missing_file_and_a_folder_are_refused(tmp_path):
    assert "does not exist" in load_submission(tmp_path / "nope.ipynb", A3).fatal
    assert "not a file" in load_submission(tmp_path, A3).fatal


def test_a_huge_file_is_refused_by_its_size_without_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "huge.ipynb"
    with open(path, "wb") as handle:  # a sparse 100 MB file: no disk space, no time
        handle.truncate(100 * 1024 * 1024)
    opened = []
    original_open = type(path).open
    monkeypatch.setattr(type(path), "open", lambda self, *a, **k: opened.append(self)
                        or original_open(self, *a, **k))
    started = time.perf_counter()
    submission = load_submission(path, A3)
    assert time.perf_counter() - started < 1.0
    assert "100.0 MB" in submission.fatal and opened == []


def test_an_unreadable_file_is_refused(tmp_path, monkeypatch):
    path = write_notebook(tmp_path / "a.ipynb", [("imports", "import math")])

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(path), "open", refuse)
    assert "cannot be read (Permission denied)" in load_submission(path, A3).fatal


# ---------------------------------------------------------------------------- one rule for cells
def _grader_and_validate_choose(path) -> tuple[dict[str, int], dict[str, int]]:
    """The cell index each part gets from the grader's loader and from validate's rule."""
    import nbformat

    from autograder.intake.cells import select_answer_cells

    submission = load_submission(path, A3)
    graded = {cell.name: cell.index for cell in submission.cells if cell.name != "imports"}
    nb = nbformat.read(str(path), as_version=4)
    chosen = {name: choice.index for name, choice in select_answer_cells(nb.cells, A3).items()}
    return graded, chosen


def test_an_answer_cell_with_an_id_nbgrader_made_up_is_found_by_grader_and_validate(tmp_path):
    path = write_notebook(tmp_path / "a.ipynb", [
        ("imports", "import math"),
        ("cell-3f2a", "def step_lr(t, base_lr, step_size, gamma=0.1):\n"
                      "    return base_lr * gamma ** (t // step_size)"),
        ("test_step_lr", "assert step_lr(0, 1.0, 2) == 1.0"),
    ])
    graded, chosen = _grader_and_validate_choose(path)
    assert graded == chosen == {"step_lr": 1}


def test_a_visible_test_cell_or_another_parts_cell_is_never_an_answer(tmp_path):
    path = write_notebook(tmp_path / "a.ipynb", [
        ("imports", "import math"),
        ("cosine_lr", "def cosine_lr(*a, **k):\n    return 0.0\n\n"
                      "def step_lr(*a, **k):\n    return 'from the cosine cell'"),
        ("test_step_lr", "def step_lr(*a, **k):\n    return 'from the test cell'"),
    ])
    graded, chosen = _grader_and_validate_choose(path)
    assert graded == chosen == {"cosine_lr": 1}
    assert "step_lr" in load_submission(path, A3).missing


def test_cell_ids_come_from_the_spec(tmp_path):
    from autograder.spec import IMPORTS_CELL_ID

    part = A3.part("adam")
    assert (IMPORTS_CELL_ID, part.answer_cell_id, part.test_cell_id) == (
        "imports", "adam", "test_adam")
