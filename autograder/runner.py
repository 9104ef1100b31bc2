"""Run an assignment's hidden suite against one submission and produce its results.

The suite runs with pytest *in this process* (the parent); the student's code
runs only in the sandboxed child behind the :class:`Student` object that the
suites receive as their ``student`` fixture.  A pytest plugin
(:class:`GradingPlugin`) collects, for every test function, its outcome, its
``points`` marker and a short message for the student (the assertion's message,
never pytest's full diff), and :func:`grade` turns them into Gradescope's
results format (:mod:`autograder.results`).

Points belong to a test *function*: a parametrized test (over devices or
inputs) scores its marker's points when every one of its cases that ran passed.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from autograder.errors import ForbiddenCall, GraderError, MissingPart
from autograder.guards import StaticReport, static_check
from autograder.loader import IMPORTS_CELL_ID, Submission, load_submission
from autograder.sandbox import CallInfo, Limits, Sandbox, Zygote
from autograder.spec import Assignment, get_assignment

SUITES_DIR = Path(__file__).resolve().parent / "suites"
PLUGIN_NAME = "nntrain_grader"
DEVICES = ("auto", "cpu", "cuda")
MAX_MESSAGE = 600


# ============================================================================ the student fixture
class Student:
    """What a suite sees of a submission: its graded names, callable in the sandbox.

    ``student.relu(x)`` calls the submission's ``relu`` in the child and returns
    the result; ``student.call(name, *args, **kwargs)`` also reports what the call
    did to its arguments (:class:`~autograder.sandbox.CallInfo`);
    ``student.has(name)`` says whether the name is defined.
    """

    def __init__(self, sandbox: Sandbox | None, submission: Submission, static: StaticReport,
                 assignment: Assignment) -> None:
        self._sandbox = sandbox
        self._submission = submission
        self._static = static
        self._assignment = assignment

    def _check(self, name: str) -> Sandbox:
        if not isinstance(name, str) or not name.isidentifier():
            raise TypeError(f"not a name: {name!r}")
        reason = self._submission.missing_reason(name)
        if reason is not None or self._sandbox is None:
            raise MissingPart(name, reason or "the submission could not be loaded")
        use = self._static.first_use(name)
        if use is not None:
            finding, via = use
            through = f" (through {', '.join(f'`{v}`' for v in via)})" if via else ""
            raise ForbiddenCall(finding.name, where=f"`{name}`{through}", how="uses")
        return self._sandbox

    def call(self, name: str, /, *args: Any, **kwargs: Any) -> CallInfo:
        sandbox = self._check(name)
        try:
            return sandbox.call(name, args, kwargs, info=True)
        except MissingPart:
            raise MissingPart(name, self._why_missing(name)) from None

    def has(self, name: str) -> bool:
        try:
            sandbox = self._check(name)
        except MissingPart:
            return False
        except ForbiddenCall:
            return True
        return sandbox.has(name)

    def _why_missing(self, name: str) -> str | None:
        sandbox = self._sandbox
        if sandbox is None:
            return None
        result = sandbox.cell_results.get(name)
        if result is None:
            return None
        if result.crashed:
            return f"its cell was dropped: {result.crashed}"
        if result.errors:
            first = result.errors[0]
            return f"its cell raised {first['type']} at line {first['line']}: {first['message']}"
        return None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        def call_student(*args: Any, **kwargs: Any) -> Any:
            sandbox = self._check(name)
            try:
                return sandbox.call(name, args, kwargs).value
            except MissingPart:
                raise MissingPart(name, self._why_missing(name)) from None

        call_student.__name__ = name
        call_student.__qualname__ = f"student.{name}"
        return call_student

    def __repr__(self) -> str:
        return f"<submission {self._submission.path.name} for {self._assignment.name}>"


# ============================================================================ messages
_REWRITE_SPLIT = re.compile(r"\n(assert |where |AssertionError)")


def student_message(error: BaseException) -> str:
    """A short message for the student about why a test failed."""
    if isinstance(error, GraderError):
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


# ============================================================================ the plugin
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
    """Pytest plugin: provides the grading context and records each test's outcome."""

    def __init__(self, student: Student, device: str = "auto", *,
                 fast_reports: bool = True) -> None:
        if device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
        self.student = student
        self.device = device
        self.fast_reports = fast_reports
        self.outcomes: dict[str, TestOutcome] = {}
        self.suite_problems: list[str] = []
        self._counter = 0

    @staticmethod
    def function_id(nodeid: str) -> str:
        return nodeid.split("[", 1)[0]

    def _outcome_for(self, item: pytest.Item) -> TestOutcome:
        key = self.function_id(item.nodeid)
        outcome = self.outcomes.get(key)
        if outcome is None:
            marker = item.get_closest_marker("points")
            points, part = 0.0, None
            if marker is None or not marker.args:
                self.suite_problems.append(f"{key} has no points marker")
            else:
                points = float(marker.args[0])
                part = marker.kwargs.get("part")
            name = getattr(item, "originalname", None) or item.name.split("[", 1)[0]
            self._counter += 1
            outcome = TestOutcome(name=name, part=part, points=points, order=self._counter)
            self.outcomes[key] = outcome
        return outcome

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
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
            self.suite_problems.append(f"collecting {report.nodeid} failed: "
                                       f"{text[-1] if text else 'unknown error'}")

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


# ============================================================================ grading
@dataclass
class GradeRun:
    """Everything one grading run produced."""

    assignment: Assignment
    submission: Submission
    outcomes: list[TestOutcome]
    problems: list[str]  # for the student
    suite_problems: list[str]  # the grader's own failures (not the student's)
    isolation: list[str]
    warnings: list[str]
    elapsed: float
    exit_code: int

    @property
    def grader_failed(self) -> bool:
        return bool(self.suite_problems) or self.exit_code not in (0, 1)


