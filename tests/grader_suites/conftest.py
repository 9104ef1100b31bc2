"""Tiny hidden suites of the grader's own tests (tests/test_grade.py, tests/test_hostile.py).

They run only inside the grader (``run_suite(..., suite_dir=...)``), which registers
its plugin first; the repository's own pytest run skips this folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.grading.plugin import find_plugin


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    return None if find_plugin(config) is not None else True
