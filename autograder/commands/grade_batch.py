"""``python -m autograder grade-batch ASSIGNMENT DIR``: grade a whole class in parallel.

Finds the submissions (nbgrader's ``submitted/<student>/<assignment>/`` tree or a
flat folder of notebooks: :mod:`autograder.intake.submissions`), grades those
without an up-to-date result on a pool of workers (:mod:`autograder.batch.pool`;
"up to date" is the resume key of :mod:`autograder.batch.resume`) or, with
``--scheduler``, on a Dask cluster (:mod:`autograder.batch.cluster`).  It prints
what a regrade changed (:mod:`autograder.batch.regrade`) before it writes what the
instructor reads (:mod:`autograder.report.publish`); ``--dry-run`` grades into a
temporary folder, prints the changes and writes nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from autograder import config as grading_config
from autograder.commands.grade import configuration
from autograder.intake.submissions import discover_submissions
from autograder.report import publish
from autograder.report.feedback import read_results
from autograder.spec import ASSIGNMENTS, get_assignment


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", choices=sorted(ASSIGNMENTS), help="assignment name")
    parser.add_argument(
        "directory", type=Path,
        help="nbgrader course root or its submitted/ folder, or a flat folder of notebooks",
    )
    parser.add_argument("--out", type=Path, default=None,
                        help="the class CSV (default: grades/<assignment>/grades.csv)")
    parser.add_argument("--results-dir", type=Path, default=None,
                        help="per-student results.json and feedback.md (default: next to --out)")
    parser.add_argument("--force", action="store_true",
                        help="regrade submissions that already have up-to-date results")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--scheduler", metavar="ADDRESS", default=None,
                        help="grade on this Dask cluster (e.g. tcp://host:8786; needs the "
                             "'cluster' extra) instead of a local pool of --jobs workers")
    parser.add_argument("--dry-run", action="store_true",
                        help="grade what is out of date into a temporary folder, print whose "
                             "score would change and why, and write nothing")
    publish.add_arguments(parser)
    grading_config.add_arguments(parser, batch=True)


def run(args: argparse.Namespace) -> int:
    assignment = get_assignment(args.assignment)
    out = args.out or Path("grades") / assignment.name / "grades.csv"
    results_dir = args.results_dir or out.parent / "results"
    if not args.directory.is_dir():
        print(f"error: {args.directory} is not a directory", file=sys.stderr)
        return 2
    config, problem = configuration(args)
    if args.scheduler and config is not None and config.device == "cuda":
        problem = None  # the cluster's GPU workers are checked instead of this machine
    if problem or config is None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    submissions = discover_submissions(args.directory, assignment.name)
    if not submissions:
        print(f"error: no submissions of {assignment.name} found in {args.directory}",
              file=sys.stderr)
        return 2

    from autograder.batch.cluster import ClusterError
    from autograder.batch.pool import grade_batch
    from autograder.batch.regrade import format_changes

    with tempfile.TemporaryDirectory(prefix="grade-batch-dry-run-") as scratch:
        try:
            summary = grade_batch(assignment.name, submissions, results_dir, config,
                                  force=args.force, progress=not args.no_progress,
                                  cluster=args.scheduler,
                                  write_dir=Path(scratch) if args.dry_run else None)
        except ClusterError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    print(f"{summary['graded']} {'would be ' if args.dry_run else ''}graded, "
          f"{summary['skipped']} already up to date, {len(submissions)} in all, "
          f"in {summary['seconds']:.1f} s")
    for line in format_changes(summary["changes"]):
        print(line)
    if args.dry_run:
        print("dry run: nothing was written")
        return 0
    results = {s.student: read_results(results_dir / s.student / "results.json")
               for s in submissions}
    written = publish.publish(args, assignment, out, results)
    for line in written:
        print(f"  {line}")
    return 0
