# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Spawn and reap many live processes for the /proc benchmarks (shared by bench_oom_score_adj and bench_oom_facts)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / ".collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))


class Crowd:
    """``count`` sleeping processes whose comm is ``name`` (an executable symlink of that name to sleep)."""

    def __init__(self, count: int, name: str = "oombench-sleep", args=("3600",)):
        self.count = count
        self.name = name
        self.args = list(args)
        self.dir = tempfile.mkdtemp(prefix="oombench-")
        self.exe = os.path.join(self.dir, name)
        os.symlink(shutil.which("sleep"), self.exe)
        self.procs: list = []

    def __enter__(self):
        try:
            for _index in range(self.count):
                self.procs.append(subprocess.Popen([self.exe] + self.args, stdin=subprocess.DEVNULL,
                                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                                   close_fds=True))
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        for proc in self.procs:
            try:
                proc.send_signal(signal.SIGKILL)
            except OSError:
                pass
        for proc in self.procs:
            proc.wait()
        self.procs = []
        shutil.rmtree(self.dir, ignore_errors=True)


def best_of(func, repeat: int = 7) -> float:
    """Minimum wall time of ``repeat`` calls (seconds)."""
    best = None
    for _index in range(repeat):
        start = time.perf_counter()
        func()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best


def run_quiet(cmd):
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
