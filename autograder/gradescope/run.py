"""What ``run_autograder`` runs inside Gradescope's container, for one submission.

It finds the notebook in ``<root>/submission`` (unpacking a ``.zip``:
:mod:`autograder.gradescope.upload`), grades it with the hidden suite (student
code in the sandboxed child, as everywhere), applies the visibility chosen when
the zip was built, and writes ``<root>/results/results.json``.  ``<root>`` is
``/autograder`` on Gradescope and a temporary folder in tests.

Visibility follows Gradescope's rules (autograder specification, "Controlling
test case visibility"): the top-level ``visibility`` is the default of every
test and a test's own setting overrides it; while any test is hidden from the
student, so is the total score.  Hence:

* an upload that cannot be graded (no notebook, a notebook of another
  assignment, an unreadable file, an unsafe .zip) is always ``visible``, with
  the reason, whatever the configuration: the student can fix it and resubmit;
* a graded upload gets a visible 0-point "Submission" entry saying which file
  was graded, which were ignored and what the loader noticed; the hidden tests
  get the configured ``test_visibility``, and the top-level text states the
  score only when the student may already see it.

Messages are Markdown (``output_format: "md"``); the hidden tests' messages are
plain sentences (``test_output_format: "text"``).  Only a failure of the grader
itself exits non-zero, which Gradescope reports to the instructor.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from autograder.config import GradingConfig, device_problem
from autograder.gradescope.build import CONFIG_NAME, read_config
from autograder.gradescope.upload import Upload, find_upload
from autograder.intake.submissions import pick_notebook
from autograder.report.feedback import result_notes
from autograder.report.results import error_results, write_results
from autograder.spec import ASSIGNMENTS, get_assignment

# How much each visibility withholds from the student (Gradescope's four settings).
_RESTRICTION = {"visible": 0, "after_due_date": 1, "after_published": 2, "hidden": 3}
_WHEN = {"after_due_date": "after the due date", "after_published":
         "when your instructor publishes the grades", "hidden": "by your instructor"}


def find_notebook(submission_dir: Path, assignment: str) -> tuple[Path | None, str | None]:
    """The notebook of an upload without archives, or None and the reason (kept for callers)."""
    files = sorted(p for p in submission_dir.rglob("*")
                   if p.is_file() and not any(part.startswith(".") for part in
                                              p.relative_to(submission_dir).parts))
    return pick_notebook(files, assignment)


def load_problem(notebook: Path, assignment: str) -> str | None:
    """Why ``notebook`` cannot be graded for ``assignment`` at all (None: it can)."""
    from autograder.intake.loader import load_submission

    spec = get_assignment(assignment)
    loaded = load_submission(notebook, spec)
    if loaded.fatal:
        return loaded.fatal
    if loaded.parts:
        return None
    mine = {part.name for part in spec.parts}
    other = [name for name, other_spec in ASSIGNMENTS.items()
             if name != assignment and load_submission(notebook, other_spec).parts]
    hint = f" It looks like the notebook of `{other[0]}`." if other else ""
    return (f"`{notebook.name}` defines none of this assignment's functions "
            f"({', '.join(f'`{n}`' for n in sorted(mine))}).{hint} Upload the notebook of "
            f"`{assignment}`.")


def failure_results(assignment: str, reason: str, upload: Upload | None = None) -> dict[str, Any]:
    """An upload that cannot be graded: score 0, the reason, always visible to the student."""
    results = error_results(assignment, reason)
    lines = ["**Your submission could not be graded.**", "", reason]
    if upload is not None and upload.ignored:
        lines += ["", "Files in your upload: " + ", ".join(f"`{n}`" for n in upload.ignored)]
    lines += ["", f"Fix this and submit again: upload `{assignment}.ipynb` (the notebook itself,"
                  " or a .zip holding it)."]
    results.update(output="\n".join(lines), output_format="md", visibility="visible",
                   stdout_visibility="hidden")
    return results


def apply_visibility(results: dict[str, Any], config: GradingConfig,
                     upload: Upload | None = None) -> dict[str, Any]:
    """Set the visibilities and the Markdown texts of a graded submission's results."""
    results["visibility"] = config.visibility
    results["stdout_visibility"] = "hidden"
    results["output_format"] = "md"
    results["test_output_format"] = "text"
    for test in results.get("tests", []):
        test["visibility"] = config.test_visibility
    strictest = max(config.visibility, config.test_visibility, key=_RESTRICTION.__getitem__)
    extra = results.get("extra_data", {})
    # What build_results wrote under its score line: the loader's notes, a grader failure.
    notes = result_notes(results)
    lines: list[str] = []
    if upload is not None and upload.graded_name:
        lines.append(f"Graded: `{upload.graded_name}`.")
        if upload.ignored:
            lines.append("Ignored: " + ", ".join(f"`{name}`" for name in upload.ignored) + ".")
    if notes:
        lines += ["", *notes]
    check = {"name": "Submission", "score": 0, "max_score": 0, "status": "passed",
             "output": "\n".join(lines) or "Your notebook was received and graded.",
             "output_format": "md", "visibility": "visible"}
    score_line = f"**Score: {results.get('score', 0)} / {extra.get('max_score', 0)}**"
    if _RESTRICTION[strictest] == 0:
        head = [score_line]
    else:
        head = [f"Your notebook was graded; the hidden tests and the score are shown "
                f"{_WHEN[strictest]}."]
    results["output"] = "\n".join([*head, "", *lines]).strip()
    results["tests"] = [check, *results.get("tests", [])]
    return results


def grade_upload(root: Path, assignment: str, config: GradingConfig) -> dict[str, Any]:
    """The results of the upload in ``root/submission`` (never raises for a bad upload)."""
    with tempfile.TemporaryDirectory(prefix="upload-", dir=root) as scratch:
        upload = find_upload(root / "submission", assignment, Path(scratch))
        if upload.notebook is None:
            return failure_results(assignment, upload.problem or "nothing was uploaded", upload)
        problem = load_problem(upload.notebook, assignment)
        if problem:
            return failure_results(assignment, problem, upload)
        from autograder.grading.runner import grade_submission

        results = grade_submission(assignment, upload.notebook, config)
        if results.get("extra_data", {}).get("status") == "unreadable":
            return failure_results(assignment, results.get("output", ""), upload)
        return apply_visibility(results, config, upload)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope.run")
    parser.add_argument("--root", type=Path, default=Path("/autograder"))
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args(argv)
    config_path = args.config or args.root / "source" / CONFIG_NAME
    assignment, config = read_config(config_path.read_text())
    out = args.root / "results" / "results.json"

    unusable = device_problem(config.device)
    if unusable:
        results = error_results(assignment, unusable, grader_failed=True)
        write_results(out, {**results, "visibility": "visible", "output_format": "md"})
        print(f"error: {unusable}", file=sys.stderr)
        return 2
    results = grade_upload(args.root, assignment, config)
    write_results(out, results)
    print(f"{assignment}: {results.get('score', 0)} points -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
