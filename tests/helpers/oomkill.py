# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Test bench fixtures: real kernel OOM kills inside a small, fresh memory cgroup (see docs/testbench.md).

Never machine-wide: every process runs in its own ``oomguard-test-<random>`` memory cgroup with a small
limit (v1 ``memory.limit_in_bytes`` plus ``memory.memsw.limit_in_bytes``, so an active swap cannot turn the
kill into swapping; v2 ``memory.max`` and ``memory.swap.max=0`` where a v2 memory controller exists).
The cgroup and its processes are removed at teardown, also when the test fails.
"""
from __future__ import annotations

import errno
import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

V1_ROOT = Path("/sys/fs/cgroup/memory")
MIB = 1 << 20

# The member program: join nothing (the shell wrapper already moved it into the cgroup and set its
# oom_score_adj), name itself, allocate `mib` MiB in 1 MiB bytearrays (touching each page), say
# "ready", then either keep leaking (mib < 0: until the kernel kills it) or wait for stdin to close.
MEMBER = r"""
import sys
comm, mib, cap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open('/proc/self/comm', 'w') as fh:
    fh.write(comm)
held = []
for _ in range(max(mib, 0)):
    held.append(bytearray(1 << 20))
print('ready', flush=True)
if mib < 0:
    for _ in range(cap):
        held.append(bytearray(1 << 20))
    print('survived', flush=True)
    sys.exit(3)
