"""The grader's side of the sandbox: start, talk to, time and restart the child.

One :class:`Zygote` per grader process (``python -I -S autograder/child.py``)
imports torch once and forks a sandboxed child per submission, so a submission
pays milliseconds, not a torch import.  One :class:`Sandbox` per submission
runs its cells in such a child, forwards calls, enforces the per-call and
per-submission wall-clock limits, kills the child when a limit is hit and starts
a fresh one (replaying the cells) for the next call.  See :mod:`autograder.child`
for what the child does to isolate itself.

Everything the child sends is decoded by :mod:`autograder.transport` (never
pickle) and is treated as hostile: sizes are capped, malformed frames count as a
crash.  Objects that cannot travel stay in the child and come back as
:class:`Handle` objects.
"""

from __future__ import annotations

import contextlib
import grp
import importlib.util
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder import transport
from autograder.errors import (
    ForbiddenCall,
    MissingPart,
    SandboxCrashed,
    StudentError,
    StudentTimeout,
    TransportError,
)

PACKAGE_DIR = Path(__file__).resolve().parent
CHILD_SCRIPT = PACKAGE_DIR / "child.py"


@dataclass
class Limits:
    """Resource limits of one submission's sandbox (all configurable from the command line)."""

    call_timeout: float = 10.0  # seconds of wall-clock time per call (and per cell when loading)
    total_timeout: float = 300.0  # seconds of wall-clock time for the whole submission
    memory_mb: int = 4096  # RLIMIT_DATA: heap and anonymous mappings (CUDA reservations excluded)
    address_space_mb: int = 0  # RLIMIT_AS when > 0 (breaks CUDA, off by default)
    nproc: int = 64  # RLIMIT_NPROC of the child's own uid: threads and processes
    fsize_mb: int = 16  # RLIMIT_FSIZE: largest file the child may write
    tmp_mb: int = 64  # size of the private /tmp
    nofile: int = 256  # open files
    output_kb: int = 64  # what print() may write (the rest is dropped)
    max_result_mb: int = 512  # largest frame accepted from the child
    threads: int = 1  # torch intra-op threads in the child
    start_timeout: float = 120.0  # zygote start (imports torch) and child start

    @property
    def cpu_s(self) -> int:
        return int(self.total_timeout * max(1, self.threads) + 30)

    def for_child(self) -> dict[str, Any]:
        return {"memory_mb": self.memory_mb, "address_space_mb": self.address_space_mb,
                "nproc": self.nproc, "fsize_mb": self.fsize_mb, "tmp_mb": self.tmp_mb,
                "nofile": self.nofile, "output_kb": self.output_kb, "threads": self.threads,
                "cpu_s": self.cpu_s}


# ============================================================================ paths
def _site_dirs() -> list[str]:
    """The site-packages folders the child needs: torch's, numpy's and the interpreter's."""
    dirs: list[str] = []
    for name in ("torch", "numpy"):
        spec = importlib.util.find_spec(name)
        if spec and spec.submodule_search_locations:
            dirs.append(str(Path(next(iter(spec.submodule_search_locations))).resolve().parent))
    for entry in sys.path:
        if entry.endswith(("site-packages", "dist-packages")) and os.path.isdir(entry):
            dirs.append(str(Path(entry).resolve()))
    return list(dict.fromkeys(dirs))


def _package_dir(name: str) -> str | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec and spec.submodule_search_locations:
        return str(Path(next(iter(spec.submodule_search_locations))).resolve())
    return None


def _world_readable(path: str) -> bool:
    """True when "others" may traverse every ancestor of ``path`` and read it."""
    current = Path(path)
    try:
        if os.stat(current).st_mode & 5 != 5:
            return False
        for parent in current.parents:
            if not os.stat(parent).st_mode & 0o001:
                return False
    except OSError:
        return False
    return True


def secret_paths() -> list[str]:
    """What the child must never read: the repository, the grader, nntrain and the solutions."""
    paths = [str(PACKAGE_DIR)]
    repository = PACKAGE_DIR.parent
    site = _site_dirs()
    if str(repository) not in site:  # a checkout, not an installed package
        paths.append(str(repository))
    for name in ("nntrain",):
        found = _package_dir(name)
        if found:
            paths.append(found)
            parent = str(Path(found).parent)
            if parent not in site and Path(parent).name == "src":
                paths.append(parent)
    return list(dict.fromkeys(paths))


def _stdlib_dirs() -> list[str]:
    """The standard library's folders (the pure-Python one and the compiled extensions')."""
    import math

    dirs = [os.path.dirname(os.__file__)]
    if getattr(math, "__file__", None):
        dirs.append(os.path.dirname(math.__file__))
    return [str(Path(d).resolve()) for d in dict.fromkeys(dirs)]


