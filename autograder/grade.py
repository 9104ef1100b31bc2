"""``python -m autograder grade ASSIGNMENT NOTEBOOK``: grade one submission.

Writes Gradescope's results.json (``--out``, atomically, always — also for an
unreadable notebook) and prints a short report.  The exit status is 0 whatever
the score; it is non-zero only when the grader itself failed (a broken suite,
an internal error, ``--device cuda`` without a GPU).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

from autograder.spec import ASSIGNMENTS


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """The sandbox's limits (shared with ``check``)."""
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                        help="where device-parametrized tests run (default: auto)")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                        help="wall-clock limit of one call of student code (default: 10)")
    parser.add_argument("--total-timeout", type=float, default=300.0, metavar="SECONDS",
                        help="wall-clock budget of all calls of one submission (default: 300)")
    parser.add_argument("--memory", type=int, default=4096, metavar="MB",
                        help="memory limit of the sandboxed process (default: 4096)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", choices=sorted(ASSIGNMENTS), help="which assignment")
    parser.add_argument("notebook", type=Path, help="the submitted notebook")
    parser.add_argument("--out", type=Path, default=Path("results.json"),
                        help="where to write results.json (default: ./results.json)")
    parser.add_argument("--visibility", default="visible",
                        choices=["hidden", "after_due_date", "after_published", "visible"],
                        help="Gradescope visibility of the results (default: visible)")
    parser.add_argument("--suite", type=Path, default=None, metavar="DIR",
                        help="run this suite folder instead of the hidden suite (for testing)")
    add_limit_arguments(parser)


def limits_from(args: argparse.Namespace):
    from autograder.sandbox import Limits

    return Limits(call_timeout=args.timeout, total_timeout=args.total_timeout,
                  memory_mb=args.memory)


def cuda_problem(device: str) -> str | None:
    if device != "cuda":
        return None
    import torch

    if not torch.cuda.is_available():
        return "--device cuda was given but torch.cuda.is_available() is False"
    return None


def run(args: argparse.Namespace) -> int:
    from autograder.results import error_results, format_report, write_results
    from autograder.runner import grade_submission

    started = time.perf_counter()
    status = 0
    problem = cuda_problem(args.device)
    if problem:
        results = error_results(args.assignment, problem, grader_failed=True)
        status = 2
    else:
        try:
            results = grade_submission(args.assignment, args.notebook, device=args.device,
                                       limits=limits_from(args), visibility=args.visibility,
                                       suite_dir=args.suite)
            if results["extra_data"].get("grader_failed"):
                status = 1
        except Exception as error:  # the grader's own bug: still write a results.json
            traceback.print_exc()
            results = error_results(args.assignment, f"internal grader error: {error!r}",
                                    time.perf_counter() - started, grader_failed=True)
            status = 2
    write_results(args.out, results)
    print(format_report(results))
    extra = results.get("extra_data", {})
    for layer in extra.get("isolation", []):
        print(f"sandbox: {layer}", file=sys.stderr)
    for warning in extra.get("isolation_warnings", []):
        print(f"sandbox warning: {warning}", file=sys.stderr)
    print(f"results: {args.out}", file=sys.stderr)
    return status
