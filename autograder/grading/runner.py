"""Run an assignment's hidden suite against one submission and produce its results.

The suite runs with pytest *in this process* (the parent); the student's code runs
only in the sandboxed child behind the :class:`~autograder.grading.student.Student`
object that the suites receive as their ``student`` fixture.  The plugin
(:mod:`autograder.grading.plugin`) records each test's outcome and
:func:`grade_submission` turns them into Gradescope's results format
(:mod:`autograder.report.results`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from autograder.config import GradingConfig
from autograder.grading.outcome import GradeRun
from autograder.grading.session import session_for
from autograder.grading.student import Student
from autograder.intake.loader import load_submission
from autograder.intake.static_check import static_check
from autograder.report.results import build_results
from autograder.sandbox.session import Sandbox
from autograder.sandbox.zygote import Zygote
from autograder.spec import IMPORTS_CELL_ID, get_assignment

SUITES_DIR = Path(__file__).resolve().parent / "suites"


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


def prepare(assignment_name: str, notebook: str | Path, config: GradingConfig | None = None, *,
            hide: list[str | Path] | None = None) -> tuple[Student, Sandbox | None, list[str]]:
    """Load a submission, check it statically and start its sandbox (in the background)."""
    config = config or GradingConfig()
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
                          tensor_methods=assignment.forbidden_tensor_methods,
                          limits=config.limits, isolation=config.isolation, audit=config.audit,
                          hide=[*submission_hide_dirs(notebook), *(hide or [])],
                          weak_isolation=config.weak_isolation)
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


def run_suite(assignment_name: str, notebook: str | Path, config: GradingConfig | None = None, *,
              suite_dir: str | Path | None = None,
              hide: list[str | Path] | None = None) -> GradeRun:
    """Grade ``notebook`` with the suite of ``assignment_name``; never raises for a bad notebook.

    The caller checks ``config.device`` first (:func:`autograder.config.device_problem`);
    a ``cuda`` run without a GPU would fail every CUDA case here.
    """
    config = config or GradingConfig()
    started = time.perf_counter()
    Zygote.prestart(config.isolation, config.audit)
    assignment = get_assignment(assignment_name)
    suite = Path(suite_dir) if suite_dir else default_suite_dir(assignment_name)
    student, sandbox, problems = prepare(assignment_name, notebook, config, hide=hide)
    suite_problems: list[str] = []
    outcomes = []
    if not suite.is_dir():
        suite_problems.append(f"the suite folder {suite} does not exist")
        exit_code = 4
    else:
        try:
            run = session_for(suite, config.device).run(student)
        finally:
            if sandbox is not None:
                sandbox.close()
        outcomes, suite_problems, exit_code = run.outcomes, run.suite_problems, run.exit_code
    if exit_code not in (0, 1):
        suite_problems.append(f"pytest ended with exit code {exit_code}")
    problems += load_problems(sandbox)
    if sandbox is not None and sandbox.refused:  # a missing sandbox layer (issue 14)
        suite_problems = [*suite_problems, sandbox.refused]
    isolation_layers = sandbox.layers if sandbox else []
    warnings = sandbox.warnings if sandbox else []
    if sandbox is not None:
        isolation_layers = [*sandbox.zygote_report.get("layers", []), *isolation_layers]
    return GradeRun(assignment, student._submission, outcomes, problems, suite_problems,
                    isolation_layers, warnings, time.perf_counter() - started, exit_code,
                    sandbox.peak_rss_mb if sandbox is not None else None,
                    sandbox.slowest_call if sandbox is not None else None)


def grade_submission(assignment_name: str, notebook: str | Path,
                     config: GradingConfig | None = None, **options: Any) -> dict[str, Any]:
    """The results.json dict of ``notebook`` (options: ``suite_dir``, ``hide``)."""
    config = config or GradingConfig()
    return build_results(run_suite(assignment_name, notebook, config, **options),
                         visibility=config.visibility, test_visibility=config.test_visibility)
