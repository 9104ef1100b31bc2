"""The class report as one self-contained HTML page (figures embedded as PNG, no network).

The numbers come from :mod:`autograder.report.class_report`; this module only
draws them (matplotlib, Agg backend) and lays them out.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

from autograder.report.class_report import ClassReport
from autograder.report.results import atomic_write_text

WORST_TESTS = 25  # tests shown in the pass-rate figure (the lowest rates)
FAILURES_SHOWN = 30

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; } .note { color: #555; font-size: 0.9rem; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 0.6rem; margin-bottom: 1.6rem; }
pre { background: #fafafa; border: 1px solid #ddd; padding: 0.5rem; overflow-x: auto;
      font-size: 0.8rem; margin: 0; } mark { background: #ffe08a; }
"""


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="" src="data:image/png;base64,{data}">'


def figures(report: ClassReport) -> dict[str, str]:
    """name -> <img> tag: score distribution, per-part points, lowest test pass rates, time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, str] = {}
    graded = report.graded
    total = float(report.assignment.total_points)
    fig, ax = plt.subplots(figsize=(6.8, 2.8))
    ax.hist([s.score for s in report.students], bins=20, range=(0, total or 1),
            color="#4c72b0", edgecolor="white")
    ax.set_xlabel(f"score (of {total:g})")
    ax.set_ylabel("submissions")
    ax.set_title("Score distribution (every submission)")
    out["scores"] = _png(fig)

    parts = report.parts
    fig, ax = plt.subplots(figsize=(6.8, 0.28 * len(parts) + 1.0))
    names = [p.name for p in parts][::-1]
    earned = [p.mean_fraction for p in parts][::-1]
    unattempted = [p.unattempted / p.graded if p.graded else 0.0 for p in parts][::-1]
    ax.barh(names, earned, color="#55a868", label="mean share of points earned")
    ax.barh(names, unattempted, left=[1 - u for u in unattempted], color="#c44e52",
            label="share unattempted")
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"over the {len(graded)} graded submissions")
    # above the axes: the bars reach 1, so inside the axes the legend would hide them
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8, frameon=False)
    out["parts"] = _png(fig)

    worst = sorted(report.tests, key=lambda t: (t.rate, t.name))[:WORST_TESTS][::-1]
    fig, ax = plt.subplots(figsize=(6.8, 0.24 * len(worst) + 1.0))
    ax.barh([t.name for t in worst], [t.rate for t in worst], color="#8172b2")
    ax.set_xlim(0, 1)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel("pass rate")
    ax.set_title(f"The {len(worst)} tests with the lowest pass rates")
    out["tests"] = _png(fig)

    fig, ax = plt.subplots(figsize=(6.8, 2.8))
    ax.scatter([s.seconds for s in report.students], [s.score for s in report.students],
               c=["#c44e52" if s.outlier else "#4c72b0" for s in report.students], s=14)
    ax.set_xlabel("grading time (s)")
    ax.set_ylabel("score")
    ax.set_title("Time per submission (red: outliers)")
    out["time"] = _png(fig)
    return out


def _table(header: list[str], rows: list[list[Any]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{html.escape(str(c))}</td>' if i in numeric
                         else f"<td>{html.escape(str(c))}</td>" for i, c in enumerate(row))
        + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(report: ClassReport) -> str:
    """The whole page."""
    a = report.assignment
    graded, students = report.graded, report.students
    figs = figures(report)
    scores = sorted(s.score for s in students)
    median = scores[len(scores) // 2] if scores else 0
    rss = [s.peak_rss_mb for s in students if s.peak_rss_mb is not None]
    memory = (f"Peak memory of the sandboxed child: median {sorted(rss)[len(rss) // 2]:.0f} MiB"
              if rss else "Peak memory: not reported by the sandbox for these results")
    outliers = [s for s in students if s.outlier]
    parts_rows = [[p.name, p.points, f"{100 * p.mean_fraction:.0f} %",
                   f"{p.all_passed} / {p.graded}", p.unattempted] for p in report.parts]
    failure_rows = [[f.students, f.message, ", ".join(f.tests[:4])
                     + (f" (+{len(f.tests) - 4})" if len(f.tests) > 4 else "")]
                    for f in report.failures[:FAILURES_SHOWN]]
    test_rows = [[t.name, f"{t.passed} / {t.graded}", f"{100 * t.rate:.0f} %"]
                 for t in sorted(report.tests, key=lambda t: (t.rate, t.name))]
    sections = [
        f"<h1>Class report: {html.escape(a.title)} ({html.escape(a.name)})</h1>",
        f'<p>{len(students)} submissions, {len(graded)} graded; median score {median:g} of '
        f'{a.total_points}. Rates and messages are over the graded submissions; the others '
        f'are listed under outliers. {html.escape(memory)}.</p>',
        "<h2>Score distribution</h2>", figs["scores"],
        "<h2>Per function</h2>", figs["parts"],
        _table(["function", "points", "mean points earned", "every test passed",
                "unattempted"], parts_rows, {1, 2, 3, 4}),
        "<h2>Most frequent failures</h2>",
        '<p class="note">First line of each failed test\'s message, numbers replaced by #; '
        "counted once per student.</p>",
        _table(["students", "message", "tests"], failure_rows, {0}),
        "<h2>Per test</h2>", figs["tests"],
        "<details><summary>Every test's pass rate</summary>",
        _table(["test", "passed", "rate"], test_rows, {1, 2}), "</details>",
        "<h2>Time and outliers</h2>", figs["time"],
        _table(["student", "score", "status", "seconds", "why"],
               [[s.student, f"{s.score:g}", s.status, f"{s.seconds:.1f}", s.outlier]
                for s in outliers], {1, 3}) if outliers else "<p>No outliers.</p>",
    ]
    sections += _similarity(report)
    body = "\n".join(sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>Class report: {html.escape(a.name)}</title><style>{_STYLE}</style>"
            f"</head><body>\n{body}\n</body></html>\n")


def _similarity(report: ClassReport) -> list[str]:
    out = ["<h2>Similar submissions</h2>",
           '<p class="note">Answer cells only, the released starter code removed; fingerprints '
           "by winnowing (copydetect). Similar code is for you to judge: short functions from "
           "the same formula look alike. This never changes a grade.</p>"]
    if not report.similar:
        return [*out, "<p>No pair above the threshold.</p>"]
    for pair in report.similar:
        out.append(f"<h3>{html.escape(pair.first)} and {html.escape(pair.second)}: "
                   f"{100 * pair.similarity_first:.0f} % / {100 * pair.similarity_second:.0f} % "
                   f"shared</h3>")
        out.append(f'<div class="pair"><pre>{pair.first_html}</pre>'
                   f"<pre>{pair.second_html}</pre></div>")
    return out


def write_page(report: ClassReport, path: Path) -> Path:
    return atomic_write_text(path, render(report))