def zygote_config(isolation: str, audit: bool) -> dict[str, Any]:
    stdlib = _stdlib_dirs()
    site = _site_dirs()
    expose = list(dict.fromkeys(
        [os.path.join(sys.prefix, "lib"), os.path.join(sys.base_prefix, "lib"), *stdlib, *site]))
    secrets = secret_paths()
    hide = [*secrets, "/root", "/home", "/autograder", "/srv", "/mnt", "/media",
            os.getcwd(), os.path.expanduser("~")]
    hide = [p for p in dict.fromkeys(str(Path(h).resolve()) for h in hide) if p != "/"]
    try:
        nogroup = grp.getgrnam("nogroup").gr_gid
    except KeyError:
        nogroup = 65534
    return {
        "parent_pid": os.getpid(),
        "modules": {"transport": str(PACKAGE_DIR / "transport.py"),
                    "guards": str(PACKAGE_DIR / "guards.py")},
        "site_dirs": site,
        "expose": [p for p in expose if os.path.isdir(p)],
        "hide": hide,
        "protected": secrets,
        "refused_packages": ["nntrain", "autograder"],
        "isolation": isolation,
        "audit": audit,
        "uid_base": 1_000_000_000,
        "gid": nogroup,
        "stdlib_world_readable": all(_world_readable(d) for d in stdlib),
    }


# ============================================================================ zygote
def _send_json(sock: socket.socket, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
    data = json.dumps(message).encode()
    payload = struct.pack("<I", len(data)) + data
    if fds:
        socket.send_fds(sock, [payload], list(fds))
    else:
        sock.sendall(payload)


def _recv_json(sock: socket.socket) -> dict[str, Any]:
    def exact(size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = sock.recv(size - len(data))
            if not chunk:
                raise EOFError("the sandbox zygote closed its socket")
            data += chunk
        return data

    (size,) = struct.unpack("<I", exact(4))
    return json.loads(exact(size))


class Zygote:
    """The process that forks sandboxed children; one per grader process and settings."""

    _instances: dict[tuple[str, bool], Zygote] = {}
    _lock = threading.Lock()

    def __init__(self, isolation: str = "auto", audit: bool = True,
                 start_timeout: float = 120.0) -> None:
        self.isolation = isolation
        self.audit = audit
        self.lock = threading.Lock()
        parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the zygote
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", str(CHILD_SCRIPT), str(child_sock.fileno())],
            pass_fds=[child_sock.fileno()], stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=self.log, close_fds=True)
        child_sock.close()
        self.sock = parent_sock
        self.config = zygote_config(isolation, audit)
        _send_json(self.sock, self.config)
        self.sock.settimeout(start_timeout)
        try:
            ready = _recv_json(self.sock)
        except (OSError, EOFError, ValueError) as error:
            self.close()
            raise RuntimeError(f"the sandbox could not start: {error}\n{self.log_tail()}") \
                from None
        self.sock.settimeout(None)
        self.report: dict[str, Any] = ready["report"]

    @classmethod
    def get(cls, isolation: str = "auto", audit: bool = True,
            start_timeout: float = 120.0) -> Zygote:
        key = (isolation, audit)
        with cls._lock:
            zygote = cls._instances.get(key)
            if zygote is None or not zygote.alive():
                zygote = cls(isolation, audit, start_timeout)
                cls._instances[key] = zygote
            return zygote

    @classmethod
    def prestart(cls, isolation: str = "auto", audit: bool = True) -> threading.Thread:
        """Start the zygote in the background (it imports torch: seconds) and return the thread."""
        thread = threading.Thread(target=_quietly, args=(cls.get, isolation, audit), daemon=True)
        thread.start()
        return thread

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, size: int = 4000) -> str:
        try:
            end = os.fstat(self.log.fileno()).st_size
            return os.pread(self.log.fileno(), size, max(0, end - size)).decode("utf-8",
                                                                                "replace")
        except OSError:
            return ""

    def spawn(self, request: dict[str, Any], fds: Sequence[int]) -> int:
        with self.lock:
            try:
                _send_json(self.sock, request, fds)
                reply = _recv_json(self.sock)
            except (OSError, EOFError, ValueError) as error:
                self.close()  # Zygote.get() starts a new one
                raise OSError(f"the sandbox zygote is gone ({error})") from None
        if "error" in reply:
            raise OSError(reply["error"])
        return int(reply["forked"])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.wait(timeout=5)


