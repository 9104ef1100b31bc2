"""Read a submitted notebook and pick out the code the grader may run.

Only two kinds of cells ever run (in the sandboxed child): the locked "imports"
cell and the answer cell of each graded part, matched by nbgrader's cell
metadata (``grade_id`` = the part's name), with the same rules as
:mod:`autograder.intake.cells` (the one rule, shared with ``validate`` and ``release``);
this reader works on the raw JSON of whatever was submitted.  When a student's
editor lost the metadata, the answer cell is the last code cell that defines the
part's name, and the imports are the import statements of the notebook's code
cells.
Exploratory cells, plots and visible tests never run.

A malformed file (too large, empty, not UTF-8, not JSON, not nbformat 4, a
``.py`` script, ...) never raises: the :class:`Submission` carries a ``fatal``
message for the student and no cells, so the suite still runs and the student
receives a complete results.json with the reason.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.intake.cells import cell_source, find_cells, is_code, select_answer_cells
from autograder.spec import IMPORTS_CELL_ID, Assignment

# A notebook with a few plots is well under a megabyte; anything this big is a
# mistake (or an attack) and is refused before a single byte is read.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class CodeCell:
    """One cell the child runs: ``name`` is "imports" or the part's name."""

    name: str
    code: str
    index: int  # position in the notebook (0-based), for messages
    matched_by: str  # "metadata" or "definition" (fallback) or "imports statements"


@dataclass
class Submission:
    """What the grader runs for one notebook, and what it found wrong while loading it."""

    path: Path
    cells: list[CodeCell] = field(default_factory=list)  # imports first, then notebook order
    problems: list[str] = field(default_factory=list)  # shown to the student
    fatal: str | None = None  # set when nothing could be loaded
    missing: dict[str, str] = field(default_factory=dict)  # part -> why it is missing

    @property
    def parts(self) -> dict[str, CodeCell]:
        return {cell.name: cell for cell in self.cells if cell.name != IMPORTS_CELL_ID}

    def missing_reason(self, name: str) -> str | None:
        if self.fatal:
            return self.fatal
        return self.missing.get(name)


def load_submission(path: str | Path, assignment: Assignment, *,
                    max_bytes: int = DEFAULT_MAX_BYTES) -> Submission:
    """Load ``path`` for ``assignment``; never raises for a bad file (see :class:`Submission`)."""
    path = Path(path)
    submission = Submission(path=path)
    try:
        notebook = _read_notebook(path, max_bytes)
    except _Refused as refusal:
        submission.fatal = str(refusal)
        submission.problems.append(str(refusal))
        submission.missing = {part.name: str(refusal) for part in assignment.parts}
        return submission
    _select_cells(notebook, assignment, submission)
    return submission


class _Refused(Exception):
    pass


def _read_notebook(path: Path, max_bytes: int) -> dict[str, Any]:
    name = path.name
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise _Refused(f"the submission file {name} does not exist") from None
    except OSError as error:
        raise _Refused(f"the submission file {name} cannot be read ({error.strerror})") from None
    if not path.is_file():
        raise _Refused(f"the submission {name} is not a file")
    if size == 0:
        raise _Refused(f"the submission file {name} is empty")
    if size > max_bytes:
        raise _Refused(
            f"the submission file {name} is {size / 2**20:.1f} MB; a notebook must be smaller "
            f"than {max_bytes / 2**20:.0f} MB (clear large outputs before submitting)")
    if path.suffix.lower() in (".py", ".txt", ".md"):
        raise _Refused(
            f"{name} is a {path.suffix} file; submit the .ipynb notebook itself, not an export")
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as error:
        raise _Refused(f"the submission file {name} cannot be read ({error.strerror})") from None
    if len(raw) > max_bytes:  # the file grew after stat()
        raise _Refused(f"the submission file {name} is larger than {max_bytes / 2**20:.0f} MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _Refused(
            f"{name} is not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start}); "
            "a notebook saved by Jupyter is always UTF-8") from None
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        hint = " (it looks like Python source, not a notebook)" if _looks_like_python(text) else ""
        raise _Refused(
            f"{name} is not a valid notebook: invalid JSON at line {error.lineno}, "
            f"column {error.colno} ({error.msg}){hint}") from None
    except RecursionError:
        raise _Refused(f"{name} is not a valid notebook: JSON nested too deeply") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        if isinstance(notebook, dict) and isinstance(notebook.get("worksheets"), list):
            raise _Refused(f"{name} is in notebook format 3; open it in Jupyter and save it "
                           "again (format 4)")
        raise _Refused(f"{name} is JSON but not a Jupyter notebook (no list of cells)")
    version = notebook.get("nbformat")
    if version != 4:
        raise _Refused(f"{name} is in notebook format {version!r}; the grader reads format 4 "
                       "(open it in a current Jupyter and save it again)")
    return notebook


