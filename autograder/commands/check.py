"""``python -m autograder check``: every solution scores full marks, every released stub 0.

Grades ``solutions/source/<a>/<a>.ipynb`` and ``assignments/<a>/<a>.ipynb`` of
each assignment with its hidden suite (through the same code path as ``grade``)
and prints one line per notebook; for a notebook with the wrong score it lists
the failing tests.  Exit status 0 when every notebook has the expected score,
2 when the configuration cannot be used (``--device cuda`` without a GPU).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from autograder import config as grading_config
from autograder.commands.grade import configuration
from autograder.spec import ASSIGNMENTS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignments", nargs="*", choices=[[], *sorted(ASSIGNMENTS)],
                        metavar="ASSIGNMENT", help="assignments to check (default: all)")
    grading_config.add_arguments(parser, visibility=False)


def check_notebook(assignment: str, path: Path, expected: float,
                   config: grading_config.GradingConfig) -> bool:
    """Grade one notebook, print its line, return whether it scored ``expected``."""
    from autograder.grading.runner import grade_submission

    started = time.perf_counter()
    if not path.exists():
        print(f"FAIL {assignment}: {path} does not exist")
        return False
    results = grade_submission(assignment, path, config)
    score = results["score"]
    maximum = results["extra_data"].get("max_score")
    grader_failed = results["extra_data"].get("grader_failed")
    ok = score == expected and not grader_failed
    label = "ok  " if ok else "FAIL"
    slowest = results["extra_data"].get("slowest_call") or {}
    slowest_text = (f"; slowest call {slowest['call']} {slowest['seconds']:.3f} s (limit "
                    f"{config.limits.call_timeout:g} CPU-s)" if slowest.get("call") else "")
    print(f"{label} {assignment} {path.parent.parent.name}/{path.name}: {score:g}/{maximum:g} "
          f"(expected {expected:g}) in {time.perf_counter() - started:.1f} s{slowest_text}")
    if not ok:
        for line in results["output"].splitlines()[1:]:
            print(f"       {line}")
        wrong = [t for t in results["tests"] if (t["status"] == "passed") != (expected > 0)]
        for test in wrong[:20]:
            print(f"       {test['status']}: {test['name']}: {test['output'][:200]}")
    return ok


def run(args: argparse.Namespace) -> int:
    from autograder.spec import get_assignment, release_path, solution_path

    config, problem = configuration(args)
    if problem or config is None:
        print(f"FAIL {problem}")
        return 2
    ok = True
    for name in args.assignments or sorted(ASSIGNMENTS):
        total = get_assignment(name).total_points
        ok &= check_notebook(name, solution_path(name), total, config)
        ok &= check_notebook(name, release_path(name), 0, config)
    print("check passed" if ok else "check FAILED")
    return 0 if ok else 1
