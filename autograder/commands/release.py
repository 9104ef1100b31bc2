"""``python -m autograder release``: build the assignments' notebooks.

Two steps, each reproducible byte for byte:

1. **Source.**  ``solutions/authoring/<a>.py`` (a jupytext "percent" script: the
   notebook as plain Python, linted with the rest of the code) becomes the
   nbgrader source notebook ``solutions/source/<a>/<a>.ipynb``.  Each cell's
   ``role`` (``# %% role="answer"``) becomes nbgrader metadata, the "grading"
   cell is filled with the points table and the forbidden names of
   :mod:`autograder.spec`, and the structure is checked against the spec: one
   answer cell per part, in spec order, each followed by its visible-test cell.
2. **Release.**  ``nbgrader generate_assignment`` runs in a temporary copy of
   ``solutions/`` (solutions become stubs that raise ``NotImplementedError``,
   checksums are added, cells are locked) and the result, stripped of volatile
   metadata, is written to ``assignments/<a>/<a>.ipynb``.

``--check`` writes nothing and exits with status 1 naming every stale file.

Roles (cell metadata in the authoring script):

=========  ========  ===========================================================
role       cell      nbgrader metadata
=========  ========  ===========================================================
intro      markdown  locked, grade_id "intro"
grading    markdown  locked, grade_id "grading"; content generated from the spec
imports    code      locked, grade_id "imports": the imports a student may use
answer     code      autograded answer, grade_id = the part it defines
test       code      locked test cell, grade_id "test_<part>", 0 points
question   markdown  locked, grade_id given in the cell
manual     markdown  manually graded answer, grade_id and points given in the cell
plot       code      none (the student may edit it)
=========  ========  ===========================================================
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.intake.cells import defined_names, grade_id
from autograder.spec import (
    ASSIGNMENTS,
    IMPORTS_CELL_ID,
    REPO_ROOT,
    TAMPERING_NAMES,
    Assignment,
    get_assignment,
    release_path,
    solution_path,
)

SOLUTIONS_DIR = REPO_ROOT / "solutions"
NBGRADER_SCHEMA_VERSION = 3
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"


def authoring_path(assignment: str, solutions_dir: Path = SOLUTIONS_DIR) -> Path:
    """The jupytext script an assignment's notebook is written in."""
    return solutions_dir / "authoring" / f"{assignment}.py"


# --------------------------------------------------------------------------- source


def _locked(cell_grade_id: str) -> dict:
    return {"grade": False, "solution": False, "locked": True, "grade_id": cell_grade_id}


def _nbgrader(meta: dict) -> dict:
    return {**meta, "schema_version": NBGRADER_SCHEMA_VERSION}


def book_url(config_path: Path = REPO_ROOT / "_config.yml") -> str:
    """The published book's address, ending in "/": ``_config.yml``'s ``html.baseurl`` if set,
    else the GitHub Pages site of its ``repository.url`` (the book is published with ghp-import).
    """
    import yaml

    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    base = (config.get("html") or {}).get("baseurl")
    if not base:
        url = str((config.get("repository") or {}).get("url", "")).rstrip("/")
        match = re.fullmatch(r"https?://github\.com/([^/]+)/([^/]+?)(?:\.git)?", url)
        if not match:
            raise ValueError(f"{config_path}: no html.baseurl, and repository.url {url!r} is not "
                             "a GitHub repository to derive the book's address from")
        base = f"https://{match[1].lower()}.github.io/{match[2]}/"
    return base if base.endswith("/") else base + "/"


_CHAPTER_PATH = re.compile(r"`book/(\d\d_\w+)\.md`")


def link_chapters(markdown: str, base: str | None = None) -> str:
    """The authoring script's chapter paths (`` `book/03_init.md` ``) as links into the
    published book, so a student reads the chapter rather than looks for a file."""
    base = base or book_url()
    return _CHAPTER_PATH.sub(lambda m: f"[the chapter]({base}book/{m[1]}.html)", markdown)


