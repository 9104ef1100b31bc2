"""Read the course's notebooks and find their cells by nbgrader ``grade_id``.

Shared by the release pipeline, ``validate`` and the grader.  Every graded
notebook has one locked ``imports`` cell, one answer cell per graded part
(``grade_id`` = the part's name) and a visible-test cell after it
(``grade_id`` = ``"test_" + name``); see ``autograder/spec.py``.  Students can
lose nbgrader's metadata (copying cells between notebooks, editing the JSON by
hand), so :func:`answer_cells` falls back to the code cell that defines the
part's name at top level.

Only :mod:`nbformat` is imported here, so the grader can use this module in
its parent process without pulling in Jupyter's heavier machinery.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

import nbformat
from nbformat import NotebookNode

REPO_ROOT = Path(__file__).resolve().parent.parent
IMPORTS_CELL_ID = "imports"


def solution_path(assignment: str, root: Path = REPO_ROOT) -> Path:
    """The nbgrader source notebook (with solutions) of ``assignment``."""
    return root / "solutions" / "source" / assignment / f"{assignment}.ipynb"


def release_path(assignment: str, root: Path = REPO_ROOT) -> Path:
    """The released student notebook of ``assignment``."""
    return root / "assignments" / assignment / f"{assignment}.ipynb"


def read_notebook(path: str | Path) -> NotebookNode:
    """Read a notebook as nbformat version 4 (raises on a file that is not a notebook)."""
    return nbformat.read(str(path), as_version=4)


def nbgrader_metadata(cell: NotebookNode) -> dict:
    """The cell's ``metadata.nbgrader`` dict, or ``{}`` when it has none."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def grade_id(cell: NotebookNode) -> str | None:
    """The cell's nbgrader ``grade_id``, or ``None``."""
    value = nbgrader_metadata(cell).get("grade_id")
    return value if isinstance(value, str) and value else None


def find_cells(nb: NotebookNode, wanted_id: str) -> list[NotebookNode]:
    """All cells whose ``grade_id`` is ``wanted_id``, in notebook order."""
    return [cell for cell in nb.cells if grade_id(cell) == wanted_id]


def find_cell(nb: NotebookNode, wanted_id: str) -> NotebookNode | None:
    """The first cell whose ``grade_id`` is ``wanted_id``, or ``None``."""
    cells = find_cells(nb, wanted_id)
    return cells[0] if cells else None


def is_answer_cell(cell: NotebookNode) -> bool:
    """An autograded answer cell: nbgrader ``solution`` and not ``grade``, code."""
    meta = nbgrader_metadata(cell)
    return cell.cell_type == "code" and bool(meta.get("solution")) and not meta.get("grade")


def is_test_cell(cell: NotebookNode) -> bool:
    """An autograder test cell: nbgrader ``grade`` and not ``solution``, code."""
    meta = nbgrader_metadata(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


_DEFINITION = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)", re.MULTILINE)


def defined_names(source: str) -> set[str]:
    """Names a code cell defines at top level (``def``, ``class``, assignment).

    Cells that do not parse (IPython magics, a syntax error) fall back to a
    regular expression over ``def``/``class`` lines at column 0.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(_DEFINITION.findall(source))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def imports_cell(nb: NotebookNode) -> NotebookNode | None:
    """The locked cell with ``grade_id`` ``imports``, or ``None``."""
    return find_cell(nb, IMPORTS_CELL_ID)


def answer_cells(nb: NotebookNode, part_names: Iterable[str]) -> dict[str, list[NotebookNode]]:
    """The answer cells of each part, in notebook order.

    A part's cells are the code cells whose ``grade_id`` is its name.  When
    none has (the metadata was lost), they are the code cells without a
    ``grade_id`` that define the name at top level.  Parts found neither way
    map to an empty list.
    """
    wanted = list(part_names)
    found: dict[str, list[NotebookNode]] = {name: [] for name in wanted}
    for cell in nb.cells:
        if cell.cell_type == "code" and grade_id(cell) in found:
            found[grade_id(cell)].append(cell)
    for name in wanted:
        if found[name]:
            continue
        found[name] = [
            cell
            for cell in nb.cells
            if cell.cell_type == "code"
            and grade_id(cell) is None
            and name in defined_names(cell.source)
        ]
    return found


def graded_cells(nb: NotebookNode, part_names: Iterable[str]) -> list[NotebookNode]:
    """What runs when a notebook is graded: the imports cell and every answer cell.

    In notebook order and without repeats, so the definitions a student's
    kernel would end up with (the last one wins) are the ones graded.
    """
    chosen = {id(cell) for cells in answer_cells(nb, part_names).values() for cell in cells}
    imports = imports_cell(nb)
    if imports is not None:
        chosen.add(id(imports))
    return [cell for cell in nb.cells if id(cell) in chosen]
