"""The child's audit hook (PEP 578): no sockets, no new processes, no reads of hidden paths.

Runs inside the sandbox: standard library (and torch) only, loaded by path (see
this folder's ``__init__``).
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_WRITE_EVENTS = ("os.remove", "os.rename", "os.mkdir", "os.rmdir", "os.symlink", "os.link",
                 "os.chmod", "os.chown", "os.truncate", "os.utime", "shutil.rmtree",
                 "os.mkfifo", "os.mknod")


def install_audit_hook(protected: list[str], writable: str) -> None:
    """Refuse sockets, new processes, reading the protected paths and writing outside ``writable``.

    Defence in depth: with namespaces the kernel already enforces all of this; without
    them (an unprivileged container) this hook is what remains.
    """
    realpath = os.path.realpath
    roots = [p.rstrip("/") for p in protected if p and p != "/"]
    writable = realpath(writable).rstrip("/")
    refuse_prefixes = ("socket.", "subprocess.", "os.exec", "os.posix_spawn", "os.spawn",
                       "os.fork", "os.forkpty", "os.system", "pty.", "os.kill", "os.killpg")
    allowed = {"socket.gethostname", "socket.getaddrinfo", "socket.gethostbyname"}

    def resolve(path: Any) -> tuple[str, str] | None:
        if isinstance(path, int) or path is None:
            return None
        try:
            text = os.fsdecode(path)
            return text, realpath(text)
        except (TypeError, ValueError, OSError):
            return None

    def under(full: str, root: str) -> bool:
        return full == root or full.startswith(root + "/")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in ("open", "os.listdir", "os.scandir", "os.chdir") and args:
            resolved = resolve(args[0])
            if resolved is None:
                return
            text, full = resolved
            for root in roots:
                if under(full, root):
                    raise PermissionError(errno.EACCES, "the sandbox does not allow reading "
                                          "the grader's files", text)
            if event == "open":
                mode = args[1] if len(args) > 1 and isinstance(args[1], str) else ""
                flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
                writing = any(c in mode for c in "wax+") or bool(flags & _WRITE_FLAGS)
                if writing and not under(full, writable) and full != "/dev/null":
                    raise PermissionError(errno.EACCES, "the sandbox allows writing only under "
                                          f"{writable}", text)
        elif event in _WRITE_EVENTS and args:
            resolved = resolve(args[0])
            if resolved is not None and not under(resolved[1], writable):
                raise PermissionError(errno.EACCES, "the sandbox allows changes only under "
                                      f"{writable}", resolved[0])
        elif event.startswith(refuse_prefixes) and event not in allowed:
            raise PermissionError(errno.EPERM, f"the sandbox does not allow {event}")

    sys.addaudithook(hook)
