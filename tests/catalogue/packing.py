"""Grade many catalogue entries (or mutants) per grading: one entry per part, packed.

Parts are graded independently, so one notebook can carry several entries at once as long as
they cannot see each other.  An entry's *footprint* is every part whose score it may change:
the parts it replaces, its ``breaks`` and ``also`` and, through the solution's own calls, the
parts that call a replaced one (the solution's ``silu`` calls ``sigmoid``).  It *reads* the
parts its code calls (a ``tanh`` written with ``sigmoid``) and needs them as the solution has
them.  Entries of one pack have disjoint footprints, replace nothing another reads and bind
disjoint top-level names, so every part's score belongs to at most one entry and
:func:`judge` can hold each entry to its expectation separately.  The number
of gradings is then about the largest number of entries of one part, not the number of entries.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from autograder.intake.cells import cell_source, select_answer_cells
from autograder.spec import get_assignment, solution_path

from . import Entry


def bound_names(code: str) -> set[str]:
    """Top-level names a cell binds (functions, classes, assignments, imports)."""
    names: set[str] = set()
    for node in _parse(code).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def used_names(code: str) -> set[str]:
    """Every name a cell reads (a superset of the top-level names it calls)."""
    return {node.id for node in ast.walk(_parse(code))
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


@cache
def _parse(code: str) -> ast.Module:
    return ast.parse(code)


@cache
def solution_cells(assignment: str) -> dict[str, str]:
    """Part name -> the source of its answer cell in the solution notebook."""
    cells = json.loads(solution_path(assignment).read_text(encoding="utf-8"))["cells"]
    chosen = select_answer_cells(cells, get_assignment(assignment))
    return {name: cell_source(cells[choice.index]) or "" for name, choice in chosen.items()}


@cache
def _owners(assignment: str) -> dict[str, str]:
    """Top-level name -> the part whose solution cell binds it."""
    return {name: part for part, code in solution_cells(assignment).items()
            for name in bound_names(code)}


def parts_used_by(assignment: str, code: str, own: Iterable[str] = ()) -> set[str]:
    """The parts whose solution cells define names that ``code`` reads (and does not bind)."""
    owners = _owners(assignment)
    names = used_names(code) - bound_names(code)
    return {owners[n] for n in names if n in owners} - set(own)


@cache
def callers(assignment: str, part: str) -> frozenset[str]:
    """The parts whose solution, directly or not, calls ``part``'s cell."""
    cells = solution_cells(assignment)
    uses = {name: parts_used_by(assignment, code, (name,)) for name, code in cells.items()}
    found: set[str] = set()
    frontier = {part}
    while frontier:
        new = {name for name, used in uses.items() if used & frontier} - found - {part}
        found |= new
        frontier = new
    return frozenset(found)


def footprint(entry: Entry) -> frozenset[str]:
    """Every part whose score ``entry`` may change: what it replaces, breaks or may break."""
    return _footprint(entry.assignment, tuple(entry.replace.items()), entry.breaks, entry.also)


@cache
def _footprint(assignment: str, replace: tuple[tuple[str, str], ...], breaks: tuple[str, ...],
               also: tuple[str, ...]) -> frozenset[str]:
    entry = Entry("", assignment, "wrong", "", dict(replace), breaks, also)
    parts = set(entry.replace) | set(entry.breaks) | set(entry.also)
    owners = _owners(entry.assignment)
    for code in entry.replace.values():
        # a name that another solution cell binds too: whichever cell runs last wins
        parts |= {owners[n] for n in bound_names(code) if n in owners}
    for part in list(entry.replace):
        parts |= callers(entry.assignment, part)
    return frozenset(parts)


def reads(entry: Entry) -> frozenset[str]:
    """The parts whose cells the entry's code calls: it needs them as the solution has them."""
    return _reads(entry.assignment, tuple(entry.replace.items()))


