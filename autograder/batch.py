"""``python -m autograder grade-batch``: grade a whole class in parallel.

The batch is a loop over :func:`autograder.runner.grade_submission` with three
additions, each in its own helper module so that they can be tested alone:

* :mod:`autograder.submissions` finds the submissions (nbgrader's
  ``submitted/<student>/<assignment>/`` tree or a flat folder of notebooks);
* :mod:`autograder.feedback` writes what a student reads and the class CSV;
* :mod:`autograder.gradebook` writes the scores into nbgrader's gradebook.

Every submission is graded by a long-lived worker process (``--jobs`` of
them), which in turn runs the student's code in its own sandboxed child.  The
worker keeps torch and the suite imported between submissions, which is where
most of the per-submission time would otherwise go.  A submission's
``results.json`` is written atomically when its grading ends and records the
hash of the notebook it graded, so a batch that is killed and restarted skips
what is done, regrades what changed and never writes a half result.  The CSV is
rebuilt from the results on disk at the end, so it never duplicates a row.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from autograder.feedback import read_results, write_class_csv, write_feedback
from autograder.results import error_results, write_results
from autograder.spec import ASSIGNMENTS, get_assignment
from autograder.submissions import Submission, discover_submissions, file_sha256

# How many submissions one worker grades before it is replaced: bounds any slow
# leak in a long batch at the cost of one re-import every so often.
TASKS_PER_WORKER = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", choices=sorted(ASSIGNMENTS), help="assignment name")
    parser.add_argument(
        "directory", type=Path,
        help="nbgrader course root or its submitted/ folder, or a flat folder of notebooks",
    )
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at the same time (default: number of cores)")
    parser.add_argument("--out", type=Path, default=None,
                        help="the class CSV (default: grades/<assignment>/grades.csv)")
    parser.add_argument("--results-dir", type=Path, default=None,
                        help="per-student results.json and feedback.md (default: next to --out)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--force", action="store_true",
                        help="regrade submissions that already have up-to-date results")
    parser.add_argument("--gradebook", metavar="URL", default=None,
                        help="also write the scores into this nbgrader gradebook "
                             "(an SQLAlchemy URL, e.g. sqlite:///gradebook.db)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    assignment = get_assignment(args.assignment)
    out = args.out or Path("grades") / assignment.name / "grades.csv"
    results_dir = args.results_dir or out.parent / "results"
    if not args.directory.is_dir():
        print(f"error: {args.directory} is not a directory", file=sys.stderr)
        return 2
    submissions = discover_submissions(args.directory, assignment.name)
    if not submissions:
        print(f"error: no submissions of {assignment.name} found in {args.directory}",
              file=sys.stderr)
        return 2

    summary = grade_batch(
        assignment.name, submissions, results_dir, jobs=max(1, args.jobs), device=args.device,
        force=args.force, progress=not args.no_progress,
    )
    results = {s.student: read_results(results_dir / s.student / "results.json")
               for s in submissions}
    write_class_csv(out, assignment, results)
    if args.gradebook:
        from autograder.gradebook import record_scores

        record_scores(args.gradebook, assignment, results)
    print(f"{summary['graded']} graded, {summary['skipped']} already up to date, "
          f"{len(submissions)} in all, in {summary['seconds']:.1f} s -> {out}")
    return 0


def grade_batch(assignment: str, submissions: list[Submission], results_dir: Path, *,
                jobs: int, device: str = "auto", force: bool = False,
                progress: bool = True) -> dict[str, Any]:
    """Grade every submission that has no up-to-date results; return counts and time."""
    start = time.perf_counter()
    todo = [s for s in submissions if force or not _up_to_date(s, results_dir)]
    skipped = len(submissions) - len(todo)
    bar = _progress_bar(len(todo), enabled=progress)
    pending = list(todo)
    while pending:
        pending = _grade_with_pool(assignment, pending, results_dir, jobs, device, bar)
    bar.close()
    return {"graded": len(todo), "skipped": skipped, "seconds": time.perf_counter() - start}


def _grade_with_pool(assignment: str, submissions: list[Submission], results_dir: Path,
                     jobs: int, device: str, bar: Any) -> list[Submission]:
    """Grade with one pool; return the submissions left when a worker died (rare: the
    student's code runs in a grandchild, so only a grader bug can kill a worker)."""
    left: list[Submission] = []
    with ProcessPoolExecutor(max_workers=jobs, max_tasks_per_child=TASKS_PER_WORKER) as pool:
        futures: dict[Future, Submission] = {
            pool.submit(grade_one, assignment, s, results_dir, device): s for s in submissions
        }
        for future in as_completed(futures):
            submission = futures[future]
            try:
                future.result()
            except BrokenProcessPool:
                left.append(submission)
                continue
            bar.update(1)
    # A broken pool fails every unfinished future at once: grade the one that
    # broke it alone next time round so one bad submission cannot loop forever.
    retry = [s for s in left if not _up_to_date(s, results_dir)]
    for submission in retry[:1]:
        _record_failure(assignment, submission, results_dir,
                        "the grader's worker process died while grading this submission")
        bar.update(1)
    return retry[1:]


def grade_one(assignment: str, submission: Submission, results_dir: Path, device: str) -> None:
    """Grade one submission (in a worker) and write its results.json and feedback.md."""
    from autograder.runner import grade_submission

    if submission.path is None:
        results = error_results(assignment, submission.problem or "no submission found")
    else:
        try:
            results = grade_submission(assignment, submission.path, device=device)
        except Exception as error:  # a grader bug: record it for this student, go on
            results = error_results(assignment, f"internal grader error: {error!r}")
    _record(assignment, submission, results_dir, results)


def _record_failure(assignment: str, submission: Submission, results_dir: Path,
                    reason: str) -> None:
    _record(assignment, submission, results_dir, error_results(assignment, reason))


def _record(assignment: str, submission: Submission, results_dir: Path,
            results: dict[str, Any]) -> None:
    """Write results.json (with what identifies the graded file) and feedback.md."""
    results.setdefault("extra_data", {}).update(
        {"student": submission.student, "assignment": assignment,
         "submission_sha256": file_sha256(submission.path) if submission.path else None,
         "submission_path": str(submission.path) if submission.path else None}
    )
    target = results_dir / submission.student
    write_results(target / "results.json", results)
    write_feedback(target / "feedback.md", results)


def _up_to_date(submission: Submission, results_dir: Path) -> bool:
    results = read_results(results_dir / submission.student / "results.json")
    if results is None:
        return False
    recorded = results.get("extra_data", {}).get("submission_sha256")
    current = file_sha256(submission.path) if submission.path is not None else None
    return recorded == current


def _progress_bar(total: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="submission", disable=not enabled, dynamic_ncols=True)
