"""``python -m autograder validate NOTEBOOK``: run a notebook's visible tests, report per function.

For students.  In a fresh Jupyter kernel it runs what the grader would load
(the ``imports`` cell and every answer cell) and each function's visible-test
cell, and prints one line per graded function: passed, failed (with the last
line of the error), not implemented (the stub's ``NotImplementedError``) or
missing (no answer cell defines it).  Plot cells and the rest of the notebook
are not run.  Exit status 0 only when every visible test passes.

The visible tests are quick checks worth 0 points; the hidden suite that
grades the notebook tests much more.
"""

from __future__ import annotations

import argparse
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from autograder.notebook import (
    answer_cells,
    find_cell,
    grade_id,
    imports_cell,
    read_notebook,
    release_path,
)
from autograder.spec import ASSIGNMENTS, Assignment, get_assignment

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
    overlap = {a.name: sum(p.name in ids for p in a.parts) for a in ASSIGNMENTS.values()}
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


def _test_cell(nb, name: str, assignment: str):
    """The notebook's test cell of a part, else the released notebook's (a student deleted it)."""
    cell = find_cell(nb, f"test_{name}")
    if cell is None and release_path(assignment).exists():
        cell = find_cell(read_notebook(release_path(assignment)), f"test_{name}")
    return cell


def validate_notebook(path: str | Path, assignment: str | None = None,
                      timeout: int = 120) -> Report:
    """Execute the imports, answer and visible-test cells of a notebook in a fresh kernel."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    path = Path(path)
    nb = read_notebook(path)
    spec = get_assignment(assignment) if assignment else guess_assignment(nb, path)
    report = Report(notebook=path, assignment=spec.name)

    imports = imports_cell(nb)
    answers = answer_cells(nb, [part.name for part in spec.parts])
    # What runs, in notebook order: imports, answers (with the fallback by definition), tests.
    plan: list[tuple[str, str | None, object]] = []  # (kind, part name, cell)
    if imports is not None:
        plan.append(("imports", None, imports))
    for part in spec.parts:
        plan += [("answer", part.name, cell) for cell in answers[part.name]]
        test = _test_cell(nb, part.name, spec.name)
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
    executed = 0
    try:
        # The kernel's own stderr (ipykernel's start-up warnings) is noise for a student;
        # errors of the cells come back as outputs.
        with client.setup_kernel(stderr=subprocess.DEVNULL):
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

    for part in spec.parts:
        if not answers[part.name]:
            detail = f"no answer cell defines {part.name}"
            report.parts.append(PartResult(part.name, MISSING, detail))
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


def run(args: argparse.Namespace) -> int:
    if not args.notebook.is_file():
        print(f"validate: no such notebook: {args.notebook}")
        return 2
    try:
        report = validate_notebook(args.notebook, args.assignment, args.timeout)
    except ValueError as error:
        print(f"validate: {error}")
        return 2
    print(format_report(report))
    return 0 if report.passed else 1
