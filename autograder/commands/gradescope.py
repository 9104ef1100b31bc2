"""``python -m autograder gradescope ASSIGNMENT``: build the Gradescope autograder zip.

The zip's ``gradescope.json`` carries this command's grading configuration (the
same flags as every command), so Gradescope grades exactly as ``grade`` would here.
See :mod:`autograder.gradescope.build` for what the zip holds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from autograder import config as grading_config
from autograder.spec import ASSIGNMENTS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", choices=sorted(ASSIGNMENTS))
    parser.add_argument("--out", type=Path, default=Path("gradescope"),
                        help="folder for the zip (default: ./gradescope)")
    parser.add_argument("--torch-version", default=None,
                        help="torch version setup.sh installs (default: the one installed here)")
    grading_config.add_arguments(parser)
    from autograder.gradescope.build import TEST_VISIBILITY

    parser.set_defaults(test_visibility=TEST_VISIBILITY)


def run(args: argparse.Namespace) -> int:
    from autograder.gradescope.build import build_zip

    try:
        config = grading_config.from_args(args)
    except grading_config.ConfigError as error:
        print(f"error: {error}")
        return 2
    if config.device == "cuda":
        # Decided here, not by this machine's GPU: the zip runs on Gradescope's machines.
        print("error: --device cuda: Gradescope's autograder machines have no GPU, so every "
              "submission would be refused; build the zip with --device cpu or auto")
        return 2
    path = build_zip(args.assignment, args.out, config, torch_version=args.torch_version)
    print(f"wrote {path}: upload it as the assignment's autograder on Gradescope")
    return 0
