"""The program that runs student code: a zygote that forks one sandboxed child per submission.

Started by :mod:`autograder.sandbox` as ``python -I -S child.py`` (isolated mode,
no site-packages, not even this file's folder on ``sys.path``).  This file is a
script, not a module of the package: inside the sandbox the ``autograder``
package is neither importable nor readable, so it loads its two helpers
(:mod:`autograder.transport`, :mod:`autograder.guards`) by file path before the
file system is closed.

The zygote (trusted, never runs student code)
  1. builds a private view of the file system (a mount namespace): empty tmpfs
     over the repository, the packages ``nntrain``/``autograder``, home folders
     and the submissions; the Python standard library and the site-packages
     holding torch re-exposed read-only; everything read-only;
  2. imports torch (once), then forks a child per request of the grader.

Each child (runs student code)
  1. enters new network, PID, IPC, UTS and mount namespaces and mounts a private
     size-limited tmpfs on ``/tmp`` (its working directory and ``TMPDIR``, the
     only writable place), and a fresh ``/proc``;
  2. becomes an unprivileged user (a uid of its own, so that process counts and
     signals never reach another sandbox), sets ``no_new_privs`` and resource
     limits (memory, processes, file size, core dumps, CPU time, open files);
  3. installs an audit hook (no sockets, no new processes, no reads of the
     hidden paths) and the runtime guard against forbidden built-ins;
  4. serves the grader's requests (run a cell, call a function, use a handle)
     over two pipes, in the safe format of :mod:`autograder.transport`.

When namespaces are unavailable (e.g. an unprivileged container) the zygote
says so in its report and the audit hook and resource limits remain.
"""

from __future__ import annotations

# Everything here runs before site-packages are on sys.path: standard library only.
import ast
import contextlib
import ctypes
import ctypes.util
import errno
import importlib.abc
import importlib.util
import io
import json
import linecache
import os
import signal
import socket
import struct
import sys
import traceback
import types
from typing import Any

# ----------------------------------------------------------------------------- system calls
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
SYS_MOUNT_SETATTR = 442  # the same number on every architecture (added in Linux 5.12)
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID = 0x1, 0x2
AT_FDCWD, AT_RECURSIVE = -100, 0x8000

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p]
_libc.syscall.restype = ctypes.c_long
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                        ctypes.c_ulong]


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int,
          data: str | None = None) -> None:
    def enc(s):
        return (s.encode() if s is not None else None)
    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)),
           f"mount {target}")


def prctl(option: int, arg: int) -> None:
    _check(_libc.prctl(option, arg, 0, 0, 0), "prctl")


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def make_tree_readonly(path: str = "/") -> None:
    """Every mount under ``path`` read-only and nosuid, in this mount namespace only."""
    attr = _MountAttr(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0, 0, 0)
    result = _libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, path.encode(), AT_RECURSIVE,
                           ctypes.byref(attr), ctypes.sizeof(attr))
    if result == 0:
        return
    # Older kernels: remount each mount point read-only (bind remounts change this mount only).
    with open("/proc/self/mountinfo") as mountinfo:
        points = [line.split()[4] for line in mountinfo]
    for point in points:
        point = point.encode().decode("unicode_escape")
        if point == path or point.startswith(path.rstrip("/") + "/"):
            with contextlib.suppress(OSError):
                mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID)


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


# ----------------------------------------------------------------------------- framing
_PREFIX = struct.Struct("<4sQ")


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


def send_json(sock: socket.socket, message: dict[str, Any], fds: list[int] = ()) -> None:
    data = json.dumps(message).encode()
    payload = struct.pack("<I", len(data)) + data
    if fds:
        socket.send_fds(sock, [payload], list(fds))
    else:
        sock.sendall(payload)


def recv_json(sock: socket.socket, max_fds: int = 0) -> tuple[dict[str, Any] | None, list[int]]:
    header, fds, _, _ = socket.recv_fds(sock, 4, max_fds) if max_fds else (sock.recv(4), [], 0, 0)
    if len(header) < 4:
        return None, fds
    (size,) = struct.unpack("<I", header)
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None, fds
        data += chunk
    return json.loads(data), fds


