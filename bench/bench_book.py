"""Benchmark the book's build: a clean build, a rebuild with nothing changed, and each page's
execution time, against the budgets of the course (issues 4 and 5).

    python bench/bench_book.py [--output-dir DIR] [--keep]

The clean build goes into a fresh temporary directory (``--path-output``), so it starts with an
empty execution cache and executes every page exactly as ``make book`` does on a fresh clone; the
rebuild then runs the same command again. Per-page times are the execution times myst-nb records
in the jupyter-cache of that build. Results go to ``bench/results/book.json``; a table is printed.
Exit status 1 when a build fails; a budget overrun is reported, not an error.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "book.json"

# Budgets in seconds (issue 4: Part I chapters; issue 5: Parts II and III, whole book).
CHAPTER_BUDGET = {"I": 90.0, "II": 120.0, "III": 120.0}
INTRO_BUDGET = 90.0
CLEAN_BUILD_BUDGET = 15 * 60.0
REBUILD_BUDGET = 60.0


def toc_pages() -> list[tuple[str, str]]:
    """(page stem, part) for the root page and every chapter, in the order of _toc.yml."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [(Path(toc["root"]).name, "")]
    for part in toc["parts"]:
        numeral = part["caption"].split()[1]  # "Part II — ..." -> "II"
        pages += [(Path(chapter["file"]).name, numeral) for chapter in part["chapters"]]
    return pages


def build(output: Path) -> tuple[float, int, str]:
    """Run the README's `make book` command into ``output``; (seconds, return code, log tail)."""
    command = [
        str(Path(sys.executable).with_name("jupyter-book")), "build", str(ROOT),
        "--builder", "html", "-W", "--keep-going", "--path-output", str(output),
    ]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    return seconds, result.returncode, (result.stdout + result.stderr)[-3000:]


def execution_times(output: Path) -> dict[str, float]:
    """Seconds each page took to execute, from the build's jupyter-cache."""
    from jupyter_cache import get_cache

    cache = get_cache(output / "_build" / ".jupyter_cache")
    times = {}
    for record in cache.list_cache_records():
        seconds = (record.data or {}).get("execution_seconds")
        if seconds is not None:
            times[Path(record.uri).stem] = float(seconds)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="build here instead of a fresh temporary directory")
    parser.add_argument("--keep", action="store_true", help="keep the temporary build")
    args = parser.parse_args()

    output = args.output_dir or Path(tempfile.mkdtemp(prefix="book-bench-"))
    if args.output_dir and output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True, exist_ok=True)
    try:
        clean_s, clean_rc, clean_log = build(output)
        rebuild_s, rebuild_rc, rebuild_log = build(output)
        times = execution_times(output)
    finally:
        if not (args.keep or args.output_dir):
            shutil.rmtree(output, ignore_errors=True)

    pages = []
    for stem, part in toc_pages():
        budget = CHAPTER_BUDGET.get(part, INTRO_BUDGET)
        seconds = times.get(stem)
        pages.append({  # a page without code cells is never executed: no time, nothing to exceed
            "page": stem, "part": part or "-", "execution_s": seconds, "budget_s": budget,
            "within_budget": seconds is None or seconds <= budget,
        })
    results = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "omp_num_threads": os.environ.get("OMP_NUM_THREADS")},
        "clean_build": {"seconds": clean_s, "returncode": clean_rc, "budget_s": CLEAN_BUILD_BUDGET,
                        "within_budget": clean_rc == 0 and clean_s <= CLEAN_BUILD_BUDGET},
        "no_change_rebuild": {"seconds": rebuild_s, "returncode": rebuild_rc,
                              "budget_s": REBUILD_BUDGET,
                              "within_budget": rebuild_rc == 0 and rebuild_s <= REBUILD_BUDGET},
        "pages": pages,
        "part_totals_s": {
            part: sum(p["execution_s"] or 0.0 for p in pages if p["part"] == part)
            for part in ("I", "II", "III")
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    print(f"{'page':<20} {'part':>4} {'exec s':>8} {'budget':>7}  ok")
    for p in pages:
        shown = "no code" if p["execution_s"] is None else f"{p['execution_s']:.1f}"
        print(f"{p['page']:<20} {p['part']:>4} {shown:>8} {p['budget_s']:>7.0f}  "
              f"{'yes' if p['within_budget'] else 'NO'}")
    for name in ("clean_build", "no_change_rebuild"):
        r = results[name]
        print(f"{name:<20} {'':>4} {r['seconds']:>8.1f} {r['budget_s']:>7.0f}  "
              f"{'yes' if r['within_budget'] else 'NO'}  (exit {r['returncode']})")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    if clean_rc or rebuild_rc:
        print(clean_log if clean_rc else rebuild_log, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