SUBMIT_MARKDOWN = (
    "**How to submit.** Save the notebook (keep its name, `{name}.ipynb`), then either submit it"
    " from JupyterLab's *Assignments* tab (nbgrader: *Submit* next to `{name}`; you may submit"
    " again until the deadline, the last submission counts), or, if your course uses"
    " Gradescope, upload `{name}.ipynb` (or a .zip holding it) to the Gradescope assignment."
    " Before submitting, `python -m autograder validate {name}.ipynb` runs the visible tests and"
    " the forbidden-name check as the grader will."
)


def grading_markdown(assignment: Assignment, manual_points: list[tuple[str, int]]) -> str:
    """The "How this assignment is graded" cell: points per part, manual points, how to submit,
    forbidden names.  Chapters are linked in the published book (:func:`book_url`)."""
    book = book_url()
    lines = [
        "## How this assignment is graded",
        "",
        f"A hidden test suite awards **{assignment.total_points} points** for the functions, split"
        " as below; it runs only the imports cell and your answer cells, in a fresh process.  The"
        " test cell under each function is worth 0 points: it gives quick feedback and does not"
        " guarantee full marks.",
        "",
        "| Function | Book chapter | Points |",
        "| --- | --- | ---: |",
    ]
    for part in assignment.parts:
        number = int(part.chapter.split("_", 1)[0])
        lines.append(f"| `{part.name}` | [Chapter {number}]({book}book/{part.chapter}.html) |"
                     f" {part.points} |")
    lines.append(f"| **Total (hidden suite)** | | **{assignment.total_points}** |")
    if manual_points:
        count = len(manual_points)
        total = sum(points for _, points in manual_points)
        each = ", ".join(str(points) for _, points in manual_points)
        noun = "question is" if count == 1 else "questions are"
        lines += [
            "",
            f"The {count} written {noun} graded by hand: **{total} more points** ({each}),"
            " recorded in nbgrader's gradebook beside the autograded score.",
        ]
    lines += ["", SUBMIT_MARKDOWN.format(name=assignment.name)]
    job = [name for name in assignment.forbidden if name not in TAMPERING_NAMES]
    names = ", ".join(f"`{name}`" for name in job)
    if assignment.forbidden_tensor_methods:
        names += ", the tensor methods " + ", ".join(
            f"`.{name}()`" for name in assignment.forbidden_tensor_methods)
    lines += [
        "",
        "**Not allowed in the imports and answer cells:** the built-ins that do the graded job"
        f" ({names}; a name forbids everything under it), by whatever route they are reached"
        " (another name, `getattr`, `torch._C`, `torch.ops`, `torch._VF`); code built while"
        " the notebook runs (`exec`, `eval`, `compile`, `types.FunctionType`, `marshal`); and"
        " the tools that get around this check (`gc`, `inspect`, `ctypes`, threads and process"
        " pools, `sys.modules`, frames, closures, `__wrapped__`, `__dict__`,"
        " `__getattribute__`, `operator.attrgetter`, `pickle`, the `builtins` module)."
        " A function that uses one"
        " scores 0, and one of these tools used outside every function scores 0 for the whole"
        " notebook.",
    ]
    return "\n".join(lines)


