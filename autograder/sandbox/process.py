"""One live sandboxed child and the pipes to it, read and written within deadlines.

Everything the child sends is decoded by :mod:`autograder.sandbox.inside.transport`
(never pickle) and is treated as hostile: sizes are capped, malformed frames
raise :class:`~autograder.sandbox.inside.transport.TransportError`.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import tempfile
import time
from typing import Any

from autograder.errors import SandboxCrashed
from autograder.sandbox.inside import transport
from autograder.sandbox.inside.limits import Limits
from autograder.sandbox.inside.transport import TransportError
from autograder.sandbox.zygote import Zygote


def _describe_status(status: int | None) -> str:
    if status is None:
        return "ended"
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        hints = {"SIGSEGV": " (a segmentation fault)", "SIGXCPU": " (CPU time limit)",
                 "SIGKILL": " (killed: a time or memory limit)", "SIGABRT": " (aborted)",
                 "SIGBUS": " (a bus error)", "SIGXFSZ": " (file size limit)"}
        return f"was killed by {name}{hints.get(name, '')}"
    if os.WIFEXITED(status):
        return f"exited with status {os.WEXITSTATUS(status)}"
    return "ended"


class Timeout(Exception):
    """A call ran past one of its limits: ``kind`` is ``"cpu"`` or ``"wall"``."""

    def __init__(self, kind: str = "wall") -> None:
        super().__init__(kind)
        self.kind = kind


TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def session_cpu_s(session: int) -> float:
    """User + system CPU seconds of every live process of ``session`` (the sandbox: its child
    calls ``setsid``, and nothing it starts can leave the session), plus what they reaped."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile, or not ours to read
        if len(fields) > 14 and int(fields[3]) == session:  # state ppid pgrp session ...
            total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / TICKS_PER_SECOND


class CpuBudget:
    """The CPU time one call may use, counted over every process of the sandbox.

    Wall time on a shared machine says more about the other jobs than about the call; CPU time
    does not, so a correct solution keeps its points on a loaded machine while an endless loop
    still stops after ``seconds`` of CPU.  Reading every process's /proc entry costs a few
    milliseconds, so a call is looked at only once it has lasted ``POLL_S``: the CPU it used
    before that is taken to be the wall time elapsed (at most one core's worth, a small
    overestimate that only ever shortens an already long call by a fraction of a second).
    """

    POLL_S = 0.25

    def __init__(self, session: int, seconds: float) -> None:
        self.session = session
        self.seconds = seconds
        self.started = time.monotonic()
        self.baseline: float | None = None
        self.credit = 0.0  # CPU assumed used before the baseline was read

    def exceeded(self) -> bool:
        used = session_cpu_s(self.session)
        if self.baseline is None:
            self.baseline, self.credit = used, time.monotonic() - self.started
        return self.credit + used - self.baseline > self.seconds


class Dead(Exception):
    pass


