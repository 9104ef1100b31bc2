"""Find the submissions of one assignment in a folder.

Two layouts are understood:

* nbgrader's exchange layout, ``<root>/submitted/<student>/<assignment>/`` (``root``
  may also be the ``submitted`` folder itself);
* a flat folder of files, one per student, named after the student
  (``alice.ipynb``; whatever the file is, the grader reports what is wrong with it).

A student folder without a usable file still yields a :class:`Submission` (with
``path=None`` and a ``problem``) so that the student appears in the gradebook
with a reason instead of silently missing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path | None
    problem: str | None = None


def discover_submissions(directory: Path, assignment: str) -> list[Submission]:
    """All submissions of ``assignment`` under ``directory``, sorted by student."""
    directory = Path(directory)
    submitted = directory / "submitted" if (directory / "submitted").is_dir() else directory
    nested = [d for d in _visible(submitted) if d.is_dir() and (d / assignment).is_dir()]
    if nested:
        found = [_from_student_folder(safe_name(d.name), d / assignment, assignment)
                 for d in nested]
    else:
        found = [Submission(safe_name(f.stem), f) for f in _visible(directory) if f.is_file()]
    return sorted(found, key=lambda s: s.student)


def safe_name(raw: str) -> str:
    """A student name made from a file name that is never trusted.

    Bytes that are not UTF-8 (surrogate escapes), control characters and path separators
    become "_", and a name that had to change gets a short digest of the original, so two
    names never collide and every name can be written to a CSV, a JSON file or a path.
    """
    data = raw.encode("utf-8", "surrogateescape")
    text = data.decode("utf-8", "replace")
    cleaned = "".join(c if c.isprintable() and c not in "/\\\ufffd" else "_" for c in text)
    cleaned = cleaned.strip().lstrip(".")[:120] or "_"
    if cleaned != raw:
        cleaned += "-" + hashlib.sha256(data).hexdigest()[:8]
    return cleaned


def _from_student_folder(student: str, folder: Path, assignment: str) -> Submission:
    path, problem = pick_notebook([f for f in _visible(folder) if f.is_file()], assignment)
    return Submission(student, path, problem)


def pick_notebook(files: list[Path], assignment: str) -> tuple[Path | None, str | None]:
    """The file to grade among a student's ``files``, or None and the reason the student sees.

    ``<assignment>.ipynb`` first, else the only notebook, else the only file (e.g. a .py: the
    loader then says why it scores 0).  Shared by grade-batch and the Gradescope runner.
    """
    preferred = [f for f in files if f.name == f"{assignment}.ipynb"]
    notebooks = [f for f in files if f.suffix == ".ipynb"]
    if preferred:
        return preferred[0], None
    if len(notebooks) == 1:
        return notebooks[0], None
    if not notebooks and len(files) == 1:
        return files[0], None
    names = ", ".join(f.name for f in files) or "nothing"
    return None, f"expected one notebook named {assignment}.ipynb; found: {names}"


def _visible(folder: Path) -> list[Path]:
    # Hidden entries are editor/OS debris (.ipynb_checkpoints, .DS_Store), never a submission.
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
