"""The one rule for which cell of a notebook is what: imports, answer or visible test.

Shared by the grader's loader (:mod:`autograder.intake.loader`, on the raw JSON of
whatever was submitted), ``validate`` (on an nbformat notebook) and ``release``.
Every graded notebook has one locked imports cell (``grade_id`` =
:data:`~autograder.spec.IMPORTS_CELL_ID`), one answer cell per graded part
(``grade_id`` = :attr:`Part.answer_cell_id <autograder.spec.Part.answer_cell_id>`)
and a visible-test cell after it (:attr:`Part.test_cell_id
<autograder.spec.Part.test_cell_id>`); the ids are built only in :mod:`autograder.spec`.

Students can lose nbgrader's metadata (copying cells between notebooks, editing
the JSON by hand) or end up with ids nbgrader made up (``cell-3f2a``), so a part
without a tagged answer cell falls back to the *last* code cell that defines the
part's name at top level and is neither the imports cell, a visible-test cell nor
the tagged answer cell of another part (:func:`select_answer_cells`).

The functions take cells as plain dicts (an nbformat ``NotebookNode`` is one), so
the grader's hot path never needs nbformat.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from autograder.spec import IMPORTS_CELL_ID, Assignment


def nbgrader_metadata(cell: Mapping[str, Any]) -> dict[str, Any]:
    """The cell's ``metadata.nbgrader`` dict, or ``{}`` when it has none (or a malformed one)."""
    metadata = cell.get("metadata")
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def grade_id(cell: Mapping[str, Any]) -> str | None:
    """The cell's nbgrader ``grade_id``, or ``None``."""
    value = nbgrader_metadata(cell).get("grade_id")
    return value if isinstance(value, str) and value else None


def cell_source(cell: Mapping[str, Any]) -> str | None:
    """The cell's source as one string (``None`` when it is malformed)."""
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    return source if isinstance(source, str) else None


def is_code(cell: Any) -> bool:
    return isinstance(cell, Mapping) and cell.get("cell_type") == "code"


@dataclass(frozen=True)
class Role:
    """What a cell is for the grader: ``kind`` is "imports", "answer" or "test"."""

    kind: str
    part: str | None = None  # the graded part of an answer or test cell


def role_of(cell: Mapping[str, Any], assignment: Assignment) -> Role | None:
    """The role a cell's ``grade_id`` gives it, or ``None`` (any other cell)."""
    if not is_code(cell):
        return None
    wanted = grade_id(cell)
    if wanted is None:
        return None
    if wanted == IMPORTS_CELL_ID:
        return Role("imports")
    for part in assignment.parts:
        if wanted == part.answer_cell_id:
            return Role("answer", part.name)
        if wanted == part.test_cell_id:
            return Role("test", part.name)
    return None


_DEFINITION = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)", re.MULTILINE)


def defined_names(source: str) -> set[str]:
    """Names a code cell defines at top level (``def``, ``class``, assignment).

    Cells that do not parse (IPython magics, a syntax error) fall back to a
    regular expression over ``def``/``class`` lines at column 0.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
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


@dataclass(frozen=True)
class Choice:
    """The cell chosen for a part: its position among ``cells`` and how it was found."""

    index: int
    how: str  # "metadata" or "definition"
    duplicates: int = 0  # other cells that carry the same grade_id (the last one wins)


def select_answer_cells(cells: Sequence[Any], assignment: Assignment,
                        sources: Sequence[str | None] | None = None) -> dict[str, Choice]:
    """The answer cell of each part that has one, by the rule of this module's docstring.

    ``cells`` are notebook cells (dicts); ``sources`` their sources when the caller
    has already computed them (else :func:`cell_source`).  Parts without a cell are
    absent from the result.
    """
    if sources is None:
        sources = [cell_source(cell) if is_code(cell) else None for cell in cells]
    roles = [role_of(cell, assignment) if isinstance(cell, Mapping) else None for cell in cells]
    chosen: dict[str, Choice] = {}
    for part in assignment.parts:
        tagged = [i for i, role in enumerate(roles)
                  if role is not None and role.kind == "answer" and role.part == part.name]
        if tagged:
            chosen[part.name] = Choice(tagged[-1], "metadata", len(tagged) - 1)
    used = {choice.index for choice in chosen.values()}
    for part in assignment.parts:
        if part.name in chosen:
            continue
        candidates = [i for i, cell in enumerate(cells)
                      if is_code(cell) and i not in used and roles[i] is None
                      and sources[i] is not None and part.name in defined_names(sources[i])]
        if candidates:
            chosen[part.name] = Choice(candidates[-1], "definition")
            used.add(candidates[-1])
    return chosen


def find_cells(cells: Sequence[Any], wanted_id: str) -> list[int]:
    """Positions of the code cells whose ``grade_id`` is ``wanted_id``, in notebook order."""
    return [i for i, cell in enumerate(cells) if is_code(cell) and grade_id(cell) == wanted_id]


def imports_cell(cells: Sequence[Any]) -> int | None:
    """Position of the (last) imports cell, or ``None``."""
    found = find_cells(cells, IMPORTS_CELL_ID)
    return found[-1] if found else None


def test_cell(cells: Sequence[Any], assignment: Assignment, part_name: str) -> int | None:
    """Position of the visible-test cell of ``part_name``, or ``None``."""
    found = find_cells(cells, assignment.part(part_name).test_cell_id)
    return found[-1] if found else None