class ChildProcess:
    """One live sandboxed child and the pipes to it."""

    def __init__(self, zygote: Zygote, request: dict[str, Any], limits: Limits) -> None:
        self.limits = limits
        self.output = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()
        self.status_r, status_w = os.pipe()
        self.pid: int | None = None
        self.pidfd: int | None = None
        self.exit_status: int | None = None
        self.dead = False
        try:
            zygote.spawn(request, [cmd_r, res_w, self.output.fileno(), status_w])
        finally:
            for fd in (cmd_r, res_w, status_w):
                os.close(fd)
        for fd in (self.cmd_w, self.res_r, self.status_r):
            os.set_blocking(fd, False)
        self._status_buffer = b""
        self._buffer = bytearray()
        deadline = time.monotonic() + limits.start_timeout
        line = self._status_line(deadline)
        if line is None or "pid" not in line:
            self.close()
            raise SandboxCrashed("the sandbox process could not start")
        self.pid = int(line["pid"])
        with contextlib.suppress(OSError, AttributeError):
            self.pidfd = os.pidfd_open(self.pid)
        try:
            ready = self.receive(deadline)
        except (Timeout, Dead, TransportError):
            detail = self.output_tail()
            self.kill()
            raise SandboxCrashed(f"the sandbox process did not start\n{detail}") from None
        def strings(key: str) -> list[str]:
            value = ready.get(key)
            return [str(v)[:500] for v in value[:64]] if isinstance(value, list) else []

        self.layers = strings("layers")
        self.warnings = strings("warnings")
        self.readable = strings("readable")  # grader files the child could open (a probe)

    # -- low-level I/O ------------------------------------------------------------------------
    def _status_line(self, deadline: float) -> dict[str, Any] | None:
        while b"\n" not in self._status_buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.status_r], [], [], remaining)
            if not ready:
                return None
            try:
                chunk = os.read(self.status_r, 4096)
            except BlockingIOError:
                continue
            if not chunk:
                return None
            self._status_buffer += chunk
        line, self._status_buffer = self._status_buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            return None

    def _read_exact(self, size: int, deadline: float | None,
                    cpu: CpuBudget | None = None) -> bytes:
        """``size`` bytes from the child (one select and one read per arrival, not per part),
        by the wall ``deadline`` and within the ``cpu`` budget."""
        buffer = self._buffer
        while len(buffer) < size:
            timeout = None if deadline is None else deadline - time.monotonic()
            if timeout is not None and timeout <= 0:
                raise Timeout("wall")
            wait = timeout  # with a CPU budget: wake up every POLL_S to read the CPU used
            if cpu is not None:
                wait = cpu.POLL_S if timeout is None else min(cpu.POLL_S, timeout)
            ready, _, _ = select.select([self.res_r], [], [], wait)
            if not ready:
                if cpu is not None and cpu.exceeded():
                    raise Timeout("cpu")
                continue
            try:
                chunk = os.read(self.res_r, max(size - len(buffer), 1 << 16))
            except BlockingIOError:
                continue
            if not chunk:
                raise Dead
            buffer += chunk
        data = bytes(buffer[:size])
        del buffer[:size]
        return data

    def _write_all(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                raise Timeout
            _, ready, _ = select.select([], [self.cmd_w], [], timeout)
            if not ready:
                raise Timeout
            try:
                written = os.write(self.cmd_w, view)
            except BlockingIOError:
                continue
            except BrokenPipeError:
                raise Dead from None
            view = view[written:]

    def cpu_budget(self, seconds: float) -> CpuBudget | None:
        """A CPU budget of ``seconds`` for the call about to be sent (None before the child's
        pid is known)."""
        return None if self.pid is None else CpuBudget(self.pid, seconds)

    def receive(self, deadline: float | None, cpu: CpuBudget | None = None,
                **hooks: Any) -> dict[str, Any]:
        prefix = self._read_exact(transport.PREFIX_SIZE, deadline, cpu)
        length = transport.frame_length(prefix)
        cap = self.limits.max_result_mb * 1024 * 1024
        if length > cap:
            raise TransportError(f"the submission returned more than {self.limits.max_result_mb}"
                                 " MB in one value")
        body = self._read_exact(length, deadline, cpu)
        message = transport.decode(body, **hooks)
        if not isinstance(message, dict):
            raise TransportError("malformed reply from the sandbox")
        return message

    def send(self, frame: bytes, deadline: float) -> None:
        self._write_all(frame, deadline)

    # -- life and death -----------------------------------------------------------------------
    def peak_rss_mb(self) -> float | None:
        """The child's peak resident memory so far (VmHWM), or None once it is gone."""
        if self.pid is None or self.dead:
            return None
        try:
            with open(f"/proc/{self.pid}/status", encoding="ascii", errors="replace") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except (OSError, ValueError, IndexError):
            return None
        return None

    def kill(self) -> None:
        if self.dead:
            return
        self.dead = True
        if self.pidfd is not None:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        elif self.pid is not None:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
        self.collect_status(2.0)
        self.close()

    def collect_status(self, wait: float) -> None:
        if self.exit_status is not None:
            return
        line = self._status_line(time.monotonic() + wait)
        if line and "exit" in line:
            self.exit_status = int(line["exit"])

    def death_message(self) -> str:
        self.collect_status(2.0)
        text = f"the sandbox process {_describe_status(self.exit_status)}"
        tail = self.output_tail(1500)
        fatal = [line for line in tail.splitlines()
                 if line.startswith(("Fatal Python error", "MemoryError", "  File \"<submission"))]
        if fatal:
            text += " — " + "; ".join(line.strip() for line in fatal[:3])
        return text

    def output_tail(self, size: int = 2000) -> str:
        try:
            end = os.fstat(self.output.fileno()).st_size
            return os.pread(self.output.fileno(), size, max(0, end - size)).decode("utf-8",
                                                                                   "replace")
        except (OSError, ValueError):
            return ""

    def close(self) -> None:
        self.dead = True
        for fd in (self.cmd_w, self.res_r, self.status_r, self.pidfd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.pidfd = None
        self.cmd_w = self.res_r = self.status_r = -1
        with contextlib.suppress(Exception):
            self.output.close()
