"""The resource limits of one submission's sandbox, declared once for both sides.

The grader builds a :class:`Limits` from its configuration (:mod:`autograder.config`
adds a command-line flag for every field whose metadata carries one); the child
receives the same fields over the wire and rebuilds the same class with
:meth:`Limits.from_wire`, which refuses unknown, missing or ill-typed fields, so the
limits never cross the process boundary as a loose dict.

Standard library only: the child loads this module by file path (see this
folder's ``__init__``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

# A call's wall-clock cap in units of its CPU limit: generous enough for a correct call on a
# loaded machine (a process sharing 2 cores with 16 others still gets 1/8 of one), small enough
# that a submission that waits instead of computing holds its worker only briefly.
WALL_FACTOR = 3.0


def _knob(default: Any, help: str, *, flag: str | None = None, metavar: str | None = None,
          verdict: bool = True, minimum: float = 0.0) -> Any:
    """A field with its help text, its command-line flag (if any) and whether it is part of
    the resume key (``verdict``: a change can change a grade)."""
    return field(default=default, metadata={"help": help, "flag": flag, "metavar": metavar,
                                            "verdict": verdict, "minimum": minimum})


@dataclass(frozen=True)
class Limits:
    """What one submission may use.  Every field is validated in ``__post_init__``."""

    call_timeout: float = _knob(
        5.0, "CPU-time limit of one call of student code (and of one cell while loading), "
        "counted over every process of the sandbox; a call may also take at most "
        f"{WALL_FACTOR:g} times as long in wall-clock time",
        flag="--timeout", metavar="SECONDS", minimum=0.01)
    total_timeout: float = _knob(
        300.0, "wall-clock budget of all calls of one submission",
        flag="--total-timeout", metavar="SECONDS", minimum=0.01)
    memory_mb: int = _knob(
        4096, "memory limit of the sandboxed process (RLIMIT_DATA: heap and anonymous mappings)",
        flag="--memory", metavar="MB", minimum=64)
    address_space_mb: int = _knob(
        0, "RLIMIT_AS when > 0 (it breaks CUDA's reservations, so it is off by default)")
    nproc: int = _knob(64, "threads and processes of the child's own uid (RLIMIT_NPROC)",
                       minimum=1)
    fsize_mb: int = _knob(16, "largest file the child may write (RLIMIT_FSIZE)")
    tmp_mb: int = _knob(64, "size of the child's private /tmp", minimum=1)
    nofile: int = _knob(256, "open files (RLIMIT_NOFILE)", minimum=16)
    output_kb: int = _knob(64, "what the submission may print; the rest is dropped")
    max_result_mb: int = _knob(512, "largest frame accepted from the child", minimum=1)
    threads: int = _knob(1, "torch intra-op threads in the child", minimum=1)
    start_timeout: float = _knob(
        120.0, "seconds allowed for the sandbox to start (the zygote imports torch)",
        flag="--start-timeout", metavar="SECONDS", verdict=False, minimum=1)

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            kind = float if spec.type in ("float", float) else int
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"limit {spec.name} must be a number, got {value!r}")
            if kind is int and not float(value).is_integer():
                raise ValueError(f"limit {spec.name} must be a whole number, got {value!r}")
            if not math.isfinite(value) or value < spec.metadata["minimum"]:
                raise ValueError(f"limit {spec.name} must be a finite number >= "
                                 f"{spec.metadata['minimum']:g}, got {value!r}")
            object.__setattr__(self, spec.name, kind(value))

    @property
    def call_wall_s(self) -> float:
        """Wall-clock cap of one call: a call that sleeps or blocks uses no CPU."""
        return self.call_timeout * WALL_FACTOR

    @property
    def cpu_s(self) -> int:
        """RLIMIT_CPU of the child: the whole budget on every thread, plus start-up."""
        return int(self.total_timeout * max(1, self.threads) + 30)

    def to_wire(self) -> dict[str, float | int]:
        return dataclasses.asdict(self)

    @classmethod
    def from_wire(cls, data: Any) -> Limits:
        """Rebuild the limits the grader sent; exactly the declared fields, each validated."""
        names = {spec.name for spec in dataclasses.fields(cls)}
        if not isinstance(data, dict) or set(data) != names:
            raise ValueError(f"the sandbox limits must carry exactly the fields {sorted(names)}")
        return cls(**data)
