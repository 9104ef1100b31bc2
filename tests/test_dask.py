"""grade-batch on a real Dask cluster: a LocalCluster of worker processes on this machine."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from autograder.batch import cluster as cluster_module  # noqa: E402
from autograder.batch.cluster import GPU, ClusterError  # noqa: E402
from autograder.batch.pool import grade_batch, stale_reasons_of  # noqa: E402
from autograder.config import GradingConfig, cuda_available  # noqa: E402
from autograder.intake.submissions import discover_submissions  # noqa: E402
from autograder.report.results import validate  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
A1 = "a1_activations_init"
SOLUTION = REPO / "solutions" / "source" / A1 / f"{A1}.ipynb"
RELEASE = REPO / "assignments" / A1 / f"{A1}.ipynb"
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def _class(root: Path, kinds: dict[str, Path | str | None]) -> None:
    """Submissions under root/submitted/: a notebook to copy, a text, or None (empty folder)."""
    for student, kind in kinds.items():
        folder = root / "submitted" / student / A1
        folder.mkdir(parents=True)
        if isinstance(kind, Path):
            shutil.copy(kind, folder / f"{A1}.ipynb")
        elif isinstance(kind, str):
            (folder / f"{A1}.ipynb").write_text(kind)


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes with one thread each, as the issue asks."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as local:
        yield local


@pytest.mark.slow
def test_the_command_grades_a_class_on_the_cluster_and_resumes(cluster, tmp_path: Path) -> None:
    root = tmp_path / "course"
    _class(root, {"alice": SOLUTION, "bob": RELEASE, "carol": "{ not json", "dan": None})
    out = tmp_path / "grades" / "grades.csv"
    command = [sys.executable, "-m", "autograder", "grade-batch", A1, str(root), "--out",
               str(out), "--no-progress", "--scheduler", cluster.scheduler_address]
    done = subprocess.run(command, capture_output=True, text=True, env=ENV, cwd=REPO,
                          timeout=900)
    assert done.returncode == 0, done.stderr
    assert "4 graded, 0 already up to date" in done.stdout, done.stdout
    with open(out, newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert {s: rows[s]["score"] for s in rows} == {"alice": "100", "bob": "0", "carol": "0",
                                                    "dan": "0"}
    assert rows["alice"]["status"] == "ok" and rows["dan"]["status"] == "error"
    for student in rows:
        results = json.loads((out.parent / "results" / student / "results.json").read_text())
        validate(results)
        assert results["extra_data"]["student"] == student
    # the graded file is named as submitted, not after the worker's temporary copy
    alice = json.loads((out.parent / "results" / "alice" / "results.json").read_text())
    assert alice["extra_data"]["submission"] == f"{A1}.ipynb"

    # Resume from Python with a Client: nothing is out of date, nothing is graded.
    submissions = discover_submissions(root, A1)
    stale = {s.student: stale_reasons_of(s, out.parent / "results", GradingConfig())
             for s in submissions}
    with distributed.Client(cluster) as client:
        summary = grade_batch(A1, submissions, out.parent / "results", GradingConfig(),
                              progress=False, cluster=client)
    assert (summary["graded"], summary["skipped"]) == (0, 4), f"regraded because {stale}"


@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(cluster, tmp_path: Path) -> None:
    root = tmp_path / "course"
    students = {f"s{i}": SOLUTION if i % 2 == 0 else RELEASE for i in range(4)}
    _class(root, students)
    results_dir = tmp_path / "results"
    killed: list[int] = []

    with distributed.Client(cluster) as client:
        def kill_a_busy_worker() -> None:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                busy = [a for a, keys in client.processing().items() if keys]
                if busy:
                    time.sleep(1.0)  # well inside its grading (the suite takes seconds)
                    pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
                time.sleep(0.05)

        killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
        killer.start()
        summary = grade_batch(A1, discover_submissions(root, A1), results_dir,
                              GradingConfig(device="auto"), progress=False, cluster=client)
        killer.join()
    assert killed, "a worker should have been killed while it graded"
    assert sorted(summary["recorded"]) == sorted(students), summary["recorded"]
    scores = {s: json.loads((results_dir / s / "results.json").read_text())["score"]
              for s in students}
    assert scores == {"s0": 100, "s1": 0, "s2": 100, "s3": 0}


def test_cuda_needs_a_worker_with_a_gpu_resource(cluster, tmp_path: Path) -> None:
    root = tmp_path / "course"
    _class(root, {"alice": SOLUTION})
    with pytest.raises(ClusterError, match=f"resource {GPU}"):
        grade_batch(A1, discover_submissions(root, A1), tmp_path / "results",
                    GradingConfig(device="cuda"), progress=False,
                    cluster=cluster.scheduler_address)
    assert not (tmp_path / "results" / "alice").exists()


def test_an_unreachable_scheduler_is_an_error_before_anything_is_graded(
        tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "course"
    _class(root, {"alice": SOLUTION})
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(ClusterError, match="could not reach the Dask scheduler"):
        grade_batch(A1, discover_submissions(root, A1), tmp_path / "results", GradingConfig(),
                    progress=False, cluster="tcp://127.0.0.1:9")
    assert not list((tmp_path / "results").glob("*/results.json"))


@pytest.mark.cuda
@pytest.mark.skipif(not cuda_available(), reason="needs a CUDA device")
def test_a_gpu_worker_grades_cuda_submissions(tmp_path: Path) -> None:
    root = tmp_path / "course"
    _class(root, {"alice": SOLUTION, "bob": RELEASE})
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  resources={GPU: 1}, dashboard_address=None) as gpu_cluster:
        summary = grade_batch(A1, discover_submissions(root, A1), tmp_path / "results",
                              GradingConfig(device="cuda"), progress=False,
                              cluster=gpu_cluster.scheduler_address)
    assert sorted(summary["recorded"]) == ["alice", "bob"]
    alice = json.loads((tmp_path / "results" / "alice" / "results.json").read_text())
    assert alice["score"] == 100
    assert any("cuda" in t["name"] for t in alice["tests"]), "the CUDA cases should have run"
