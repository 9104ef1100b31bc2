"""Grade a class on a Dask cluster: one task per submission, results written here.

``grade-batch --scheduler ADDRESS`` (or :func:`autograder.batch.pool.grade_batch`
with ``cluster=`` a scheduler address, a ``distributed.Client`` or a cluster
object such as ``LocalCluster``, ``SLURMCluster`` or ``KubeCluster``) sends each
submission to the cluster as one task, :func:`grade_task`.  The notebook travels
*with* the task (its bytes), so workers need no shared file system; a worker
writes it to its own temporary folder and grades it there in its own sandboxed
child, exactly as a local worker does.  :class:`GraderPreload` imports the
grader and torch and starts the sandbox's zygote once per worker process, so a
worker keeps them between submissions.

Workers never touch the results folder: a task *returns* the results dict, and
the instructor's process writes it atomically (``record``, the same as the
local pool's).  A worker that dies mid-task loses nothing: the scheduler runs
the task again elsewhere (up to ``distributed.scheduler.allowed-failures``
times, then it is recorded as a grader failure), and since each task's future
completes once, each result is written once.

GPU grading: with ``--device cuda`` every task asks for the resource ``{"GPU": 1}``,
so it runs only on workers started with ``--resources GPU=1`` (each with its own
``CUDA_VISIBLE_DEVICES``), one submission per GPU at a time.  The instructor's
machine needs no GPU; the cluster must have at least one such worker.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder.config import GradingConfig
from autograder.intake.submissions import Submission
from autograder.report.results import error_results

if TYPE_CHECKING:
    from autograder.batch.pool import Record

try:  # the optional extra ``cluster``; without it only the local pool grades
    from distributed.diagnostics.plugin import WorkerPlugin as _PluginBase
except ModuleNotFoundError:  # pragma: no cover - distributed is in the dev extra
    _PluginBase = object  # type: ignore[assignment,misc]

GPU = "GPU"  # the worker resource a CUDA grading needs one of
CONNECT_TIMEOUT = "30s"  # how long to wait for the scheduler before giving up
PLUGIN_NAME = "autograder-preload"


class ClusterError(RuntimeError):
    """The cluster cannot grade this batch (no scheduler, no GPU workers, distributed missing)."""


def _client(cluster: Any) -> tuple[Any, bool]:
    """A ``distributed.Client`` for ``cluster`` and whether this module opened it."""
    try:
        from distributed import Client
    except ModuleNotFoundError:
        raise ClusterError("grading on a cluster needs Dask distributed: "
                           "pip install 'nntrain[cluster]'") from None
    if isinstance(cluster, Client):
        return cluster, False
    try:
        return Client(cluster, timeout=CONNECT_TIMEOUT), True
    except (OSError, TimeoutError) as error:
        raise ClusterError(f"could not reach the Dask scheduler {cluster!r} ({error})") from None


def gpu_workers(client: Any) -> list[str]:
    """The workers that offer the ``GPU`` resource."""
    workers = client.scheduler_info(n_workers=-1).get("workers", {})
    return sorted(a for a, w in workers.items() if w.get("resources", {}).get(GPU, 0) >= 1)


class GraderPreload(_PluginBase):
    """Worker plugin: import the grader and start the sandbox's zygote once per worker.

    ``setup`` runs when the plugin is registered and on every worker that joins later,
    including one that replaces a dead worker.
    """

    name = PLUGIN_NAME
    idempotent = False

    def __init__(self, isolation: str, audit: bool) -> None:
        self.isolation = isolation
        self.audit = audit

    def setup(self, worker: Any = None) -> None:
        import autograder.grading.runner  # noqa: F401  (torch, pytest, the grader)
        from autograder.sandbox.zygote import Zygote

        Zygote.prestart(self.isolation, self.audit)


def grade_task(assignment: str, student: str, filename: str, data: bytes,
               hide: list[str], config: GradingConfig) -> dict[str, Any]:
    """Grade one submission on a worker from its bytes; return its results (never writes them)."""
    from autograder.config import device_problem
    from autograder.grading.runner import grade_submission

    problem = device_problem(config.device)
    if problem:  # a worker without the GPU it advertised: say so, grade nothing
        return error_results(assignment, f"this Dask worker cannot grade: {problem}",
                             grader_failed=True)
    folder = Path(tempfile.mkdtemp(prefix="autograder-task-"))
    try:
        notebook = folder / student / filename
        notebook.parent.mkdir()
        notebook.write_bytes(data)
        try:
            return grade_submission(assignment, notebook, config, hide=hide)
        except Exception as error:  # a grader bug: record it for this student, go on
            return error_results(assignment, f"internal grader error: {error!r}",
                                 grader_failed=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def grade_on_cluster(assignment: str, submissions: list[Submission], results_dir: Path,
                     config: GradingConfig, record: Record, cluster: Any) -> None:
    """Grade ``submissions`` as tasks of ``cluster``; call ``record`` here for each result."""
    from distributed import as_completed

    client, opened = _client(cluster)
    try:
        resources = None
        if config.device == "cuda":
            if not gpu_workers(client):
                raise ClusterError("--device cuda: no worker of this cluster offers the "
                                   f"resource {GPU} (start workers with --resources {GPU}=1)")
            resources = {GPU: 1}
        client.register_plugin(GraderPreload(config.isolation, config.audit), name=PLUGIN_NAME)
        futures = {}
        for submission in submissions:
            if submission.path is None:
                record(submission, error_results(assignment,
                                                 submission.problem or "no submission found"))
                continue
            # The results folder is hidden from the child where a worker can see it.
            future = client.submit(
                grade_task, assignment, submission.student, submission.path.name,
                submission.path.read_bytes(), [str(Path(results_dir).resolve())], config,
                key=f"grade-{assignment}-{submission.student}-{tokenize_submission(submission)}",
                resources=resources, pure=False)
            futures[future] = submission
        for future in as_completed(list(futures)):
            submission = futures.pop(future)
            record(submission, _result_of(assignment, future))
    finally:
        if opened:
            client.close()


def tokenize_submission(submission: Submission) -> str:
    """A key part unique to this submission's file (a resubmission is a new task)."""
    from autograder.intake.submissions import file_sha256

    return file_sha256(submission.path)[:16] if submission.path else "none"


def _result_of(assignment: str, future: Any) -> dict[str, Any]:
    from distributed import KilledWorker

    try:
        return future.result()
    except KilledWorker:  # the task killed every worker it was given: not retried forever
        return error_results(assignment, "the grader's worker process died each time it "
                             "graded this submission")
    except Exception as error:  # the task could not run at all (a cluster or grader problem)
        return error_results(assignment, f"the cluster could not grade this submission: "
                             f"{error!r}", grader_failed=True)