def _looks_like_python(text: str) -> bool:
    return bool(re.search(r"^\s*(def|import|from)\s", text, re.MULTILINE))


_MAGIC_LINE = re.compile(r"^(\s*)([%!].*)$", re.MULTILINE)


def strip_ipython_syntax(code: str) -> str:
    """Comment out IPython magics and shell escapes (not Python); drop a ``%%`` cell magic."""
    if code.lstrip().startswith("%%"):
        return ""
    return _MAGIC_LINE.sub(lambda m: f"{m.group(1)}pass  # {m.group(2)}", code)


@dataclass
class _ParsedCell:
    index: int
    code: str
    tree: ast.Module | None
    error: str | None


def _parse_cells(raw_cells: list[Any], problems: list[str]) -> dict[int, _ParsedCell]:
    """Every code cell with a readable source, IPython syntax commented out, parsed."""
    parsed = {}
    for index, cell in enumerate(raw_cells):
        if not is_code(cell):
            continue
        source = cell_source(cell)
        if source is None:
            problems.append(f"cell {index + 1} has a malformed source and was ignored")
            continue
        code = strip_ipython_syntax(source)
        try:
            tree, error = ast.parse(code), None
        except SyntaxError as exc:
            tree, error = None, f"SyntaxError at line {exc.lineno}: {exc.msg}"
        except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
            tree, error = None, f"the code cannot be parsed ({type(exc).__name__})"
        parsed[index] = _ParsedCell(index, code, tree, error)
    return parsed


def _select_cells(notebook: dict[str, Any], assignment: Assignment, submission: Submission) -> None:
    problems = submission.problems
    raw_cells = notebook["cells"]
    parsed = _parse_cells(raw_cells, problems)
    sources = [parsed[i].code if i in parsed else None for i in range(len(raw_cells))]
    # The one rule of autograder.intake.cells (shared with validate and release).
    chosen = select_answer_cells(raw_cells, assignment, sources)

    selected: list[CodeCell] = []
    imports_found = [i for i in find_cells(raw_cells, IMPORTS_CELL_ID) if i in parsed]
    if len(imports_found) > 1:
        problems.append(f"{len(imports_found)} cells carry grade_id '{IMPORTS_CELL_ID}'; "
                        "the last one is graded")
    if imports_found:
        cell = parsed[imports_found[-1]]
        if cell.error is not None:
            problems.append(f"the imports cell has a {cell.error}")
        selected.append(CodeCell(IMPORTS_CELL_ID, cell.code, cell.index, "metadata"))
    else:
        statements = [ast.get_source_segment(cell.code, node) or ast.unparse(node)
                      for cell in parsed.values() if cell.tree is not None
                      for node in cell.tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
        problems.append(f"no cell has grade_id '{IMPORTS_CELL_ID}'; using the notebook's import "
                        "statements")
        if statements:
            selected.append(CodeCell(IMPORTS_CELL_ID, "\n".join(statements), -1,
                                     "imports statements"))

    for part in assignment.parts:
        choice = chosen.get(part.name)
        if choice is None:
            submission.missing[part.name] = (
                f"no cell has grade_id '{part.answer_cell_id}' and no cell defines `{part.name}`")
        elif choice.duplicates:
            problems.append(f"{choice.duplicates + 1} cells carry grade_id "
                            f"'{part.answer_cell_id}'; the last one is graded")
        elif choice.how == "definition":
            problems.append(f"the answer cell of `{part.name}` lost its nbgrader metadata; graded "
                            f"the cell that defines it (cell {choice.index + 1})")
    for name, choice in sorted(chosen.items(), key=lambda item: item[1].index):
        cell = parsed.get(choice.index)
        if cell is None:
            continue
        if cell.error is not None:
            reason = f"its cell (cell {cell.index + 1}) has a {cell.error}"
            submission.missing[name] = reason
            problems.append(f"`{name}`: {reason}")
            continue
        selected.append(CodeCell(name, cell.code, cell.index, choice.how))
    submission.cells = selected
