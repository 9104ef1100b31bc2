"""Fixtures and markers of the hidden suites: a pytest plugin (see autograder/DESIGN.md).

* ``student`` (session): the submission, whose graded names are called in the
  sandboxed child — ``student.relu(x)``, ``student.call("relu", x)`` (a
  :class:`~autograder.sandbox.handles.CallInfo`), ``student.has("relu")``.  Values
  come back through the safe format; other objects come back as
  :class:`~autograder.sandbox.handles.Handle`.  Errors arrive as the exceptions of
  :mod:`autograder.errors`; a test that receives one fails with its message.
* ``device``: parametrized cpu/cuda; the grader's ``--device`` decides which run
  (``auto``: cpu, plus cuda when available; ``cpu``; ``cuda``: only cuda, and a
  missing GPU fails the test).
* ``@pytest.mark.points(n, part="relu")`` on every test: the test function scores
  ``n`` when all its cases (parametrizations) that ran passed, else 0.

The grader (``python -m autograder grade``) registers this module with ``-p`` and
its :class:`~autograder.grading.plugin.GradingPlugin`.  To run a suite directly
while writing it::

    pytest -p autograder.grading.fixtures autograder/grading/suites/a1_activations_init \
        --submission path/to/notebook.ipynb
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from autograder.config import DEVICES, GradingConfig
from autograder.grading.plugin import PLUGIN_NAME, GradingPlugin, find_plugin
from autograder.spec import ASSIGNMENTS


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nntrain grader", "running a hidden suite directly")
    group.addoption("--submission", default=None,
                    help="the notebook to grade when a hidden suite is run with plain pytest")
    group.addoption("--assignment", default=None, choices=sorted(ASSIGNMENTS),
                    help="the assignment of --submission (default: from the suite's folder)")
    group.addoption("--grader-device", default="auto", choices=DEVICES,
                    help="where device-parametrized tests run (as the grader's --device)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "points(n, part): points of this test function and the graded part it checks")
    config.addinivalue_line("markers", "cuda: needs a CUDA device (skipped cleanly without one)")
    if find_plugin(config) is not None:
        return
    submission = config.getoption("--submission", default=None)
    if not submission:
        return
    assignment = config.getoption("--assignment", default=None) or _assignment_of(config.args)
    if assignment is None:
        raise pytest.UsageError("--submission needs --assignment (not found in the test paths)")
    from autograder.grading.runner import prepare  # the grader's own runs never come here

    device = config.getoption("--grader-device")
    student, sandbox, problems = prepare(assignment, submission, GradingConfig(device=device))
    plugin = GradingPlugin(student, device, fast_reports=False)
    plugin.own_sandbox = sandbox
    plugin.load_notes = problems
    config.pluginmanager.register(plugin, PLUGIN_NAME)


def pytest_unconfigure(config: pytest.Config) -> None:
    plugin = find_plugin(config)
    sandbox = getattr(plugin, "own_sandbox", None)
    if sandbox is not None:
        sandbox.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    plugin = find_plugin(terminalreporter.config)
    if plugin is None or not hasattr(plugin, "own_sandbox"):
        return
    outcomes = plugin.outcomes.values()
    score = sum(o.points for o in outcomes if o.ok)
    total = sum(o.points for o in outcomes)
    terminalreporter.write_sep("=", f"score {score:g} / {total:g}")
    for note in getattr(plugin, "load_notes", []):
        terminalreporter.write_line(f"note: {note}")


def _assignment_of(args: list[str]) -> str | None:
    for arg in args:
        for part in Path(arg.split("::", 1)[0]).resolve().parts:
            if part in ASSIGNMENTS:
                return part
    return None


def _plugin(config: pytest.Config) -> GradingPlugin:
    plugin = find_plugin(config)
    if plugin is None:
        raise pytest.UsageError("the hidden suites grade a submission: run them with "
                                "`python -m autograder grade` or pytest --submission NOTEBOOK")
    return plugin


@pytest.fixture(scope="session")
def student(request: pytest.FixtureRequest):
    """The submission under test (see the module docstring)."""
    return _plugin(request.config).student


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request: pytest.FixtureRequest) -> torch.device:
    """cpu and/or cuda, as the grader's ``--device`` says."""
    wanted = _plugin(request.config).device
    if request.param == "cuda":
        if not torch.cuda.is_available():
            if wanted == "cuda":
                pytest.fail("the grader was asked for --device cuda but CUDA is not available")
            pytest.skip("CUDA is not available on this machine")
        if wanted == "cpu":
            pytest.skip("--device cpu runs only the CPU case")
    elif wanted == "cuda":
        pytest.skip("--device cuda runs only the CUDA case")
    return torch.device(request.param)
