"""One submission's sandbox: run its cells in a child, forward calls, enforce the time limits.

A :class:`Sandbox` runs one submission's cells in a child forked by the
:class:`~autograder.sandbox.zygote.Zygote`, forwards calls to it, enforces the
per-call limits (CPU time, and a wall-clock cap) and the per-submission wall-clock
budget, kills the child when a limit is hit
and starts a fresh one (replaying the cells) for the next call.  Objects that
cannot travel stay in the child and come back as
:class:`~autograder.sandbox.handles.Handle` objects.  See autograder/DESIGN.md for
the security model.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.errors import (
    ForbiddenCall,
    IsolationRefused,
    MissingPart,
    SandboxCrashed,
    StudentError,
    StudentTimeout,
)
from autograder.sandbox.handles import CallInfo, Handle, changed, tensors_in
from autograder.sandbox.inside import transport
from autograder.sandbox.inside.limits import Limits
from autograder.sandbox.inside.transport import TransportError
from autograder.sandbox.process import ChildProcess, Dead, Timeout
from autograder.sandbox.zygote import Zygote
from autograder.spec import REFUSED_MODULES, TAMPERING_ATTRIBUTES


@dataclass
class CellResult:
    name: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)
    crashed: str | None = None  # why the cell was dropped (it killed or hung the sandbox)


def _cell_report(reply: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The errors and forbidden names of an ``exec`` reply, rebuilt field by field (the child
    may have forged the frame: nothing it sends reaches the grader unchecked)."""
    errors, forbidden = reply.get("errors"), reply.get("forbidden")
    clean = []
    for error in errors[:20] if isinstance(errors, list) else []:
        if isinstance(error, dict):
            line = error.get("line")
            clean.append({"line": line if type(line) is int else 0,
                          "type": str(error.get("type", "Exception"))[:100],
                          "message": str(error.get("message", ""))[:500]})
    names = [str(n)[:200] for n in forbidden[:20]] if isinstance(forbidden, list) else []
    return clean, names


