"""Grading one submission: wall time, and the sandbox's overhead beyond the suite's own compute.

For each assignment the solution notebook is graded (after one warm-up run) in
one grader process, as ``grade-batch`` workers do:

* **sandboxed**: the real path (:func:`autograder.grading.runner.run_suite`): load and
  check the notebook, fork a sandboxed child from the zygote, run the suite with
  every student call going through the child;
* **in-process**: the same suite with the same pytest options, but the student's
  cells executed in the grader's own process and called directly (what an
  unsandboxed grader would cost: pytest, the oracles and the student's compute).

overhead = sandboxed - in-process, in wall time and in CPU time (the grader's
plus the child's; CPU time barely depends on what else the machine runs, wall
time does).  Also measured: starting the zygote (one
torch import per grader process), starting a child for a submission, the round
trip of one call, and optionally (``--cli``) one cold ``python -m autograder
grade`` (a fresh interpreter).  Results: ``bench/results/grade.json``.

    python bench/bench_grade.py              # 3 timed runs per assignment
    python bench/bench_grade.py -n 5 --cli
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from process_tree import Measured, run_measured  # bench/ is sys.path[0] when run as a script

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from autograder.grading.runner import run_suite  # noqa: E402
from autograder.grading.session import SuiteSession  # noqa: E402
from autograder.intake.loader import load_submission  # noqa: E402
from autograder.sandbox.handles import CallInfo  # noqa: E402
from autograder.sandbox.handles import changed as _changed  # noqa: E402
from autograder.sandbox.inside.limits import Limits  # noqa: E402
from autograder.sandbox.process import session_cpu_s  # noqa: E402
from autograder.sandbox.session import Sandbox  # noqa: E402
from autograder.sandbox.zygote import Zygote  # noqa: E402
from autograder.spec import ASSIGNMENTS, get_assignment, solution_path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "grade.json"


class LocalStudent:
    """The ``student`` fixture without a sandbox: the cells run in this process (baseline only)."""

    def __init__(self, notebook: Path, assignment: str) -> None:
        submission = load_submission(notebook, get_assignment(assignment))
        self.namespace: dict[str, Any] = {"__name__": "__main__"}
        for cell in submission.cells:
            exec(compile(cell.code, f"<cell {cell.name}>", "exec"), self.namespace)

    def __getattr__(self, name: str) -> Any:
        return self.namespace[name]

    def has(self, name: str) -> bool:
        return name in self.namespace

    def call(self, name: str, /, *args: Any, **kwargs: Any) -> CallInfo:
        sent_args, sent_kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
        value = self.namespace[name](*args, **kwargs)
        modified = {i for i, (a, b) in enumerate(zip(sent_args, args, strict=True))
                    if _changed(a, b)}
        modified |= {k for k in kwargs if _changed(sent_kwargs[k], kwargs[k])}
        returned = next((i for i, arg in enumerate(args) if value is arg), None)
        requires_grad = isinstance(value, torch.Tensor) and value.requires_grad
        return CallInfo(value, tuple(args), dict(kwargs), modified, returned, requires_grad)


_child_cpu: list[float] = []
_original_close = Sandbox.close


def _close_and_measure(self: Sandbox) -> None:
    """Sandbox.close, after reading the CPU time of the child's session (its processes are not
    our children, so /proc it is: the same reading as the per-call CPU limit)."""
    child = self.child
    if child is not None and child.pid is not None:
        _child_cpu.append(session_cpu_s(child.pid))
    _original_close(self)


Sandbox.close = _close_and_measure  # type: ignore[method-assign]


def time_sandboxed(assignment: str, notebook: Path) -> tuple[float, float, float]:
    """Wall time, CPU time (grader + child) and score of one sandboxed grading."""
    _child_cpu.clear()
    started, cpu = time.perf_counter(), time.process_time()
    run = run_suite(assignment, notebook)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    score = sum(o.points for o in run.outcomes if o.ok)
    return wall, cpu + sum(_child_cpu), score


def time_in_process(assignment: str, notebook: Path) -> tuple[float, float, float]:
    """The same collected suite (a session of its own), the student's code called directly."""
    suite = REPO / "autograder" / "grading" / "suites" / assignment
    session = _LOCAL_SESSIONS.setdefault(assignment, SuiteSession(suite, "auto"))
    started, cpu = time.perf_counter(), time.process_time()
    run = session.run(LocalStudent(notebook, assignment))  # type: ignore[arg-type]
    score = sum(o.points for o in run.outcomes if o.ok)
    return time.perf_counter() - started, time.process_time() - cpu, score


_LOCAL_SESSIONS: dict[str, SuiteSession] = {}


