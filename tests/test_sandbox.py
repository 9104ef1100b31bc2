"""The sandboxed child: calls and handles, limits, restarts, and each isolation layer on its own.

Tests of one isolation layer switch the others off where they would hide it: the
kernel layers (namespaces, unprivileged uid, limits) are checked with the audit
hook off, the audit hook with namespaces off (``isolation="none"``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import torch

from autograder.errors import MissingPart, SandboxCrashed, StudentError, StudentTimeout
from autograder.sandbox.handles import Handle
from autograder.sandbox.inside.limits import Limits
from autograder.sandbox.inside.transport import Table
from autograder.sandbox.session import Sandbox
from autograder.sandbox.zygote import Zygote

REPO = Path(__file__).resolve().parent.parent

CODE = '''
import os
import math
import torch

def double(x):
    return 2 * x

def fails(x):
    raise ValueError(f"bad value {x}")

def scale_(x, factor):
    x.mul_(factor)
    return x

def copy_scaled(x, factor):
    return x * factor

def clip_all(grads, limit):
    for g in grads:
        g.clamp_(-limit, limit)
    return len(grads)

def with_grad(x):
    return x.detach().requires_grad_(True) * 1

def draw(n, generator=None):
    return torch.rand(n, generator=generator)

def call_schedule(schedule, steps):
    return [schedule(t) for t in range(steps)]

class Scaler(torch.nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor
        self.weight = torch.nn.Parameter(torch.ones(2))

    def forward(self, x):
        return x * self.factor

    def describe(self, prefix):
        return f"{prefix}{self.factor}"

def make_counter():
    count = [0]
    def tick(step=1):
        count[0] += step
        return count[0]
    return tick

def spin():
    while True:
        pass

def sleep(seconds):
    import time
    time.sleep(seconds)
    return seconds

def leave(code):
    os._exit(code)

def segfault():
    import ctypes
    ctypes.string_at(0)

def hog(gigabytes):
    return bytearray(int(gigabytes * 2**30))

def big_tensor(megabytes):
    return torch.zeros(int(megabytes * 2**20 // 4))

def shout(n):
    for _ in range(n):
        print("x" * 10_000)
    return "done"
'''


def sandbox(code: str = CODE, **options) -> Sandbox:
    limits = options.pop("limits", None) or Limits(call_timeout=5, total_timeout=60)
    box = Sandbox([("imports", ""), ("code", code)], limits=limits, **options)
    box.start()
    return box


@pytest.fixture(scope="module")
def box():
    box = sandbox()
    yield box
    box.close()


def test_values_come_back_and_errors_become_student_errors(box):
    x = torch.randn(4, dtype=torch.float64)
    assert torch.equal(box.call("double", (x,)).value, 2 * x)
    with pytest.raises(StudentError) as caught:
        box.call("fails", (3,))
    assert caught.value.type_name == "ValueError" and caught.value.message == "bad value 3"
    assert "line" in caught.value.traceback
    with pytest.raises(MissingPart):
        box.call("not_defined", ())
    assert box.has("double") and not box.has("not_defined")


def test_call_info_reports_what_happened_to_the_arguments(box):
    x = torch.ones(3)
    info = box.call("scale_", (x, 2.0), info=True)
    assert info.modified == {0} and info.returned_arg == 0
    assert torch.equal(info.args_after[0], torch.full((3,), 2.0))
    assert torch.equal(x, torch.ones(3))  # the parent's tensor never changes
    info = box.call("copy_scaled", (x, 2.0), info=True)
    assert info.modified == set() and info.returned_arg is None
    assert not info.value_requires_grad
    grads = [torch.tensor([5.0, -5.0]), torch.tensor([0.5])]
    info = box.call("clip_all", (grads, 1.0), info=True)
    assert info.modified == {0} and info.value == 2
    assert torch.equal(info.args_after[0][0], torch.tensor([1.0, -1.0]))
    assert box.call("with_grad", (x,), info=True).value_requires_grad


def test_generators_advance_as_if_the_call_were_local(box):
    local = torch.Generator().manual_seed(7)
    remote = torch.Generator().manual_seed(7)
    first = box.call("draw", (3,), {"generator": remote}).value
    assert torch.equal(first, torch.rand(3, generator=local))
    second = box.call("draw", (3,), {"generator": remote}).value
    assert torch.equal(second, torch.rand(3, generator=local))  # the state moved on
    assert not torch.equal(first, second)


def test_a_table_is_a_callable_in_the_child(box):
    assert box.call("call_schedule", (Table([0.5, 0.25, 0.125]), 3)).value == [0.5, 0.25, 0.125]


def test_objects_that_cannot_travel_come_back_as_handles(box):
    module = box.call("Scaler", (3.0,)).value
    assert isinstance(module, Handle)
    assert "torch.nn.modules.module.Module" in module.type_names
    assert torch.equal(module(torch.ones(2)), torch.full((2,), 3.0))
    assert module.factor == 3.0 and module.training is True
    module.eval()
    assert module.training is False
    module.factor = 5.0
    assert module.describe("f=") == "f=5.0"
    parameters = list(module.parameters())
    assert len(parameters) == 1 and torch.equal(parameters[0], torch.ones(2))
    counter = box.call("make_counter", ()).value
    assert counter() == 1 and counter(step=2) == 3
    assert box.call("call_schedule", (counter, 2)).value == [3, 4]  # a handle as an argument


def test_a_call_past_its_time_limit_is_killed_and_the_next_call_works():
    box = sandbox(limits=Limits(call_timeout=1.0, total_timeout=60))
    try:
        started = time.monotonic()
        with pytest.raises(StudentTimeout, match="1 s of CPU time per call"):
            box.call("spin", ())
        assert time.monotonic() - started < 5
        assert torch.equal(box.call("double", (torch.ones(1),)).value, torch.full((1,), 2.0))
    finally:
        box.close()


def test_the_per_call_limit_counts_cpu_time_so_a_slow_machine_costs_no_points():
    # 1.2 s of waiting is past the 0.5 s limit in wall-clock time, but it uses no CPU: on a
    # loaded machine a correct call is slow in the same way and must still finish.
    box = sandbox(limits=Limits(call_timeout=0.5, total_timeout=60))
    try:
        assert box.call("sleep", (1.2,)).value == 1.2
        assert box.slowest_call[0] >= 1.2 and box.slowest_call[1] == "`sleep`"
    finally:
        box.close()


def test_a_call_that_only_waits_is_stopped_by_the_wall_clock_cap():
    box = sandbox(limits=Limits(call_timeout=0.4, total_timeout=60))
    try:
        started = time.monotonic()
        with pytest.raises(StudentTimeout, match="1.2 s of wall-clock time per call"):
            box.call("sleep", (30,))
        assert time.monotonic() - started < 5
    finally:
        box.close()


FORKING = CODE + '''
def spin_in_a_child_process(seconds):
    import time
    if os.fork() == 0:
        while True:
            pass
    time.sleep(seconds)
    return "waited"
'''


def test_cpu_time_of_processes_the_call_starts_counts_against_its_limit():
    # Without the audit hook (which refuses os.fork) the kernel lets the child fork; the
    # spinning grandchild's CPU is the call's CPU, so the call stops long before its wall cap.
    box = sandbox(FORKING, audit=False, limits=Limits(call_timeout=1.0, total_timeout=60))
    try:
        started = time.monotonic()
        with pytest.raises(StudentTimeout, match="CPU time per call"):
            box.call("spin_in_a_child_process", (20,))
        assert time.monotonic() - started < 2.9  # before the 3 s wall-clock cap
    finally:
        box.close()


def test_the_submission_budget_stops_further_calls():
    box = sandbox(limits=Limits(call_timeout=5, total_timeout=1.5))
    try:
        with pytest.raises(StudentTimeout, match="budget"):
            box.call("sleep", (3,))
        with pytest.raises(StudentTimeout, match="budget"):
            box.call("double", (1,))
    finally:
        box.close()


@pytest.mark.parametrize("function, args, match", [
    ("leave", (3,), "exited with status 3"),
    ("segfault", (), "SIGSEGV"),
])
def test_a_crash_is_reported_and_the_child_restarts(box, function, args, match):
    with pytest.raises(SandboxCrashed, match=match):
        box.call(function, args)
    assert box.call("double", (21,)).value == 42


def test_a_cell_that_kills_the_child_while_loading_is_dropped():
    box = Sandbox([("imports", "import os"), ("bad", "def bad():\n    return 1\nos._exit(0)"),
                   ("good", "def good():\n    return 2")], limits=Limits(call_timeout=5))
    try:
        box.start()
        assert box.call("good", ()).value == 2
        assert "bad" in box.dropped and "exited with status 0" in box.cell_results["bad"].crashed
        with pytest.raises(MissingPart):
            box.call("bad", ())
    finally:
        box.close()


def test_memory_beyond_the_limit_cannot_be_allocated():
    box = sandbox(limits=Limits(call_timeout=10, memory_mb=1024))
    try:
        with pytest.raises((StudentError, SandboxCrashed)) as caught:
            box.call("hog", (3,))
        if isinstance(caught.value, StudentError):
            assert caught.value.type_name == "MemoryError"
        assert len(box.call("hog", (0.01,)).value) == int(0.01 * 2**30)
    finally:
        box.close()


def test_printing_is_capped_and_harmless(box):
    assert box.call("shout", (1000,)).value == "done"  # 10 MB of output, 64 kB kept


def test_a_value_larger_than_the_cap_is_refused():
    box = sandbox(limits=Limits(call_timeout=10, max_result_mb=1))
    try:
        with pytest.raises(SandboxCrashed, match="more than 1 MB"):
            box.call("big_tensor", (2,))
        assert box.call("big_tensor", (0.5,)).value.numel() == 2**17
    finally:
        box.close()


# ---------------------------------------------------------------------------- isolation layers
PROBE = '''
import os
import socket

def listing(path):
    return sorted(os.listdir(path))

def read(path):
    with open(path) as handle:
        return handle.read(100)

def write(path):
    with open(path, "w") as handle:
        handle.write("x")
    return "written"

def identity():
    return os.getuid(), os.getgid(), os.getpid()

def connect():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(("1.1.1.1", 80))

def imports(name):
    import importlib
    importlib.import_module(name)

def fork_bomb(seconds):
    import time
    children = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
            children += 1
        except OSError:
            time.sleep(0.01)
    return children
'''


def isolated_box(**options) -> Sandbox:
    return sandbox(PROBE, **options)


@pytest.fixture(scope="module")
def kernel_box():
    """Namespaces, uid and limits only (no audit hook), so that the kernel's answers show."""
    box = isolated_box(audit=False, limits=Limits(call_timeout=10, nproc=32))
    if box.zygote_report.get("mode") not in ("root", "userns"):
        box.close()
        pytest.skip(f"namespaces unavailable here: {box.warnings}")
    yield box
    box.close()