sys.stdin.read()
"""


def swap_active() -> bool:
    with open("/proc/swaps", encoding="utf-8") as fh:
        return len(fh.read().strip().splitlines()) > 1


def vmstat_oom_kill() -> int:
    with open("/proc/vmstat", encoding="utf-8") as fh:
        for line in fh:
            key, _sep, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
    return 0


def v2_memory_root() -> Path | None:
    """The cgroup2 mount with the memory controller enabled for children, if this machine has one."""
    for candidate in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified")):
        try:
            if "memory" in (candidate / "cgroup.subtree_control").read_text(encoding="utf-8").split():
                return candidate
        except OSError:
            continue
    return None


@dataclass
class KmsgRecord:
    seq: int
    usec: int
    message: str


def read_kmsg() -> list:
    """Every record in the kernel ring buffer (/dev/kmsg, non-blocking; never clears anything)."""
    records = []
    fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    try:
        while True:
            try:
                raw = os.read(fd, 8192)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.EPIPE:  # overwritten while reading: skip ahead
                    continue
                raise
            if not raw:
                break
            head, _sep, message = raw.decode("utf-8", "replace").partition(";")
            fields = head.split(",")
            records.append(KmsgRecord(int(fields[1]), int(fields[2]), message.split("\n", 1)[0]))
    finally:
        os.close(fd)
    return records


class MemoryCgroup:
    """A fresh memory cgroup with a limit; ``kernel_path`` is how the kernel names it in oom-kill lines."""

    def __init__(self, limit: int, version: int | None = None):
        self.limit = limit
        v2_root = v2_memory_root()
        if version is None:
            version = 1 if V1_ROOT.is_dir() and (V1_ROOT / "memory.limit_in_bytes").exists() else 2
        if version == 2 and v2_root is None:
            raise RuntimeError("no cgroup v2 memory controller on this machine")
        self.version = version
        root = V1_ROOT if version == 1 else v2_root
        name = f"oomguard-test-{secrets.token_hex(4)}"
        self.path = root / name
        self.kernel_path = "/" + name
        self.path.mkdir()
        try:
            if version == 1:
                (self.path / "memory.limit_in_bytes").write_text(str(limit), encoding="ascii")
                memsw = self.path / "memory.memsw.limit_in_bytes"
                # Always when the kernel has it (swap may be turned on by another test at any time);
                # without it an active swap makes the cgroup swap instead of killing.
                if memsw.exists():
                    memsw.write_text(str(limit), encoding="ascii")
                elif swap_active():
                    raise RuntimeError("swap is active and this kernel has no memory.memsw.limit_in_bytes: no reliable OOM kill")
            else:
                (self.path / "memory.max").write_text(str(limit), encoding="ascii")
                if (self.path / "memory.swap.max").exists():
                    (self.path / "memory.swap.max").write_text("0", encoding="ascii")
        except BaseException:
            self.remove()
            raise

    def __repr__(self) -> str:
        return f"MemoryCgroup({str(self.path)!r}, limit={self.limit})"

    def pids(self) -> list:
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text(encoding="ascii").split()]
        except FileNotFoundError:
            return []

    def oom_kills(self) -> int:
        """Kills counted by the cgroup itself (v1 memory.oom_control, v2 memory.events)."""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        for line in (self.path / name).read_text(encoding="ascii").splitlines():
            key, _sep, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def spawn(self, argv: list, adj: int = 0, **popen_kwargs) -> subprocess.Popen:
        """Start a command inside this cgroup with an oom_score_adj (raising only, without CAP_SYS_RESOURCE)."""
        wrapper = 'echo $$ > "$0" && echo "$1" > /proc/self/oom_score_adj && shift && exec "$@"'
        return subprocess.Popen(["sh", "-c", wrapper, str(self.path / "cgroup.procs"), str(adj), *argv], **popen_kwargs)

    def kill_all(self) -> None:
        for _attempt in range(50):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)

    def remove(self) -> None:
        if not self.path.exists():
            return
        self.kill_all()
        for _attempt in range(50):
            try:
                self.path.rmdir()
                return
            except OSError as exc:
                if exc.errno != errno.EBUSY:
                    raise
                time.sleep(0.1)
        raise RuntimeError(f"cannot remove {self.path}: still busy")


@dataclass
class Member:
    comm: str
    adj: int
    mib: int  # MiB allocated and held; -1: leaks until killed
    proc: subprocess.Popen | None = None
    pid: int = 0
    returncode: int | None = None
    oom_killed: bool = False  # the kernel's victim (the others are stopped by the helper afterwards)

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


@dataclass
class OomKill:
    """What one real kill did: the victim, the kernel's view, the counters."""

    victim_pid: int
    victim_comm: str
    returncode: int  # as subprocess reports it: -9
    exit_status: int  # as a shell reports it: 137
    cgroup: str  # as the kernel prints it in oom_memcg= / task_memcg=
    cgroup_dir: Path
    limit: int
    vmstat_before: int
    vmstat_after: int
    cgroup_oom_kills: int
    members: list = field(default_factory=list)
    kernel_lines: list = field(default_factory=list)  # KmsgRecord of this kill, in order
    expected_lines: list = field(default_factory=list)  # substrings every kernel log of this kill contains

    @property
    def killed_line(self) -> str:
        return f"Memory cgroup out of memory: Killed process {self.victim_pid} ({self.victim_comm})"


def _first_victim(members: list, after_seq: int, timeout: float = 10.0):
    """The first member named in a 'Killed process' record after ``after_seq``, and that kill's records
    (from 'invoked oom-killer' to 'Killed process')."""
    by_needle = {f"Killed process {m.pid} ({m.comm})": m for m in members}
    deadline = time.monotonic() + timeout
    while True:
        records = [r for r in read_kmsg() if r.seq > after_seq]
        for index, record in enumerate(records):
            for needle, member in by_needle.items():
                if needle in record.message:
                    start = index
                    while start > 0 and "invoked oom-killer" not in records[start].message:
                        start -= 1
                    return member, records[start:index + 1]
        if time.monotonic() > deadline:
            killed = [m for m in members if m.killed]
            raise AssertionError(f"{killed[0].comm} ({killed[0].pid}) was SIGKILLed but the kernel log has no OOM kill of it")
        time.sleep(0.1)