def build_source(assignment_name: str, solutions_dir: Path = SOLUTIONS_DIR):
    """The nbgrader source notebook of an assignment, built from its authoring script.

    Raises ``ValueError`` when the script does not match the spec (a part
    missing or out of order, an answer cell without solution markers, a test
    cell in the wrong place, ...).
    """
    import jupytext
    import nbformat

    assignment = get_assignment(assignment_name)
    script = authoring_path(assignment_name, solutions_dir)
    nb = jupytext.read(script, fmt="py:percent")
    where = script.name

    parts = [part.name for part in assignment.parts]
    answers: list[str] = []
    manual: list[tuple[str, int]] = []
    roles_seen: dict[str, int] = {}
    awaiting_test: str | None = None  # the part whose test cell must come next
    cells = []
    for index, cell in enumerate(nb.cells):
        meta = dict(cell.metadata)
        role = meta.pop("role", None)
        meta.pop("lines_to_next_cell", None)
        roles_seen[role] = roles_seen.get(role, 0) + 1
        if awaiting_test is not None and role != "test":
            raise ValueError(f"{where}: the answer cell of {awaiting_test!r} must be"
                             " followed directly by its test cell")
        nbgrader: dict | None = None
        if role in ("intro", "grading"):
            nbgrader = _locked(role)
            if role == "grading":
                cell.source = "<generated>"  # filled in below, once the manual points are known
            else:
                cell.source = link_chapters(cell.source)
        elif role == "imports":
            if answers:
                raise ValueError(f"{where}: the imports cell must come before every answer cell")
            nbgrader = _locked(IMPORTS_CELL_ID)
        elif role == "answer":
            public = sorted(n for n in defined_names(cell.source) if not n.startswith("_"))
            if len(public) != 1 or public[0] not in parts:
                raise ValueError(f"{where}: an answer cell must define exactly one graded part"
                                 f" (and private helpers); cell {index} defines {public}")
            name = public[0]
            if SOLUTION_BEGIN not in cell.source or SOLUTION_END not in cell.source:
                raise ValueError(f"{where}: the answer cell of {name!r} has no solution markers")
            answers.append(name)
            awaiting_test = name
            nbgrader = {"grade": False, "solution": True, "locked": False,
                        "grade_id": assignment.part(name).answer_cell_id}
        elif role == "test":
            if awaiting_test is None:
                raise ValueError(f"{where}: test cell {index} does not follow an answer cell")
            nbgrader = {"grade": True, "solution": False, "locked": True,
                        "grade_id": assignment.part(awaiting_test).test_cell_id, "points": 0}
            awaiting_test = None
        elif role == "question":
            nbgrader = _locked(meta.pop("grade_id"))
        elif role == "manual":
            points = meta.pop("points")
            if not isinstance(points, int) or points <= 0:
                raise ValueError(f"{where}: manual cell {index} needs positive integer points")
            cell_id = meta.pop("grade_id")
            manual.append((cell_id, points))
            nbgrader = {"grade": True, "solution": True, "locked": False,
                        "grade_id": cell_id, "points": points}
        elif role not in (None, "plot"):
            raise ValueError(f"{where}: unknown role {role!r} in cell {index}")
        if nbgrader is not None:
            if cell.cell_type != ("code" if role in ("imports", "answer", "test") else "markdown"):
                raise ValueError(f"{where}: a {role!r} cell cannot be a {cell.cell_type} cell")
            meta["nbgrader"] = _nbgrader(nbgrader)
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(cell.source, metadata=meta)
        else:
            new = nbformat.v4.new_markdown_cell(cell.source, metadata=meta)
        new.id = grade_id(new) or f"cell-{index:03d}"
        cells.append(new)

    if answers != parts:
        raise ValueError(f"{where}: answer cells {answers} do not match the spec's parts {parts}")
    if awaiting_test is not None:
        raise ValueError(f"{where}: the last answer cell has no test cell")
    for role in ("intro", "grading", "imports"):
        if roles_seen.get(role) != 1:
            raise ValueError(f"{where}: expected exactly one {role!r} cell")
    if not 1 <= len(manual) <= 2:
        raise ValueError(f"{where}: expected one or two manually graded cells, got {len(manual)}")
    for cell in cells:
        if grade_id(cell) == "grading":
            cell.source = grading_markdown(assignment, manual)

    source = nbformat.v4.new_notebook(cells=cells)
    source.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    nbformat.validate(source)
    return source


def notebook_text(nb) -> str:
    """Canonical text of a notebook: nbformat's JSON layout, with a final newline."""
    import nbformat

    return nbformat.writes(nb) + "\n"


