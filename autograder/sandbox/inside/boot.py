"""Entry script of the sandbox: ``python -I -S -B boot.py FD`` (FD: the socket to the grader).

Loads this folder as the private package ``_grader_sandbox`` by file path (the
``autograder`` package is not importable here: ``-I -S`` left the standard library
only), imports each of its modules while they are still readable, then runs the
zygote (:func:`.zygote.main`).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

PACKAGE = "_grader_sandbox"


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        PACKAGE, os.path.join(here, "__init__.py"), submodule_search_locations=[here])
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load the sandbox package from {here}")
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    spec.loader.exec_module(package)
    for name in package.MODULES:
        importlib.import_module(f"{PACKAGE}.{name}")
    sys.modules[f"{PACKAGE}.zygote"].main()


if __name__ == "__main__":
    main()
