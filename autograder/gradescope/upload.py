"""What a student uploaded to Gradescope: the file to grade, the files ignored, or why neither.

Gradescope puts the upload in ``/autograder/submission``: usually the notebook, sometimes a
``.zip`` (a student who zipped the notebook, or uploaded the whole folder).  A ``.zip`` is
unpacked without trusting it: no absolute names, no ``..``, no links, at most
:data:`MAX_MEMBERS` members and :data:`MAX_TOTAL_BYTES` bytes in all, counted while
decompressing (the sizes its header declares may lie).  Then the one rule of
:func:`autograder.intake.submissions.pick_notebook` chooses the notebook, and every other file
is named as ignored so the student knows what was graded.
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder.intake.submissions import pick_notebook

MAX_MEMBERS = 200
MAX_TOTAL_BYTES = 64 * 2**20  # well above a notebook's limit (the loader's), far below the disk
_CHUNK = 1 << 16
# Folders that operating systems and Jupyter add to an upload: never a submission.
_DEBRIS = {"__MACOSX", ".ipynb_checkpoints", "__pycache__"}


class UnsafeArchive(Exception):
    """The zip cannot be unpacked safely (the message says why, for the student)."""


@dataclass
class Upload:
    notebook: Path | None  # the file to grade
    problem: str | None = None  # why nothing can be graded (shown to the student)
    graded_name: str | None = None  # the notebook's name as the student knows it
    ignored: list[str] = field(default_factory=list)  # other files, as the student named them


def _visible_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not any(
        part.startswith(".") or part in _DEBRIS for part in p.relative_to(folder).parts))


def safe_extract(archive_path: Path, target: Path, *, max_members: int = MAX_MEMBERS,
                 max_total: int = MAX_TOTAL_BYTES) -> list[Path]:
    """Unpack the regular files of a zip into ``target`` and return them.

    Raises UnsafeArchive for links, absolute or ``..`` names, too many entries or too many bytes.
    """
    name = archive_path.name
    try:
        archive = zipfile.ZipFile(archive_path)
    except (zipfile.BadZipFile, OSError) as error:
        raise UnsafeArchive(f"{name} is not a readable .zip archive ({error})") from None
    written: list[Path] = []
    total = 0
    with archive:
        members = archive.infolist()
        if len(members) > max_members:
            raise UnsafeArchive(f"{name} holds {len(members)} entries; at most {max_members} "
                                "are unpacked (upload the notebook itself)")
        for info in members:
            if info.is_dir():
                continue
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UnsafeArchive(f"{name} contains a symbolic link ({info.filename})")
            path = PurePosixPath(info.filename.replace("\\", "/"))
            if path.is_absolute() or ".." in path.parts or ":" in info.filename \
                    or not path.parts:
                raise UnsafeArchive(f"{name} contains an unsafe path ({info.filename!r})")
            if any(part.startswith(".") or part in _DEBRIS for part in path.parts):
                continue
            destination = target.joinpath(*path.parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as source, open(destination, "wb") as sink:
                    while block := source.read(_CHUNK):
                        total += len(block)
                        if total > max_total:
                            raise UnsafeArchive(
                                f"{name} unpacks to more than {max_total // 2**20} MB; "
                                "upload the notebook itself")
                        sink.write(block)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as error:
                raise UnsafeArchive(f"{name}: {info.filename} cannot be unpacked ({error})") \
                    from None
            written.append(destination)
    return written


def find_upload(submission_dir: Path, assignment: str, scratch: Path) -> Upload:
    """Choose the notebook of an upload; ``.zip`` files are unpacked into ``scratch``."""
    files = _visible_files(submission_dir)
    shown: dict[Path, str] = {f: f.relative_to(submission_dir).as_posix() for f in files}
    candidates = [f for f in files if f.suffix.lower() != ".zip"]
    zips = [f for f in files if f.suffix.lower() == ".zip"]
    opened: set[Path] = set()  # archives whose files are listed instead
    if zips and not any(f.suffix == ".ipynb" for f in candidates):
        for index, archive in enumerate(zips):
            target = scratch / f"zip{index}"
            try:
                unpacked = safe_extract(archive, target)
            except UnsafeArchive as error:
                return Upload(None, str(error), ignored=sorted(shown.values()))
            for file in unpacked:
                shown[file] = f"{shown[archive]}: {file.relative_to(target).as_posix()}"
            candidates += unpacked
            opened.add(archive)
    notebook, problem = pick_notebook(candidates, assignment)
    if notebook is None:
        names = ", ".join(f"`{shown[f]}`" for f in candidates) or "no file"
        return Upload(None, f"expected one notebook named `{assignment}.ipynb`; "
                            f"the upload holds {names}", ignored=sorted(shown.values()))
    ignored = sorted(label for path, label in shown.items()
                     if path != notebook and path not in opened)
    return Upload(notebook, problem, graded_name=shown[notebook], ignored=ignored)
