"""``python -m autograder report ASSIGNMENT DIR``: what the class got wrong, after a batch.

``DIR`` is the batch's results folder or its ``--out`` folder (the one holding
``grades.csv`` and ``results/``).  Writes ``class_report.html`` (figures embedded,
no network) and the CSV files of :func:`autograder.report.class_report.write_csvs`
into ``--out`` (default: ``report/`` beside the results folder).  The similarity
section reads each student's notebook where the results say it was
(``extra_data.submission_path``) and compares the answer cells
(:mod:`autograder.report.similarity`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.spec import ASSIGNMENTS, get_assignment, release_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", choices=sorted(ASSIGNMENTS), help="assignment name")
    parser.add_argument("directory", type=Path,
                        help="the batch's results folder, or its --out folder")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the report (default: report/ beside the results)")
    parser.add_argument("--no-similarity", action="store_true",
                        help="leave out the similar-submissions section")
    parser.add_argument("--similarity-threshold", type=float, default=0.5, metavar="F",
                        help="list pairs sharing at least this fraction of one side's code "
                             "(default: 0.5)")
    parser.add_argument("--pairs", type=int, default=20, metavar="N",
                        help="at most this many similar pairs (default: 20)")


def run(args: argparse.Namespace) -> int:
    from autograder.report import class_page, class_report
    from autograder.report.similarity import answer_text, similar_pairs

    assignment = get_assignment(args.assignment)
    results_dir = class_report.find_results(args.directory)
    results = {s: r for s, r in class_report.load_class(results_dir).items()
               if r.get("extra_data", {}).get("assignment", assignment.name) == assignment.name}
    if not results:
        print(f"error: no results.json of {assignment.name} under {args.directory}",
              file=sys.stderr)
        return 2
    if not 0.0 <= args.similarity_threshold <= 1.0:
        print("error: --similarity-threshold must be between 0 and 1", file=sys.stderr)
        return 2
    starter = class_report.answers_of(release_path(assignment.name), assignment) or {}
    answers = {}
    for student, res in results.items():
        path = res.get("extra_data", {}).get("submission_path")
        answers[student] = class_report.answers_of(Path(path) if path else None, assignment)
    report = class_report.build_report(assignment, results, answers, starter)
    if not args.no_similarity:
        texts = {s: answer_text(a, assignment) for s, a in answers.items() if a}
        try:
            report.similar = similar_pairs(texts, answer_text(starter, assignment),
                                           threshold=args.similarity_threshold, top=args.pairs)
        except ModuleNotFoundError as error:
            print(f"error: the similarity section needs {error.name} "
                  "(pip install 'nntrain[report]'), or pass --no-similarity", file=sys.stderr)
            return 2
    out = args.out or results_dir.parent / "report"
    page = class_page.write_page(report, out / "class_report.html")
    written = [page, *class_report.write_csvs(report, out)]
    unread = sorted(s for s, a in answers.items() if a is None)
    print(f"{len(results)} results read from {results_dir}; {len(report.graded)} graded")
    if unread:
        print(f"  notebooks not readable (no similarity, no unattempted parts): "
              f"{len(unread)}")
    for path in written:
        print(f"  {path}")
    return 0
