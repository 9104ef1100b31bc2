"""The class report: the numbers it computes from results.json files, its CSV and its page."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.report import class_page, class_report
from autograder.report.class_report import build_report, normalise_message
from autograder.report.results import validate
from autograder.spec import get_assignment, release_path

REPO = Path(__file__).resolve().parent.parent
A1 = "a1_activations_init"
ASSIGNMENT = get_assignment(A1)


def _test(part: str, name: str, points: int, passed: bool, output: str = "") -> dict:
    return {"name": f"{part}: {name}", "score": points if passed else 0, "max_score": points,
            "status": "passed" if passed else "failed", "output": "" if passed else output,
            "visibility": "visible", "tags": [part]}


def _results(score_tests: list[dict], *, status: str = "ok", seconds: float = 2.0,
             output: str = "") -> dict:
    return {"score": sum(t["score"] for t in score_tests), "execution_time": seconds,
            "output": output or "Score", "visibility": "visible", "tests": score_tests,
            "extra_data": {"assignment": A1, "max_score": 100, "status": status}}


def _class() -> dict[str, dict]:
    wrong_a = "[cpu] elu(alpha=0.5) is wrong for 4 of 7 values (largest error 0.487)"
    wrong_b = "[cpu] elu(alpha=2) is wrong for 3 of 7 values (largest error 1.5e-3)"
    return {
        "ann": _results([_test("elu", "t_alpha", 3, True), _test("relu", "t_zero", 2, True)]),
        "ben": _results([_test("elu", "t_alpha", 3, False, wrong_a),
                         _test("relu", "t_zero", 2, True)]),
        "cat": _results([_test("elu", "t_alpha", 3, False, wrong_b),
                         _test("relu", "t_zero", 2, False, "relu_backward at x == 0")]),
        "dan": _results([_test("elu", "t_alpha", 3, False, "`elu` did not finish within the "
                               "limit of 10 s per call"), _test("relu", "t_zero", 2, True)]),
        "eve": _results([], status="unreadable", seconds=0.1),
    }


def test_numbers_in_messages_are_normalised_so_one_failure_groups() -> None:
    assert normalise_message("wrong for 4 of 7 values (largest error 0.487, e.g. at x = -3.6)") \
        == "wrong for # of # values (largest error #, e.g. at x = #)"
    assert normalise_message("float64 input, 1e-4 off\nsecond line") == "float64 input, # off"
    assert normalise_message("") == "(no message)"


def test_rates_failures_and_outliers_of_a_small_class() -> None:
    starter = {"elu": "def elu(x):\n    raise NotImplementedError()", "relu": "def relu(x): ..."}
    answers = {"ann": {"elu": "def elu(x):\n    return x", "relu": "def relu(x): return x"},
               "ben": {"elu": "def elu(x):\n    # TODO\n    raise NotImplementedError()  ",
                       "relu": "def relu(x): return x"},
               "cat": None, "dan": {"elu": "def elu(x): return 1"}, "eve": None}
    report = build_report(ASSIGNMENT, _class(), answers, starter)
    assert [s.student for s in report.graded] == ["ann", "ben", "cat", "dan"]
    rates = {t.name: (t.passed, t.graded) for t in report.tests}
    assert rates == {"elu: t_alpha": (1, 4), "relu: t_zero": (3, 4)}
    top = report.failures[0]
    assert top.students == 2 and top.tests == ("elu: t_alpha",), report.failures
    assert "#" in top.message and "0.487" in top.example
    parts = {p.name: p for p in report.parts}
    assert parts["elu"].mean_fraction == pytest.approx(0.25)
    assert parts["relu"].all_passed == 3
    by_name = {s.student: s for s in report.students}
    # ben left elu as released (a comment and spaces aside); dan has no relu cell
    assert by_name["ben"].unattempted == ["elu"] and by_name["dan"].unattempted == ["relu"]
    assert by_name["cat"].unattempted == []  # notebook unknown: not counted
    assert parts["elu"].unattempted == 1 and parts["relu"].unattempted == 1
    assert by_name["dan"].outlier == "timed out"
    assert by_name["eve"].outlier == "not graded (unreadable)"
    assert by_name["ann"].outlier == ""


def test_a_far_slower_submission_is_an_outlier() -> None:
    results = {f"s{i}": _results([_test("relu", "t", 1, True)], seconds=2.0 + 0.1 * i)
               for i in range(8)}
    results["slow"] = _results([_test("relu", "t", 1, True)], seconds=60.0)
    report = build_report(ASSIGNMENT, results, {}, {})
    flagged = {s.student for s in report.students if s.outlier}
    assert flagged == {"slow"}


def test_csv_and_page_are_written_and_self_contained(tmp_path: Path) -> None:
    report = build_report(ASSIGNMENT, _class(), {}, {})
    written = class_report.write_csvs(report, tmp_path)
    assert sorted(p.name for p in written) == ["failures.csv", "parts.csv", "students.csv",
                                               "tests.csv"]
    with open(tmp_path / "students.csv", newline="") as handle:
        rows = {r["student"]: r for r in csv.DictReader(handle)}
    assert rows["dan"]["outlier"] == "timed out" and rows["ann"]["score"] == "5"
    page = class_page.render(report)
    assert page.count("data:image/png;base64,") == 4
    assert "http://" not in page and "https://" not in page  # nothing fetched when opened
    assert "timed out" in page and "elu: t_alpha" in page


@pytest.mark.slow
def test_the_report_command_on_a_graded_folder(tmp_path: Path) -> None:
    """The command reads results.json files and the notebooks they name."""
    results_dir = tmp_path / "grades" / "results"
    for student, results in _class().items():
        results["extra_data"]["submission_path"] = str(release_path(A1))
        validate(results)
        (results_dir / student).mkdir(parents=True)
        (results_dir / student / "results.json").write_text(json.dumps(results))
    done = subprocess.run([sys.executable, "-m", "autograder", "report", A1,
                           str(tmp_path / "grades")], capture_output=True, text=True,
                          cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "grades" / "report"
    assert (out / "class_report.html").is_file()
    with open(out / "parts.csv", newline="") as handle:
        parts = {r["part"]: r for r in csv.DictReader(handle)}
    # every graded student submitted the released notebook: every part unattempted
    assert all(r["unattempted"] == r["graded"] == "4" for r in parts.values())
    # the starter code is not similarity: identical stubs share nothing
    assert "No pair above the threshold" in (out / "class_report.html").read_text()
