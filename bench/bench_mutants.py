"""Mutation testing of the hidden suites against the solutions: kill rate per assignment.

Every answer cell of each solution notebook is mutated mechanically (tests/mutants: operators
+ - * / **, comparisons, and/or, unary minus, integer constants +1 and -1 (off-by-one), float
constants moved by 1 % or 0 -> 1), one site per mutant.  Mutants are packed one per part (the
catalogue's packing, tests/catalogue/packing.py: a mutant of ``sigmoid`` may also cost the
parts whose solution calls it) and each pack is graded once through the real grader.  A mutant
is *killed* when a part it can affect loses points.  The report lists every survivor with the
judgement of tests/mutants/judged.py (equivalent: no input the contract allows tells it from
the solution; undetected: a real deviation the suite cannot see) or "not judged yet".

    python bench/bench_mutants.py                          # every mutant of all assignments
    python bench/bench_mutants.py --per-part 4 a1_activations_init   # a deterministic sample

Writes bench/results/mutants.json (and mutants-<assignment>.json for a single assignment).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def _load(name: str, path: Path, package: bool = False):
    spec = importlib.util.spec_from_file_location(
        name, path, submodule_search_locations=[str(path.parent)] if package else None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_machinery():
    """The catalogue package (Entry, packing) and the mutant generator, by path."""
    catalogue = _load("nntrain_grader_catalogue", ROOT / "tests" / "catalogue" / "__init__.py",
                      package=True)
    packing = importlib.import_module("nntrain_grader_catalogue.packing")
    mutants = _load("nntrain_grader_mutants", ROOT / "tests" / "mutants" / "__init__.py",
                    package=True)
    importlib.import_module("nntrain_grader_mutants.judged")
    return catalogue, packing, mutants


def as_entries(catalogue, packing, mutants, assignment: str, per_part: int | None):
    found = mutants.mutants(packing.solution_cells(assignment))
    if per_part:
        found = mutants.sample(found, per_part)
    entries = {}
    for mutant in found:
        also = tuple(sorted(packing.callers(assignment, mutant.part)))
        entries[mutant.id] = (catalogue.Entry(
            id=mutant.id, assignment=assignment, expect="wrong", why=mutant.description,
            replace={mutant.part: mutant.code}, breaks=(mutant.part,), also=also), mutant)
    return entries


def run(assignment: str, per_part: int | None) -> dict:
    from grader_helpers import grade_notebook, make_submission

    catalogue, packing, mutants = load_machinery()
    entries = as_entries(catalogue, packing, mutants, assignment, per_part)
    packs = packing.pack([entry for entry, _ in entries.values()])
    started = time.perf_counter()
    killed, survived = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for number, members in enumerate(packs):
            folder = Path(tmp) / f"pack{number}"
            folder.mkdir()
            path = make_submission(assignment, folder, replace=packing.merged(members))
            results = grade_notebook(assignment, path)
            verdicts, _ = packing.judge(members, results)
            for verdict in verdicts:
                mutant = entries[verdict.entry.id][1]
                row = {"id": mutant.id, "part": mutant.part, "site": mutant.description,
                       "lost": sorted(verdict.lost)}
                (killed if verdict.lost else survived).append(row)
            print(f"{assignment} pack {number + 1}/{len(packs)}: {len(members)} mutants, "
                  f"{len(killed)} killed, {len(survived)} survived so far", flush=True)
    judged = sys.modules["nntrain_grader_mutants.judged"]
    for row in survived:
        if row["id"] in judged.EQUIVALENT:
            row["judged"] = "equivalent: " + judged.EQUIVALENT[row["id"]]
        elif row["id"] in judged.UNDETECTED:
            row["judged"] = "not equivalent, undetected: " + judged.UNDETECTED[row["id"]]
        else:
            row["judged"] = "not judged yet"
    total = len(killed) + len(survived)
    equivalent = sum(row["judged"].startswith("equivalent") for row in survived)
    return {"assignment": assignment, "mutants": total, "killed": len(killed),
            "kill_rate": round(len(killed) / total, 4) if total else None,
            "equivalent": equivalent,
            "kill_rate_of_non_equivalent": round(len(killed) / (total - equivalent), 4)
            if total > equivalent else None,
            "gradings": len(packs), "seconds": round(time.perf_counter() - started, 1),
            "sample_per_part": per_part, "survivors": survived,
            "killed_mutants": [row["id"] for row in killed]}


def main() -> None:
    from autograder.spec import ASSIGNMENTS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", default=sorted(ASSIGNMENTS))
    parser.add_argument("--per-part", type=int, default=None,
                        help="grade a deterministic sample of at most N mutants per part")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    reports = [run(name, args.per_part) for name in args.assignments]
    suffix = "" if len(args.assignments) > 1 else f"-{args.assignments[0]}"
    suffix += f"-sample{args.per_part}" if args.per_part else ""
    out = args.out or ROOT / "bench" / "results" / f"mutants{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(reports, indent=1) + "\n", encoding="utf-8")
    for report in reports:
        print(f"{report['assignment']}: {report['killed']}/{report['mutants']} killed "
              f"({report['kill_rate']}; {report['kill_rate_of_non_equivalent']} of the "
              f"non-equivalent), {report['gradings']} gradings, {report['seconds']} s")
        for row in report["survivors"]:
            print(f"  survived {row['id']}: {row['site']} [{row['judged']}]")
    print(f"report: {out}")


if __name__ == "__main__":
    main()
