"""``python -m autograder release``: the committed notebooks are what the build makes.

The slow tests run the real pipeline (authoring script -> source notebook ->
``nbgrader generate_assignment``) once into a temporary course, then compare
with the committed copies, read nbgrader's gradebook and run ``nbgrader
validate`` on released notebooks.  The fast ones test the pieces.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys

import nbformat
import pytest
from grader_helpers import find_cell, read_notebook

from autograder.commands import release
from autograder.intake.cells import nbgrader_metadata
from autograder.spec import ASSIGNMENTS, get_assignment, release_path
from autograder.spec import solution_path as source_path

NAMES = sorted(ASSIGNMENTS)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The whole release, built from scratch: (course folder, {path: text})."""
    workdir = tmp_path_factory.mktemp("release")
    files = release.build_all(NAMES, workdir)
    return workdir / "course", files


@pytest.mark.slow
def test_committed_notebooks_are_what_the_release_builds(generated) -> None:
    _, files = generated
    assert len(files) == 2 * len(NAMES)
    stale = [str(path) for path in release.stale_files(files)]
    assert not stale, f"stale: {stale}; run `python -m autograder release` and commit"


@pytest.mark.slow
def test_gradebook_records_the_manual_points(generated) -> None:
    from nbgrader.api import Gradebook

    course, _ = generated
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="nntrain") as gradebook:
        for name in NAMES:
            source = read_notebook(source_path(name))
            manual = {nbgrader_metadata(c)["grade_id"]: nbgrader_metadata(c)["points"]
                      for c in source.cells
                      if c.cell_type == "markdown" and nbgrader_metadata(c).get("grade")}
            notebook = gradebook.find_notebook(name, name)
            cells = {cell.name: cell.max_score for cell in notebook.grade_cells}
            for part in get_assignment(name).parts:
                assert cells.pop(f"test_{part.name}") == 0
            assert cells == manual, "the written questions, with their points"
            assert gradebook.find_assignment(name).max_score == sum(manual.values())


def _completed(name: str) -> nbformat.NotebookNode:
    """The released notebook with every answer filled in from the solution (a good student)."""
    released, source = read_notebook(release_path(name)), read_notebook(source_path(name))
    for cell in released.cells:
        meta = nbgrader_metadata(cell)
        if meta.get("solution"):
            cell.source = find_cell(source, meta["grade_id"]).source
    return released


def _nbgrader_validate(path) -> str:
    done = subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(path)],
                          capture_output=True, text=True, cwd=path.parent, check=False,
                          env=release._nbgrader_env(), timeout=600)
    return done.stdout + done.stderr


@pytest.mark.slow
def test_nbgrader_validate_accepts_a_completed_notebook(tmp_path) -> None:
    path = tmp_path / "a2_regularization.ipynb"
    nbformat.write(_completed("a2_regularization"), path)
    output = _nbgrader_validate(path)
    assert "Success! Your notebook passes all the tests." in output, output


@pytest.mark.slow
def test_nbgrader_validate_reports_the_stubs(tmp_path) -> None:
    path = tmp_path / "a3_optim_schedules.ipynb"
    shutil.copy(release_path("a3_optim_schedules"), path)
    output = _nbgrader_validate(path)
    parts = get_assignment("a3_optim_schedules").parts
    written = [c for c in read_notebook(path).cells
               if c.cell_type == "markdown" and nbgrader_metadata(c).get("grade")]
    # every visible test fails on its stub, every written answer is still empty
    assert f"VALIDATION FAILED ON {len(parts) + len(written)} CELL(S)!" in output, output
    assert output.count("NotImplementedError") >= len(parts)
    assert output.count("You did not provide a response.") == len(written)


def test_normalise_strips_what_varies_between_runs() -> None:
    nb = read_notebook(release_path("a1_activations_init"))
    text = release.notebook_text(nb)
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7", "mimetype": "x"}
    nb.metadata["widgets"] = {"state": {}}
    nb.cells[0].metadata["collapsed"] = True
    nb.cells[3].metadata["jupyter"] = {"source_hidden": True}
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="hi")]
    nb.cells[2].execution_count = 7
    once = release.notebook_text(release.normalise_release(nb))
    assert once == text
    assert release.notebook_text(release.normalise_release(nb)) == once


