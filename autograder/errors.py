"""Exceptions the grader raises in its own (parent) process.

Student code never runs in the grader's process: it runs in a sandboxed child
(:mod:`autograder.sandbox`), and whatever goes wrong there comes back as one of
these exceptions.  A hidden-suite test that receives one fails, and the grader
reports the exception's message, which is written for the student.
:class:`TransportError` (a value outside the safe format) is defined once, beside
the format itself, and re-exported here.
"""

from __future__ import annotations

from autograder.sandbox.inside.transport import TransportError


class GraderError(Exception):
    """Base class of every exception about a submission (never about the grader itself)."""

    @property
    def message(self) -> str:
        return str(self)


class SubmissionError(GraderError):
    """The submission file cannot be read as a notebook of the expected shape."""


class MissingPart(GraderError):
    """The submission does not define a graded name (or the cell defining it failed to load)."""

    def __init__(self, name: str, reason: str | None = None) -> None:
        self.name = name
        self.reason = reason
        text = f"`{name}` is not defined in the submission"
        if reason:
            text += f" ({reason})"
        super().__init__(text)


class StudentError(GraderError):
    """Student code raised an exception; ``type_name`` is its class name (e.g. "ValueError")."""

    def __init__(self, type_name: str, message: str, where: str | None = None,
                 traceback: str = "") -> None:
        self.type_name = type_name
        self._message = message
        self.where = where
        self.traceback = traceback
        prefix = f"{where} raised " if where else ""
        super().__init__(f"{prefix}{type_name}: {message}" if message else f"{prefix}{type_name}")

    @property
    def message(self) -> str:  # the student's exception message alone (autograder/DESIGN.md)
        return self._message


class StudentTimeout(GraderError):
    """A call ran past its wall-clock limit (or the submission's budget); the child was killed."""


class SandboxCrashed(GraderError):
    """The sandboxed child died (segfault, ``os._exit``, memory or CPU limit); it is restarted."""


class ForbiddenCall(GraderError):
    """Student code uses a built-in the assignment forbids (``name``: its dotted name)."""

    def __init__(self, name: str, where: str | None = None, how: str = "calls") -> None:
        self.name = name
        self.where = where
        subject = where or "the submission"
        super().__init__(
            f"{subject} {how} `{name}`, which this assignment forbids; "
            "implement it with elementary tensor operations"
        )


class IsolationRefused(RuntimeError):
    """The grader refuses to run student code: a sandbox layer is missing and the grader's files
    would be readable (a problem of the machine, never of the submission; not a GraderError)."""


__all__ = [
    "ForbiddenCall",
    "GraderError",
    "IsolationRefused",
    "MissingPart",
    "SandboxCrashed",
    "StudentError",
    "StudentTimeout",
    "SubmissionError",
    "TransportError",
]
