"""The nbgrader course folder around a batch: submission times, written answers, autograded/.

nbgrader's feedback commands read ``autograded/<student>/<assignment>/<notebook>.ipynb``
and the gradebook: ``nbgrader generate_feedback`` renders each autograded notebook to
``feedback/<student>/<assignment>/<notebook>.html`` with the scores the gradebook holds,
and ``nbgrader release_feedback`` hands them to the students through the exchange.
``nbgrader autograde`` would make that tree by executing the student's notebook outside
any sandbox; :func:`write_autograded` makes it from the sandboxed grading instead: the
notebook as the student submitted it, plus one locked grade cell, ``hidden_tests``
(:data:`autograder.report.gradebook.HIDDEN_CELL`), whose output is the per-function
breakdown of the hidden suite, and nbgrader's ``timestamp.txt`` and
``submission_secret.txt`` beside it.
"""

from __future__ import annotations

import html
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from autograder.report.feedback import NOT_ATTEMPTED, Written, part_rows, result_notes
from autograder.report.gradebook import HIDDEN_CELL
from autograder.report.results import atomic_write_text
from autograder.spec import Assignment, release_path

TIMESTAMP_FILE = "timestamp.txt"  # written by `nbgrader submit`, kept by `nbgrader collect`
# nbgrader's bookkeeping beside a submission; release_feedback reads both from feedback/.
BOOKKEEPING = (TIMESTAMP_FILE, "submission_secret.txt")


def course_root(directory: Path) -> Path | None:
    """The nbgrader course folder of a batch's DIR (the course, or its submitted/), or None."""
    directory = Path(directory).resolve()
    if (directory / "submitted").is_dir():
        return directory
    if directory.name == "submitted":
        return directory.parent
    return None


def late_penalty_of(course: Path):
    """nbgrader's ``LateSubmissionPlugin`` configured by ``course/nbgrader_config.py``.

    Its ``penalty_method`` is ``none`` (no penalty) unless the course sets
    ``c.LateSubmissionPlugin.penalty_method = "zero"``; a custom plugin class configured for
    ``AssignLatePenalties`` is not loaded.  Returns its ``late_submission_penalty`` method.
    """
    from nbgrader.plugins import LateSubmissionPlugin
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    if (course / "nbgrader_config.py").is_file():
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    return LateSubmissionPlugin(config=config).late_submission_penalty


def read_timestamp(folder: Path) -> datetime | None:
    """The UTC time in ``folder/timestamp.txt`` (naive, as nbgrader stores it), or None."""
    try:
        text = (folder / TIMESTAMP_FILE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    try:
        from nbgrader.utils import parse_utc

        return parse_utc(text)
    except (ImportError, ValueError, OverflowError):
        return None


def written_cells(assignment: Assignment, notebook: Path | None = None) -> tuple[
        tuple[str, float], ...]:
    """The hand-graded cells (grade id, points) of the released notebook, in order."""
    import nbformat

    path = notebook or release_path(assignment.name)
    try:
        nb = nbformat.read(str(path), as_version=4)
    except (OSError, ValueError):
        return ()
    cells = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and meta.get("solution") and meta.get("points"):
            cells.append((str(meta["grade_id"]), float(meta["points"])))
    return tuple(cells)


def breakdown_html(results: dict[str, Any], written: Written | None) -> str:
    """The hidden suite's per-function table as HTML (nbgrader's feedback shows cell outputs)."""
    rows = []
    for row in part_rows(results):
        state = row["state"]
        first = next((t.get("output") for t in row["failures"] if t.get("output")), "")
        detail = "" if state in ("ok", NOT_ATTEMPTED) else first.splitlines()[0][:300]
        rows.append(f"<tr><td><code>{html.escape(row['part'])}</code></td>"
                    f"<td>{row['score']:g} / {row['max']:g}</td>"
                    f"<td>{row['passed']} / {row['tests']}</td><td>{html.escape(state)}</td>"
                    f"<td>{html.escape(detail)}</td></tr>")
    notes = result_notes(results)
    parts = [f"<p><b>Hidden tests: {float(results.get('score', 0)):g} / "
             f"{sum(r['max'] for r in part_rows(results)) or 0:g}</b></p>"]
    if notes:
        parts.append("<ul>" + "".join(f"<li>{html.escape(n.lstrip('- '))}</li>" for n in notes
                                      if n.strip()) + "</ul>")
    parts.append("<table><tr><th>Function</th><th>Points</th><th>Tests passed</th><th></th>"
                 "<th>First failure</th></tr>" + "".join(rows) + "</table>")
    if written and written.cells:
        names = ", ".join(f"{html.escape(c)} ({p:g})" for c, p in written.cells)
        parts.append(f"<p>Written answers, graded by hand: {names}.</p>")
    return "\n".join(parts)


def autograded_notebook(submitted: Path, results: dict[str, Any], assignment: Assignment,
                        written: Written | None = None):
    """The student's notebook with the ``hidden_tests`` grade cell appended (nbformat node)."""
    import nbformat

    try:
        nb = nbformat.read(str(submitted), as_version=4)
    except Exception:  # anything a broken upload can raise: start from the released notebook
        nb = nbformat.read(str(release_path(assignment.name)), as_version=4)
    nb.cells = [c for c in nb.cells
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != HIDDEN_CELL]
    text = "\n".join(line for line in (results.get("output") or "").splitlines())
    cell = nbformat.v4.new_code_cell(
        "# Hidden tests: run by the course's grader in a sandbox (not part of your notebook).",
        metadata={"nbgrader": {"grade": True, "solution": False, "locked": True,
                               "grade_id": HIDDEN_CELL, "points": assignment.total_points,
                               "schema_version": 3}, "editable": False, "deletable": False})
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "text/html": breakdown_html(results, written), "text/plain": text})]
    cell.id = HIDDEN_CELL
    nb.cells.append(cell)
    return nb


def write_autograded(course: Path, assignment: Assignment, student: str,
                     submitted: Path | None, results: dict[str, Any],
                     written: Written | None = None) -> Path:
    """Write ``autograded/<student>/<assignment>/<assignment>.ipynb`` and the bookkeeping."""
    import nbformat

    folder = course / "autograded" / student / assignment.name
    source = submitted if submitted is not None else release_path(assignment.name)
    nb = autograded_notebook(source, results, assignment, written)
    target = folder / f"{assignment.name}.ipynb"
    atomic_write_text(target, nbformat.writes(nb) + "\n")
    for name in BOOKKEEPING:  # as `nbgrader autograde` copies them
        kept = course / "submitted" / student / assignment.name / name
        if kept.is_file():
            shutil.copy2(kept, folder / name)
    return target
