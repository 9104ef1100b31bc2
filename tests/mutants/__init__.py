"""Mechanical mutants of the solutions: operator, comparison, constant and off-by-one changes.

Each mutant changes one site of one answer cell of a solution notebook (ast, then
``ast.unparse``) and is a catalogue :class:`~tests.catalogue.Entry` that should lose points on
its part (``breaks``) or on the parts that call it (``also``), so it is packed and graded with
the catalogue's machinery (tests/catalogue/packing.py).  bench/bench_mutants.py grades them and
reports the kill rate per assignment; a mutant that survives is either a hole in the suite or
equivalent to the solution (the report lists them for a person to judge).
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator
from dataclasses import dataclass

# operator -> its mutant (one per site, so the count stays proportional to the code)
BINOPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
          ast.Pow: ast.Mult, ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv}
COMPARES = {ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Lt: ast.LtE, ast.LtE: ast.Lt,
            ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
            ast.Is: ast.IsNot, ast.IsNot: ast.Is}
BOOLOPS = {ast.And: ast.Or, ast.Or: ast.And}


@dataclass(frozen=True)
class Site:
    """One place to mutate: the node's index in ``ast.walk`` order and what to do there."""

    index: int
    kind: str  # "binop", "compare", "boolop", "usub", "int+1", "int-1", "float"
    line: int
    text: str


def _is_docstring(parents: dict[int, ast.AST], node: ast.AST) -> bool:
    parent = parents.get(id(node))
    return isinstance(parent, ast.Expr)


def sites(tree: ast.Module) -> Iterator[Site]:
    """Every mutable site of a cell, in a fixed order."""
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for index, node in enumerate(ast.walk(tree)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.BinOp) and type(node.op) in BINOPS:
            yield Site(index, "binop", line, ast.unparse(node)[:60])
        elif isinstance(node, ast.Compare) and type(node.ops[0]) in COMPARES:
            yield Site(index, "compare", line, ast.unparse(node)[:60])
        elif isinstance(node, ast.BoolOp):
            yield Site(index, "boolop", line, ast.unparse(node)[:60])
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            yield Site(index, "usub", line, ast.unparse(node)[:60])
        elif isinstance(node, ast.Constant) and not _is_docstring(parents, node) \
                and type(node.value) in (int, float):
            if isinstance(node.value, int):
                yield Site(index, "int+1", line, repr(node.value))
                yield Site(index, "int-1", line, repr(node.value))
            else:
                yield Site(index, "float", line, repr(node.value))


def mutate(tree: ast.Module, site: Site) -> str:
    """The cell's source with ``site`` mutated."""
    tree = copy.deepcopy(tree)
    node = list(ast.walk(tree))[site.index]
    if site.kind == "binop":
        node.op = BINOPS[type(node.op)]()
    elif site.kind == "compare":
        node.ops[0] = COMPARES[type(node.ops[0])]()
    elif site.kind == "boolop":
        node.op = BOOLOPS[type(node.op)]()
    elif site.kind == "usub":
        node.op = ast.UAdd()
    elif site.kind == "int+1":
        node.value += 1
    elif site.kind == "int-1":
        node.value -= 1
    else:  # a float constant: 0 becomes 1, anything else moves by 1 %
        node.value = 1.0 if node.value == 0 else node.value * 1.01
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


@dataclass(frozen=True)
class Mutant:
    id: str
    part: str
    code: str
    site: Site

    @property
    def description(self) -> str:
        return f"{self.part} line {self.site.line}: {self.site.kind} at `{self.site.text}`"


def mutants(cells: dict[str, str]) -> list[Mutant]:
    """Every mutant of every part's answer cell (``cells``: part -> solution source)."""
    found = []
    for part, code in cells.items():
        tree = ast.parse(code)
        seen = {ast.unparse(tree)}
        for number, site in enumerate(sites(tree)):
            mutated = mutate(tree, site)
            if mutated.strip() in seen:  # no change in the code at all
                continue
            seen.add(mutated.strip())
            found.append(Mutant(f"{part}-m{number:03d}", part, mutated, site))
    return found


def sample(all_mutants: list[Mutant], per_part: int) -> list[Mutant]:
    """A deterministic sample: every k-th mutant of each part, at most ``per_part`` of them."""
    by_part: dict[str, list[Mutant]] = {}
    for mutant in all_mutants:
        by_part.setdefault(mutant.part, []).append(mutant)
    chosen = []
    for members in by_part.values():
        step = max(1, len(members) // per_part)
        chosen += members[::step][:per_part]
    return chosen
