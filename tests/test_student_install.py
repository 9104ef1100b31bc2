"""A student's install of the project carries the self-check (validate) and no hidden test.

The wheel is built from a copy of the sources (``pip wheel --no-deps --no-build-isolation``,
so nothing is downloaded and the working tree gets no build/ folder), inspected, unpacked
into a folder and used from there, with this checkout off the path, as a student would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
A1 = "a1_activations_init"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy(REPO / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".*")
    shutil.copytree(REPO / "autograder", source / "autograder", ignore=ignore)
    shutil.copytree(REPO / "src", source / "src", ignore=ignore)
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
                           "--no-build-isolation", "--no-index", "-q", "-w", str(out)],
                          capture_output=True, text=True, timeout=600, cwd=source)
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_has_the_students_tools_and_no_hidden_suite(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    suites = sorted((REPO / "autograder" / "grading" / "suites").rglob("test_*.py"))
    assert suites, "the checkout's suites were not found"
    leaked = [n for n in names if "grading/suites" in n
              or Path(n).name in {s.name for s in suites}]
    assert leaked == [], f"hidden tests in a student's install: {leaked}"
    assert not any(n.startswith(("solutions/", "tests/")) for n in names)
    for needed in ("autograder/commands/validate.py", "autograder/intake/cells.py",
                   "autograder/spec.py", "autograder/report/schemas/"):
        assert any(n.startswith(needed) for n in names), f"{needed} missing from the wheel"


@pytest.mark.slow
def test_validate_runs_from_the_installed_copy(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    notebook = tmp_path / f"{A1}.ipynb"
    shutil.copy(REPO / "assignments" / A1 / f"{A1}.ipynb", notebook)
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = subprocess.run([sys.executable, "-c", "import autograder; print(autograder.__file__)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert probe.stdout.strip().startswith(str(site)), probe.stdout + probe.stderr
    done = subprocess.run([sys.executable, "-m", "autograder", "validate", str(notebook)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    # The released stub: every function is reported as not implemented, the check exits 1.
    assert done.returncode == 1, done.stdout + done.stderr
    assert "not implemented" in done.stdout, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