def _quietly(function: Any, *args: Any) -> None:
    with contextlib.suppress(Exception):
        function(*args)


# ============================================================================ one child process
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


class _Timeout(Exception):
    pass


class _Dead(Exception):
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
        except (_Timeout, _Dead, TransportError):
            detail = self.output_tail()
            self.kill()
            raise SandboxCrashed(f"the sandbox process did not start\n{detail}") from None
        self.layers: list[str] = ready.get("layers", [])
        self.warnings: list[str] = ready.get("warnings", [])

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

    def _read_exact(self, size: int, deadline: float | None) -> bytes:
        """``size`` bytes from the child (one select and one read per arrival, not per part)."""
        buffer = self._buffer
        while len(buffer) < size:
            timeout = None if deadline is None else deadline - time.monotonic()
            if timeout is not None and timeout <= 0:
                raise _Timeout
            ready, _, _ = select.select([self.res_r], [], [], timeout)
            if not ready:
                raise _Timeout
            try:
                chunk = os.read(self.res_r, max(size - len(buffer), 1 << 16))
            except BlockingIOError:
                continue
            if not chunk:
                raise _Dead
            buffer += chunk
        data = bytes(buffer[:size])
        del buffer[:size]
        return data

    def _write_all(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                raise _Timeout
            _, ready, _ = select.select([], [self.cmd_w], [], timeout)
            if not ready:
                raise _Timeout
            try:
                written = os.write(self.cmd_w, view)
            except BlockingIOError:
                continue
            except BrokenPipeError:
                raise _Dead from None
            view = view[written:]

    def receive(self, deadline: float | None, **hooks: Any) -> dict[str, Any]:
        prefix = self._read_exact(transport.PREFIX_SIZE, deadline)
        length = transport.frame_length(prefix)
        cap = self.limits.max_result_mb * 1024 * 1024
        if length > cap:
            raise TransportError(f"the submission returned more than {self.limits.max_result_mb}"
                                 " MB in one value")
        body = self._read_exact(length, deadline)
        message = transport.decode(body, **hooks)
        if not isinstance(message, dict):
            raise TransportError("malformed reply from the sandbox")
        return message

    def send(self, frame: bytes, deadline: float) -> None:
        self._write_all(frame, deadline)

    # -- life and death -----------------------------------------------------------------------
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


# ============================================================================ handles, call info
class Handle:
    """An object that stays in the child (a closure, an ``nn.Module``, ...).

    Calling it, reading ``handle.attr`` and calling ``handle.method(...)`` run in
    the child; ``type_names`` lists the fully-qualified names of its classes (MRO).
    """

    __slots__ = ("_sandbox", "_id", "_generation", "type_names")

    def __init__(self, sandbox: Sandbox, handle_id: int, generation: int,
                 type_names: list[str]) -> None:
        object.__setattr__(self, "_sandbox", sandbox)
        object.__setattr__(self, "_id", handle_id)
        object.__setattr__(self, "_generation", generation)
        object.__setattr__(self, "type_names", list(type_names))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._sandbox.call(self, args, kwargs).value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._sandbox.request({"op": "getattr", "target": self, "name": name},
                                     where=f"{self._short()}.{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        self._sandbox.request({"op": "setattr", "target": self, "name": name, "value": value},
                              where=f"{self._short()}.{name}")

    def __iter__(self) -> Iterator[Any]:
        return iter(self._sandbox.request({"op": "iter", "target": self}, where=self._short()))

    def __len__(self) -> int:
        try:
            return int(self._sandbox.request({"op": "len", "target": self}, where=self._short()))
        except StudentError as error:
            if error.type_name == "TypeError":  # no len(): list(handle) must still work
                raise TypeError(error.message) from None
            raise

    def __getitem__(self, key: Any) -> Any:
        return self._sandbox.request({"op": "getitem", "target": self, "key": key},
                                     where=self._short())

    def remote_repr(self) -> str:
        return str(self._sandbox.request({"op": "repr", "target": self}, where=self._short()))

    def _short(self) -> str:
        return self.type_names[0].rsplit(".", 1)[-1] if self.type_names else "object"

    def __repr__(self) -> str:
        return f"<Handle to a {self.type_names[0] if self.type_names else 'object'} in the sandbox>"


@dataclass
class CallInfo:
    """What a call did besides returning ``value`` (see GRADER.md)."""

    value: Any
    args_after: tuple[Any, ...] = ()
    kwargs_after: dict[str, Any] = field(default_factory=dict)
    modified: set[int | str] = field(default_factory=set)
    returned_arg: int | None = None
    value_requires_grad: bool = False


def _tensors(value: Any, depth: int = 0) -> list[Any]:
    import torch

    if isinstance(value, torch.Tensor):
        return [value]
    if depth < 64 and isinstance(value, list | tuple):
        return [t for item in value for t in _tensors(item, depth + 1)]
    if depth < 64 and isinstance(value, dict):
        return [t for item in value.values() for t in _tensors(item, depth + 1)]
    return []


def _changed(before: Any, after: Any) -> bool:
    """Whether a value sent to the child came back different (tensors compared bit for bit)."""
    import torch

    if isinstance(before, torch.Tensor):
        if not isinstance(after, torch.Tensor) or before.shape != after.shape \
                or before.dtype != after.dtype:
            return True
        if before.numel() == 0:
            return False
        flat = before.detach().to("cpu").contiguous().reshape(-1).view(torch.uint8)
        other = after.detach().to("cpu").contiguous().reshape(-1).view(torch.uint8)
        return not torch.equal(flat, other)
    if isinstance(before, list | tuple):
        return (not isinstance(after, list | tuple) or len(before) != len(after)
                or any(_changed(x, y) for x, y in zip(before, after, strict=True)))
    if isinstance(before, dict):
        return (not isinstance(after, dict) or before.keys() != after.keys()
                or any(_changed(before[k], after[k]) for k in before))
    return False


# ============================================================================ one submission
@dataclass
class CellResult:
    name: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)
    crashed: str | None = None  # why the cell was dropped (it killed or hung the sandbox)


