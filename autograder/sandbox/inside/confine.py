"""How a child confines itself before it runs any student code (the set-up half of a child).

:class:`Confinement` is the part of :class:`~.child.Child` that runs once, right after
the fork: new namespaces and a private ``/tmp``, an unprivileged uid with
``no_new_privs``, the resource limits of :class:`~.limits.Limits`, the output cap,
and the audit hook and runtime guard.  Standard library and torch only (see this
folder's ``__init__``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import sys
import types
from typing import Any

from . import implementation_guard, landlock, runtime_guard
from .audit import install_audit_hook
from .framing import write_all
from .limits import Limits
from .seccomp import install_seccomp
from .syscalls import (
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWUSER,
    CLONE_NEWUTS,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_RDONLY,
    PR_SET_NO_NEW_PRIVS,
    PR_SET_PDEATHSIG,
    mount,
    prctl,
    unshare,
    write_file,
)


class CappedStream(io.TextIOBase):
    """sys.stdout/sys.stderr of the child: writes to a file descriptor, drops what exceeds a cap."""

    def __init__(self, fd: int, cap: int) -> None:
        self.fd = fd
        self.left = cap

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.left > 0:
            data = str(text).encode("utf-8", "replace")[: self.left]
            self.left -= len(data)
            try:
                write_all(self.fd, data)
            except OSError:
                self.left = 0
        return len(text)

    def flush(self) -> None:
        pass

    def fileno(self) -> int:
        return self.fd


STUDENT_FILE_PREFIX = "<submission "


def _mapped_files() -> list[str]:
    """Files this process has mapped (its shared libraries): readable under Landlock too."""
    try:
        with open("/proc/self/maps") as maps:
            fields = [line.split(None, 5) for line in maps]
        paths = {f[5].strip() for f in fields if len(f) == 6}
    except OSError:
        return []
    return sorted(p for p in paths if p.startswith("/") and not p.endswith("(deleted)"))


class Confinement:
    """The set-up steps of a child (mixed into :class:`~.child.Child`, which serves)."""

    request: dict[str, Any]
    config: dict[str, Any]
    mode: str
    layers: list[str]
    warnings: list[str]
    namespace: dict[str, Any]
    cmd_fd: int
    res_fd: int
    out_fd: int
    status_fd: int

    def serve(self) -> None:  # provided by Child
        raise NotImplementedError

    def run(self) -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        limits = self.limits = Limits.from_wire(self.request["limits"])
        # A uid of its own per child (no passwd entry): sandboxes running at the same time
        # never share a process count (RLIMIT_NPROC) and cannot signal each other.
        self.uid = int(self.config["uid_base"]) + os.getpid() % 1_000_000
        self.intermediate = os.getpid()
        namespaces = self.enter_namespaces(limits)
        # The only writable place: the private tmpfs on /tmp, or without a mount namespace a
        # fresh folder (then the audit hook is what keeps writes inside it).
        self.workdir = "/tmp"
        if "mnt" not in namespaces:
            import tempfile

            self.workdir = tempfile.mkdtemp(prefix="nntrain-sandbox-")
            if os.geteuid() == 0:
                os.chown(self.workdir, self.uid, int(self.config["gid"]))
        pid = os.fork()
        if pid:  # the intermediate process: report the pid and the way the child ended
            for fd in (self.cmd_fd, self.res_fd, self.out_fd):
                os.close(fd)
            write_all(self.status_fd, (json.dumps({"pid": pid}) + "\n").encode())
            _, status = os.waitpid(pid, 0)
            with contextlib.suppress(OSError):  # what it forked (it cannot leave the group)
                os.killpg(pid, signal.SIGKILL)
            if self.workdir != "/tmp":
                import shutil

                shutil.rmtree(self.workdir, ignore_errors=True)
            write_all(self.status_fd, (json.dumps({"exit": status}) + "\n").encode())
            os._exit(0)
        os.close(self.status_fd)
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        os.setsid()  # a process group of its own: the only one its signals may reach
        self.finish_namespaces(namespaces)
        self.in_pid_namespace = "pid" in namespaces
        self.drop_privileges(limits)
        self.set_limits(limits)
        self.redirect_output(limits)
        self.install_hooks()
        self.serve()

    def enter_namespaces(self, limits: Limits) -> set[str]:
        entered: set[str] = set()
        if self.mode == "none":
            return entered
        for flag, name in ((CLONE_NEWNET, "net"), (CLONE_NEWPID, "pid"), (CLONE_NEWIPC, "ipc"),
                           (CLONE_NEWUTS, "uts"), (CLONE_NEWNS, "mnt")):
            try:
                unshare(flag)
                entered.add(name)
            except OSError as error:
                self.warnings.append(f"{name} namespace unavailable ({error})")
        if "mnt" in entered:
            # Only this sandbox's processes see this tmpfs (a private mount namespace).
            mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
                  f"size={limits.tmp_mb}m,mode=1777")
            for path in self.request.get("hide", []):
                if os.path.isdir(path):
                    try:
                        mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY,
                              "size=4k,mode=755")
                    except OSError as error:
                        self.warnings.append(f"could not hide {path} ({error})")
        if "net" in entered:
            self.layers.append("network namespace (no interfaces but a down loopback)")
        if "pid" in entered:
            self.layers.append("PID namespace (all its processes die with the child)")
        return entered

    def finish_namespaces(self, entered: set[str]) -> None:
        if "pid" in entered and "mnt" in entered:
            try:
                mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            except OSError as error:
                self.warnings.append(f"could not mount a private /proc ({error})")
        if "mnt" in entered:
            self.layers.append("private /tmp (tmpfs, the only writable place)")
            if os.path.isdir("/dev/shm"):  # shared memory that RLIMIT_DATA would not count
                try:
                    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          "size=1m,mode=1777")
                except OSError as error:
                    self.warnings.append(f"could not cover /dev/shm ({error})")

    def drop_privileges(self, limits: Limits) -> None:
        if self.mode == "root" or (self.mode == "none" and os.geteuid() == 0
                                   and self.config.get("stdlib_world_readable")):
            gid = int(self.config["gid"])
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            for uid in (self.uid, 65534):  # a uid of its own, else nobody (e.g. in a userns)
                try:
                    os.setresuid(uid, uid, uid)
                    break
                except OSError as error:
                    self.warnings.append(f"cannot switch to uid {uid} ({error})")
            else:
                raise OSError("the sandbox cannot drop root privileges")
            self.layers.append(f"unprivileged uid {uid} (gid {gid})")
        elif self.mode == "userns":
            uid, gid = os.geteuid(), os.getegid()
            unshare(CLONE_NEWUSER)
            write_file("/proc/self/setgroups", "deny")
            write_file("/proc/self/uid_map", f"65534 {uid} 1")
            write_file("/proc/self/gid_map", f"65534 {gid} 1")
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            self.layers.append("unprivileged user in a nested user namespace")
        elif os.geteuid() == 0:
            self.warnings.append("runs as root: the standard library is not readable by others")
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # cleared by the change of credentials
        if not self.in_pid_namespace and os.getppid() != self.intermediate:
            os._exit(0)  # the intermediate died before we could ask to die with it
        os.chdir(self.workdir)
        self.confine_files_and_calls()
        os.environ.clear()
        os.environ.update({"HOME": self.workdir, "TMPDIR": self.workdir, "USER": "student",
                           "LOGNAME": "student", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
                           "OMP_NUM_THREADS": str(limits.threads)})

    def confine_files_and_calls(self) -> None:
        """Landlock's allow-list and the seccomp filter: layers that need no namespace."""
        rules = self.config.get("landlock") or {}
        mapped = _mapped_files()
        try:
            self.layers.append(landlock.restrict(
                [*rules.get("read", []), *mapped], rules.get("list", []),
                [self.workdir, *rules.get("write", [])]))
        except OSError as error:
            self.warnings.append(f"Landlock unavailable ({error})")
        try:
            self.layers.append(install_seccomp())
        except OSError as error:
            self.warnings.append(f"seccomp filter unavailable ({error})")
        self.readable = []
        for path in [*self.config.get("probes", []), *self.request.get("hide", [])]:
            try:
                if os.path.isdir(path):
                    if os.listdir(path):
                        self.readable.append(path)
                else:
                    os.close(os.open(path, os.O_RDONLY))
                    self.readable.append(path)
            except OSError:
                pass

    def set_limits(self, limits: Limits) -> None:
        import resource

        def cap(which: int, value: int) -> None:
            soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value))

        mb = 1024 * 1024
        memory = limits.memory_mb * mb
        cap(resource.RLIMIT_DATA, memory)
        if limits.address_space_mb:
            cap(resource.RLIMIT_AS, limits.address_space_mb * mb)
        cap(resource.RLIMIT_NPROC, limits.nproc)
        cap(resource.RLIMIT_FSIZE, limits.fsize_mb * mb)
        cap(resource.RLIMIT_CORE, 0)
        cap(resource.RLIMIT_CPU, limits.cpu_s)
        cap(resource.RLIMIT_NOFILE, limits.nofile)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails, not the process
        self.layers.append(
            f"limits: data {limits.memory_mb} MB, {limits.nproc} processes, files "
            f"{limits.fsize_mb} MB, CPU {limits.cpu_s} s, no core dumps")

    def redirect_output(self, limits: Limits) -> None:
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(self.out_fd, 1)
        os.dup2(self.out_fd, 2)
        os.close(self.out_fd)
        keep = {0, 1, 2, self.cmd_fd, self.res_fd}
        for fd in range(3, 1024):
            if fd not in keep:
                with contextlib.suppress(OSError):
                    os.close(fd)
        cap = limits.output_kb * 1024
        sys.stdout = CappedStream(1, cap)
        sys.stderr = CappedStream(2, cap)
        import faulthandler

        faulthandler.enable(file=sys.stderr)

    def install_hooks(self) -> None:
        import torch

        torch.set_num_threads(self.limits.threads)
        student_builtins = dict(vars(__import__("builtins")))
        self.namespace = {"__name__": "__main__", "__builtins__": student_builtins}
        guards = runtime_guard
        assignment = self.request["assignment"]
        self.guard = guards.install_runtime_guard(
            assignment["forbidden"], assignment["tensor_methods"], self.is_student_frame,
            student_builtins, assignment.get("tampering", ()),
            assignment.get("refused_modules", ()))
        self.layers.append(f"runtime guard on {self.guard.wrapped} forbidden callables")
        self.implementation_guard = implementation_guard.implementation_guard(
            self.guard, assignment["tensor_methods"])
        self.layers.append("implementation guard: torch functions refused at dispatch "
                           "however student code reached them")
        if self.config.get("audit", True):
            install_audit_hook(self.config["protected"], self.workdir)
            self.layers.append("audit hook: no sockets, no new processes, no reads of the "
                               f"grader's files, writes only under {self.workdir}")

    def is_student_frame(self, frame: types.FrameType) -> bool:
        return (frame.f_code.co_filename.startswith(STUDENT_FILE_PREFIX)
                or frame.f_globals is self.namespace)

    # -- serving ----------------------------------------------------------------------------
