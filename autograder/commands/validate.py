"""``python -m autograder validate NOTEBOOK``: run a notebook's visible tests, report per function.

For students.  In a fresh Jupyter kernel it runs what the grader would load
(the ``imports`` cell and every answer cell) and each function's visible-test
cell, and prints one line per graded function: passed, failed (with the last
line of the error), not implemented (the stub's ``NotImplementedError``) or
missing (no answer cell defines it).  Plot cells and the rest of the notebook
are not run.  Exit status 0 only when every visible test passes.

Before running anything it applies the grader's own forbidden-name rule
(:func:`autograder.intake.static_check.static_check` on the cells the grader
loads, with the assignment's forbidden names): a function that uses a forbidden
built-in is reported as failed, as the grader would score it 0, even when its
visible tests pass.

The visible tests are quick checks worth 0 points; the hidden suite that
grades the notebook tests much more.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from autograder import config as grading_config
from autograder.intake.cells import (
    find_cells,
    grade_id,
    imports_cell,
    select_answer_cells,
    test_cell,
)
from autograder.intake.loader import load_submission
from autograder.intake.static_check import StaticReport, static_check
from autograder.spec import (
    ASSIGNMENTS,
    IMPORTS_CELL_ID,
    Assignment,
    get_assignment,
    release_path,
)


def read_notebook(path: str | Path):
    """Read a notebook as nbformat version 4 (raises on a file that is not a notebook)."""
    import nbformat

    return nbformat.read(str(path), as_version=4)

PASSED = "passed"
FAILED = "failed"
NOT_IMPLEMENTED = "not implemented"
MISSING = "missing"
NOT_RUN = "not run"


@dataclass
class PartResult:
    """The outcome of one graded function's visible test."""

    name: str
    status: str
    detail: str = ""


@dataclass
class Report:
    """Everything ``validate`` found out about a notebook."""

    notebook: Path
    assignment: str
    parts: list[PartResult] = field(default_factory=list)
    problem: str = ""  # a failure that concerns the whole notebook (imports cell, dead kernel)

    @property
    def passed(self) -> bool:
        return not self.problem and all(part.status == PASSED for part in self.parts)

    def status_of(self, name: str) -> str:
        return next(part.status for part in self.parts if part.name == name)


def guess_assignment(nb, path: Path) -> Assignment:
    """The assignment a notebook belongs to: by file name, else by its cells' grade_ids."""
    if path.stem in ASSIGNMENTS:
        return ASSIGNMENTS[path.stem]
    ids = {grade_id(cell) for cell in nb.cells}
    overlap = {a.name: sum(p.answer_cell_id in ids for p in a.parts)
               for a in ASSIGNMENTS.values()}
    best = max(overlap, key=overlap.__getitem__)
    if overlap[best] == 0:
        raise ValueError(f"{path.name} has no answer cell of any assignment;"
                         " name the assignment with --assignment")
    return ASSIGNMENTS[best]


def error_line(output) -> str:
    """An error output as one line: ``Name: message`` (a multi-line message is joined)."""
    message = " ".join(line.strip() for line in str(output.get("evalue", "")).splitlines())
    message = " ".join(message.split())
    text = f"{output.get('ename', 'Error')}: {message}" if message else output.get("ename", "Error")
    return text if len(text) <= 300 else text[:297] + "..."


def _first_error(cell):
    return next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)


def _test_cell(nb, name: str, assignment: Assignment):
    """The notebook's test cell of a part, else the released notebook's (a student deleted it)."""
    index = test_cell(nb.cells, assignment, name)
    if index is not None:
        return nb.cells[index]
    released = release_path(assignment.name)
    if released.exists():
        cells = read_notebook(released).cells
        found = find_cells(cells, assignment.part(name).test_cell_id)
        if found:
            return cells[found[-1]]
    return None


def forbidden_uses(path: Path, spec: Assignment) -> StaticReport:
    """The grader's static forbidden-name check of the cells it would load (runner.prepare)."""
    submission = load_submission(path, spec)
    cells = [(cell.name, cell.code) for cell in submission.cells]
    if cells and cells[0][0] != IMPORTS_CELL_ID:
        cells.insert(0, (IMPORTS_CELL_ID, ""))
    return static_check(cells, spec.forbidden, spec.forbidden_tensor_methods)


def forbidden_detail(static: StaticReport, name: str) -> str | None:
    """One line for a part that uses a forbidden name, or ``None``."""
    use = static.first_use(name)
    if use is None:
        return None
    finding, via = use
    through = f" through {' -> '.join(f'`{v}`' for v in via)}" if via else ""
    return (f"uses the forbidden {finding.describe()}{through}: the grader scores its tests 0;"
            " implement it with elementary tensor operations")