def test_the_repository_is_not_visible_in_the_child(kernel_box):
    # Hidden means empty (a tmpfs over it, the venv re-exposed), absent (a checkout under /tmp
    # disappears with the child's private /tmp) or refused (outside Landlock's allow-list).
    try:
        listing = kernel_box.call("listing", (str(REPO),)).value
    except StudentError as error:
        assert "FileNotFoundError" in str(error) or "PermissionError" in str(error)
    else:
        assert listing in ([], [".venv"])
    for secret in ("autograder/spec.py", "autograder/grading/fixtures.py",
                   "solutions/source/a1_activations_init/a1_activations_init.ipynb",
                   "src/nntrain/__init__.py"):
        with pytest.raises(StudentError, match="FileNotFoundError|PermissionError"):
            kernel_box.call("read", (str(REPO / secret),))
    for package in ("nntrain", "autograder", "autograder.grading.suites"):
        with pytest.raises(StudentError, match="ModuleNotFoundError"):
            kernel_box.call("imports", (package,))


def test_only_the_private_tmp_is_writable(kernel_box):
    assert kernel_box.call("write", ("/tmp/scratch",)).value == "written"
    for target in (REPO / "results.json", Path("/etc/nntrain-probe"), Path("/var/tmp/probe"),
                   Path("/dev/shm/probe")):
        with pytest.raises(StudentError, match="Read-only|Permission denied|No such file"):
            kernel_box.call("write", (str(target),))
        assert not target.exists()
    assert not Path("/tmp/scratch").exists()  # the child's /tmp is not ours


