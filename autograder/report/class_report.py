"""What a whole class got wrong: the numbers of the class report, and its CSV files.

Read from the ``results.json`` files a batch wrote (one folder per student).  A
submission is *graded* when its status is ``ok``; the pass rates, the failure
messages and the unattempted parts are over the graded ones, the others are
listed as outliers with their reason.  The figures and the HTML page are made
by :mod:`autograder.report.class_page`.

* pass rate of a test: the fraction of graded submissions that passed it;
* per part (graded function): the mean fraction of its points earned, and the
  fraction of submissions with every test of it passed;
* failure messages: the first line of each failed test's output with every number
  replaced by ``#`` (so "wrong for 4 of 7 values (largest error 0.487)" and
  "... 3 of 7 ... 0.7" are one failure), counted once per student;
* unattempted: a part whose answer cell is missing or still the released starter
  code (whitespace and comments aside);
* outliers: submissions that could not be graded, that timed out or crashed the
  sandbox, and those slower than Tukey's far fence (Q3 + 3 IQR of the class's times).
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.report.feedback import read_results
from autograder.report.results import atomic_write_text
from autograder.spec import Assignment

# A number not glued to a name ("float64", "x1" stay), with its sign, decimals and exponent.
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w])")
TIMEOUT_SIGNS = ("did not finish within", "time budget", "timing out")
CRASH_SIGNS = ("sandbox process exited", "was killed", "crashed", "sandbox could not start",
               "worker process died", "broke the protocol")
# Where a batch may record the peak memory of a submission's sandboxed child, in MiB.
PEAK_RSS_KEY = "peak_rss_mb"


def normalise_message(text: str) -> str:
    """The first line of a failure message with every number replaced by ``#``."""
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else "(no message)"
    return _NUMBER.sub("#", line)


@dataclass
class Student:
    student: str
    score: float
    max_score: float
    status: str
    seconds: float
    peak_rss_mb: float | None
    passed: int
    failed: int
    unattempted: list[str] = field(default_factory=list)
    outlier: str = ""  # why it stands out ("" when it does not)


@dataclass(frozen=True)
class TestRate:
    name: str
    part: str
    passed: int
    graded: int

    @property
    def rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0


@dataclass(frozen=True)
class PartRate:
    name: str
    points: int
    mean_fraction: float  # mean over graded submissions of points earned / points
    all_passed: int  # submissions with every test of the part passed
    unattempted: int
    graded: int


@dataclass(frozen=True)
class Failure:
    message: str  # normalised
    students: int
    tests: tuple[str, ...]
    example: str  # one raw message


@dataclass
class ClassReport:
    assignment: Assignment
    students: list[Student]
    tests: list[TestRate]
    parts: list[PartRate]
    failures: list[Failure]
    similar: list[Any] = field(default_factory=list)  # similarity.Pair, ranked

    @property
    def graded(self) -> list[Student]:
        return [s for s in self.students if s.status == "ok"]


def find_results(directory: Path) -> Path:
    """The results folder: ``directory`` itself or its ``results/`` (a batch's --out folder)."""
    directory = Path(directory)
    nested = directory / "results"
    if nested.is_dir() and any(nested.glob("*/results.json")):
        return nested
    return directory


def load_class(results_dir: Path) -> dict[str, dict[str, Any]]:
    """student -> results, for every readable ``<student>/results.json`` under ``results_dir``."""
    found = {}
    for path in sorted(Path(results_dir).glob("*/results.json")):
        results = read_results(path)
        if results is not None:
            found[path.parent.name] = results
    return found


def _outlier(results: dict[str, Any], status: str) -> str:
    if status != "ok":
        return f"not graded ({status})"
    texts = [results.get("output", ""), *(t.get("output", "") for t in results.get("tests", []))]
    joined = "\n".join(texts).lower()
    if any(sign in joined for sign in TIMEOUT_SIGNS):
        return "timed out"
    if any(sign in joined for sign in CRASH_SIGNS):
        return "crashed the sandbox"
    return ""


def _canonical(code: str) -> str:
    """Code without comments and blank space, to tell an untouched starter cell."""
    lines = [line.split("#", 1)[0].rstrip() for line in code.splitlines()]
    return "\n".join(line for line in lines if line.strip())


def unattempted_parts(answers: dict[str, str] | None, starter: dict[str, str]) -> list[str]:
    """Parts whose answer is missing or equal to the starter code; [] when unknown."""
    if answers is None:
        return []
    return [part for part, code in starter.items()
            if part not in answers or _canonical(answers[part]) == _canonical(code)]


def answers_of(notebook: Path | None, assignment: Assignment) -> dict[str, str] | None:
    """part -> answer-cell code of a notebook (None when it cannot be read)."""
    from autograder.intake.loader import load_submission

    if notebook is None or not Path(notebook).is_file():
        return None
    submission = load_submission(notebook, assignment)
    if submission.fatal:
        return None
    return {name: cell.code for name, cell in submission.parts.items()}