# ----------------------------------------------------------------------------- import barrier
class RefuseImports(importlib.abc.MetaPathFinder):
    """Meta-path finder that refuses whole top-level packages (defence in depth)."""

    def __init__(self, names: list[str]) -> None:
        self.names = set(names)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {fullname!r} (not available to "
                                      "submissions)", name=fullname)
        return None


def load_by_path(name: str, path: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------- the file system view
def _depth(path: str) -> int:
    return len([p for p in path.split("/") if p])


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def build_view(hide: list[str], expose: list[str]) -> list[str]:
    """Cover ``hide`` with empty tmpfs, bind ``expose`` back read-only, make / read-only."""
    done = []
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    handles = {}
    for path in expose:
        with contextlib.suppress(OSError):
            handles[path] = os.open(path, os.O_PATH | os.O_DIRECTORY)
    covered: list[tuple[str, bool]] = []  # (path, shows the original directory)

    def shows_original(path: str) -> bool:
        nearest = max(((p, original) for p, original in covered if _under(path, p)),
                      key=lambda item: len(item[0]), default=None)
        return nearest is None or nearest[1]

    ops = sorted([(_depth(p), 0, p) for p in hide] + [(_depth(p), 1, p) for p in handles])
    for _, kind, path in ops:
        if kind == 0:
            if os.path.isdir(path) and shows_original(path):
                mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
                covered.append((path, False))
                done.append(f"hid {path}")
        elif not shows_original(path):
            os.makedirs(path, mode=0o755, exist_ok=True)
            mount(f"/proc/self/fd/{handles[path]}", path, None, MS_BIND | MS_REC)
            covered.append((path, True))
            done.append(f"re-exposed {path}")
    for fd in handles.values():
        os.close(fd)
    make_tree_readonly("/")
    return done


# ----------------------------------------------------------------------------- the zygote
class Zygote:
    def __init__(self, sock: socket.socket, config: dict[str, Any]) -> None:
        self.sock = sock
        self.config = config
        self.report: dict[str, Any] = {"mode": "none", "layers": [], "warnings": []}

    def isolate(self) -> None:
        wanted = self.config.get("isolation", "auto")
        hide, expose = self.config["hide"], self.config["expose"]
        if wanted == "none":
            self.report["warnings"].append("isolation was switched off by the caller")
            return
        if os.geteuid() == 0 and wanted in ("auto", "root"):
            try:
                unshare(CLONE_NEWNS)
                steps = build_view(hide, expose)
                self.report["mode"] = "root"
                self.report["layers"].append(
                    "private mount namespace: repository, packages and submissions hidden, "
                    "standard library and site-packages read-only, / read-only")
                self.report["view"] = steps
                return
            except OSError as error:
                self.report["warnings"].append(f"mount namespace unavailable ({error})")
                if wanted == "root":
                    return
        if wanted in ("auto", "userns"):
            try:
                uid, gid = os.geteuid(), os.getegid()
                unshare(CLONE_NEWUSER | CLONE_NEWNS)
                _write("/proc/self/setgroups", "deny")
                _write("/proc/self/uid_map", f"0 {uid} 1")
                _write("/proc/self/gid_map", f"0 {gid} 1")
                steps = build_view(hide, expose)
                self.report["mode"] = "userns"
                self.report["layers"].append(
                    "user and mount namespaces: repository, packages and submissions hidden, "
                    "/ read-only")
                self.report["view"] = steps
                return
            except OSError as error:
                self.report["warnings"].append(f"user namespace unavailable ({error})")
        self.report["warnings"].append(
            "no mount namespace: the repository is hidden only by the audit hook")

    def serve(self) -> None:
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
        while True:
            try:
                request, fds = recv_json(self.sock, max_fds=8)
            except OSError:
                return
            if request is None:
                return
            try:
                pid = os.fork()
            except OSError as error:
                for fd in fds:
                    os.close(fd)
                send_json(self.sock, {"error": f"fork failed: {error}"})
                continue
            if pid == 0:
                try:
                    self.sock.close()
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    Child(request, fds, self.config, self.report).run()
                except BaseException:  # the child must never return into the loop
                    traceback.print_exc()
                os._exit(70)
            for fd in fds:
                os.close(fd)
            send_json(self.sock, {"forked": pid})


# ----------------------------------------------------------------------------- the child
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


class Child:
    """One sandboxed process serving the grader for one submission."""

    def __init__(self, request: dict[str, Any], fds: list[int], config: dict[str, Any],
                 zygote_report: dict[str, Any]) -> None:
        self.request = request
        self.cmd_fd, self.res_fd, self.out_fd, self.status_fd = fds
        self.config = config
        self.mode = zygote_report["mode"]
        self.layers: list[str] = []
        self.warnings: list[str] = []
        self.handles: dict[int, Any] = {}
        self.next_handle = 1
        self.namespace: dict[str, Any] = {}
        self.loaded = False

    # -- set up -----------------------------------------------------------------------------
    def run(self) -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        limits = self.request["limits"]
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
            if self.workdir != "/tmp":
                import shutil

                shutil.rmtree(self.workdir, ignore_errors=True)
            write_all(self.status_fd, (json.dumps({"exit": status}) + "\n").encode())
            os._exit(0)
        os.close(self.status_fd)
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        self.finish_namespaces(namespaces)
        self.in_pid_namespace = "pid" in namespaces
        self.drop_privileges(limits)
        self.set_limits(limits)
        self.redirect_output(limits)
        self.install_hooks()
        self.serve()

    def enter_namespaces(self, limits: dict[str, Any]) -> set[str]:
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
                  f"size={int(limits['tmp_mb'])}m,mode=1777")
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

    def drop_privileges(self, limits: dict[str, Any]) -> None:
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
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"65534 {uid} 1")
            _write("/proc/self/gid_map", f"65534 {gid} 1")
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
        os.environ.clear()
        os.environ.update({"HOME": self.workdir, "TMPDIR": self.workdir, "USER": "student",
                           "LOGNAME": "student", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
                           "OMP_NUM_THREADS": str(limits["threads"])})

    def set_limits(self, limits: dict[str, Any]) -> None:
        import resource

        def cap(which: int, value: int) -> None:
            soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value))

        mb = 1024 * 1024
        memory = int(limits["memory_mb"]) * mb
        cap(resource.RLIMIT_DATA, memory)
        if limits.get("address_space_mb"):
            cap(resource.RLIMIT_AS, int(limits["address_space_mb"]) * mb)
        cap(resource.RLIMIT_NPROC, int(limits["nproc"]))
        cap(resource.RLIMIT_FSIZE, int(limits["fsize_mb"]) * mb)
        cap(resource.RLIMIT_CORE, 0)
        cap(resource.RLIMIT_CPU, int(limits["cpu_s"]))
        cap(resource.RLIMIT_NOFILE, int(limits["nofile"]))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails, not the process
        self.layers.append(
            f"limits: data {limits['memory_mb']} MB, {limits['nproc']} processes, files "
            f"{limits['fsize_mb']} MB, CPU {limits['cpu_s']} s, no core dumps")

    def redirect_output(self, limits: dict[str, Any]) -> None:
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
        cap = int(limits["output_kb"]) * 1024
        sys.stdout = CappedStream(1, cap)
        sys.stderr = CappedStream(2, cap)
        import faulthandler

        faulthandler.enable(file=sys.stderr)

    def install_hooks(self) -> None:
        import torch

        torch.set_num_threads(int(self.request["limits"]["threads"]))
        student_builtins = dict(vars(__import__("builtins")))
        self.namespace = {"__name__": "__main__", "__builtins__": student_builtins}
        guards = sys.modules["_nntrain_guards"]
        assignment = self.request["assignment"]
        self.guard = guards.install_runtime_guard(
            assignment["forbidden"], assignment["tensor_methods"], self.is_student_frame,
            student_builtins)
        self.layers.append(f"runtime guard on {self.guard.wrapped} forbidden callables")
        if self.config.get("audit", True):
            install_audit_hook(self.config["protected"], self.workdir)
            self.layers.append("audit hook: no sockets, no new processes, no reads of the "
                               f"grader's files, writes only under {self.workdir}")

    def is_student_frame(self, frame: types.FrameType) -> bool:
        return (frame.f_code.co_filename.startswith(STUDENT_FILE_PREFIX)
                or frame.f_globals is self.namespace)

    # -- serving ----------------------------------------------------------------------------
    def serve(self) -> None:
        transport = sys.modules["_nntrain_transport"]
        self.transport = transport
        self.reply({"status": "ready", "layers": self.layers, "warnings": self.warnings,
                    "pid": os.getpid()})
        while True:
            try:
                prefix = read_exact(self.cmd_fd, transport.PREFIX_SIZE)
                body = read_exact(self.cmd_fd, transport.frame_length(prefix))
            except EOFError:
                os._exit(0)
            generators: list[Any] = []
            request_id = None
            try:
                request = transport.decode(body, make_handle=self.lookup_handle,
                                           generators=generators)
                request_id = request.get("id")
                response = self.dispatch(request, generators)
            except BaseException as error:  # everything becomes an error reply
                response = self.error_reply(error)
            response["id"] = request_id
            self.reply(response)

    def reply(self, response: dict[str, Any]) -> None:
        transport = self.transport if hasattr(self, "transport") else \
            sys.modules["_nntrain_transport"]
        try:
            frame = transport.encode(response, on_unknown=self.make_handle)
        except BaseException as error:  # a hostile __reduce__/__len__ may raise anything
            fallback = self.error_reply(error, "the returned value cannot be sent")
            fallback["id"] = response.get("id")
            frame = transport.encode(fallback)
        write_all(self.res_fd, frame)

    def error_reply(self, error: BaseException, context: str | None = None) -> dict[str, Any]:
        guards = sys.modules["_nntrain_guards"]
        if isinstance(error, guards.ForbiddenCallError):
            return {"status": "forbidden", "name": error.name}
        try:
            message = str(error)
        except BaseException:  # a hostile __str__
            message = "<exception message could not be shown>"
        if context:
            message = f"{context}: {message}"
        return {"status": "error", "type": type(error).__name__, "message": message[:2000],
                "traceback": self.student_traceback(error)}

    def student_traceback(self, error: BaseException) -> str:
        try:
            frames = [f for f in traceback.extract_tb(error.__traceback__)
                      if f.filename.startswith(STUDENT_FILE_PREFIX)]
            lines = []
            for frame in frames[-4:]:
                cell = frame.filename[len(STUDENT_FILE_PREFIX):-1]
                code = f": {frame.line.strip()}" if frame.line else ""
                lines.append(f"  cell {cell}, line {frame.lineno}, in {frame.name}{code}")
            return "\n".join(lines)[:2000]
        except BaseException:  # a traceback of hostile frames must not break the reply
            return ""

    def make_handle(self, obj: Any) -> list[Any]:
        try:
            import numpy

            if isinstance(obj, numpy.generic):
                return self.transport._Encoder(None).encode(obj.item())
        except ImportError:
            pass
        handle_id = self.next_handle
        self.next_handle += 1
        self.handles[handle_id] = obj
        try:
            names = [f"{c.__module__}.{c.__qualname__}" for c in type(obj).__mro__]
        except BaseException:  # a hostile metaclass may raise on __mro__ or __qualname__
            names = []
        return ["h", handle_id, ["l", *names]]

    def lookup_handle(self, fields: list[Any]) -> Any:
        try:
            return self.handles[fields[0]]
        except (KeyError, IndexError, TypeError):
            raise LookupError("unknown handle (the sandbox was restarted)") from None

    def dispatch(self, request: dict[str, Any], generators: list[Any]) -> dict[str, Any]:
        op = request["op"]
        if op == "exec":
            return self.run_cell(request["cell"], request["code"])
        if op == "has":
            return {"status": "ok", "value": request["name"] in self.namespace}
        if op == "call":
            return self.call(request, generators)
        target = request["target"]
        if op == "getattr":
            return self.guarded(lambda: getattr(target, request["name"]))
        if op == "setattr":
            return self.guarded(lambda: setattr(target, request["name"], request["value"]))
        if op == "iter":
            return self.guarded(lambda: list(target))
        if op == "len":
            return self.guarded(lambda: len(target))
        if op == "getitem":
            return self.guarded(lambda: target[request["key"]])
        if op == "repr":
            return self.guarded(lambda: repr(target)[:2000])
        raise ValueError(f"unknown request {op!r}")

    def guarded(self, action: Any) -> dict[str, Any]:
        self.guard.hits.clear()
        try:
            value = action()
        except BaseException as error:  # student code: SystemExit and KeyboardInterrupt too
            return self.error_reply(error)
        if self.guard.hits:
            return {"status": "forbidden", "name": self.guard.hits[0]}
        return {"status": "ok", "value": value}

    def run_cell(self, cell: str, code: str) -> dict[str, Any]:
        filename = f"{STUDENT_FILE_PREFIX}{cell}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        errors: list[dict[str, Any]] = []
        try:
            tree = ast.parse(code, filename)
        except (SyntaxError, ValueError) as error:
            return {"status": "ok", "errors": [{"line": getattr(error, "lineno", 0) or 0,
                                                "type": type(error).__name__,
                                                "message": str(error)[:500]}], "forbidden": []}
        self.guard.hits.clear()
        for node in tree.body:
            module = ast.Module(body=[node], type_ignores=[])
            try:
                exec(compile(module, filename, "exec"), self.namespace)
            except BaseException as error:  # SystemExit at import included
                errors.append({"line": node.lineno, "type": type(error).__name__,
                               "message": _safe_str(error)[:500]})
        if cell == "imports":
            self.guard.block_imports = True
        return {"status": "ok", "errors": errors, "forbidden": list(self.guard.hits)}

    def call(self, request: dict[str, Any], generators: list[Any]) -> dict[str, Any]:
        target = request["target"]
        where = None
        if isinstance(target, str):
            where = target
            if target not in self.namespace:
                return {"status": "missing", "name": target}
            target = self.namespace[target]
        args, kwargs = list(request["args"]), dict(request["kwargs"])
        info = bool(request.get("info"))
        self.guard.hits.clear()
        try:
            value = target(*args, **kwargs)
        except BaseException as error:  # SystemExit, KeyboardInterrupt included
            reply = self.error_reply(error)
            reply["where"] = where
            if self.guard.hits and reply["status"] != "forbidden":
                reply = {"status": "forbidden", "name": self.guard.hits[0]}
            return reply
        if self.guard.hits:
            return {"status": "forbidden", "name": self.guard.hits[0]}
        reply: dict[str, Any] = {"status": "ok", "value": value,
                                 "generators": [g.get_state() for g in generators]}
        if info:
            # What changed is decided in the grader, which compares these with what it sent
            # (student code may have patched torch in here); only identity is judged here.
            returned = next((i for i, arg in enumerate(args) if value is arg), None)
            reply.update({"args_after": tuple(args), "kwargs_after": kwargs,
                          "returned_arg": returned})
        return reply


