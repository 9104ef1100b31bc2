"""The Gradescope zip, run in a simulated /autograder layout with the local installation
standing in for setup.sh's downloads."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from autograder.config import GradingConfig
from autograder.gradescope.build import build_zip, read_config, simulate
from autograder.gradescope.run import apply_visibility, find_notebook
from autograder.report.results import validate

REPO = Path(__file__).resolve().parent.parent
A2 = "a2_regularization"
SOLUTION = REPO / "solutions" / "source" / A2 / f"{A2}.ipynb"


@pytest.fixture(scope="module")
def zip_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_zip(A2, tmp_path_factory.mktemp("zip"),
                     GradingConfig(test_visibility="after_published"))


def test_zip_holds_the_scripts_grader_and_its_own_suite_only(zip_path: Path) -> None:
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
        assignment, config = read_config(archive.read("gradescope.json").decode())
        setup = archive.read("setup.sh").decode()
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    assert {"setup.sh", "run_autograder", "gradescope.json", "pyproject.toml"} <= names
    assert "autograder/grading/runner.py" in names and "autograder/DESIGN.md" in names
    assert any(n.startswith(f"autograder/grading/suites/{A2}/test_") for n in names)
    # Only this assignment's suite; no nntrain (no suite uses it as an oracle).
    others = [n for n in names if n.startswith("autograder/grading/suites/")
              and not n.startswith(f"autograder/grading/suites/{A2}/")]
    assert others == [] and not any(n.startswith("src/") for n in names)
    assert not any(n.startswith(("solutions/", "book/", "tests/")) for n in names)
    assert not any("__pycache__" in n for n in names)
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert assignment == A2 and config == GradingConfig(test_visibility="after_published")
    assert "torch==2.13.0" in setup and "whl/cpu" in setup and '".[grader]"' in setup
    checked = subprocess.run(["bash", "-n", "-c", setup], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_the_submission_is_found_or_a_reason_given(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    assert find_notebook(tmp_path, A2) == (tmp_path / "notes.txt", None)
    (tmp_path / "x.ipynb").write_text("{}")
    assert find_notebook(tmp_path, A2)[0] == tmp_path / "x.ipynb"
    (tmp_path / "y.ipynb").write_text("{}")
    path, reason = find_notebook(tmp_path, A2)
    assert path is None and f"{A2}.ipynb" in reason
    results = apply_visibility({"score": 1, "tests": [{"name": "t", "score": 1}]},
                               GradingConfig(visibility="hidden",
                                             test_visibility="after_due_date"))
    assert results["tests"][0]["visibility"] == "after_due_date"
    assert results["visibility"] == "hidden"


def _run_in_layout(zip_path: Path, root: Path, submission: Path) -> dict:
    process = simulate(zip_path, root, submission)
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results)
    assert all(t["visibility"] == "after_published" for t in results["tests"])
    return results


@pytest.mark.slow
def test_correct_partly_wrong_and_hostile_submissions(zip_path: Path, tmp_path: Path) -> None:
    from grader_helpers import make_submission

    correct = _run_in_layout(zip_path, tmp_path / "correct", SOLUTION)
    assert correct["score"] == 100

    for folder in ("wrong", "hostile"):
        (tmp_path / folder).mkdir()
    keep_prob = make_submission(A2, tmp_path / "wrong", replace={"dropout": (
        "def dropout(x, p=0.5, training=True, generator=None):\n"
        "    if not training:\n        return x.clone()\n"
        "    keep = torch.rand(x.shape, generator=generator, device=x.device) < p\n"
        "    return x * keep / p\n")})
    wrong = _run_in_layout(zip_path, tmp_path / "partly", keep_prob)
    assert 0 < wrong["score"] < 100

    # Tries to forge the results Gradescope reads and to read the hidden suites.
    forger = make_submission(A2, tmp_path / "hostile", replace={"label_smoothing": (
        "import json, pathlib\n"
        "for root in ('/autograder', " + repr(str(tmp_path / "forged")) + "):\n"
        "    try:\n"
        "        p = pathlib.Path(root, 'results', 'results.json')\n"
        "        p.parent.mkdir(parents=True, exist_ok=True)\n"
        "        p.write_text(json.dumps({'score': 1000}))\n"
        "    except OSError:\n        pass\n"
        "def label_smoothing(y, num_classes, eps):\n"
        "    raise RuntimeError('no')\n")})
    hostile = _run_in_layout(zip_path, tmp_path / "forged", forger)
    assert hostile["score"] == 100 - 10  # everything but label_smoothing's 10 points
