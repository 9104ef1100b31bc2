"""The layers that hold without namespaces (issue 14), each measured by an attack from the child.

The sandbox runs with ``isolation="none"`` (no namespaces at all) and without the audit
hook, so what stops each attack is the kernel: Landlock's allow-list, the child's own
seccomp filter, the clean environment and the limits.  ``tests/container_sim.py`` then
reproduces a container (``unshare`` refused, with and without Landlock) around the whole
grader: without Landlock it refuses to grade by default; with the explicit flag it grades.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from grader_helpers import grade_notebook

from autograder.sandbox.inside import landlock
from autograder.sandbox.session import Sandbox
from autograder.sandbox.zygote import Zygote, minimal_environment
from autograder.spec import solution_path

REPO = Path(__file__).resolve().parent.parent

ATTACKS = r'''
import ctypes
import mmap
import os
import socket
import signal
import time

def _try(action):
    try:
        result = action()
    except OSError as error:
        return f"blocked ({type(error).__name__})"
    return "OPEN" if result is not False else "blocked (refused)"

def _libc_call(name, *args):
    libc = ctypes.CDLL(None, use_errno=True)
    return getattr(libc, name)(*args) == 0

def attacks(paths, grader_pid, unix_path, tcp_port, outside):
    found = {}
    for path in paths:
        found["read " + path] = _try(lambda: open(path, "rb").read(1))
    found["grader environ"] = _try(lambda: open(f"/proc/{grader_pid}/environ", "rb").read())
    found["write outside"] = _try(lambda: open(outside, "w").write("pwned"))
    found["unix socket"] = _try(
        lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).connect(unix_path))
    found["tcp socket"] = _try(
        lambda: socket.create_connection(("127.0.0.1", tcp_port), timeout=2))
    found["signal the grader"] = _try(lambda: os.kill(grader_pid, 0))
    found["shared anonymous memory"] = _try(
        lambda: mmap.mmap(-1, 2**30, flags=mmap.MAP_SHARED))
    found["memfd"] = _try(lambda: os.memfd_create("big"))
    found["/dev/shm"] = _try(lambda: open("/dev/shm/pwned-isolation", "w"))
    found["unshare"] = _try(lambda: _libc_call("unshare", 0x10000000))
    found["ptrace the grader"] = _try(lambda: _libc_call("ptrace", 16, grader_pid, 0, 0))
    found["leave the process group"] = _try(os.setsid)
    return found

def survivor():
    pid = os.fork()
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    return pid

def environment():
    return dict(os.environ), open("/proc/self/environ", "rb").read().decode("utf-8", "replace")
'''


@pytest.fixture
def listeners(tmp_path):
    unix_path = str(tmp_path / "listener.sock")
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(unix_path)
    unix.listen()
    tcp = socket.create_server(("127.0.0.1", 0))
    yield unix_path, tcp.getsockname()[1]
    unix.close()
    tcp.close()


@pytest.fixture
def bare_box():
    """No namespaces, no audit hook: only the layers that need neither."""
    box = Sandbox([("imports", ""), ("attacks", ATTACKS)], isolation="none", audit=False)
    box.start()
    if not any(layer.startswith("Landlock") for layer in box.layers):
        box.close()
        pytest.skip(f"Landlock unavailable here: {box.warnings}")
    yield box
    box.close()


def test_without_namespaces_every_attack_is_stopped_by_landlock_and_seccomp(
        bare_box, listeners, tmp_path):
    other_checkout = tmp_path / "other-checkout" / "test_schedules.py"
    other_checkout.parent.mkdir()
    other_checkout.write_text("SECRET = 1\n")
    secrets = [REPO / "autograder" / "grading" / "suites" / "a3_optim_schedules" /
               "test_schedules.py", solution_path("a3_optim_schedules"),
               REPO / "src" / "nntrain" / "__init__.py", other_checkout, Path("/etc/passwd"),
               Path(__import__("fastjsonschema").__file__)]  # a venv file torch does not need
    unix_path, port = listeners
    found = bare_box.call("attacks", ([str(p) for p in secrets], os.getpid(), unix_path, port,
                                      str(tmp_path / "pwned"))).value
    opened = {name: outcome for name, outcome in found.items() if outcome == "OPEN"}
    assert opened == {}, found
    assert len(found) == len(secrets) + 11
    assert not (tmp_path / "pwned").exists() and not Path("/dev/shm/pwned-isolation").exists()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_no_process_of_a_submission_outlives_its_sandbox():
    box = Sandbox([("imports", ""), ("attacks", ATTACKS)], isolation="none", audit=False)
    try:
        pid = box.call("survivor", ()).value
        assert _alive(pid)  # it forked, and the process sleeps
    finally:
        box.close()
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)


def test_the_zygote_and_so_every_child_starts_from_a_minimal_environment(monkeypatch):
    monkeypatch.setenv("NNTRAIN_TEST_SECRET_TOKEN", "hunter2")
    zygote = Zygote("none", False)
    try:
        with open(f"/proc/{zygote.process.pid}/environ", "rb") as handle:
            names = {entry.split(b"=", 1)[0].decode() for entry in handle.read().split(b"\0")
                     if entry}
    finally:
        zygote.close()
    assert names == set(minimal_environment())
    assert "NNTRAIN_TEST_SECRET_TOKEN" not in names


def _container(tmp_path: Path, *flags: str, landlock_kept: bool) -> dict:
    out = tmp_path / "results.json"
    command = [sys.executable, str(REPO / "tests" / "container_sim.py"),
               *(["--landlock"] if landlock_kept else []), "--", sys.executable, "-m",
               "autograder", "grade", "a3_optim_schedules",
               str(solution_path("a3_optim_schedules")), "--out", str(out), *flags]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run(command, cwd=REPO, env=env, timeout=600, capture_output=True, check=False)
    return json.loads(out.read_text())


needs_landlock = pytest.mark.skipif(landlock.abi_version() < 1, reason="no Landlock here")


def test_a_container_without_namespaces_or_landlock_is_refused_by_default(tmp_path):
    results = _container(tmp_path, landlock_kept=False)
    assert results["extra_data"]["grader_failed"] is True
    assert results["score"] == 0
    problems = " ".join(results["extra_data"]["grader_problems"])
    assert "grading refused" in problems and "Landlock unavailable" in problems
    assert "test_" in problems and "--weak-isolation accept" in problems


def test_with_the_explicit_flag_a_weak_container_grades_and_says_what_is_exposed(tmp_path):
    results = _container(tmp_path, "--weak-isolation", "accept", landlock_kept=False)
    assert results["extra_data"]["grader_failed"] is False
    assert results["score"] == 100
    warnings = " ".join(results["extra_data"]["isolation_warnings"])
    assert "could read the grader's files" in warnings
    assert oct(os.stat(tmp_path / "results.json").st_mode & 0o777) == "0o600"


@needs_landlock
def test_a_container_with_landlock_grades_by_default_and_keeps_the_suites_out_of_reach(tmp_path):
    results = _container(tmp_path, landlock_kept=True)
    assert results["extra_data"]["grader_failed"] is False
    assert results["score"] == 100
    layers = " ".join(results["extra_data"]["isolation"])
    assert "Landlock" in layers and "seccomp" in layers
    assert "could read" not in " ".join(results["extra_data"]["isolation_warnings"])


def test_a_file_name_that_is_not_utf8_and_a_surrogate_message_still_give_results(tmp_path):
    from grader_helpers import find_cell, make_submission, read_notebook

    folder = tmp_path / os.fsdecode(b"stud\xffent")
    folder.mkdir()
    solution = find_cell(read_notebook(solution_path("a3_optim_schedules")), "step_lr").source
    path = make_submission("a3_optim_schedules", folder, {"step_lr": (
        solution + "\n\ndef step_lr(t, base_lr, step_size, gamma=0.1):\n"
        "    raise ValueError('\\ud800 lone')\n")})
    results = grade_notebook("a3_optim_schedules", path)
    assert not results["extra_data"]["grader_failed"]
    from autograder.report.results import write_results

    written = write_results(tmp_path / "out" / "results.json", results)
    assert json.loads(written.read_text())["score"] == results["score"] == 96
    assert oct(os.stat(written.parent).st_mode & 0o777) == "0o700"


HOSTILE_STEP_LR = '''
{solution}
import os

def step_lr(t, base_lr, step_size, gamma=0.1):
    seen = []
    for folder in {folders!r}:
        for root, _, files in os.walk(folder):
            for name in files:
                try:
                    seen.append(open(os.path.join(root, name)).read())
                except OSError:
                    pass
    for folder in {folders!r}:
        try:
            open(os.path.join(folder, "alice", "results.json"), "w").write("{{}}")
        except OSError:
            pass
    raise ValueError(f"read {{len(seen)}} files of the class \\ud800")
'''


def test_a_batch_with_one_hostile_student_grades_the_honest_ones_unchanged(tmp_path):
    from grader_helpers import find_cell, make_submission, read_notebook

    from autograder.batch.pool import grade_batch
    from autograder.config import GradingConfig
    from autograder.intake.submissions import Submission

    results_dir, course = tmp_path / "results", tmp_path / "course"
    solution = find_cell(read_notebook(solution_path("a3_optim_schedules")), "step_lr").source
    submissions = []
    for student in ("alice", "bob", "mallory"):
        folder = course / student
        folder.mkdir(parents=True)
        replace = {"step_lr": HOSTILE_STEP_LR.format(
            solution=solution, folders=[str(results_dir), str(course)])} \
            if student == "mallory" else {}
        submissions.append(Submission(student, make_submission("a3_optim_schedules", folder,
                                                               replace)))
    grade_batch("a3_optim_schedules", submissions, results_dir,
                GradingConfig(jobs=1), progress=False)
    scores = {s.student: json.loads((results_dir / s.student / "results.json").read_text())
              for s in submissions}
    assert {name: r["score"] for name, r in scores.items()} == {
        "alice": 100, "bob": 100, "mallory": 96}
    outputs = " ".join(t["output"] for t in scores["mallory"]["tests"])
    assert "read 0 files of the class ?" in outputs
    for student in ("alice", "bob", "mallory"):
        path = results_dir / student / "results.json"
        assert os.stat(path).st_mode & 0o077 == 0, oct(os.stat(path).st_mode)