class Sandbox:
    """Runs one submission's cells in a sandboxed child and forwards calls to it."""

    MAX_RESTARTS = 50
    MAX_TIMEOUTS = 1  # per function (or cell): after one timeout its calls fail at once

    def __init__(self, cells: Sequence[tuple[str, str]], *, forbidden: Sequence[str] = (),
                 tensor_methods: Sequence[str] = (), limits: Limits | None = None,
                 isolation: str = "auto", audit: bool = True,
                 hide: Iterable[str | os.PathLike[str]] = (),
                 weak_isolation: str = "refuse") -> None:
        self.cells = list(cells)
        self.limits = limits or Limits()
        self.isolation = isolation
        self.audit = audit
        self.weak_isolation = weak_isolation
        self.refused: str | None = None  # why grading was refused (a missing layer)
        self.request_template = {
            "limits": self.limits.to_wire(),
            "assignment": {"forbidden": list(forbidden), "tensor_methods": list(tensor_methods),
                           "tampering": list(TAMPERING_ATTRIBUTES),
                           "refused_modules": list(REFUSED_MODULES)},
            "hide": [str(Path(p).resolve()) for p in hide],
        }
        self.child: ChildProcess | None = None
        self.generation = 0
        self.restarts = 0
        self.timeouts: dict[str, int] = {}
        self.next_id = 0
        self.used = 0.0  # seconds of the submission's budget spent
        self.cell_results: dict[str, CellResult] = {}
        self.dropped: set[str] = set()
        self.layers: list[str] = []
        self.warnings: list[str] = []
        self.zygote_report: dict[str, Any] = {}
        self.peak_rss_mb: float | None = None  # of the last child, measured at close
        self.slowest_call: tuple[float, str] = (0.0, "")  # wall seconds, and which call
        self.lock = threading.RLock()
        self._start_error: BaseException | None = None
        self._thread: threading.Thread | None = None

    # -- starting -----------------------------------------------------------------------------
    def start_async(self) -> None:
        """Start the child and run the cells in the background (overlaps with suite collection)."""
        def target() -> None:
            try:
                self.start()
            except BaseException as error:  # re-raised by wait_started
                self._start_error = error

        self._thread = threading.Thread(target=target, daemon=True)
        self._thread.start()

    def wait_started(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
            if self._start_error is not None:
                error, self._start_error = self._start_error, None
                raise error
        if self.child is None or self.child.dead:
            self.start()

    def start(self) -> None:
        with self.lock:
            while True:
                self._spawn()
                if self._load_cells():
                    return

    def _spawn(self) -> None:
        if self.refused:
            raise IsolationRefused(self.refused)
        if self.restarts > self.MAX_RESTARTS:
            raise SandboxCrashed("the sandbox crashed too often; the remaining calls were not run")
        for attempt in (1, 2):
            zygote = Zygote.get(self.isolation, self.audit, self.limits.start_timeout)
            self.zygote_report = zygote.report
            try:
                self.child = ChildProcess(zygote, self.request_template, self.limits)
                break
            except OSError as error:
                if attempt == 2 or zygote.alive():
                    raise SandboxCrashed(f"the sandbox could not start ({error})") from None
        self.generation += 1
        self.layers = list(self.child.layers)
        self.warnings = [*zygote.report.get("warnings", []), *self.child.warnings]
        if self.child.readable:
            exposed = ", ".join(self.child.readable[:4])
            self.warnings.append(f"student code could read the grader's files: {exposed}")
            if self.weak_isolation != "accept":
                self.child.kill()
                self.refused = (
                    "grading refused: a sandbox layer is missing on this machine, so student "
                    f"code could read {exposed} (missing: "
                    f"{'; '.join(self.warnings[:-1]) or 'see isolation_warnings'}); "
                    "--weak-isolation accept grades anyway")
                raise IsolationRefused(self.refused)

    def _load_cells(self) -> bool:
        """Run every cell not dropped yet; False when one of them killed the child."""
        for name, code in self.cells:
            if name in self.dropped:
                continue
            try:
                reply = self._exchange({"op": "exec", "cell": name, "code": code},
                                       where=f"the `{name}` cell")
            except (StudentTimeout, SandboxCrashed) as error:
                self.dropped.add(name)
                self.cell_results[name] = CellResult(name, crashed=str(error))
                self.restarts += 1
                return False
            self.cell_results[name] = CellResult(name, *_cell_report(reply))
        return True

    # -- requests -------------------------------------------------------------------------------
    def _budget_left(self) -> float:
        return self.limits.total_timeout - self.used

    def _exchange(self, message: dict[str, Any], where: str,
                  generators: list[Any] | None = None) -> dict[str, Any]:
        """Send one request, wait for its reply within the limits, handle death and timeouts."""
        strikes = self.timeouts.get(where, 0)
        if strikes >= self.MAX_TIMEOUTS:  # it hung before: waiting again would only burn time
            raise StudentTimeout(f"{where} was not run again: it did not finish within the "
                                 "time limit before (one strike per function)")
        left = self._budget_left()
        if left <= 0:
            raise StudentTimeout(
                f"the submission used up its time budget of {self.limits.total_timeout:g} s; "
                f"{where} was not run")
        for attempt in (1, 2):
            child = self.child
            if child is None or child.dead:
                self.restarts += 1
                self.start()
                child = self.child
                left = self._budget_left()
            assert child is not None
            timeout = min(self.limits.call_wall_s, left)
            started = time.monotonic()
            deadline = started + timeout
            cpu = child.cpu_budget(self.limits.call_timeout)
            self.next_id += 1
            request_id = self.next_id
            if generators is not None:
                generators.clear()
            try:
                frame = transport.encode({**message, "id": request_id},
                                         on_unknown=self._encode_handle, generators=generators)
                child.send(frame, deadline)
                reply = child.receive(deadline, cpu, make_handle=self._make_handle)
                if reply.get("id") != request_id:
                    raise TransportError("a reply that does not answer the request")
            except Timeout as expired:
                self.used += time.monotonic() - started
                self.timeouts[where] = strikes + 1
                child.kill()
                if expired.kind == "cpu":
                    limit = f"the limit of {self.limits.call_timeout:g} s of CPU time per call"
                elif timeout < self.limits.call_wall_s:
                    limit = "the submission's time budget"
                else:
                    limit = (f"the limit of {self.limits.call_wall_s:g} s of wall-clock time "
                             "per call (before its CPU-time limit: it was waiting, or the "
                             "machine was overloaded)")
                raise StudentTimeout(f"{where} did not finish within {limit}") from None
            except Dead:
                self.used += time.monotonic() - started
                message_text = child.death_message()
                child.kill()
                raise SandboxCrashed(f"{message_text} while running {where}") from None
            except TransportError as error:
                # Garbage on the pipe may be left over from an earlier call that wrote to it
                # directly: a fresh child gets one more chance before this call is failed.
                self.used += time.monotonic() - started
                child.kill()
                if attempt == 2 or self._budget_left() <= 0:
                    raise SandboxCrashed(f"{where}: the sandbox broke the protocol ({error})") \
                        from None
                continue
            seconds = time.monotonic() - started
            self.used += seconds
            if seconds > self.slowest_call[0]:
                self.slowest_call = (seconds, where)
            return reply
        raise AssertionError("unreachable")

    def _encode_handle(self, obj: Any) -> list[Any]:
        if isinstance(obj, Handle):
            if obj._sandbox is not self or obj._generation != self.generation:
                raise SandboxCrashed("this object was lost when the sandbox restarted")
            return ["h", obj._id]
        raise TransportError(f"cannot send a value of type {type(obj).__qualname__} to the "
                             "submission")

    def _make_handle(self, fields: list[Any]) -> Handle:
        if len(fields) < 2 or type(fields[0]) is not int or not isinstance(fields[1], list):
            raise TransportError("malformed handle")
        names = [n for n in fields[1] if isinstance(n, str)][:64]
        return Handle(self, fields[0], self.generation, [n[:200] for n in names])

    @staticmethod
    def _raise_for(reply: dict[str, Any], where: str) -> None:
        status = reply.get("status")
        if status == "ok":
            return
        if status == "forbidden":
            raise ForbiddenCall(str(reply.get("name")), where=where)
        if status == "missing":
            raise MissingPart(str(reply.get("name")))
        if status == "error":
            raise StudentError(str(reply.get("type", "Exception"))[:100],
                               str(reply.get("message", ""))[:2000], where,
                               str(reply.get("traceback", ""))[:2000])
        raise SandboxCrashed(f"unexpected reply from the sandbox while running {where}")

    def request(self, message: dict[str, Any], where: str) -> Any:
        with self.lock:
            self.wait_started()
            reply = self._exchange(message, where)
            self._raise_for(reply, where)
            return reply.get("value")

    def call(self, target: str | Handle, args: Sequence[Any] = (),
             kwargs: dict[str, Any] | None = None, *, info: bool = False) -> CallInfo:
        """Call ``target`` (a top-level name or a Handle) in the child."""
        where = f"`{target}`" if isinstance(target, str) else f"a `{target._short()}` object"
        generators: list[Any] = []
        with self.lock:
            self.wait_started()
            reply = self._exchange({"op": "call", "target": target, "args": list(args),
                                    "kwargs": dict(kwargs or {}), "info": info}, where,
                                   generators=generators)
            self._raise_for(reply, where)
            states = reply.get("generators") or []
            for generator, state in zip(generators, states, strict=False):
                with contextlib.suppress(Exception):
                    generator.set_state(state)
        if not info:
            return CallInfo(reply.get("value"))
        args_after = reply.get("args_after")
        kwargs_after = reply.get("kwargs_after")
        if (not isinstance(args_after, tuple) or len(args_after) != len(args)
                or not isinstance(kwargs_after, dict)
                or kwargs_after.keys() != (kwargs or {}).keys()):
            raise SandboxCrashed(f"{where}: the sandbox sent malformed call information")
        modified: set[int | str] = {i for i, (before, after) in enumerate(zip(args, args_after,
                                                                               strict=True))
                                    if changed(before, after)}
        modified |= {name for name, before in (kwargs or {}).items()
                     if changed(before, kwargs_after[name])}
        written = reply.get("written")  # arguments written in place (version counters)
        keys = set(range(len(args))) | set(kwargs or {})
        modified |= {key for key in (written if isinstance(written, list) else [])
                     if type(key) in (int, str) and key in keys}
        returned = reply.get("returned_arg")
        value = reply.get("value")
        import torch  # lazily, as handles.py: the parent imports torch only to grade

        received = reply.get("received_after")
        sent = tensors_in([list(args), dict(kwargs or {})])
        if (not isinstance(received, list) or len(received) != len(sent)
                or not all(isinstance(t, torch.Tensor) for t in received)):
            raise SandboxCrashed(f"{where}: the sandbox sent malformed call information")
        return CallInfo(value, args_after, kwargs_after, modified,
                        returned if type(returned) is int and 0 <= returned < len(args) else None,
                        any(t.requires_grad for t in tensors_in(value)), received)

    def has(self, name: str) -> bool:
        return bool(self.request({"op": "has", "name": name}, where=f"`{name}`"))

    def close(self) -> None:
        with self.lock:
            if self._thread is not None:
                self._thread.join()
                self._thread = None
            if self.child is not None:
                peak = self.child.peak_rss_mb()
                if peak is not None:
                    self.peak_rss_mb = max(self.peak_rss_mb or 0.0, peak)
                self.child.kill()
                self.child = None
