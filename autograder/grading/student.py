"""The ``student`` fixture: what a hidden suite sees of a submission.

Each graded name is callable, and runs in the sandboxed child; see
autograder/DESIGN.md for the contract (``student.relu(x)``, ``student.call``,
``student.has``).
"""

from __future__ import annotations

from typing import Any

from autograder.errors import ForbiddenCall, MissingPart
from autograder.intake.loader import Submission
from autograder.intake.static_check import StaticReport
from autograder.sandbox.handles import CallInfo
from autograder.sandbox.session import Sandbox
from autograder.spec import Assignment


class Student:
    """What a suite sees of a submission: its graded names, callable in the sandbox.

    ``student.relu(x)`` calls the submission's ``relu`` in the child and returns
    the result; ``student.call(name, *args, **kwargs)`` also reports what the call
    did to its arguments (:class:`~autograder.sandbox.handles.CallInfo`);
    ``student.has(name)`` says whether the name is defined.
    """

    def __init__(self, sandbox: Sandbox | None, submission: Submission, static: StaticReport,
                 assignment: Assignment) -> None:
        self._sandbox = sandbox
        self._submission = submission
        self._static = static
        self._assignment = assignment

    def _check(self, name: str) -> Sandbox:
        if not isinstance(name, str) or not name.isidentifier():
            raise TypeError(f"not a name: {name!r}")
        reason = self._submission.missing_reason(name)
        if reason is not None or self._sandbox is None:
            raise MissingPart(name, reason or "the submission could not be loaded")
        tampering = self._static.tampering
        if tampering:  # outside any function, but it reaches past the guard for every part
            raise ForbiddenCall(tampering[0].name, where=f"the `{tampering[0].cell}` cell",
                                how="uses")
        use = self._static.first_use(name)
        if use is not None:
            finding, via = use
            through = f" (through {', '.join(f'`{v}`' for v in via)})" if via else ""
            raise ForbiddenCall(finding.name, where=f"`{name}`{through}", how="uses")
        return self._sandbox

    def call(self, name: str, /, *args: Any, **kwargs: Any) -> CallInfo:
        sandbox = self._check(name)
        try:
            return sandbox.call(name, args, kwargs, info=True)
        except MissingPart:
            raise MissingPart(name, self._why_missing(name)) from None

    def has(self, name: str) -> bool:
        try:
            sandbox = self._check(name)
        except MissingPart:
            return False
        except ForbiddenCall:
            return True
        return sandbox.has(name)

    def _why_missing(self, name: str) -> str | None:
        sandbox = self._sandbox
        if sandbox is None:
            return None
        result = sandbox.cell_results.get(name)
        if result is None:
            return None
        if result.crashed:
            return f"its cell was dropped: {result.crashed}"
        if result.errors:
            first = result.errors[0]
            return f"its cell raised {first['type']} at line {first['line']}: {first['message']}"
        return None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        def call_student(*args: Any, **kwargs: Any) -> Any:
            sandbox = self._check(name)
            try:
                return sandbox.call(name, args, kwargs).value
            except MissingPart:
                raise MissingPart(name, self._why_missing(name)) from None

        call_student.__name__ = name
        call_student.__qualname__ = f"student.{name}"
        return call_student

    def __repr__(self) -> str:
        return f"<submission {self._submission.path.name} for {self._assignment.name}>"