def test_check_names_stale_files_and_writes_nothing(tmp_path, monkeypatch, capsys) -> None:
    fresh, stale, missing = tmp_path / "fresh.ipynb", tmp_path / "stale.ipynb", tmp_path / "new"
    fresh.write_text("same\n")
    stale.write_text("old\n")
    built = {fresh: "same\n", stale: "new\n", missing: "made\n"}
    monkeypatch.setattr(release, "build_all", lambda names, workdir: built)
    assert release.stale_files(built) == [stale, missing]

    status = release.run(argparse.Namespace(assignments=[], check=True))
    out = capsys.readouterr().out
    assert status == 1 and f"stale: {stale}" in out and f"stale: {missing}" in out
    assert stale.read_text() == "old\n" and not missing.exists()

    assert release.run(argparse.Namespace(assignments=[], check=False)) == 0
    assert stale.read_text() == "new\n" and missing.read_text() == "made\n"
    assert release.run(argparse.Namespace(assignments=[], check=True)) == 0
    assert "up to date" in capsys.readouterr().out


def _solutions_copy(tmp_path, name: str, edit) -> release.Path:
    """A copy of solutions/ whose authoring script of ``name`` went through ``edit``."""
    solutions = tmp_path / "solutions"
    shutil.copytree(release.SOLUTIONS_DIR / "authoring", solutions / "authoring")
    script = release.authoring_path(name, solutions)
    text = script.read_text()
    edited = edit(text)
    assert edited != text, "the edit did not apply"
    script.write_text(edited)
    return solutions


def _untest_relu(text: str) -> str:
    """Turn the test cell after relu's answer into a plot cell."""
    start = text.index("def relu(x")
    at = text.index('# %% role="test"', start)
    return text[:at] + '# %% role="plot"' + text[at + len('# %% role="test"'):]


@pytest.mark.parametrize(("edit", "message"), [
    (_untest_relu, "must be followed directly by its test cell"),
    (lambda s: s.replace("def relu(x", "def relu2(x"), "must define exactly one graded part"),
    (lambda s: s.replace("def tanh(x: torch.Tensor) -> torch.Tensor:\n",
                         "def tanh(x: torch.Tensor) -> torch.Tensor:\n    return x\n\n\n"
                         "def extra(x):\n", 1), "must define exactly one graded part"),
    (lambda s: s.replace('role="manual" grade_id="q_init" points=5',
                         'role="manual" grade_id="q_init" points=0'), "positive integer points"),
    (lambda s: s.replace('# %% role="imports"', '# %% role="plot"'), "exactly one 'imports'"),
    (lambda s: s.replace('# %% role="answer"', '# %% role="answers"', 1), "unknown role"),
])
def test_build_source_refuses_a_script_that_breaks_the_spec(tmp_path, edit, message) -> None:
    solutions = _solutions_copy(tmp_path, "a1_activations_init", edit)
    with pytest.raises(ValueError, match=message):
        release.build_source("a1_activations_init", solutions)


def test_build_source_refuses_parts_out_of_order(tmp_path) -> None:
    def swap(text: str) -> str:
        start, middle = text.index('# %% role="answer"\ndef sigmoid('), text.index(
            '# %% [markdown]\n# ### Tanh')
        end = text.index("# %% [markdown]\n# ### ReLU")
        return text[:start] + text[middle:end] + text[start:middle] + text[end:]

    solutions = _solutions_copy(tmp_path, "a1_activations_init", swap)
    with pytest.raises(ValueError, match="do not match the spec's parts"):
        release.build_source("a1_activations_init", solutions)


def test_the_book_address_comes_from_the_book_configuration(tmp_path) -> None:
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: https://github.com/Some-Org/course-book\n")
    assert release.book_url(config) == "https://some-org.github.io/course-book/"
    config.write_text("html:\n  baseurl: https://book.example.org/nn\n"
                      "repository:\n  url: https://github.com/a/b\n")
    assert release.book_url(config) == "https://book.example.org/nn/"
    config.write_text("repository:\n  url: https://gitlab.example.org/a/b\n")
    with pytest.raises(ValueError, match="html.baseurl"):
        release.book_url(config)


def test_the_grading_cell_links_chapters_and_says_how_to_submit() -> None:
    spec = get_assignment("a2_regularization")
    text = release.grading_markdown(spec, [("q", 5)])
    base = release.book_url()
    for part in spec.parts:
        assert f"]({base}book/{part.chapter}.html)" in text, part.chapter
    assert "`book/" not in text  # no repository paths
    assert "*Assignments* tab" in text and "Gradescope" in text and ".zip" in text
    assert f"python -m autograder validate {spec.name}.ipynb" in text
