"""Landlock (Linux >= 5.13): an allow-list of the files the child may touch, by raw system calls.

The child may read (and execute) only what the grader lists: the Python standard
library, the distributions torch needs, the system's shared libraries and a few
device and ``/proc`` entries (its own ``/proc/self``, never another process's); list
(not read) the site-packages folders; write only its own working folder.  Every other
path does not open, whoever the process is (root included) and whether or not there are
namespaces.  Landlock keeps the child from ptrace-attaching or reading the memory of
processes outside its domain, but not from reading their ``/proc/PID/environ`` (measured
on Linux 6.18), hence ``/proc`` by entries; from ABI 4 it refuses TCP bind/connect and
from ABI 6 signals and abstract unix sockets outside the domain.

System calls 444-446 have the same numbers on every architecture.  Standard library
only (see this folder's ``__init__``).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
from collections.abc import Iterable

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1, 2, 4, 8
REFER, TRUNCATE = 1 << 13, 1 << 14
FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE  # the rights a rule on a file may hold
READ = EXECUTE | READ_FILE | READ_DIR
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1, 2
NET_BIND_TCP, NET_CONNECT_TCP = 1, 2

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def abi_version() -> int:
    """The kernel's Landlock ABI (0: not available)."""
    result = _libc.syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0),
                           ctypes.c_uint32(CREATE_RULESET_VERSION))
    return max(int(result), 0)


def _handled_fs(abi: int) -> int:
    every = (1 << 13) - 1  # ABI 1: execute .. make_sym
    if abi >= 2:
        every |= REFER
    if abi >= 3:
        every |= TRUNCATE
    return every  # IOCTL_DEV (ABI 5) is left alone: CUDA drives its devices by ioctl


def restrict(read: Iterable[str], list_only: Iterable[str], write: Iterable[str]) -> str:
    """Confine this process (and what it starts) to the listed paths; a description.

    ``read``: read and execute beneath each path; ``list_only``: directory listing only;
    ``write``: everything beneath.  Paths that do not exist are skipped.  Raises
    OSError when Landlock is unavailable.  Needs ``no_new_privs`` (set by the caller).
    """
    abi = abi_version()
    if abi < 1:
        raise OSError(errno.EOPNOTSUPP, "Landlock is not available in this kernel")
    handled = _handled_fs(abi)
    attr = _RulesetAttr(handled, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                        SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = _libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                            ctypes.c_uint32(0))
    if ruleset < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"landlock_create_ruleset: {os.strerror(code)}")
    try:
        for paths, rights in ((read, READ), (list_only, READ_DIR), (write, handled)):
            for path in paths:
                _add(int(ruleset), path, rights & handled)
        if _libc.syscall(SYS_RESTRICT_SELF, ctypes.c_int(int(ruleset)), ctypes.c_uint32(0)):
            code = ctypes.get_errno()
            raise OSError(code, f"landlock_restrict_self: {os.strerror(code)}")
    finally:
        os.close(int(ruleset))
    extra = (", no TCP" if abi >= 4 else "") + \
        (", no signals or abstract sockets outside it" if abi >= 6 else "")
    return (f"Landlock ABI {abi}: reads only Python, torch and system libraries, writes only "
            f"its working folder{extra}")


def _add(ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # not on this machine
    try:
        if not os.path.isdir(path):
            rights &= FILE_ONLY
        rule = _PathBeneath(rights, fd)
        if _libc.syscall(SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(RULE_PATH_BENEATH),
                         ctypes.byref(rule), ctypes.c_uint32(0)):
            code = ctypes.get_errno()
            raise OSError(code, f"landlock_add_rule {path}: {os.strerror(code)}")
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
