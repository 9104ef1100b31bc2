"""``python -m autograder grade ASSIGNMENT NOTEBOOK``: grade one submission.

Writes Gradescope's results.json (``--out``, atomically, always — also for an
unreadable notebook) and prints a short report.  The exit status is 0 whatever
the score; it is non-zero only when the grader itself failed (a broken suite, an
internal error) or the configuration cannot be used (``--device cuda`` without a
GPU: exit 2, and the results say so).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

from autograder import config as grading_config
from autograder.spec import ASSIGNMENTS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", choices=sorted(ASSIGNMENTS), help="which assignment")
    parser.add_argument("notebook", type=Path, help="the submitted notebook")
    parser.add_argument("--out", type=Path, default=Path("results.json"),
                        help="where to write results.json (default: ./results.json)")
    parser.add_argument("--suite", type=Path, default=None, metavar="DIR",
                        help="run this suite folder instead of the hidden suite (for testing)")
    grading_config.add_arguments(parser)


def configuration(args: argparse.Namespace) -> tuple[grading_config.GradingConfig | None,
                                                      str | None]:
    """The command's configuration, or None and why it cannot be used (shared by commands)."""
    try:
        config = grading_config.from_args(args)
    except grading_config.ConfigError as error:
        return None, str(error)
    return config, grading_config.device_problem(config.device)


def run(args: argparse.Namespace) -> int:
    from autograder.grading.runner import grade_submission
    from autograder.report.results import error_results, format_report, write_results

    started = time.perf_counter()
    status = 0
    config, problem = configuration(args)
    if problem or config is None:
        results = error_results(args.assignment, problem or "bad configuration",
                                grader_failed=True)
        status = 2
    else:
        try:
            results = grade_submission(args.assignment, args.notebook, config,
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
    if problem:
        print(f"error: {problem}", file=sys.stderr)
    print(f"results: {args.out}", file=sys.stderr)
    return status