def run_oom_kill(comm: str = "oomguard-leak", adj: int = 0, others: list | None = None, limit_mib: int = 96,
                 version: int | None = None, timeout: float = 60.0, cgroups: list | None = None) -> OomKill:
    """Start ``others`` (each ``{"comm", "adj", "mib"}``, holding memory), then a leaker; wait for the kernel's kill.

    Returns the first victim; the other members are stopped afterwards and the cgroup removed.
    """
    cgroup = MemoryCgroup(limit_mib * MIB, version=version)
    if cgroups is not None:
        cgroups.append(cgroup)
    members = [Member(o["comm"][:15], int(o.get("adj", 0)), int(o.get("mib", 0))) for o in (others or [])]
    members.append(Member(comm[:15], adj, -1))  # the kernel keeps 15 characters of a comm
    seq_before = max((r.seq for r in read_kmsg()), default=-1)
    before = vmstat_oom_kill()
    try:
        for member in members:
            member.proc = cgroup.spawn(["python3", "-c", MEMBER, member.comm, str(member.mib), str(limit_mib * 4)], adj=member.adj,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            member.pid = member.proc.pid
            line = member.proc.stdout.readline().strip()  # 'ready' (or '' when killed while allocating)
            if line != "ready" and member.mib >= 0:
                break
        deadline = time.monotonic() + timeout
        while not any(m.killed for m in members):
            if time.monotonic() > deadline:
                raise AssertionError(f"no OOM kill in {cgroup} within {timeout}s")
            for member in members:
                member.returncode = member.proc.poll() if member.proc else None
                if member.returncode not in (None, -signal.SIGKILL) and member.mib < 0:
                    raise AssertionError(f"the leaker exited with {member.returncode} instead of being OOM-killed: "
                                         f"is the limit of {cgroup} enforced?")
            time.sleep(0.05)
        after = vmstat_oom_kill()
        kills = cgroup.oom_kills()
        # The first victim is the first member the kernel says it killed (two kills can fall in one poll).
        victim, records = _first_victim(members, seq_before)
        victim.oom_killed = True
    finally:
        for member in members:
            if member.proc is None:
                continue
            if member.proc.poll() is None:
                member.proc.kill()
            member.proc.wait()
            member.returncode = member.proc.returncode
            for stream in (member.proc.stdin, member.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
        cgroup.remove()
    return OomKill(
        victim_pid=victim.pid, victim_comm=victim.comm, returncode=victim.returncode, exit_status=128 + signal.SIGKILL,
        cgroup=cgroup.kernel_path, cgroup_dir=cgroup.path, limit=cgroup.limit, vmstat_before=before, vmstat_after=after,
        cgroup_oom_kills=kills, members=members, kernel_lines=records,
        expected_lines=[
            "invoked oom-killer:",
            "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=",
            f"oom_memcg={cgroup.kernel_path},task_memcg={cgroup.kernel_path},task={victim.comm},pid={victim.pid},",
            f"Memory cgroup out of memory: Killed process {victim.pid} ({victim.comm})",
        ],
    )


@pytest.fixture
def memory_cgroup():
    """Factory: ``cg = memory_cgroup(limit_bytes)`` -> MemoryCgroup; processes killed and cgroups removed at teardown."""
    created: list = []

    def factory(limit: int = 96 * MIB, version: int | None = None) -> MemoryCgroup:
        cgroup = MemoryCgroup(limit, version=version)
        created.append(cgroup)
        return cgroup

    try:
        yield factory
    finally:
        for cgroup in created:
            cgroup.remove()


@pytest.fixture
def oom_kill():
    """``rec = oom_kill(comm="pg-leak", adj=300, others=[{"comm": "bystander", "adj": 0, "mib": 40}])`` -> OomKill."""
    if os.geteuid() != 0:
        pytest.fail("real OOM kills need root (memory cgroups)", pytrace=False)
    created: list = []

    def trigger(**kwargs) -> OomKill:
        return run_oom_kill(cgroups=created, **kwargs)

    try:
        yield trigger
    finally:
        for cgroup in created:
            cgroup.remove()