class Sandbox:
    """Runs one submission's cells in a sandboxed child and forwards calls to it."""

    MAX_RESTARTS = 50
    MAX_TIMEOUTS = 2  # per function (or cell): after that its calls fail at once

    def __init__(self, cells: Sequence[tuple[str, str]], *, forbidden: Sequence[str] = (),
                 tensor_methods: Sequence[str] = (), limits: Limits | None = None,
                 isolation: str = "auto", audit: bool = True,
                 hide: Iterable[str | os.PathLike[str]] = ()) -> None:
        self.cells = list(cells)
        self.limits = limits or Limits()
        self.isolation = isolation
        self.audit = audit
        self.request_template = {
            "limits": self.limits.for_child(),
            "assignment": {"forbidden": list(forbidden), "tensor_methods": list(tensor_methods)},
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
            self.cell_results[name] = CellResult(name, reply.get("errors", []),
                                                 reply.get("forbidden", []))
        return True

    # -- requests -------------------------------------------------------------------------------
    def _budget_left(self) -> float:
        return self.limits.total_timeout - self.used

    def _exchange(self, message: dict[str, Any], where: str,
                  generators: list[Any] | None = None) -> dict[str, Any]:
        """Send one request, wait for its reply within the limits, handle death and timeouts."""
        strikes = self.timeouts.get(where, 0)
        if strikes >= self.MAX_TIMEOUTS:  # it hung twice: waiting again would only burn time
            raise StudentTimeout(f"{where} was not run again after timing out {strikes} times")
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
            timeout = min(self.limits.call_timeout, left)
            started = time.monotonic()
            deadline = started + timeout
            self.next_id += 1
            request_id = self.next_id
            if generators is not None:
                generators.clear()
            try:
                frame = transport.encode({**message, "id": request_id},
                                         on_unknown=self._encode_handle, generators=generators)
                child.send(frame, deadline)
                reply = child.receive(deadline, make_handle=self._make_handle)
                if reply.get("id") != request_id:
                    raise TransportError("a reply that does not answer the request")
            except _Timeout:
                self.used += time.monotonic() - started
                self.timeouts[where] = strikes + 1
                child.kill()
                limit = ("the submission's time budget" if timeout < self.limits.call_timeout
                         else f"the limit of {self.limits.call_timeout:g} s per call")
                raise StudentTimeout(f"{where} did not finish within {limit}") from None
            except _Dead:
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
            self.used += time.monotonic() - started
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
                                    if _changed(before, after)}
        modified |= {name for name, before in (kwargs or {}).items()
                     if _changed(before, kwargs_after[name])}
        returned = reply.get("returned_arg")
        value = reply.get("value")
        return CallInfo(value, args_after, kwargs_after, modified,
                        returned if type(returned) is int and 0 <= returned < len(args) else None,
                        any(t.requires_grad for t in _tensors(value)))

    def has(self, name: str) -> bool:
        return bool(self.request({"op": "has", "name": name}, where=f"`{name}`"))

    def close(self) -> None:
        with self.lock:
            if self._thread is not None:
                self._thread.join()
                self._thread = None
            if self.child is not None:
                self.child.kill()
                self.child = None
