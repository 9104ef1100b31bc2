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
        found = [_from_student_folder(d.name, d / assignment, assignment) for d in nested]
    else:
        found = [Submission(f.stem, f) for f in _visible(directory) if f.is_file()]
    return sorted(found, key=lambda s: s.student)


def _from_student_folder(student: str, folder: Path, assignment: str) -> Submission:
    preferred = folder / f"{assignment}.ipynb"
    if preferred.is_file():
        return Submission(student, preferred)
    notebooks = [f for f in _visible(folder) if f.is_file() and f.suffix == ".ipynb"]
    if len(notebooks) == 1:
        return Submission(student, notebooks[0])
    files = [f for f in _visible(folder) if f.is_file()]
    if not notebooks and len(files) == 1:
        return Submission(student, files[0])  # e.g. a .py: the loader explains why it is 0
    names = ", ".join(f.name for f in files) or "nothing"
    return Submission(student, None,
                      f"expected {assignment}.ipynb in the submission; found {names}")


def _visible(folder: Path) -> list[Path]:
    # Hidden entries are editor/OS debris (.ipynb_checkpoints, .DS_Store), never a submission.
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
