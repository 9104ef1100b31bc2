"""The repository keeps the layout that COURSE.md and the README promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TOP_LEVEL = [
    "book", "assignments", "solutions", "autograder", "src/nntrain", "tests",
    "_config.yml", "_toc.yml", "environment.yml", "pyproject.toml", "Makefile",
    "README.md", ".ci/run",
]


def test_top_level_layout_exists() -> None:
    missing = [name for name in TOP_LEVEL if not (ROOT / name).exists()]
    assert not missing, f"missing from the repository root: {missing}"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci/run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci
    assert "make test" in readme and "make book" in readme


def test_torch_pin_is_the_cpu_wheel_on_this_machine_kind() -> None:
    assert "TORCH_SPEC ?= torch==2.13.0" in (ROOT / "Makefile").read_text()
    assert "torch==2.13.0" in (ROOT / "environment.yml").read_text()


def test_grader_cli_lists_every_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "autograder", "--help"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout
    for command in ["grade", "grade-batch", "gradescope", "check", "validate", "release"]:
        assert command in out