def time_child_start(repeats: int) -> list[float]:
    """Fork a child and run a small notebook's cells in it (what a submission pays to start)."""
    cells = [("imports", "import math\nimport torch"),
             ("f", "def f(x):\n    return 2 * x\n")]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        box = Sandbox(cells, limits=Limits())
        box.start()
        times.append(time.perf_counter() - started)
        box.close()
    return times


def time_round_trip(calls: int) -> dict[str, float]:
    box = Sandbox([("imports", "import torch"), ("f", "def f(x):\n    return x\n")])
    box.start()
    out = {}
    for label, value in (("scalar", 1.0), ("tensor 1k floats", torch.randn(1000)),
                         ("tensor 1M floats", torch.randn(1_000_000))):
        n = calls if label != "tensor 1M floats" else max(5, calls // 20)
        started = time.perf_counter()
        for _ in range(n):
            box.call("f", (value,))
        out[label] = (time.perf_counter() - started) / n
    box.close()
    return out


def time_cli(assignment: str, notebook: Path) -> Measured:
    """One cold ``python -m autograder grade`` (a fresh interpreter, zygote and child)."""
    with tempfile.TemporaryDirectory() as folder:
        measured = run_measured(
            [sys.executable, "-m", "autograder", "grade", assignment, str(notebook),
             "--out", str(Path(folder) / "results.json")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
        if measured.returncode != 0:
            raise SystemExit(f"grade {assignment} exited {measured.returncode}")
        return measured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=3, help="timed runs per assignment")
    parser.add_argument("--assignments", nargs="*", default=sorted(ASSIGNMENTS))
    parser.add_argument("--cli", action="store_true", help="also time one cold CLI run each")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    Zygote.get()
    zygote_start = time.perf_counter() - started
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "torch": torch.__version__, "load_average": os.getloadavg()},
        "zygote_start_s": round(zygote_start, 3),
        "child_start_s": [round(t, 4) for t in time_child_start(5)],
        "round_trip_s": {k: round(v, 6) for k, v in time_round_trip(200).items()},
        "assignments": {},
    }
    rows = []
    for assignment in args.assignments:
        notebook = solution_path(assignment)
        time_sandboxed(assignment, notebook)  # warm-up: imports of the suite and its oracles
        time_in_process(assignment, notebook)
        sandboxed, local, scores = [], [], set()
        sandboxed_cpu, local_cpu = [], []
        for _ in range(args.runs):
            wall, cpu, score = time_sandboxed(assignment, notebook)
            sandboxed.append(wall)
            sandboxed_cpu.append(cpu)
            scores.add(score)
            wall, cpu, _ = time_in_process(assignment, notebook)
            local.append(wall)
            local_cpu.append(cpu)
        median = statistics.median
        entry = {
            "score": sorted(scores),
            "sandboxed_s": [round(t, 3) for t in sandboxed],
            "in_process_s": [round(t, 3) for t in local],
            "median_sandboxed_s": round(median(sandboxed), 3),
            "median_in_process_s": round(median(local), 3),
            "overhead_s": round(median(sandboxed) - median(local), 3),
            "median_sandboxed_cpu_s": round(median(sandboxed_cpu), 3),
            "median_in_process_cpu_s": round(median(local_cpu), 3),
            "overhead_cpu_s": round(median(sandboxed_cpu) - median(local_cpu), 3),
        }
        if args.cli:
            cold = time_cli(assignment, notebook)
            entry["cold_cli_s"] = round(cold.wall_s, 3)
            entry["cold_cli_cpu_s"] = round(cold.cpu_s, 3)
        report["assignments"][assignment] = entry
        rows.append((assignment, entry))

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"zygote start (one torch import per grader process): {zygote_start:.2f} s")
    print(f"child start per submission (median of 5): "
          f"{statistics.median(report['child_start_s']):.3f} s")
    for label, seconds in report["round_trip_s"].items():
        print(f"round trip of one call, {label}: {seconds * 1e3:.2f} ms")
    header = (f"{'assignment':<22}{'score':>6}{'sandboxed':>11}{'in-process':>12}{'overhead':>10}"
              f"{'CPU sandboxed':>15}{'CPU in-proc':>13}{'CPU overhead':>14}")
    if args.cli:
        header += f"{'cold CLI':>10}{'CPU cold':>10}"
    print(header)
    for assignment, entry in rows:
        line = (f"{assignment:<22}{entry['score'][-1]:>6g}{entry['median_sandboxed_s']:>10.2f}s"
                f"{entry['median_in_process_s']:>11.2f}s{entry['overhead_s']:>9.2f}s"
                f"{entry['median_sandboxed_cpu_s']:>14.2f}s{entry['median_in_process_cpu_s']:>12.2f}s"
                f"{entry['overhead_cpu_s']:>13.2f}s")
        if args.cli:
            line += f"{entry['cold_cli_s']:>9.1f}s{entry['cold_cli_cpu_s']:>9.1f}s"
        print(line)
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"written {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