@cache
def _reads(assignment: str, replace: tuple[tuple[str, str], ...]) -> frozenset[str]:
    found: set[str] = set()
    own = [part for part, _ in replace]
    for _, code in replace:
        found |= parts_used_by(assignment, code, own)
    return frozenset(found)


def conflict(a: Entry, b: Entry) -> bool:
    """Whether two entries can change the same part's score, or one replaces what the other
    calls, or both bind one top-level name."""
    return bool(footprint(a) & footprint(b) or reads(a) & set(b.replace)
                or reads(b) & set(a.replace) or _names(a) & _names(b))


def _names(entry: Entry) -> frozenset[str]:
    return _bound_all(tuple(entry.replace.values()))


@cache
def _bound_all(codes: tuple[str, ...]) -> frozenset[str]:
    names: set[str] = set()
    for code in codes:
        names |= bound_names(code)
    return frozenset(names)


def pack(entries: Sequence[Entry]) -> list[list[Entry]]:
    """First-fit packs of entries (one assignment) of which no two :func:`conflict`.

    Deterministic: entries are taken largest footprint first, ties in the given order.
    """
    packs: list[list[Entry]] = []
    order = sorted(range(len(entries)), key=lambda i: (-len(footprint(entries[i])), i))
    for index in order:
        entry = entries[index]
        for members in packs:
            if not any(conflict(entry, other) for other in members):
                members.append(entry)
                break
        else:
            packs.append([entry])
    return packs


def merged(entries: Sequence[Entry]) -> dict[str, str]:
    """The answer cells of a pack, for ``make_submission(replace=...)``."""
    replace: dict[str, str] = {}
    for entry in entries:
        replace.update(entry.replace)
    return replace


def per_part(results: dict) -> dict[str, tuple[float, float]]:
    """(points earned, points available) per part, from the results' test tags."""
    totals: dict[str, list[float]] = {}
    for test in results["tests"]:
        for part in test.get("tags", []):
            earned, available = totals.setdefault(part, [0.0, 0.0])
            totals[part] = [earned + test["score"], available + test["max_score"]]
    return {part: (earned, available) for part, (earned, available) in totals.items()}


def lost_parts(results: dict) -> set[str]:
    return {part for part, (earned, available) in per_part(results).items()
            if earned < available}


def failures(results: dict, parts: Iterable[str] | None = None) -> str:
    """The failed tests' messages (of ``parts`` only, when given)."""
    wanted = None if parts is None else set(parts)
    lines = [f"  {t['name']}: {t['output'][:240]}" for t in results["tests"]
             if t["status"] == "failed"
             and (wanted is None or set(t.get("tags", [])) & wanted)]
    return "\n".join(lines[:12])


@dataclass(frozen=True)
class Verdict:
    """How one entry of a pack was graded: ``ok`` when it met its expectation."""

    entry: Entry
    ok: bool
    lost: frozenset[str]  # the parts of its footprint that lost points
    problem: str = ""


def judge(entries: Sequence[Entry], results: dict) -> tuple[list[Verdict], set[str]]:
    """Each entry against its expectation, and the lost parts that belong to no entry."""
    lost = lost_parts(results)
    verdicts = []
    owned: set[str] = set()
    for entry in entries:
        parts = footprint(entry)
        owned |= parts
        mine = frozenset(lost & parts)
        if entry.expect == "correct":
            problem = "" if not mine else \
                f"a correct entry lost points on {sorted(mine)}:\n{failures(results, mine)}"
        else:
            kept = [part for part in entry.breaks if part not in mine]
            collateral = sorted(mine - set(entry.breaks) - set(entry.also))
            problem = "; ".join(
                [f"{part} kept all its points" for part in kept]
                + ([f"parts that do not use {entry.breaks} lost points: {collateral}\n"
                    f"{failures(results, collateral)}"] if collateral else []))
        verdicts.append(Verdict(entry, not problem, mine, problem))
    return verdicts, lost - owned
