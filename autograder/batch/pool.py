"""Grade a whole class: on a local pool of worker processes, or on a Dask cluster.

The batch is a loop over :func:`autograder.grading.runner.grade_submission`;
the command (:mod:`autograder.commands.grade_batch`) finds the submissions
(:mod:`autograder.intake.submissions`), and writes the class CSV
(:mod:`autograder.report.feedback`) and the gradebook
(:mod:`autograder.report.gradebook`).

Every submission is graded by a long-lived worker process (``--jobs`` of them
here, or the workers of a Dask cluster: :mod:`autograder.batch.cluster`), which
in turn runs the student's code in its own sandboxed child.  The worker keeps
torch and the suite imported between submissions, which is where most of the
per-submission time would otherwise go.  Workers only *return* results: this
process is the one writer of the results folder.  A submission's
``results.json`` is written atomically as soon as its result arrives and records
the resume key it was graded under (:mod:`autograder.batch.resume`: the
notebook, the verdict-relevant configuration, the suite and the grader), so a
batch that is killed and restarted skips what is done, regrades what changed
and never writes a half result.  What a regrade changed (whose score, from what
to what, which tests) is computed before anything else is written
(:mod:`autograder.batch.regrade`).  The CSV is rebuilt from the results on disk
at the end, so it never duplicates a row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from autograder.batch.regrade import Change, compare
from autograder.batch.resume import resume_key, stale_reasons
from autograder.config import GradingConfig
from autograder.intake.submissions import Submission, file_sha256
from autograder.report.feedback import read_results, write_feedback
from autograder.report.results import error_results, write_results

# How many submissions one worker grades before it is replaced: bounds any slow
# leak in a long batch at the cost of one re-import every so often.
TASKS_PER_WORKER = 100
WORKER_DIED = "the grader's worker process died while grading this submission"

# Called in this process with each submission and its results, once per submission.
Record = Callable[[Submission, dict[str, Any]], None]


def grade_batch(assignment: str, submissions: list[Submission], results_dir: Path,
                config: GradingConfig, *, force: bool = False, progress: bool = True,
                cluster: Any = None, write_dir: Path | None = None) -> dict[str, Any]:
    """Grade every submission that has no up-to-date results; return counts, time and changes.

    ``cluster``: None for the local pool, else a Dask scheduler address, ``Client`` or
    cluster object (:mod:`autograder.batch.cluster`).  ``write_dir``: where the new
    results go (default ``results_dir``; a dry run passes a temporary folder), compared
    with those in ``results_dir``.  The returned ``changes`` list what each regrade
    changed; ``recorded`` the students in the order their results were written.
    The caller has checked ``config.device`` (:func:`autograder.config.device_problem`;
    on a cluster, :func:`autograder.batch.cluster.grade_on_cluster` checks the workers).
    """
    start = time.perf_counter()
    write_dir = Path(write_dir or results_dir)
    # Exists before a child starts (so it can be hidden from it) and is the grader's alone.
    write_dir.mkdir(parents=True, exist_ok=True)
    write_dir.chmod(0o700)
    reasons = {s.student: ["regrade asked for (--force)"] if force else
               stale_reasons_of(s, results_dir, config) for s in submissions}
    todo = [s for s in submissions if reasons[s.student]]
    previous = {s.student: read_results(results_dir / s.student / "results.json") for s in todo}
    changes: list[Change] = []
    recorded: list[str] = []
    bar = _progress_bar(len(todo), enabled=progress)

    def record(submission: Submission, results: dict[str, Any]) -> None:
        try:
            _record(assignment, submission, write_dir, config, results)
        except Exception as error:  # what one submission returned never stops the class
            _record(assignment, submission, write_dir, config, error_results(
                assignment, f"internal grader error while writing the results: {error!r}",
                grader_failed=True))
        recorded.append(submission.student)
        change = compare(submission.student, previous[submission.student], results,
                         reasons[submission.student])
        if change is not None:
            changes.append(change)
        bar.update(1)

    if cluster is None:
        left = _grade_with_pool(assignment, todo, results_dir, config, record)
        # A worker died (only a grader bug can kill one: student code runs in a grandchild)
        # and the pool failed every unfinished submission at once.  Grade those one at a
        # time, each alone, so only the one that kills its worker again is recorded so.
        for submission in left:
            if _grade_with_pool(assignment, [submission], results_dir,
                                config.replace(jobs=1), record):
                record(submission, error_results(assignment, WORKER_DIED, grader_failed=True))
    elif todo:
        from autograder.batch.cluster import grade_on_cluster

        grade_on_cluster(assignment, todo, results_dir, config, record, cluster)
    bar.close()
    return {"graded": len(todo), "skipped": len(submissions) - len(todo),
            "seconds": time.perf_counter() - start, "recorded": recorded,
            "changes": sorted(changes, key=lambda c: c.student)}


def _grade_with_pool(assignment: str, submissions: list[Submission], results_dir: Path,
                     config: GradingConfig, record: Record) -> list[Submission]:
    """Grade with one pool; return the submissions left unfinished when a worker died."""
    left: list[Submission] = []
    with ProcessPoolExecutor(max_workers=config.jobs,
                             max_tasks_per_child=TASKS_PER_WORKER) as pool:
        futures: dict[Future, Submission] = {
            pool.submit(grade_one, assignment, s, results_dir, config): s for s in submissions
        }
        for future in as_completed(futures):
            submission = futures[future]
            try:
                results = future.result()
            except BrokenProcessPool:
                left.append(submission)
                continue
            except Exception as error:  # e.g. a result that cannot be sent back
                results = error_results(assignment, f"internal grader error: {error!r}",
                                        grader_failed=True)
            record(submission, results)
    return left


def grade_one(assignment: str, submission: Submission, results_dir: Path,
              config: GradingConfig) -> dict[str, Any]:
    """Grade one submission (in a worker) and return its results (the caller writes them)."""
    from autograder.grading.runner import grade_submission

    if submission.path is None:
        return error_results(assignment, submission.problem or "no submission found")
    try:
        # The results folder (the class's scores and feedback) is hidden from the child.
        return grade_submission(assignment, submission.path, config, hide=[results_dir])
    except Exception as error:  # a grader bug: record it for this student, go on
        return error_results(assignment, f"internal grader error: {error!r}",
                             grader_failed=True)


def _record(assignment: str, submission: Submission, results_dir: Path, config: GradingConfig,
            results: dict[str, Any]) -> None:
    """Write results.json (with what identifies the graded file and its key) and feedback.md."""
    sha = file_sha256(submission.path) if submission.path else None
    results.setdefault("extra_data", {}).update(
        {"student": submission.student, "assignment": assignment, "submission_sha256": sha,
         "submission_path": str(submission.path) if submission.path else None,
         "resume_key": resume_key(assignment, sha, config)}
    )
    target = results_dir / submission.student
    write_results(target / "results.json", results)
    write_feedback(target / "feedback.md", results)


def stale_reasons_of(submission: Submission, results_dir: Path,
                     config: GradingConfig) -> list[str]:
    """Why the stored result of ``submission`` cannot be reused (empty: it can)."""
    results = read_results(results_dir / submission.student / "results.json")
    if results is None:
        return ["not graded yet"]
    sha = file_sha256(submission.path) if submission.path is not None else None
    return stale_reasons(results.get("extra_data", {}).get("resume_key"),
                         resume_key(submission_assignment(results), sha, config))


def submission_assignment(results: dict[str, Any]) -> str:
    return str(results.get("extra_data", {}).get("assignment", ""))


def up_to_date(submission: Submission, results_dir: Path, config: GradingConfig) -> bool:
    """Whether the stored result was graded from this notebook, configuration, suite and grader."""
    return not stale_reasons_of(submission, results_dir, config)


def _progress_bar(total: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="submission", disable=not enabled, dynamic_ncols=True)