def validate_notebook(path: str | Path, assignment: str | None = None,
                      timeout: int = 120, device: str = "auto") -> Report:
    """Execute the imports, answer and visible-test cells of a notebook in a fresh kernel."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    path = Path(path)
    nb = read_notebook(path)
    spec = get_assignment(assignment) if assignment else guess_assignment(nb, path)
    report = Report(notebook=path, assignment=spec.name)

    imports_index = imports_cell(nb.cells)
    imports = nb.cells[imports_index] if imports_index is not None else None
    # The same rule as the grader's loader picks each part's answer cell.
    chosen = select_answer_cells(nb.cells, spec)
    answers = {part.name: [nb.cells[chosen[part.name].index]] if part.name in chosen else []
               for part in spec.parts}
    # What runs, in notebook order: imports, answers (with the fallback by definition), tests.
    plan: list[tuple[str, str | None, object]] = []  # (kind, part name, cell)
    if imports is not None:
        plan.append(("imports", None, imports))
    for part in spec.parts:
        plan += [("answer", part.name, cell) for cell in answers[part.name]]
        test = _test_cell(nb, part.name, spec)
        if test is not None and answers[part.name]:
            plan.append(("test", part.name, test))
    order = {id(cell): index for index, cell in enumerate(nb.cells)}
    plan.sort(key=lambda step: order.get(id(step[2]), len(order)))

    cells = [nbformat.v4.new_code_cell(cell.source) for _, _, cell in plan]
    run_nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": nb.metadata.get(
        "kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})})
    # Every cell runs even after a failure, so the report covers each function.
    client = NotebookClient(run_nb, timeout=timeout, allow_errors=True, interrupt_on_timeout=True,
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    if device == "cpu":  # the kernel sees no GPU, as the grader's CPU cases
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
        setup_kernel = client.setup_kernel(stderr=subprocess.DEVNULL, env=env)
    else:
        setup_kernel = client.setup_kernel(stderr=subprocess.DEVNULL)
    executed = 0
    try:
        # The kernel's own stderr (ipykernel's start-up warnings) is noise for a student;
        # errors of the cells come back as outputs.
        with setup_kernel:
            for index, cell in enumerate(cells):
                client.execute_cell(cell, index)
                executed = index + 1
    except DeadKernelError:
        report.problem = "the kernel died (a crash, or too much memory); later cells did not run"

    ran = {id(original): cell for (_, _, original), cell in zip(plan, cells, strict=True)}
    done = {id(original) for (_, _, original) in plan[:executed]}
    if imports is None:
        report.problem = report.problem or "the notebook has no imports cell (grade_id 'imports')"
    elif id(imports) in done and _first_error(ran[id(imports)]) is not None:
        report.problem = f"the imports cell failed: {error_line(_first_error(ran[id(imports)]))}"

    static = forbidden_uses(path, spec)
    for part in spec.parts:
        if not answers[part.name]:
            detail = f"no answer cell defines {part.name}"
            report.parts.append(PartResult(part.name, MISSING, detail))
            continue
        forbidden = forbidden_detail(static, part.name)
        if forbidden is not None:
            report.parts.append(PartResult(part.name, FAILED, forbidden))
            continue
        steps = [(kind, cell) for kind, name, cell in plan if name == part.name]
        if not all(id(cell) in done for _, cell in steps):
            report.parts.append(PartResult(part.name, NOT_RUN, "not run"))
            continue
        result = PartResult(part.name, PASSED)
        for kind, cell in steps:
            error = _first_error(ran[id(cell)])
            if error is None:
                continue
            if error.get("ename") == "NotImplementedError":
                result = PartResult(part.name, NOT_IMPLEMENTED)
            elif error.get("ename") == "KeyboardInterrupt":
                result = PartResult(part.name, FAILED, f"timed out after {timeout} s")
            else:
                where = "the answer cell raised " if kind == "answer" else ""
                result = PartResult(part.name, FAILED, where + error_line(error))
            break
        if result.status == PASSED and not any(kind == "test" for kind, _ in steps):
            result = PartResult(part.name, NOT_RUN, "no visible test cell to run")
        report.parts.append(result)
    return report


def format_report(report: Report) -> str:
    """The report a student reads: one line per function and a summary."""
    lines = [f"Visible tests of {report.notebook.name} ({report.assignment}):", ""]
    width = max(len(part.name) for part in report.parts)
    for part in report.parts:
        status = part.status.upper() if part.status == FAILED else part.status
        detail = f"  {part.detail}" if part.detail else ""
        lines.append(f"  {status:<16}{part.name:<{width}}{detail}".rstrip())
    counts = {}
    for part in report.parts:
        counts[part.status] = counts.get(part.status, 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in counts.items())
    lines += ["", f"{summary} (of {len(report.parts)} functions)."]
    if report.problem:
        lines.append(f"Problem: {report.problem}")
    if report.passed:
        lines.append("All visible tests pass.  The hidden suite checks much more (dtypes,"
                     " devices, edge cases): passing here does not guarantee full marks.")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook", type=Path, help="the assignment notebook (.ipynb)")
    parser.add_argument("--assignment", choices=sorted(ASSIGNMENTS),
                        help="which assignment it is (default: from its name or its cells)")
    parser.add_argument("--timeout", type=int, default=120, metavar="SECONDS",
                        help="time limit per cell (default: 120)")
    # The device of the grading configuration: "cpu" hides any GPU from the kernel, "cuda"
    # needs one (the same check as the grader's), "auto" leaves the kernel as it is.
    grading_config.add_arguments(parser, visibility=False, sandbox=False)


def run(args: argparse.Namespace) -> int:
    problem = grading_config.device_problem(args.device)
    if problem:
        print(f"validate: {problem}")
        return 2
    if not args.notebook.is_file():
        print(f"validate: no such notebook: {args.notebook}")
        return 2
    try:
        report = validate_notebook(args.notebook, args.assignment, args.timeout,
                                   device=args.device)
    except ValueError as error:
        print(f"validate: {error}")
        return 2
    print(format_report(report))
    return 0 if report.passed else 1
