"""What ``run_autograder`` runs inside Gradescope's container, for one submission.

It finds the notebook in ``<root>/submission``, grades it with the hidden suite
(student code in the sandboxed child, as everywhere), applies the visibility
chosen when the zip was built, and writes ``<root>/results/results.json``.
``<root>`` is ``/autograder`` on Gradescope and a temporary folder in tests.
A submission that cannot be graded still gets a results.json that says why;
only a failure of the grader itself exits non-zero, which Gradescope reports
to the instructor as an autograder error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from autograder.config import GradingConfig, device_problem
from autograder.gradescope.build import CONFIG_NAME, read_config
from autograder.intake.submissions import pick_notebook
from autograder.report.results import error_results, write_results


def find_notebook(submission_dir: Path, assignment: str) -> tuple[Path | None, str | None]:
    """The file to grade (anywhere in the upload), or None and the reason shown to the student."""
    files = sorted(p for p in submission_dir.rglob("*")
                   if p.is_file() and not any(part.startswith(".") for part in
                                              p.relative_to(submission_dir).parts))
    return pick_notebook(files, assignment)


def apply_visibility(results: dict[str, Any], config: GradingConfig) -> dict[str, Any]:
    results["visibility"] = config.visibility
    results["stdout_visibility"] = "hidden"
    for test in results.get("tests", []):
        test["visibility"] = config.test_visibility
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope.run")
    parser.add_argument("--root", type=Path, default=Path("/autograder"))
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args(argv)
    config_path = args.config or args.root / "source" / CONFIG_NAME
    assignment, config = read_config(config_path.read_text())
    out = args.root / "results" / "results.json"

    notebook, problem = find_notebook(args.root / "submission", assignment)
    unusable = device_problem(config.device)
    if unusable:
        results = error_results(assignment, unusable, grader_failed=True)
        write_results(out, apply_visibility(results, config))
        print(f"error: {unusable}", file=sys.stderr)
        return 2
    if notebook is None:
        results = error_results(assignment, problem or "no submission")
    else:
        from autograder.grading.runner import grade_submission

        results = grade_submission(assignment, notebook, config)
    write_results(out, apply_visibility(results, config))
    print(f"{assignment}: {results.get('score', 0)} points -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
