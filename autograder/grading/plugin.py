"""The pytest plugin of a grading run: each test's outcome, points and message for the student.

:class:`GradingPlugin` collects, for every test function, its outcome, its
``points`` marker and a short message for the student (the assertion's message,
never pytest's full diff).  Points belong to a test *function*: a parametrized test
(over devices or inputs) scores its marker's points when every one of its cases
that ran passed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from autograder import config as grading_config
from autograder.config import DEVICES
from autograder.errors import GraderError
from autograder.grading.student import Student
from autograder.sandbox.inside.transport import TransportError

PLUGIN_NAME = "nntrain_grader"
MAX_MESSAGE = 600


_REWRITE_SPLIT = re.compile(r"\n(assert |where |AssertionError)")


def student_message(error: BaseException) -> str:
    """A short message for the student about why a test failed."""
    if isinstance(error, GraderError | TransportError):  # written for the student
        text = str(error)
    elif isinstance(error, AssertionError):
        raw = str(error.args[0]) if error.args else ""
        if not raw or raw.startswith("assert "):
            text = "a check of this test failed"
        else:
            text = _REWRITE_SPLIT.split(raw, maxsplit=1)[0]
    elif isinstance(error, pytest.fail.Exception):
        text = str(error.msg)
    elif isinstance(error, pytest.skip.Exception):
        text = f"not run: {error.msg}"
    else:
        text = f"{type(error).__name__}: {error}"
    text = text.strip()
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def _short_failure(excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
    """A one-line failure report: where the test failed and the student's message."""
    entry = excinfo.traceback[-1] if excinfo.traceback else None
    where = f"{entry.path}:{entry.lineno + 1}: " if entry is not None else ""
    return where + student_message(excinfo.value)


@dataclass
class TestOutcome:
    """One test function's result (all its parametrized cases together)."""

    name: str
    part: str | None
    points: float
    cases: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    messages: list[str] = field(default_factory=list)
    order: int = 0

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.passed > 0


class GradingPlugin:
    """Pytest plugin: provides the grading context and records each test's outcome.

    One plugin can grade many submissions with the same collected items
    (:mod:`autograder.grading.session`): :meth:`begin` starts the record of the next
    one.  Cases for a device that does not run here (``--device cpu``, or cuda without
    a GPU) are deselected at collection, not skipped one by one.
    """

    def __init__(self, student: Student | None, device: str = "auto", *,
                 fast_reports: bool = True) -> None:
        if device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
        self.student = student
        self.device = device
        self.fast_reports = fast_reports
        self.outcomes: dict[str, TestOutcome] = {}
        self.collection_problems: list[str] = []
        self.suite_problems: list[str] = []
        self.collection_failed = False
        self._counter = 0

    @staticmethod
    def function_id(nodeid: str) -> str:
        return nodeid.split("[", 1)[0]

    def begin(self, student: Student) -> None:
        """Forget the previous submission's outcomes; grade ``student`` next."""
        self.student = student
        self.suite_problems = list(self.collection_problems)
        for outcome in self.outcomes.values():
            outcome.cases = outcome.passed = outcome.failed = outcome.skipped = 0
            outcome.messages = []

    def ordered_outcomes(self) -> list[TestOutcome]:
        return sorted(self.outcomes.values(), key=lambda o: o.order)

    def _outcome_for(self, item: pytest.Item) -> TestOutcome:
        key = self.function_id(item.nodeid)
        outcome = self.outcomes.get(key)
        if outcome is None:
            marker = item.get_closest_marker("points")
            points, part = 0.0, None
            if marker is None or not marker.args:
                self.collection_problems.append(f"{key} has no points marker")
                self.suite_problems.append(f"{key} has no points marker")
            else:
                points = float(marker.args[0])
                part = marker.kwargs.get("part")
            name = getattr(item, "originalname", None) or item.name.split("[", 1)[0]
            self._counter += 1
            outcome = TestOutcome(name=name, part=part, points=points, order=self._counter)
            self.outcomes[key] = outcome
        return outcome

    def _runs_here(self, item: pytest.Item) -> bool:
        callspec = getattr(item, "callspec", None)
        wanted = callspec.params.get("device") if callspec is not None else None
        if wanted not in ("cpu", "cuda"):
            return True
        if self.device != "auto":
            return wanted == self.device
        return wanted == "cpu" or grading_config.cuda_available()

    def pytest_collection_modifyitems(self, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        kept = [item for item in items if self._runs_here(item)]
        if len(kept) != len(items):
            config.hook.pytest_deselected(items=[i for i in items if i not in kept])
            items[:] = kept
        for item in items:
            self._outcome_for(item)
            if self.fast_reports:
                # pytest's failure report parses the source of every frame (a second per
                # failing test on a busy machine); the grader shows only its own message.
                item.repr_failure = _short_failure  # type: ignore[method-assign]
                item._repr_failure_py = _short_failure  # type: ignore[method-assign]

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            text = str(report.longrepr).strip().splitlines()
            problem = (f"collecting {report.nodeid} failed: "
                       f"{text[-1] if text else 'unknown error'}")
            self.collection_problems.append(problem)
            self.suite_problems.append(problem)
            self.collection_failed = True

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
        report = yield
        if call.excinfo is not None and (report.failed or report.skipped):
            prefix = ""
            if "[" in item.nodeid:
                prefix = f"[{item.nodeid.split('[', 1)[1]} "
            message = student_message(call.excinfo.value)
            if call.when != "call" and report.failed:
                message = f"{message} (while preparing the test)"
            report.student_message = prefix + message if prefix else message
        outcome = self._outcome_for(item)
        if report.when == "call" or report.failed or (report.skipped and report.when == "setup"):
            if report.failed:
                outcome.failed += 1
                outcome.messages.append(getattr(report, "student_message", "failed"))
            elif report.skipped:
                outcome.skipped += 1
            elif report.when == "call":
                outcome.passed += 1
        return report


def find_plugin(config: pytest.Config) -> GradingPlugin | None:
    """The grading plugin of this pytest session (registered by the grader or by --submission)."""
    for plugin in config.pluginmanager.get_plugins():
        if isinstance(plugin, GradingPlugin):
            return plugin
    return None