def _safe_str(error: BaseException) -> str:
    try:
        return str(error)
    except BaseException:  # a hostile __str__ may raise anything
        return "<message could not be shown>"


# ----------------------------------------------------------------------------- audit hook
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


# ----------------------------------------------------------------------------- entry point
def main() -> None:
    sock = socket.socket(fileno=int(sys.argv[1]))
    config, _ = recv_json(sock)
    if config is None:
        return
    # No PR_SET_PDEATHSIG here: it fires when the *thread* that started us ends.  The zygote
    # ends when the grader closes the socket instead (also when the grader is killed).
    if os.getppid() != config["parent_pid"]:
        return
    # The grader's own helpers, read before the file system closes; never importable by name.
    load_by_path("_nntrain_transport", config["modules"]["transport"])
    load_by_path("_nntrain_guards", config["modules"]["guards"])
    # -I -S left the standard library only; add the site-packages holding torch and numpy.
    sys.path[:] = [p for p in sys.path if os.path.isdir(p)] + config["site_dirs"]
    sys.meta_path.insert(0, RefuseImports(config["refused_packages"]))
    zygote = Zygote(sock, config)
    zygote.isolate()
    import numpy  # noqa: F401 - warm the imports the children share
    import torch

    torch.set_num_threads(1)
    for name in ("tokenize", "traceback", "linecache", "faulthandler", "resource", "math",
                 "random", "functools", "itertools", "collections", "dataclasses", "typing",
                 "numbers", "statistics", "operator"):
        __import__(name)
    # The children's protocol relies on the transport's decoder knowing how to collect generators.
    send_json(sock, {"ready": True, "report": zygote.report})
    zygote.serve()


if __name__ == "__main__":
    main()
