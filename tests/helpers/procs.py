# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Real processes for the /proc tests: distinctive names, other users, children, renamed comms. Always reaped."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

NOBODY = 65534


def read_adj(pid: int) -> int:
    return int(Path(f"/proc/{pid}/oom_score_adj").read_text())


def write_adj(pid: int, value: int) -> None:
    Path(f"/proc/{pid}/oom_score_adj").write_text(str(value))


def wait_for(predicate, timeout: float = 5.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def _comm(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/comm").read_text().rstrip("\n")
    except OSError:
        return None


class Spawner:
    """Start real processes whose executable is a copy of sleep (or sh) under a distinctive name; kill them all
    at the end, whatever happens."""

    def __init__(self, tmpdir: Path):
        self.dir = Path(tmpdir)
        self.procs: list = []

    def exe(self, name: str, source: str = "sleep") -> str:
        path = self.dir / name
        if not path.exists():
            shutil.copy2(shutil.which(source), path)
            path.chmod(0o755)
        return str(path)

    def start(self, name: str = "oomt-sleep", args=("300",), uid: int | None = None, source: str = "sleep",
              argv0: str | None = None) -> subprocess.Popen:
        """A copy of ``source`` named ``name`` (so comm is ``name[:15]`` and exe's basename is ``name``)."""
        exe = self.exe(name, source)
        proc = subprocess.Popen([argv0 or exe] + list(args), executable=exe, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                                user=uid)
        self.procs.append(proc)
        # vfork returns before the kernel renames the child: wait until the exec is complete
        wait_for(lambda: _comm(proc.pid) == name[:15], what=f"exec of {name}")
        return proc

    def python(self, code: str, comm: str | None = None, uid: int | None = None, dumpable: bool = True) -> subprocess.Popen:
        """A python3 child that optionally renames itself (prctl PR_SET_NAME) and turns non-dumpable, then runs ``code``."""
        prologue = "import ctypes, time\nlibc = ctypes.CDLL(None)\n"
        if comm is not None:
            prologue += f"libc.prctl(15, {comm.encode()!r}, 0, 0, 0)\n"
        if not dumpable:
            prologue += "libc.prctl(4, 0, 0, 0, 0)\n"
        prologue += "open('/dev/null', 'w').close()\n"
        proc = subprocess.Popen([sys.executable if uid is None else "/usr/bin/python3", "-c", prologue + code],
                                stdin=subprocess.DEVNULL, start_new_session=True, user=uid)
        self.procs.append(proc)
        if comm is not None:
            wait_for(lambda: Path(f"/proc/{proc.pid}/comm").read_text().rstrip("\n") == comm[:15], what="comm change")
        if not dumpable:
            wait_for(lambda: os.stat(f"/proc/{proc.pid}/status").st_uid == 0, what="non-dumpable")
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the process and its children (each spawn is a session leader)
        except OSError:
            pass
        try:
            proc.kill()
        except OSError:
            pass
        proc.wait()

    def close(self) -> None:
        for proc in self.procs:
            self.kill(proc)
        self.procs = []


@pytest.fixture
def spawner():
    """A Spawner whose executables live in a world-readable directory (processes may run as nobody)."""
    path = tempfile.mkdtemp(prefix="oomt-")
    os.chmod(path, 0o755)
    spawn = Spawner(Path(path))
    try:
        yield spawn
    finally:
        spawn.close()
        shutil.rmtree(path, ignore_errors=True)


def children_of(pid: int) -> list:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False).stdout
    return sorted(int(x) for x in out.split())


def start_hostile(name: bytes, uid=NOBODY, adj=1000, args=()):
    """A real python3 running as ``uid`` that renames itself to the raw bytes ``name`` with prctl(PR_SET_NAME) and
    raises its own oom_score_adj to ``adj`` (no privilege needed to raise it) so that it is a top victim: what any
    local user can do. Returns the Popen."""
    code = ("import ctypes, time\n"
            "ctypes.CDLL(None).prctl(15, %r, 0, 0, 0)\n"
            "open('/proc/self/oom_score_adj', 'w').write('%d')\n"
            "time.sleep(300)\n" % (name, adj))
    proc = subprocess.Popen(["/usr/bin/python3", "-c", code] + list(args), stdin=subprocess.DEVNULL,
                            start_new_session=True, user=uid)
    wait_for(lambda: Path(f"/proc/{proc.pid}/comm").read_bytes() == name[:15] + b"\n" and read_adj(proc.pid) == adj,
             what="hostile rename")
    return proc


@pytest.fixture
def hostile():
    """``hostile(name, uid=..., adj=..., args=...)`` starts a ``start_hostile`` process; all are killed afterwards."""
    procs = []

    def start(*args, **kwargs):
        proc = start_hostile(*args, **kwargs)
        procs.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def all_strings(value):
    """Every str in a result (keys too), to check that each is valid UTF-8 or to look for a spelling."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from all_strings(key)
            yield from all_strings(item)
    elif isinstance(value, (list, tuple, set)):
        for item in value:
            yield from all_strings(item)
