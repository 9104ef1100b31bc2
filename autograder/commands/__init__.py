"""The command line: ``python -m autograder COMMAND``, one thin module per command.

Each command module exposes ``add_arguments(parser)`` and ``run(args) -> int`` and
keeps heavy imports (torch, nbgrader, pytest) inside ``run`` so that ``--help``
stays fast.  The grading configuration's flags come from :mod:`autograder.config`,
the same for every command.
"""

from __future__ import annotations

import argparse
import importlib

# command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "grade": ("autograder.commands.grade", "grade one submission with the hidden suite"),
    "grade-batch": ("autograder.commands.grade_batch", "grade a whole class in parallel"),
    "report": ("autograder.commands.report", "the class report of a batch (HTML and CSV)"),
    "gradescope": ("autograder.commands.gradescope", "build the Gradescope autograder zip"),
    "check": ("autograder.commands.check", "every solution scores 100, every released stub 0"),
    "validate": ("autograder.commands.validate", "run a notebook's visible tests (for students)"),
    "release": ("autograder.commands.release",
                "regenerate assignments/ from solutions/ with nbgrader"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Grade the course's notebooks with hidden test suites, student code sandboxed.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        command_parser.set_defaults(_module=module_name)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            command_parser.set_defaults(_missing=True)
            continue
        module.add_arguments(command_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_missing", False):
        parser.error(f"the '{args.command}' command is not available in this installation")
    module = importlib.import_module(args._module)
    return int(module.run(args) or 0)
