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
from autograder.gradescope.run import apply_visibility, find_notebook, grade_upload, load_problem
from autograder.gradescope.upload import UnsafeArchive, find_upload, safe_extract
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
    assert "torch==2.13.0" in setup and "whl/cpu" in setup
    # the grader's dependencies only: the grader and the suite stay in source/, root-only
    assert '".[grader]"' not in setup and 'chmod -R go-rwx "$ROOT/source"' in setup
    assert "Ubuntu 24.04" not in setup  # no base image Gradescope does not offer
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


def test_visibility_follows_gradescopes_rules() -> None:
    def graded(**settings: str) -> dict:
        return apply_visibility({"score": 1, "output": "Score: 1 / 3\nNotes on your submission:"
                                 "\n- cell 4 was ignored", "extra_data": {"max_score": 3},
                                 "tests": [{"name": "t", "score": 1, "max_score": 3}]},
                                GradingConfig(**settings))

    results = graded(visibility="hidden", test_visibility="after_due_date")
    check, test = results["tests"]
    assert test["visibility"] == "after_due_date" and results["visibility"] == "hidden"
    # The submission check is always visible, and says what the loader noticed.
    assert check["visibility"] == "visible" and check["max_score"] == 0
    assert "cell 4 was ignored" in check["output"] and check["output_format"] == "md"
    assert results["output_format"] == "md" and results["stdout_visibility"] == "hidden"
    # While tests are withheld so is the score (Gradescope's rule); the text must not leak it.
    for settings in ({"test_visibility": "after_published"}, {"visibility": "after_due_date"}):
        text = graded(**settings)["output"]
        assert "1 / 3" not in text and "shown" in text, text
    assert "**Score: 1 / 3**" in graded(visibility="visible", test_visibility="visible")["output"]
    validate(graded(test_visibility="hidden"))


def _zip(path: Path, members: dict[str, bytes], link: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, "/etc/passwd")
    return path


def test_a_zip_upload_is_unpacked_and_the_graded_file_named(tmp_path: Path) -> None:
    upload = tmp_path / "submission"
    upload.mkdir()
    _zip(upload / "work.zip", {f"hw/{A2}.ipynb": SOLUTION.read_bytes(), "hw/notes.md": b"x",
                               "__MACOSX/hw/._a.ipynb": b"junk", "hw/.ipynb_checkpoints/c": b""})
    found = find_upload(upload, A2, tmp_path / "scratch")
    assert found.problem is None and found.notebook.read_bytes() == SOLUTION.read_bytes()
    assert found.graded_name == f"work.zip: hw/{A2}.ipynb"
    assert found.ignored == ["work.zip: hw/notes.md"]
    # A notebook beside a zip: the zip is not opened, and is named as ignored.
    (upload / f"{A2}.ipynb").write_bytes(SOLUTION.read_bytes())
    found = find_upload(upload, A2, tmp_path / "scratch2")
    assert found.graded_name == f"{A2}.ipynb" and found.ignored == ["work.zip"]


@pytest.mark.parametrize("members, link, why", [
    ({"../../etc/evil.ipynb": b"{}"}, None, "unsafe path"),
    ({"/abs.ipynb": b"{}"}, None, "unsafe path"),
    ({"a.ipynb": b"{}"}, "link.ipynb", "symbolic link"),
    ({"big.ipynb": b"0" * (2 * 2**20)}, None, "more than 1 MB"),
    ({f"f{i}.txt": b"" for i in range(5)}, None, "at most 3"),
])
def test_an_unsafe_zip_is_refused(tmp_path: Path, members, link, why) -> None:
    archive = _zip(tmp_path / "up.zip", members, link)
    with pytest.raises(UnsafeArchive, match=why):
        safe_extract(archive, tmp_path / "out", max_members=3, max_total=2**20)
    assert not (tmp_path / "etc").exists() and not Path("/abs.ipynb").exists()


def _failure(tmp_path: Path, files: dict[str, bytes]) -> dict:
    (tmp_path / "submission").mkdir(parents=True)
    for name, data in files.items():
        (tmp_path / "submission" / name).write_bytes(data)
    results = grade_upload(tmp_path, A2, GradingConfig(visibility="hidden",
                                                       test_visibility="hidden"))
    validate(results)
    assert results["visibility"] == "visible" and results["output_format"] == "md"
    assert results["score"] == 0 and results["tests"] == []
    return results


def test_an_upload_that_cannot_be_graded_is_always_visible(tmp_path: Path) -> None:
    nothing = _failure(tmp_path / "a", {"notes.txt": b"hi", "b.ipynb": b"{}", "c.ipynb": b"{}"})
    assert f"`{A2}.ipynb`" in nothing["output"] and "`notes.txt`" in nothing["output"]
    other = REPO / "solutions" / "source" / "a1_activations_init" / "a1_activations_init.ipynb"
    wrong = _failure(tmp_path / "b", {"mine.ipynb": other.read_bytes()})
    assert "notebook of `a1_activations_init`" in wrong["output"], wrong["output"]
    broken = _failure(tmp_path / "c", {f"{A2}.ipynb": b"{ not json"})
    assert "not a valid notebook" in broken["output"]
    raw = _failure(tmp_path / "d", {"up.zip": b"PK\x03\x04 truncated"})
    assert "not a readable .zip" in raw["output"]
    assert load_problem(SOLUTION, A2) is None


def _run_in_layout(zip_path: Path, root: Path, submission: Path) -> dict:
    process = simulate(zip_path, root, submission)
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results)
    check, *tests = results["tests"]
    assert check["name"] == "Submission" and check["visibility"] == "visible"
    assert tests and all(t["visibility"] == "after_published" for t in tests)
    assert f"{results['score']} /" not in results["output"]  # withheld until published
    return results


@pytest.mark.slow
def test_correct_partly_wrong_and_hostile_submissions(zip_path: Path, tmp_path: Path) -> None:
    from grader_helpers import make_submission

    correct = _run_in_layout(zip_path, tmp_path / "correct", SOLUTION)
    assert correct["score"] == 100
    # The same notebook zipped, with a stray file: graded, and both named.
    (tmp_path / "zipped").mkdir()
    _zip(tmp_path / "zipped" / "upload.zip", {f"{A2}.ipynb": SOLUTION.read_bytes(),
                                              "scratch.py": b"print(1)\n"})
    zipped = _run_in_layout(zip_path, tmp_path / "zipped-root", tmp_path / "zipped")
    assert zipped["score"] == 100
    assert f"`upload.zip: {A2}.ipynb`" in zipped["tests"][0]["output"]
    assert "`upload.zip: scratch.py`" in zipped["tests"][0]["output"]

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