def test_the_child_runs_unprivileged_in_its_own_pid_namespace(kernel_box):
    uid, gid, pid = kernel_box.call("identity", ()).value
    assert uid != 0 and gid != 0
    assert pid == 1
    try:  # Landlock lets it read its own /proc/self only; a listing, if any, shows itself
        listing = kernel_box.call("listing", ("/proc",)).value
    except StudentError as error:
        assert "PermissionError" in str(error)
    else:
        assert [entry for entry in listing if entry.isdigit()] == ["1"]


def test_there_is_no_network(kernel_box):
    # No interfaces (the network namespace), and no socket at all (the seccomp filter).
    with pytest.raises(StudentError, match="unreachable|Network|Errno 101|not permitted"):
        kernel_box.call("connect", ())


def _processes_of(uid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


def test_a_fork_bomb_is_capped_and_dies_with_the_child(kernel_box):
    uid = kernel_box.call("identity", ()).value[0]
    children = kernel_box.call("fork_bomb", (1.0,)).value
    assert 0 < children < 32  # RLIMIT_NPROC of the child's own uid
    assert 0 < len(_processes_of(uid)) <= 32
    kernel_box.child.kill()  # what a timeout does: the whole PID namespace goes
    deadline = time.monotonic() + 5
    while _processes_of(uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_of(uid) == []


def test_the_audit_hook_alone_keeps_files_network_and_processes_out(tmp_path):
    box = isolated_box(isolation="none")
    try:
        assert box.zygote_report["mode"] == "none"
        with pytest.raises(StudentError, match="grader's files"):
            box.call("read", (str(REPO / "autograder" / "spec.py"),))
        with pytest.raises(StudentError, match="grader's files"):
            box.call("listing", (str(REPO / "solutions"),))
        with pytest.raises(StudentError, match="writing only under"):
            box.call("write", (str(tmp_path / "outside"),))
        assert not (tmp_path / "outside").exists()
        assert box.call("write", ("scratch",)).value == "written"  # its own folder
        with pytest.raises(StudentError, match="socket"):
            box.call("connect", ())
        assert box.call("fork_bomb", (0.2,)).value == 0  # every os.fork() was refused
    finally:
        box.close()


def test_a_dead_zygote_is_replaced_by_a_new_one():
    box = isolated_box(isolation="none")
    box.close()
    zygote = Zygote.get("none", True)
    zygote.process.kill()
    zygote.process.wait()
    box = isolated_box(isolation="none")
    try:
        assert Zygote.get("none", True) is not zygote
        assert box.call("listing", ("/proc/self",)).value  # readable under Landlock too
    finally:
        box.close()
