"""The child's own seccomp filter: a classic BPF program installed with ``prctl(PR_SET_SECCOMP)``.

A layer that needs no namespace and no privilege (only ``no_new_privs``), so it also
holds in a container whose seccomp profile refuses ``unshare`` (filters stack: the
stricter answer wins).  The filter refuses, with ``EPERM``:

* sockets of every family (the child talks to the grader over pipes it already has),
* ``ptrace``, ``process_vm_readv/writev``, ``kcmp``, ``pidfd_*`` (no reading other processes),
* new namespaces (``unshare``, ``setns``, ``clone`` with a ``CLONE_NEW*`` flag; ``clone3``
  answers ``ENOSYS`` so that the C library falls back to ``clone``, whose flags a classic
  filter can read), mounts and ``chroot``,
* signals to any process but its own group (``kill``/``tgkill`` only with its own pid, its
  group or 0; the child is a session leader of its own, see :mod:`.confine`), and leaving
  that group (``setsid``, ``setpgid``): the intermediate kills the whole group at the end,
  so no process of a submission outlives it, even without a PID namespace,
* memory that ``RLIMIT_DATA`` does not count: shared anonymous mappings, ``memfd_create``,
  System V shared memory,
* kernel interfaces a submission never needs (bpf, perf, io_uring, keyrings, modules,
  userfaultfd, file handles, reboot, swap, ...); x32 system calls on x86-64.

Everything else is allowed.  Standard library only (see this folder's ``__init__``).
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct

PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
RET_ALLOW, RET_KILL_PROCESS = 0x7FFF0000, 0x80000000
LD_W_ABS, JEQ_K, JSET_K, JGE_K, RET_K, AND_K = 0x20, 0x15, 0x45, 0x35, 0x06, 0x54
CLONE_NEW_ANY = 0x00020000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 \
    | 0x02000000  # NS UTS IPC USER PID NET CGROUP
MAP_SHARED, MAP_ANONYMOUS = 0x01, 0x20

# name -> number, for the two architectures the grader runs on.
_X86_64 = dict(
    socket=41, socketpair=53, ptrace=101, process_vm_readv=310, process_vm_writev=311,
    kcmp=312, pidfd_open=434, pidfd_send_signal=424, pidfd_getfd=438, unshare=272, setns=308,
    mount=165, umount2=166, pivot_root=155, chroot=161, mount_setattr=442, open_tree=428,
    move_mount=429, fsopen=430, fsconfig=431, fsmount=432, fspick=433, clone=56, clone3=435,
    kill=62, tkill=200, tgkill=234, rt_sigqueueinfo=129, rt_tgsigqueueinfo=297, bpf=321,
    perf_event_open=298, userfaultfd=323, io_uring_setup=425, io_uring_enter=426,
    io_uring_register=427, keyctl=250, add_key=248, request_key=249, kexec_load=246,
    kexec_file_load=320, init_module=175, finit_module=313, delete_module=176,
    memfd_create=319, memfd_secret=447, mmap=9, shmget=29, shmat=30,
    open_by_handle_at=304, name_to_handle_at=303, personality=135, reboot=169, swapon=167,
    swapoff=168, acct=163, sethostname=170, setdomainname=171, iopl=172, ioperm=173,
    syslog=103, quotactl=179, vhangup=153, setsid=112, setpgid=109)
_AARCH64 = dict(
    socket=198, socketpair=199, ptrace=117, process_vm_readv=270, process_vm_writev=271,
    kcmp=272, pidfd_open=434, pidfd_send_signal=424, pidfd_getfd=438, unshare=97, setns=268,
    mount=40, umount2=39, pivot_root=41, chroot=51, mount_setattr=442, open_tree=428,
    move_mount=429, fsopen=430, fsconfig=431, fsmount=432, fspick=433, clone=220, clone3=435,
    kill=129, tkill=130, tgkill=131, rt_sigqueueinfo=138, rt_tgsigqueueinfo=240, bpf=280,
    perf_event_open=241, userfaultfd=282, io_uring_setup=425, io_uring_enter=426,
    io_uring_register=427, keyctl=219, add_key=217, request_key=218, kexec_load=104,
    kexec_file_load=294, init_module=105, finit_module=273, delete_module=106,
    memfd_create=279, memfd_secret=447, mmap=222, shmget=194, shmat=196,
    open_by_handle_at=265, name_to_handle_at=264, personality=92, reboot=142, swapon=224,
    swapoff=225, acct=89, sethostname=161, setdomainname=162, syslog=116, quotactl=60,
    vhangup=58, setsid=157, setpgid=154)
_ARCHES = {"x86_64": (0xC000003E, _X86_64), "aarch64": (0xC00000B7, _AARCH64)}
_SPECIAL = ("clone", "clone3", "kill", "tgkill", "mmap")


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _op(code: int, k: int = 0, jt: int = 0, jf: int = 0) -> tuple[int, int, int, int]:
    return (code, jt, jf, k & 0xFFFFFFFF)


def _arg_low(index: int) -> tuple[int, int, int, int]:
    """Load the low 32 bits of system-call argument ``index`` (struct seccomp_data, LE)."""
    return _op(LD_W_ABS, 16 + 8 * index)


def build_program(arch: str, pid: int) -> list[tuple[int, int, int, int]]:
    """The filter for ``arch`` (``platform.machine()``) in a process whose pid is ``pid``."""
    audit_arch, numbers = _ARCHES[arch]
    eperm = 0x00050000 | errno.EPERM
    enosys = 0x00050000 | errno.ENOSYS
    program = [_op(LD_W_ABS, 4), _op(JEQ_K, audit_arch, 1, 0), _op(RET_K, RET_KILL_PROCESS),
               _op(LD_W_ABS, 0)]
    if arch == "x86_64":  # the x32 ABI has its own numbers: refuse it wholesale
        program += [_op(JGE_K, 0x40000000, 0, 1), _op(RET_K, eperm)]

    def rule(number: int, block: list[tuple[int, int, int, int]]) -> None:
        program.append(_op(JEQ_K, number, 0, len(block)))
        program.extend(block)

    # Arguments are ints for the kernel: only their low 32 bits count.
    rule(numbers["clone"], [_arg_low(0), _op(JSET_K, CLONE_NEW_ANY, 0, 1), _op(RET_K, eperm),
                            _op(RET_K, RET_ALLOW)])
    rule(numbers["clone3"], [_op(RET_K, enosys)])  # its flags live in memory: use clone
    own = [pid, 0, -pid]
    rule(numbers["kill"], [_arg_low(0), *[_op(JEQ_K, value, len(own) - i, 0)
                                          for i, value in enumerate(own)],
                           _op(RET_K, eperm), _op(RET_K, RET_ALLOW)])
    rule(numbers["tgkill"], [_arg_low(0), _op(JEQ_K, pid, 1, 0), _op(RET_K, eperm),
                             _op(RET_K, RET_ALLOW)])
    rule(numbers["mmap"], [_arg_low(3), _op(AND_K, MAP_SHARED | MAP_ANONYMOUS),
                           _op(JEQ_K, MAP_SHARED | MAP_ANONYMOUS, 0, 1), _op(RET_K, eperm),
                           _op(RET_K, RET_ALLOW)])
    for name, number in numbers.items():
        if name not in _SPECIAL:
            rule(number, [_op(RET_K, eperm)])
    program.append(_op(RET_K, RET_ALLOW))
    return program


def install_seccomp() -> str:
    """Install the filter in this (single-threaded) process; a description of what it refuses.

    Raises OSError when the kernel or the architecture does not allow it.
    """
    arch = platform.machine()
    if arch not in _ARCHES:
        raise OSError(errno.ENOSYS, f"no seccomp filter for the architecture {arch}")
    program = build_program(arch, os.getpid())
    data = b"".join(struct.pack("<HBBI", *instruction) for instruction in program)
    buffer = ctypes.create_string_buffer(data, len(data))
    fprog = _SockFprog(len(program), ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong,
                           ctypes.c_ulong]
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"seccomp: {os.strerror(code)}")
    return ("seccomp filter: no sockets, no ptrace, no new namespaces or mounts, signals only "
            "to its own process group, no shared anonymous memory")