def default_suite_dir(assignment: str) -> Path:
    return SUITES_DIR / assignment


def submission_hide_dirs(notebook: Path) -> list[Path]:
    """Folders of the submission (and of the class's other submissions) hidden from the child."""
    notebook = notebook.resolve()
    dirs = [notebook.parent]
    for ancestor in notebook.parents:
        if ancestor.name in ("submitted", "autograded", "feedback", "submissions"):
            dirs.append(ancestor)
    return dirs


def pytest_args(suite_dir: Path) -> list[str]:
    """Arguments of the inner pytest run: no ini file, no cache, no output, no xdist."""
    suite_dir = suite_dir.resolve()
    args = [str(suite_dir), "-c", os.devnull, "--rootdir", str(suite_dir.parent),
            "--confcutdir", str(suite_dir.parent), "-p", "no:cacheprovider", "-p", "no:terminal",
            "-p", "no:xdist", "-p", "no:randomly", "-p", "no:logging",
            "-p", "no:unraisableexception", "-p", "no:threadexception", "--import-mode=importlib",
            "-W", "ignore::DeprecationWarning"]
    if not suite_dir.is_relative_to(SUITES_DIR):
        args += ["-p", "autograder.suites.conftest"]  # a suite of the grader's own tests
    return args


def prepare(assignment_name: str, notebook: str | Path, *, limits: Limits | None = None,
            isolation: str = "auto", audit: bool = True,
            hide: list[str | Path] | None = None) -> tuple[Student, Sandbox | None, list[str]]:
    """Load a submission, check it statically and start its sandbox (in the background)."""
    assignment = get_assignment(assignment_name)
    notebook = Path(notebook)
    submission = load_submission(notebook, assignment)
    cells = [(cell.name, cell.code) for cell in submission.cells]
    if cells and cells[0][0] != IMPORTS_CELL_ID:
        cells.insert(0, (IMPORTS_CELL_ID, ""))  # the import switch of the runtime guard flips
    static = static_check(cells, assignment.forbidden, assignment.forbidden_tensor_methods)
    problems = list(submission.problems)
    problems += static.summary([part.name for part in assignment.parts])
    sandbox = None
    if submission.fatal is None and len(cells) > 1:
        sandbox = Sandbox(cells, forbidden=assignment.forbidden,
                          tensor_methods=assignment.forbidden_tensor_methods, limits=limits,
                          isolation=isolation, audit=audit,
                          hide=[*submission_hide_dirs(notebook), *(hide or [])])
        sandbox.start_async()
    return Student(sandbox, submission, static, assignment), sandbox, problems


def load_problems(sandbox: Sandbox | None) -> list[str]:
    """What went wrong while the child ran the cells (after the suite has run)."""
    if sandbox is None:
        return []
    lines = []
    for name, result in sandbox.cell_results.items():
        label = "the imports cell" if name == IMPORTS_CELL_ID else f"the `{name}` cell"
        if result.crashed:
            lines.append(f"{label} was not run: {result.crashed}")
        for error in result.errors[:3]:
            lines.append(f"{label} raised {error['type']} at line {error['line']}: "
                         f"{error['message'][:200]}")
        for name_used in dict.fromkeys(result.forbidden):
            lines.append(f"{label} uses the forbidden `{name_used}`")
    return lines


def run_suite(assignment_name: str, notebook: str | Path, *, device: str = "auto",
              limits: Limits | None = None, isolation: str = "auto", audit: bool = True,
              suite_dir: str | Path | None = None,
              hide: list[str | Path] | None = None) -> GradeRun:
    """Grade ``notebook`` with the suite of ``assignment_name``; never raises for a bad notebook."""
    started = time.perf_counter()
    Zygote.prestart(isolation, audit)
    assignment = get_assignment(assignment_name)
    suite = Path(suite_dir) if suite_dir else default_suite_dir(assignment_name)
    student, sandbox, problems = prepare(assignment_name, notebook, limits=limits,
                                         isolation=isolation, audit=audit, hide=hide)
    plugin = GradingPlugin(student, device)
    suite_problems: list[str] = []
    if not suite.is_dir():
        suite_problems.append(f"the suite folder {suite} does not exist")
        exit_code = 4
    else:
        try:
            exit_code = int(pytest.main(pytest_args(suite), plugins=[plugin]))
        finally:
            if sandbox is not None:
                sandbox.close()
    if exit_code not in (0, 1):
        suite_problems.append(f"pytest ended with exit code {exit_code}")
    suite_problems += plugin.suite_problems
    problems += load_problems(sandbox)
    isolation_layers = sandbox.layers if sandbox else []
    warnings = sandbox.warnings if sandbox else []
    if sandbox is not None:
        isolation_layers = [*sandbox.zygote_report.get("layers", []), *isolation_layers]
    return GradeRun(assignment, student._submission, sorted(plugin.outcomes.values(),
                                                            key=lambda o: o.order),
                    problems, suite_problems, isolation_layers, warnings,
                    time.perf_counter() - started, exit_code)


def grade_submission(assignment_name: str, notebook: str | Path, *,
                     visibility: str = "visible", **options: Any) -> dict[str, Any]:
    """The results.json dict of ``notebook`` (see :func:`run_suite` for the options)."""
    from autograder.results import build_results

    return build_results(run_suite(assignment_name, notebook, **options), visibility=visibility)
