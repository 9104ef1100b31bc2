"""Command-line interface of the grader.

Each sub-command lives in its own module, which exposes ``add_arguments(parser)``
and ``run(args) -> int``; this file only wires them together.  Command modules
keep heavy imports (torch, nbgrader) inside ``run`` so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib

# command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "grade": ("autograder.grade", "grade one submission with the hidden suite"),
    "grade-batch": ("autograder.batch", "grade a whole class in parallel"),
    "gradescope": ("autograder.gradescope", "build the Gradescope autograder zip"),
    "check": ("autograder.check", "every solution scores 100, every released stub 0"),
    "validate": ("autograder.validate", "run a notebook's visible tests (for students)"),
    "release": ("autograder.release", "regenerate assignments/ from solutions/ with nbgrader"),
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