# --------------------------------------------------------------------------- release

# Notebook- and cell-level metadata a release keeps; everything else (jupytext's
# settings, widget state, execution timing, ...) is volatile.
_KEPT_NOTEBOOK_METADATA = ("kernelspec", "language_info")
_KEPT_CELL_METADATA = ("nbgrader", "editable", "deletable")


def normalise_release(nb):
    """Strip what differs between two runs of ``generate_assignment`` on the same source."""
    nb.metadata = {k: nb.metadata[k] for k in _KEPT_NOTEBOOK_METADATA if k in nb.metadata}
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = {"name": nb.metadata["language_info"].get("name", "python")}
    for cell in nb.cells:
        cell.metadata = {k: cell.metadata[k] for k in _KEPT_CELL_METADATA if k in cell.metadata}
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.pop("attachments", None)
    return nb


def _nbgrader_env() -> dict[str, str]:
    """The environment nbgrader needs: the interpreter's bin/ first on PATH (for ``alembic``)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def generate_course(
    assignments: list[str], workdir: Path, solutions_dir: Path = SOLUTIONS_DIR
) -> Path:
    """Build the source notebooks and run ``nbgrader generate_assignment`` in ``workdir``.

    ``workdir/course`` is a copy of the course (config and freshly built
    sources, never the authoring scripts); its ``release/`` folder and
    ``gradebook.db`` are left there for the caller.  Returns ``workdir/course``.
    """

    course = workdir / "course"
    course.mkdir(parents=True)
    shutil.copy2(solutions_dir / "nbgrader_config.py", course / "nbgrader_config.py")
    for name in assignments:
        folder = course / "source" / name
        folder.mkdir(parents=True)
        text = notebook_text(build_source(name, solutions_dir))
        (folder / f"{name}.ipynb").write_text(text, encoding="utf-8")
    # One nbgrader process for all of them ("*" globs the source folder): its
    # start-up, not the conversion, is what takes time.
    command = [sys.executable, "-m", "nbgrader", "generate_assignment", "*", "--log-level=WARN"]
    done = subprocess.run(command, cwd=course, env=_nbgrader_env(),
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{done.stdout}{done.stderr}")
    return course


def released_text(course: Path, assignment: str) -> str:
    """The normalised text of an assignment's released notebook in a generated course."""
    import nbformat

    nb = nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    return notebook_text(normalise_release(nb))


def build_all(assignments: list[str], workdir: Path, solutions_dir: Path = SOLUTIONS_DIR,
              root: Path = REPO_ROOT) -> dict[Path, str]:
    """Every file the release consists of (source and released notebooks) -> its text."""
    course = generate_course(assignments, workdir, solutions_dir)
    files: dict[Path, str] = {}
    for name in assignments:
        built = course / "source" / name / f"{name}.ipynb"
        files[solution_path(name, root)] = built.read_text(encoding="utf-8")
        files[release_path(name, root)] = released_text(course, name)
    return files


def stale_files(files: dict[Path, str]) -> list[Path]:
    """The files whose committed text differs from what the build produced (or are missing)."""
    return [
        path for path, text in files.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                        help=f"which to build (default: all of {', '.join(ASSIGNMENTS)})")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 and name the stale files if any")


def run(args: argparse.Namespace) -> int:
    names = args.assignments or list(ASSIGNMENTS)
    for name in names:
        get_assignment(name)  # a clear error for a misspelt name
    with tempfile.TemporaryDirectory(prefix="nntrain-release-") as tmp:
        files = build_all(names, Path(tmp))
    stale = stale_files(files)
    for path in stale:
        shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
        if args.check:
            print(f"stale: {shown} (run `python -m autograder release`)")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[path], encoding="utf-8")
            print(f"wrote {shown}")
    if not stale:
        print(f"up to date: {len(files)} notebooks of {', '.join(names)}")
    return 1 if args.check and stale else 0

