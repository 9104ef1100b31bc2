"""Class-scale grading: ``grade-batch`` on generated submissions vs ``nbgrader autograde``.

Generates N submissions of a1_activations_init (correct, partly wrong, broken
and hostile, in fixed proportions), grades them with ``python -m autograder
grade-batch`` and reports submissions per minute; then runs ``nbgrader
autograde`` on the same notebooks in an nbgrader course made from
``solutions/`` and reports its time.  Two hostile kinds are left out of the
nbgrader run because nbgrader would run them unconfined on this machine (the
memory hog and the fork bomb); the report says how many notebooks each tool
graded.  With ``--cluster`` the same class is graded again on a Dask
``LocalCluster`` of ``--jobs`` worker processes (one thread each) through
``grade-batch --scheduler``, and the report gives both rates and whether every
student's score agrees.  Results: ``bench/results/batch.json`` (with ``--cluster``:
``batch_cluster.json``).

    python bench/bench_batch.py                    # 200 submissions, both tools
    python bench/bench_batch.py -n 40 --nbgrader-sample 20
    python bench/bench_batch.py -n 40 --no-nbgrader --cluster
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from process_tree import Measured, run_measured  # bench/ is sys.path[0] when run as a script

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from grader_helpers import make_submission  # noqa: E402

ASSIGNMENT = "a1_activations_init"

WRONG = {  # plausible mistakes, each costing some points
    "relu_backward": "def relu_backward(grad_out, x):\n"
                     "    return grad_out * (x >= 0).to(grad_out.dtype)\n",
    "sigmoid": "def sigmoid(x):\n    return 1 / (1 + torch.exp(-x))\n",
    "leaky_relu": "def leaky_relu(x, negative_slope=0.01):\n"
                  "    return torch.where(x > 0, x, x * 0.1)\n",
    "calculate_gain": "def calculate_gain(nonlinearity, param=None):\n    return 1.0\n",
    "elu": "def elu(x, alpha=1.0):\n    return torch.where(x > 0, x, torch.exp(x) - 1)\n",
}
BROKEN = {
    "invalid_json": lambda path: path.write_text("{ not a notebook"),
    "syntax_error": lambda path: path.write_text(path.read_text().replace(
        "def tanh(", "def tanh(((", 1)),
    "empty": lambda path: path.write_text(""),
}
HOSTILE = {
    "infinite_loop": {"relu": "def relu(x):\n    while True:\n        pass\n"},
    "exit_at_import": {"sigmoid": "import os\nos._exit(3)\n"},
    "fake_output": {"tanh": "print('{\"score\": 100}' * 1000)\n"
                            "def tanh(x):\n    raise RuntimeError('x')\n"},
    "memory_hog": {"silu": "def silu(x):\n    blocks = []\n    while True:\n"
                           "        blocks.append(bytearray(1 << 26))\n"},
    "fork_bomb": {"selu": "import os\ndef selu(x):\n    while True:\n        os.fork()\n"},
}
UNSAFE_FOR_NBGRADER = {"memory_hog", "fork_bomb"}


def generate(root: Path, n: int, correct_only: bool = False) -> dict[str, str]:
    """Write n submissions under root/submitted/; return student -> kind.

    A mixed class has 6 correct, 2 partly wrong, 1 broken and 1 hostile in every 10."""
    kinds: dict[str, str] = {}
    scratch = root / "scratch"
    for index in range(n):
        student = f"s{index:03d}"
        (scratch / student).mkdir(parents=True)
        slot = 0 if correct_only else index % 10
        if slot < 6:
            kind, path = "correct", make_submission(ASSIGNMENT, scratch / student)
        elif slot < 8:
            names = sorted(WRONG)
            chosen = {names[(index + k) % len(names)] for k in range(1 + index % 2)}
            kind = "wrong:" + "+".join(sorted(chosen))
            path = make_submission(ASSIGNMENT, scratch / student,
                                   replace={name: WRONG[name] for name in chosen})
        elif slot == 8:
            name = sorted(BROKEN)[(index // 10) % len(BROKEN)]
            kind, path = f"broken:{name}", make_submission(ASSIGNMENT, scratch / student)
            BROKEN[name](path)
        else:
            name = sorted(HOSTILE)[(index // 10) % len(HOSTILE)]
            kind = f"hostile:{name}"
            path = make_submission(ASSIGNMENT, scratch / student, replace=HOSTILE[name])
        target = root / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        target.parent.mkdir(parents=True)
        shutil.move(path, target)
        kinds[student] = kind
    shutil.rmtree(scratch)
    return kinds


def run_batch(root: Path, jobs: int, scheduler: str | None = None) -> tuple[Measured, Path]:
    out = root / ("cluster_grades" if scheduler else "grades") / "grades.csv"
    extra = ["--scheduler", scheduler] if scheduler else []
    measured = run_measured([sys.executable, "-m", "autograder", "grade-batch", ASSIGNMENT,
                             str(root), "--jobs", str(jobs), "--out", str(out), *extra],
                            cwd=REPO, env=_env(), stdout=subprocess.DEVNULL)
    if measured.returncode != 0:
        raise SystemExit(f"grade-batch exited {measured.returncode}")
    return measured, out


def run_cluster(root: Path, jobs: int) -> tuple[float, float, Path]:
    """Grade on a LocalCluster of ``jobs`` worker processes; (start-up s, grading s, CSV)."""
    from distributed import LocalCluster

    start = time.perf_counter()
    with LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=40) as cluster:
        started = time.perf_counter() - start
        measured, out = run_batch(root, jobs, cluster.scheduler_address)
    return started, measured.wall_s, out


def _scores(csv_path: Path) -> dict[str, str]:
    import csv

    with open(csv_path, newline="") as handle:
        return {row["student"]: row["score"] for row in csv.DictReader(handle)}


def run_nbgrader(root: Path, kinds: dict[str, str], sample: int | None,
                 cap_seconds: float) -> tuple[Measured, int]:
    course = root / "nbgrader_course"
    shutil.copytree(REPO / "solutions", course, ignore=shutil.ignore_patterns("*.db"))
    subprocess.run(["nbgrader", "generate_assignment", ASSIGNMENT, "--force"], cwd=course,
                   env=_env(), check=True, capture_output=True)
    students = [s for s, k in sorted(kinds.items())
                if k.split(":")[-1] not in UNSAFE_FOR_NBGRADER][:sample]
    for student in students:
        source = root / "submitted" / student / ASSIGNMENT
        shutil.copytree(source, course / "submitted" / student / ASSIGNMENT)
    # nbgrader stops a cell after 30 s (its Execute.timeout) but then runs the next cell, so an
    # infinite loop costs 30 s per cell that calls the looping function: cap the whole run and
    # count the notebooks it finished.
    measured = run_measured(["nbgrader", "autograde", ASSIGNMENT, "--create", "--force"],
                            cwd=course, env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, timeout=cap_seconds)
    capped = measured.returncode < 0
    # nbgrader creates a student's folder when it starts on it: the last one was unfinished.
    finished = len(list((course / "autograded").glob(f"*/{ASSIGNMENT}"))) - int(capped)
    return measured, finished


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def grade_class(n: int, jobs: int, correct_only: bool, cluster: bool,
                nbgrader_sample: int | None, nbgrader_cap: float | None) -> dict[str, Any]:
    """Generate one class, grade it (and optionally on a cluster and with nbgrader); report."""
    with tempfile.TemporaryDirectory(prefix="bench_batch_") as tmp:
        root = Path(tmp)
        kinds = generate(root, n, correct_only)
        measured, csv_path = run_batch(root, jobs)
        report: dict[str, Any] = {
            "class": "correct only" if correct_only else "mixed",
            "submissions": n, "jobs": jobs, "cores": os.cpu_count(),
            "kinds": {k: sum(1 for v in kinds.values() if v.split(":")[0] == k)
                      for k in ("correct", "wrong", "broken", "hostile")},
            "grade_batch_seconds": round(measured.wall_s, 1),
            "grade_batch_cpu_seconds": round(measured.cpu_s, 1),
            "grade_batch_per_minute": round(60 * n / measured.wall_s, 1),
            "grade_batch_cpu_s_per_submission": round(measured.cpu_s / n, 3),
            # what 2 cores would grade if nothing else ran: the CPU rate, free of the load
            "grade_batch_per_minute_from_cpu": round(60 * n * (os.cpu_count() or 1)
                                                     / measured.cpu_s, 1),
        }
        with open(csv_path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        report["correct_scoring_100"] = sum(
            1 for row in rows if kinds[row["student"]] == "correct" and row["score"] == "100")
        report["statuses"] = {s: sum(1 for r in rows if r["status"] == s)
                              for s in sorted({r["status"] for r in rows})}
        if cluster:
            startup, cluster_seconds, cluster_csv = run_cluster(root, jobs)
            report.update({
                "cluster_startup_seconds": round(startup, 1),
                "cluster_seconds": round(cluster_seconds, 1),
                "cluster_per_minute": round(60 * n / cluster_seconds, 1),
                "cluster_scores_agree": _scores(cluster_csv) == _scores(csv_path),
            })
        if nbgrader_cap is not None:
            nb, graded = run_nbgrader(root, kinds, nbgrader_sample, nbgrader_cap)
            report.update({
                "nbgrader_notebooks": graded,
                "nbgrader_seconds": round(nb.wall_s, 1),
                "nbgrader_cpu_s_per_submission": round(nb.cpu_s / max(graded, 1), 3),
                "nbgrader_per_minute": round(60 * graded / nb.wall_s, 1),
            })
            report["speedup_wall"] = round(report["grade_batch_per_minute"]
                                           / report["nbgrader_per_minute"], 1)
            report["speedup_cpu"] = round(report["nbgrader_cpu_s_per_submission"]
                                          / report["grade_batch_cpu_s_per_submission"], 1)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="number of submissions")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--nbgrader-sample", type=int, default=None,
                        help="autograde only this many notebooks with nbgrader (default: all)")
    parser.add_argument("--no-nbgrader", action="store_true")
    parser.add_argument("--cluster", action="store_true",
                        help="also grade on a Dask LocalCluster of --jobs workers and compare")
    parser.add_argument("--nbgrader-cap", type=float, default=1800,
                        help="seconds after which nbgrader autograde is stopped (default 1800)")
    args = parser.parse_args(argv)

    cap = None if args.no_nbgrader else args.nbgrader_cap
    report = {
        "load_average_before": os.getloadavg(),
        "mixed": grade_class(args.n, args.jobs, False, args.cluster, args.nbgrader_sample, cap),
        "correct_only": grade_class(args.n, args.jobs, True, False, None, None),
        "load_average_after": os.getloadavg(),
    }
    out = REPO / "bench" / "results" / ("batch_cluster.json" if args.cluster else "batch.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    for section in ("mixed", "correct_only"):
        print(f"-- {section} class")
        for key, value in report[section].items():
            print(f"{key:>36}: {value}")
    print(f"load average before/after: {report['load_average_before'][0]:.1f} / "
          f"{report['load_average_after'][0]:.1f} on {os.cpu_count()} cores")
    print("targets (issue 16): >= 120 submissions/min on 2 cores (<= 1.0 CPU-s per submission), "
          ">= 10x nbgrader autograde")
    return 0


if __name__ == "__main__":
    sys.exit(main())
