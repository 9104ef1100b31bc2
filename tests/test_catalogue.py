"""Every catalogued submission (tests/catalogue/) is graded through the real grader as expected.

Wrong-but-plausible implementations must lose points on the part they get wrong (and keep full
points on the parts that do not depend on it); alternative correct implementations must keep 100.
One grading per entry, parametrized so that pytest-xdist spreads them over the workers.
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


def _load_catalogue():
    """tests/catalogue as a package under a name no installed distribution uses."""
    name = "nntrain_grader_catalogue"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, CATALOGUE_DIR / "__init__.py", submodule_search_locations=[str(CATALOGUE_DIR)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


ENTRIES = _load_catalogue().all_entries()


def _per_part(results: dict) -> dict[str, tuple[float, float]]:
    """(points earned, points available) per part, from the results' test tags."""
    totals: dict[str, list[float]] = {}
    for test in results["tests"]:
        for part in test.get("tags", []):
            earned, available = totals.setdefault(part, [0.0, 0.0])
            totals[part] = [earned + test["score"], available + test["max_score"]]
    return {part: (earned, available) for part, (earned, available) in totals.items()}


def _failures(results: dict) -> str:
    lines = [f"  {t['name']}: {t['output'][:200]}" for t in results["tests"]
             if t["status"] == "failed"]
    return "\n".join([f"score {results['score']}", *lines[:20], results.get("output", "")[:500]])


def test_catalogue_has_enough_entries_spread_over_the_assignments():
    wrong = Counter(e.assignment for e in ENTRIES if e.expect == "wrong")
    correct = Counter(e.assignment for e in ENTRIES if e.expect == "correct")
    assert sum(wrong.values()) >= 30 and sum(correct.values()) >= 10
    assert set(wrong) == set(correct) == set(ASSIGNMENTS), "every assignment has both kinds"
    assert min(wrong.values()) >= 8


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


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_catalogue_entry_is_graded_as_expected(entry, tmp_path):
    path = make_submission(entry.assignment, tmp_path, replace=entry.replace)
    results = grade_notebook(entry.assignment, path)
    parts = _per_part(results)
    spec = ASSIGNMENTS[entry.assignment]
    assert set(parts) == {part.name for part in spec.parts}, _failures(results)
    if entry.expect == "correct":
        assert results["score"] == 100, f"{entry.why}\n{_failures(results)}"
        return
    assert results["score"] < 100, f"{entry.why}\n{_failures(results)}"
    for part in entry.breaks:
        earned, available = parts[part]
        assert earned < available, f"{part} kept all its points: {entry.why}"
    collateral = {part: earned for part, (earned, available) in parts.items()
                  if earned < available and part not in entry.breaks + entry.also}
    assert not collateral, f"parts that do not use {entry.breaks} lost points: {collateral}\n" \
                           f"{_failures(results)}"
