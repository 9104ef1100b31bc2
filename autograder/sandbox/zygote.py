"""The grader's handle on the zygote: one per grader process and isolation setting.

The zygote (:mod:`autograder.sandbox.inside.zygote`, started as ``python -I -S -B
inside/boot.py``) imports torch once and forks a sandboxed child per submission,
so a submission pays milliseconds, not a torch import.  Messages travel in the
framing of :mod:`autograder.sandbox.inside.framing`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from typing import Any

from autograder.sandbox.inside.framing import recv_json, send_json
from autograder.sandbox.paths import BOOT_SCRIPT, zygote_config


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
            [sys.executable, "-I", "-S", "-B", str(BOOT_SCRIPT), str(child_sock.fileno())],
            pass_fds=[child_sock.fileno()], stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=self.log, close_fds=True, env=minimal_environment(), cwd="/")
        child_sock.close()
        self.sock = parent_sock
        self.config = zygote_config(isolation, audit)
        send_json(self.sock, self.config)
        self.sock.settimeout(start_timeout)
        try:
            ready, _ = recv_json(self.sock)
            if ready is None:
                raise EOFError("the sandbox zygote closed its socket")
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
                send_json(self.sock, request, fds)
                reply, _ = recv_json(self.sock)
                if reply is None:
                    raise EOFError("the sandbox zygote closed its socket")
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


# What the zygote (and so every child's memory) inherits of the grader's environment: nothing
# but what Python, torch and CUDA need.  A token or password the instructor exported stays out.
_KEPT_VARIABLES = ("PATH", "LANG", "LC_ALL", "TZ", "LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES",
                   "CUDA_DEVICE_ORDER", "NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES",
                   "CUDA_HOME", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def minimal_environment() -> dict[str, str]:
    """The zygote's environment: the variables of :data:`_KEPT_VARIABLES` that are set."""
    env = {name: os.environ[name] for name in _KEPT_VARIABLES if name in os.environ}
    env.setdefault("PATH", "/usr/bin:/bin")
    env.setdefault("LANG", "C.UTF-8")
    env["HOME"] = "/nonexistent"
    return env


def _quietly(function: Any, *args: Any) -> None:
    with contextlib.suppress(Exception):
        function(*args)
