"""Run a command as in a container without namespaces or Landlock (for tests/test_container.py).

``python tests/container_sim.py [--landlock] -- COMMAND...`` installs a seccomp filter that
answers ``unshare``, ``setns`` and ``clone`` with a ``CLONE_NEW*`` flag with EPERM (Docker's
default profile does the same) and, unless ``--landlock``, Landlock's three system calls with
ENOSYS (a kernel without Landlock), sets ``no_new_privs`` and executes COMMAND, which
inherits the filter with every process it starts.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
import sys

from autograder.sandbox.inside import seccomp as sc


def main() -> None:
    args = sys.argv[1:]
    keep_landlock = "--landlock" in args
    command = args[args.index("--") + 1:]
    audit_arch, numbers = sc._ARCHES[platform.machine()]
    eperm, enosys = 0x00050000 | errno.EPERM, 0x00050000 | errno.ENOSYS
    program = [sc._op(sc.LD_W_ABS, 4), sc._op(sc.JEQ_K, audit_arch, 1, 0),
               sc._op(sc.RET_K, sc.RET_ALLOW), sc._op(sc.LD_W_ABS, 0)]
    refused = [(numbers["unshare"], eperm), (numbers["setns"], eperm),
               (numbers["clone3"], enosys)]
    if not keep_landlock:
        refused += [(444, enosys), (445, enosys), (446, enosys)]
    for number, answer in refused:
        program += [sc._op(sc.JEQ_K, number, 0, 1), sc._op(sc.RET_K, answer)]
    program += [sc._op(sc.JEQ_K, numbers["clone"], 0, 4), sc._arg_low(0),
                sc._op(sc.JSET_K, sc.CLONE_NEW_ANY, 0, 1), sc._op(sc.RET_K, eperm),
                sc._op(sc.RET_K, sc.RET_ALLOW), sc._op(sc.RET_K, sc.RET_ALLOW)]
    data = b"".join(struct.pack("<HBBI", *op) for op in program)
    buffer = ctypes.create_string_buffer(data, len(data))
    fprog = sc._SockFprog(len(program), ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong,
                           ctypes.c_ulong]
    if libc.prctl(38, 1, None, 0, 0) or libc.prctl(sc.PR_SET_SECCOMP, sc.SECCOMP_MODE_FILTER,
                                                    ctypes.byref(fprog), 0, 0):
        raise SystemExit(f"cannot install the filter: {os.strerror(ctypes.get_errno())}")
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
