"""Length-prefixed JSON messages on a Unix socket, with file descriptors beside them.

The one copy of the framing between the grader and the zygote (the grader imports
this module; the zygote loads it by path): a 4-byte little-endian length, then
that many bytes of JSON.  Requests of the grader may carry file descriptors
(``SCM_RIGHTS``).  Messages larger than :data:`MAX_MESSAGE` are refused.

Also the raw pipe helpers the child uses (:func:`read_exact`, :func:`write_all`).
Standard library only.
"""

from __future__ import annotations

import json
import os
import socket
import struct
from collections.abc import Sequence
from typing import Any

MAX_MESSAGE = 16 * 1024 * 1024  # a spawn request or a report is a few kilobytes

def read_exact(fd: int, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def send_json(sock: socket.socket, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
    """Send one message (and ``fds``, if any, with its first byte)."""
    data = json.dumps(message).encode()
    payload = struct.pack("<I", len(data)) + data
    if fds:
        socket.send_fds(sock, [payload], list(fds))
    else:
        sock.sendall(payload)


def recv_json(sock: socket.socket, max_fds: int = 0) -> tuple[dict[str, Any] | None, list[int]]:
    """Receive one message: ``(None, fds)`` when the peer closed the socket first."""
    if max_fds:
        header, fds, _, _ = socket.recv_fds(sock, 4, max_fds)
    else:
        header, fds = sock.recv(4), []
    while header and len(header) < 4:
        more = sock.recv(4 - len(header))
        if not more:
            return None, fds
        header += more
    if len(header) < 4:
        return None, fds
    (size,) = struct.unpack("<I", header)
    if size > MAX_MESSAGE:
        raise ValueError(f"a message of {size} bytes is larger than {MAX_MESSAGE}")
    chunks, received = [], 0
    while received < size:
        chunk = sock.recv(min(size - received, 1 << 20))
        if not chunk:
            return None, fds
        chunks.append(chunk)
        received += len(chunk)
    message = json.loads(b"".join(chunks))
    if not isinstance(message, dict):
        raise ValueError("a message must be a JSON object")
    return message, fds