def build_report(assignment: Assignment, results: dict[str, dict[str, Any]],
                 answers: dict[str, dict[str, str] | None], starter: dict[str, str],
                 *, far_fence: float = 3.0) -> ClassReport:
    """The class report of ``results`` (student -> results.json) and their answers."""
    students = []
    for name, res in sorted(results.items()):
        extra = res.get("extra_data", {})
        status = str(extra.get("status", "ok"))
        tests = res.get("tests", [])
        rss = extra.get(PEAK_RSS_KEY)
        students.append(Student(
            name, float(res.get("score", 0)), float(extra.get("max_score", 0) or 0), status,
            float(res.get("execution_time", 0)), float(rss) if rss is not None else None,
            sum(t.get("status") == "passed" for t in tests),
            sum(t.get("status") != "passed" for t in tests),
            unattempted_parts(answers.get(name), starter) if status == "ok" else [],
            _outlier(res, status)))
    graded = {s.student for s in students if s.status == "ok"}
    times = sorted(s.seconds for s in students if s.student in graded)
    if len(times) >= 4:
        q1, _, q3 = statistics.quantiles(times, n=4)
        fence = q3 + far_fence * (q3 - q1)
        for s in students:
            if s.student in graded and not s.outlier and s.seconds > fence:
                s.outlier = f"slow ({s.seconds:.1f} s > {fence:.1f} s)"

    passed: Counter[str] = Counter()
    seen: dict[str, str] = {}
    earned: dict[str, list[float]] = defaultdict(list)
    complete: Counter[str] = Counter()
    failures: dict[str, set[str]] = defaultdict(set)
    failure_tests: dict[str, set[str]] = defaultdict(set)
    examples: dict[str, str] = {}
    for name in sorted(graded):
        per_part: dict[str, list[tuple[float, float, bool]]] = defaultdict(list)
        for test in results[name].get("tests", []):
            test_name = str(test.get("name"))
            part = (test.get("tags") or [""])[0]
            seen.setdefault(test_name, part)
            ok = test.get("status") == "passed"
            passed[test_name] += ok
            per_part[part].append((float(test.get("score", 0)),
                                   float(test.get("max_score", 0)), ok))
            if not ok:
                message = normalise_message(test.get("output", ""))
                failures[message].add(name)
                failure_tests[message].add(test_name)
                examples.setdefault(message, (test.get("output") or "").strip()
                                    .splitlines()[0] if test.get("output") else "")
        for part, rows in per_part.items():
            total = sum(r[1] for r in rows)
            earned[part].append(sum(r[0] for r in rows) / total if total else 0.0)
            complete[part] += all(r[2] for r in rows)
    tests = [TestRate(t, part, passed[t], len(graded)) for t, part in seen.items()]
    by_name = {s.student: s for s in students}
    parts = [PartRate(p.name, p.points,
                      statistics.fmean(earned[p.name]) if earned[p.name] else 0.0,
                      complete[p.name],
                      sum(p.name in by_name[n].unattempted for n in graded), len(graded))
             for p in assignment.parts]
    failure_list = [Failure(m, len(who), tuple(sorted(failure_tests[m])), examples[m])
                    for m, who in failures.items()]
    failure_list.sort(key=lambda f: (-f.students, f.message))
    return ClassReport(assignment, students, tests, parts, failure_list)


def _csv(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def write_csvs(report: ClassReport, folder: Path) -> list[Path]:
    """students.csv, tests.csv, parts.csv, failures.csv (and similarity.csv) in ``folder``."""
    folder = Path(folder)
    tables = {
        "students.csv": [["student", "score", "max_score", "status", "seconds", "peak_rss_mb",
                          "tests_passed", "tests_failed", "unattempted", "outlier"]] + [
            [s.student, f"{s.score:g}", f"{s.max_score:g}", s.status, f"{s.seconds:.3f}",
             "" if s.peak_rss_mb is None else f"{s.peak_rss_mb:.1f}", s.passed, s.failed,
             " ".join(s.unattempted), s.outlier] for s in report.students],
        "tests.csv": [["test", "part", "passed", "graded", "pass_rate"]] + [
            [t.name, t.part, t.passed, t.graded, f"{t.rate:.4f}"] for t in report.tests],
        "parts.csv": [["part", "points", "mean_fraction_of_points", "all_tests_passed",
                       "unattempted", "graded"]] + [
            [p.name, p.points, f"{p.mean_fraction:.4f}", p.all_passed, p.unattempted, p.graded]
            for p in report.parts],
        "failures.csv": [["message", "students", "tests", "example"]] + [
            [f.message, f.students, " ".join(f.tests), f.example] for f in report.failures],
    }
    if report.similar:
        tables["similarity.csv"] = [["first", "second", "similarity", "shared_of_first",
                                     "shared_of_second", "shared_tokens"]] + [
            [p.first, p.second, f"{p.similarity:.4f}", f"{p.similarity_first:.4f}",
             f"{p.similarity_second:.4f}", p.shared_tokens] for p in report.similar]
    return [atomic_write_text(folder / name, _csv(rows)) for name, rows in tables.items()]
