"""A hidden suite collected once and run against many submissions in one process.

pytest collects a suite (imports its modules, builds ~200 items) in a few hundred
milliseconds of CPU; a class of hundreds would pay that for every submission.  A
:class:`SuiteSession` runs ``pytest.main`` once, in a thread of its own, with a
``pytest_runtestloop`` that does not return: it waits for the next submission,
runs every collected item against it (``pytest_runtest_protocol``, the same
protocol pytest uses, so fixtures, markers and reports behave as in a plain run)
and hands the outcomes back.  Between submissions the global random state is
reset, and the last item of each run tears down every fixture (``nextitem=None``),
so no submission sees anything of the one before it.

:func:`session_for` keeps one session per (suite, device) in each process: a batch
worker collects each suite once, and ``grade`` of one notebook takes the same path.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from autograder.grading.plugin import GradingPlugin, TestOutcome
from autograder.grading.student import Student

FIXTURES_PLUGIN = "autograder.grading.fixtures"


def pytest_args(suite_dir: Path) -> list[str]:
    """Arguments of the inner pytest run: no ini file, no cache, no output, no capture.

    The suite's fixtures and markers come from :mod:`autograder.grading.fixtures`,
    registered as a plugin (the suites folder has no conftest of its own).
    """
    suite_dir = suite_dir.resolve()
    return [str(suite_dir), "-c", os.devnull, "--rootdir", str(suite_dir.parent),
            "--confcutdir", str(suite_dir.parent), "-p", FIXTURES_PLUGIN,
            "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:faulthandler",
            "-p", "no:xdist", "-p", "no:randomly", "-p", "no:logging", "--capture=no",
            "-p", "no:unraisableexception", "-p", "no:threadexception", "--import-mode=importlib",
            "-W", "ignore::DeprecationWarning"]


@dataclass
class SuiteRun:
    """The outcomes of one submission's run (in collection order) and the suite's problems."""

    outcomes: list[TestOutcome]
    suite_problems: list[str]
    exit_code: int  # as pytest's: 0 all passed, 1 some failed, 2 collection failed, 3 crashed


@dataclass
class _Job:
    student: Student
    done: threading.Event = field(default_factory=threading.Event)
    result: SuiteRun | None = None
    error: BaseException | None = None


class _Loop:
    """The ``pytest_runtestloop`` of a session: serve submissions until ``None`` arrives."""

    def __init__(self, plugin: GradingPlugin, jobs: queue.Queue[_Job | None]) -> None:
        self.plugin = plugin
        self.jobs = jobs

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        while (job := self.jobs.get()) is not None:
            try:
                job.result = self.run_one(session, job.student)
            except BaseException as error:  # a grader bug: the caller re-raises it
                job.error = error
            job.done.set()
        return True

    def run_one(self, session: pytest.Session, student: Student) -> SuiteRun:
        _reset_random_state()
        plugin = self.plugin
        plugin.begin(student)
        if plugin.collection_failed:
            return SuiteRun([], list(plugin.suite_problems), 2)
        items = session.items
        hook = session.config.hook
        for index, item in enumerate(items):
            nextitem = items[index + 1] if index + 1 < len(items) else None
            hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
        # Copies: the plugin's records are reset for the next submission.
        outcomes = [dataclasses.replace(o, messages=list(o.messages))
                    for o in plugin.ordered_outcomes()]
        exit_code = 1 if any(o.failed for o in outcomes) else 0
        return SuiteRun(outcomes, list(plugin.suite_problems), exit_code)


def _reset_random_state() -> None:
    """Every submission starts from the same global random state (grades never depend on
    which submission a worker graded before)."""
    import numpy
    import torch

    random.seed(0)
    numpy.random.seed(0)  # noqa: NPY002 - the legacy global stream some test code may use
    torch.manual_seed(0)


class SuiteSession:
    """One suite, collected once, run against one submission at a time (thread-safe)."""

    def __init__(self, suite_dir: Path, device: str) -> None:
        import torch

        # The suite's own tensors (oracles, statistics) are small: one intra-op thread is as fast,
        # and a batch's workers on a shared machine would otherwise oversubscribe its cores
        # (measured: 2 workers on 2 cores spent 2.5 CPU-s per a1 submission with torch's default
        # threads, 0.7 with one).
        torch.set_num_threads(1)
        self.suite_dir = Path(suite_dir)
        self.plugin = GradingPlugin(None, device)
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._exit_code: int | None = None
        self._crash: BaseException | None = None
        self._thread = threading.Thread(target=self._main, daemon=True,
                                        name=f"suite {self.suite_dir.name}")
        self._thread.start()

    def _main(self) -> None:
        try:
            self._exit_code = int(pytest.main(pytest_args(self.suite_dir),
                                              plugins=[self.plugin, _Loop(self.plugin,
                                                                          self._jobs)]))
        except BaseException as error:  # e.g. a usage error: every waiting job learns it
            self._crash = error
        finally:
            self._exit_code = 3 if self._exit_code is None else self._exit_code
            while True:  # nobody serves the queue any more
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is not None:
                    job.done.set()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def run(self, student: Student) -> SuiteRun:
        """Run every collected test against ``student``; one submission at a time."""
        with self._lock:
            job = _Job(student)
            self._jobs.put(job)
            while not job.done.wait(0.5):
                if not self._thread.is_alive():
                    break
            if job.error is not None:
                raise job.error
            if job.result is not None:
                return job.result
            reason = f"the suite's pytest session ended with exit code {self._exit_code}"
            if self._crash is not None:
                reason += f" ({type(self._crash).__name__}: {self._crash})"
            return SuiteRun([], [*self.plugin.suite_problems, reason], self._exit_code or 3)

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=30)


_SESSIONS: dict[tuple[str, str], SuiteSession] = {}
_SESSIONS_LOCK = threading.Lock()


def session_for(suite_dir: Path, device: str) -> SuiteSession:
    """This process's session of ``suite_dir`` for ``device`` (started on first use)."""
    key = (str(Path(suite_dir).resolve()), device)
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(key)
        if session is None or not session.alive:
            session = SuiteSession(Path(suite_dir), device)
            _SESSIONS[key] = session
        return session


def close_sessions() -> None:
    with _SESSIONS_LOCK:
        for session in _SESSIONS.values():
            session.close()
        _SESSIONS.clear()

