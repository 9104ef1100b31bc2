"""Every catalogued submission (tests/catalogue/) is graded through the real grader as expected.

Wrong-but-plausible implementations must lose points on the part they get wrong (and keep full
points on the parts that do not depend on it); alternative correct implementations must keep
every point of the parts they touch.  Entries are packed, one per part, into as few notebooks
as their footprints allow (tests/catalogue/packing.py), so the number of gradings is about the
largest number of entries of one part; the packs are parametrized so that pytest-xdist spreads
them over the workers.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest
from grader_helpers import grade_notebook, make_submission

from autograder.spec import ASSIGNMENTS

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"
# What issue 13 asked of a1's catalogue on top of issue 7's (21 wrong, 5 correct).
A1_MINIMUM = {"wrong": 21 + 25, "correct": 5 + 8}


def _load_catalogue():
    """tests/catalogue as a package under a name no installed distribution uses."""
    name = "nntrain_grader_catalogue"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, CATALOGUE_DIR / "__init__.py", submodule_search_locations=[str(CATALOGUE_DIR)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    importlib.import_module(f"{name}.packing")
    return sys.modules[name]


CATALOGUE = _load_catalogue()
PACKING = sys.modules["nntrain_grader_catalogue.packing"]
ENTRIES = CATALOGUE.all_entries()
PACKS = [(assignment, members) for assignment in sorted(ASSIGNMENTS)
         for members in PACKING.pack([e for e in ENTRIES if e.assignment == assignment])]


def test_catalogue_has_enough_entries_spread_over_the_assignments():
    wrong = Counter(e.assignment for e in ENTRIES if e.expect == "wrong")
    correct = Counter(e.assignment for e in ENTRIES if e.expect == "correct")
    assert sum(wrong.values()) >= 30 and sum(correct.values()) >= 10
    assert set(wrong) == set(correct) == set(ASSIGNMENTS), "every assignment has both kinds"
    assert min(wrong.values()) >= 8
    a1 = "a1_activations_init"
    assert wrong[a1] >= A1_MINIMUM["wrong"] and correct[a1] >= A1_MINIMUM["correct"]


def test_catalogue_entries_are_well_formed():
    ids = [e.id for e in ENTRIES]
    assert len(ids) == len(set(ids)), "entry ids must be unique"
    for entry in ENTRIES:
        parts = {part.name for part in ASSIGNMENTS[entry.assignment].parts}
        assert entry.expect in ("wrong", "correct"), entry.id
        assert entry.why, f"{entry.id} needs an expected-outcome description"
        assert set(entry.replace) <= parts and entry.replace, entry.id
        assert set(entry.breaks) <= parts and set(entry.also) <= parts, entry.id
        assert bool(entry.breaks) == (entry.expect == "wrong"), entry.id
        for part, code in entry.replace.items():
            tree = ast.parse(code)  # a syntax error would make a wrong entry fail for nothing
            defined = {node.name for node in tree.body
                       if isinstance(node, ast.FunctionDef | ast.ClassDef)}
            assert part in defined, f"{entry.id}: the cell must define {part}"


def test_packs_hold_each_entry_once_with_disjoint_footprints():
    packed = [entry.id for _, members in PACKS for entry in members]
    assert sorted(packed) == sorted(e.id for e in ENTRIES)
    for _, members in PACKS:
        for i, entry in enumerate(members):
            clash = [other.id for other in members[:i] if PACKING.conflict(entry, other)]
            assert not clash, f"{entry.id} conflicts with {clash} within a pack"
    # the point of packing: far fewer gradings than entries
    assert len(PACKS) <= len(ENTRIES) // 3


def test_footprint_follows_the_solutions_calls():
    """silu and gelu call sigmoid in the a1 solution: a sigmoid entry may change their scores."""
    a1 = "a1_activations_init"
    assert {"silu", "gelu"} <= PACKING.callers(a1, "sigmoid")
    assert "selu" in PACKING.callers(a1, "elu")
    entry = CATALOGUE.correct(a1, "tanh", "t", "uses sigmoid",
                              "def tanh(x):\n    return 2 * sigmoid(2 * x) - 1\n")
    assert PACKING.footprint(entry) == {"tanh"} and PACKING.reads(entry) == {"sigmoid"}
    wrong = CATALOGUE.wrong(a1, "sigmoid", "s", "overflows", "def sigmoid(x):\n    return x\n")
    assert {"sigmoid", "silu", "gelu"} <= PACKING.footprint(wrong)
    assert PACKING.conflict(entry, wrong)


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "members"), PACKS,
                         ids=[f"{a}-pack{i:02d}-{len(m)}" for i, (a, m) in enumerate(PACKS)])
def test_catalogue_pack_is_graded_as_expected(assignment, members, tmp_path):
    path = make_submission(assignment, tmp_path, replace=PACKING.merged(members))
    results = grade_notebook(assignment, path)
    parts = PACKING.per_part(results)
    assert set(parts) == {part.name for part in ASSIGNMENTS[assignment].parts}, \
        PACKING.failures(results)
    verdicts, unowned = PACKING.judge(members, results)
    problems = [f"{v.entry.id} ({v.entry.why}): {v.problem}" for v in verdicts if not v.ok]
    if unowned:
        problems.append(f"parts that no entry of the pack touches lost points: {sorted(unowned)}"
                        f"\n{PACKING.failures(results, unowned)}")
    assert not problems, "\n\n".join(problems)
