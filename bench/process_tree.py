"""Wall and CPU time of a command's whole process tree, read from the kernel's accounting.

``os.wait4`` returns the resource usage of the waited child *including every descendant it
waited for itself*, so for the grader that is the grader, its zygote and every sandboxed child
(the zygote reaps its children, the grader its zygote).  CPU time barely depends on what else
the machine runs; wall time does, so the benchmarks report both and the load average.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Measured:
    wall_s: float
    cpu_s: float  # user + system of the command and every descendant it reaped
    returncode: int
    peak_rss_mb: float  # the largest single process of the tree (ru_maxrss)


def run_measured(command: list[str], *, timeout: float | None = None,
                 **popen: Any) -> Measured:
    """Run ``command`` to completion (killed after ``timeout`` s) and measure its tree."""
    started = time.perf_counter()
    process = subprocess.Popen(command, **popen)
    deadline = None if timeout is None else started + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG if deadline else 0)
        if pid:
            break
        if deadline is not None and time.perf_counter() > deadline:
            process.kill()
            deadline = None
        time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(wall_s=time.perf_counter() - started,
                    cpu_s=usage.ru_utime + usage.ru_stime,
                    returncode=process.returncode, peak_rss_mb=usage.ru_maxrss / 1024)
