"""The mutant generator (tests/mutants) behind bench/bench_mutants.py: sound and deterministic.

Every mutant parses, still defines its part, differs from the solution in exactly the kind of
site it names, and the sample is the same on every run.  Grading the mutants is the bench's
job (minutes per assignment); here nothing is graded.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest
from test_catalogue import PACKING

from autograder.spec import ASSIGNMENTS

MUTANTS_DIR = Path(__file__).resolve().parent / "mutants"


def _load():
    name = "nntrain_grader_mutants"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, MUTANTS_DIR / "__init__.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


MUTANTS = _load()


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_every_part_has_mutants_that_parse_and_define_it(assignment):
    cells = PACKING.solution_cells(assignment)
    found = MUTANTS.mutants(cells)
    assert {m.part for m in found} == set(cells), "every solution function is mutated"
    assert len({m.id for m in found}) == len(found)
    for mutant in found:
        tree = ast.parse(mutant.code)
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
        assert mutant.part in defined, mutant.id
        assert ast.unparse(tree) != ast.unparse(ast.parse(cells[mutant.part])), mutant.id


def test_operator_and_constant_mutations():
    tree = ast.parse("def f(x, k=2):\n    return x + 0.5 if x > 1 else -x\n")
    kinds = [site.kind for site in MUTANTS.sites(tree)]
    assert {"binop", "compare", "usub", "int+1", "int-1", "float"} <= set(kinds)
    codes = {MUTANTS.mutate(tree, site) for site in MUTANTS.sites(tree)}
    assert "def f(x, k=3):\n    return x + 0.5 if x > 1 else -x\n" in codes
    assert "def f(x, k=2):\n    return x - 0.5 if x > 1 else -x\n" in codes
    assert "def f(x, k=2):\n    return x + 0.5 if x >= 1 else -x\n" in codes


def test_the_sample_is_deterministic_and_bounded_per_part():
    found = MUTANTS.mutants(PACKING.solution_cells("a1_activations_init"))
    first, again = MUTANTS.sample(found, 2), MUTANTS.sample(found, 2)
    assert [m.id for m in first] == [m.id for m in again]
    per_part: dict[str, int] = {}
    for mutant in first:
        per_part[mutant.part] = per_part.get(mutant.part, 0) + 1
    assert max(per_part.values()) <= 2


def test_judged_survivors_name_existing_mutants():
    spec = importlib.util.spec_from_file_location("nntrain_grader_mutants_judged",
                                                  MUTANTS_DIR / "judged.py")
    judged = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(judged)
    ids = {m.id for a in ASSIGNMENTS for m in MUTANTS.mutants(PACKING.solution_cells(a))}
    for table in (judged.EQUIVALENT, judged.UNDETECTED):
        assert set(table) <= ids, f"stale ids: {set(table) - ids}"
        assert all(reason for reason in table.values())
    assert not set(judged.EQUIVALENT) & set(judged.UNDETECTED)
