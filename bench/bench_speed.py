"""Issue 16's report in one run: grading speed per submission, per class and against nbgrader.

Runs, one after another on this machine (nothing else should run meanwhile):

1. ``bench_grade.py --cli``: CPU and wall seconds of one submission of each assignment in a warm
   grader (steady state) and of one cold ``python -m autograder grade`` (a fresh interpreter);
2. ``bench_batch.py``: ``grade-batch`` of a mixed class (correct, partly wrong, broken,
   hostile) and of a correct-only class of a1, then ``nbgrader autograde`` on the same
   notebooks (the safe ones);
3. ``bench_gradescope.py``: peak memory of one submission in the Gradescope layout on one core,
   against Gradescope's default 768 MB.

Every figure is CPU time of the whole process tree beside wall time (``process_tree.py``), and
the load average is recorded before and after.  The summary goes to
``bench/results/speed.json`` and is printed against the targets; nothing is asserted.

    python bench/bench_speed.py                 # 200 submissions, nbgrader on all safe ones
    python bench/bench_speed.py -n 60 --nbgrader-sample 30
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
TARGETS = {"per_minute": 120, "cpu_s_per_submission": 1.0, "speedup_vs_nbgrader": 10,
           "cold_cpu_s": 6.0, "gradescope_memory_mb": 768}


def _run(script: str, *args: str) -> None:
    subprocess.run([sys.executable, str(REPO / "bench" / script), *args], check=True, cwd=REPO)


def summary() -> dict[str, Any]:
    grade = json.loads((RESULTS / "grade.json").read_text())
    batch = json.loads((RESULTS / "batch.json").read_text())
    gradescope = json.loads((RESULTS / "gradescope.json").read_text())
    out: dict[str, Any] = {"assignments": {}}
    for name, entry in grade["assignments"].items():
        out["assignments"][name] = {
            "steady_cpu_s": entry["median_sandboxed_cpu_s"],
            "steady_wall_s": entry["median_sandboxed_s"],
            "cold_cpu_s": entry.get("cold_cli_cpu_s"), "cold_wall_s": entry.get("cold_cli_s"),
            "gradescope_peak_pss_mb": gradescope.get(name, {}).get("peak_pss_mb"),
        }
    for section in ("mixed", "correct_only"):
        data = batch[section]
        out[section] = {key: data.get(key) for key in (
            "submissions", "grade_batch_per_minute", "grade_batch_per_minute_from_cpu",
            "grade_batch_cpu_s_per_submission", "correct_scoring_100", "statuses",
            "nbgrader_notebooks", "nbgrader_cpu_s_per_submission", "nbgrader_per_minute",
            "speedup_wall", "speedup_cpu") if key in data}
    out["load_average"] = {"grade": grade["machine"]["load_average"],
                           "batch_before": batch["load_average_before"],
                           "batch_after": batch["load_average_after"]}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="submissions per class")
    parser.add_argument("--nbgrader-sample", type=int, default=None)
    args = parser.parse_args(argv)
    before = os.getloadavg()
    _run("bench_grade.py", "--cli")
    batch_args = ["-n", str(args.n)]
    if args.nbgrader_sample:
        batch_args += ["--nbgrader-sample", str(args.nbgrader_sample)]
    _run("bench_batch.py", *batch_args)
    _run("bench_gradescope.py")
    report = {"load_average_start": before, **summary(), "load_average_end": os.getloadavg(),
              "targets": TARGETS}
    (RESULTS / "speed.json").write_text(json.dumps(report, indent=2) + "\n")
    print("\n== issue 16 targets (CPU of the whole process tree; wall time depends on the load)")
    for name, entry in report["assignments"].items():
        print(f"{name:<22} steady {entry['steady_cpu_s']:.2f} CPU-s ({entry['steady_wall_s']:.2f}"
              f" s wall), cold {entry['cold_cpu_s']:.1f} CPU-s ({entry['cold_wall_s']:.1f} s), "
              f"Gradescope peak PSS {entry['gradescope_peak_pss_mb']} MB")
    for section in ("mixed", "correct_only"):
        data = report[section]
        line = (f"{section:<13} {data['grade_batch_cpu_s_per_submission']:.2f} CPU-s/submission,"
                f" {data['grade_batch_per_minute']:.0f}/min wall, "
                f"{data['grade_batch_per_minute_from_cpu']:.0f}/min from CPU on "
                f"{os.cpu_count()} cores")
        if "speedup_cpu" in data:
            line += (f"; nbgrader {data['nbgrader_cpu_s_per_submission']:.2f} CPU-s/submission "
                     f"({data['nbgrader_notebooks']} notebooks): {data['speedup_cpu']:.1f}x by "
                     f"CPU, {data['speedup_wall']:.1f}x by wall")
        print(line)
    print(f"load average start {before[0]:.2f}, end {report['load_average_end'][0]:.2f}; "
          f"targets: {TARGETS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
