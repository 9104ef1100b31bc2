"""One submission through the Gradescope autograder, against Gradescope's default machine.

Gradescope's default autograder container has one CPU and 768 MB of memory.  This
builds the zip, runs ``run_autograder`` in a simulated ``/autograder`` layout pinned to
one core (``taskset``), samples the memory of the whole process tree (grader, zygote,
sandboxed child; summed RSS and summed PSS) every 20 ms, and reports wall time and peak RSS per
assignment.  Results: ``bench/results/gradescope.json``.

    python bench/bench_gradescope.py [ASSIGNMENT ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from autograder.gradescope.build import build_zip, simulate  # noqa: E402
from autograder.spec import ASSIGNMENTS  # noqa: E402

GRADESCOPE_MEMORY_MB = 768


def _pss_kb(pid: int) -> int:
    """Proportional set size: shared pages (torch, forked from the zygote) counted once in all."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_memory_mb(root_pid: int) -> tuple[float, float]:
    """(summed RSS, summed PSS) of root_pid and all its descendants, from /proc (Linux).

    Summed RSS counts the pages the sandboxed child shares with the zygote it was
    forked from once per process; summed PSS splits them, so it is what the
    container's memory limit actually sees."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            pages = int(Path(f"/proc/{entry}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = pages
    rss_total, pss_total, stack = 0, 0, [root_pid]
    while stack:
        pid = stack.pop()
        rss_total += rss.get(pid, 0)
        pss_total += _pss_kb(pid)
        stack.extend(children.get(pid, []))
    return rss_total * os.sysconf("SC_PAGE_SIZE") / 2**20, pss_total / 1024


def measure(assignment: str, tmp: Path) -> dict[str, float]:
    zip_path = build_zip(assignment, tmp / "zip")
    submission = REPO / "solutions" / "source" / assignment / f"{assignment}.ipynb"
    prefix = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    start = time.perf_counter()
    process = simulate(zip_path, tmp / assignment, submission, command_prefix=prefix)
    peak_rss = peak_pss = 0.0
    while process.poll() is None:
        rss, pss = tree_memory_mb(process.pid)
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    process.communicate()
    results = json.loads((tmp / assignment / "results" / "results.json").read_text())
    return {"score": results["score"], "wall_s": round(seconds, 1),
            "peak_rss_sum_mb": round(peak_rss),
            "peak_pss_mb": round(peak_pss), "one_core": bool(prefix)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", default=sorted(ASSIGNMENTS))
    args = parser.parse_args()
    report = {}
    with tempfile.TemporaryDirectory(prefix="bench_gradescope_") as tmp:
        for assignment in args.assignments:
            report[assignment] = measure(assignment, Path(tmp))
            print(assignment, report[assignment], flush=True)
    report["gradescope_memory_mb"] = GRADESCOPE_MEMORY_MB
    out = REPO / "bench" / "results" / "gradescope.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"peak PSS must stay under {GRADESCOPE_MEMORY_MB} MB (Gradescope's default)")


if __name__ == "__main__":
    main()
