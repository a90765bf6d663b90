# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Unit tests of the shared /proc layer, on the real /proc wherever the kernel can produce the case.

Recorded text is used only where this machine cannot produce the real thing: cgroup files of pure v1 and pure v2
hosts (this VM is hybrid) and a fake proc tree for the start-time check at write time (see each test).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ansible_collections.oomguard.linux.plugins.module_utils import _procfs as procfs
from helpers.procs import NOBODY, all_strings, hostile, read_adj, spawner, wait_for, write_adj  # noqa: F401  pylint: disable=unused-import

COLLECTIONS = str(Path(__file__).resolve().parents[4] / ".collections")
IS_ROOT = os.geteuid() == 0


def real_stat(pid):
    return procfs.parse_stat(Path(f"/proc/{pid}/stat").read_bytes())


# ---------------------------------------------------------------------------------------------------------------
# stat
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("comm", ["a) b (c", ") ) )", "x y z", "((((", "1 (2) S 3", "ends with )"])
def test_parse_stat_weird_comm_from_real_process(spawner, comm):
    proc = spawner.python("time.sleep(300)", comm=comm)
    stat = real_stat(proc.pid)
    assert stat.comm == comm[:15]
    assert stat.pid == proc.pid
    assert stat.ppid == os.getpid()
    assert stat.state in ("S", "R")
    assert not stat.is_kernel_thread
    assert stat.starttime > 0
    # ps parses the same line: it must agree on the parent and the comm
    ps_out = subprocess.run(["ps", "-o", "ppid=,comm=", "-p", str(proc.pid)], capture_output=True, text=True, check=True).stdout
    assert ps_out.split(None, 1) == [str(os.getpid()), comm[:15] + "\n"]


def test_parse_stat_recorded_line_fields():
    # Recorded line (kernel 6.x) with a comm holding both parentheses and spaces.
    line = ("4242 (a) (b) c) S 17 4242 4242 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 1 0 987654 10485760 300 "
            "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n")
    stat = procfs.parse_stat(line)
    assert (stat.pid, stat.comm, stat.state, stat.ppid) == (4242, "a) (b) c", "S", 17)
    assert stat.flags == 4194560 and not stat.is_kernel_thread
    assert (stat.num_threads, stat.starttime, stat.vsize, stat.rss_pages) == (1, 987654, 10485760, 300)
    assert procfs.parse_stat(line.encode()).comm == "a) (b) c"


def test_parse_stat_malformed():
    with pytest.raises(ValueError):
        procfs.parse_stat("12 no parens S 1")


def test_kernel_thread_detected_on_real_proc():
    stats = [procfs._stat_of("/proc", pid) for pid in procfs.list_pids()]
    kthreads = [s.pid for s in stats if s is not None and s.is_kernel_thread]
    if not kthreads:
        pytest.skip("no kernel thread visible in this pid namespace")
    if procfs._stat_of("/proc", 2) and procfs._stat_of("/proc", 2).comm == "kthreadd":
        assert 2 in kthreads
    for pid in kthreads[:5]:
        assert Path(f"/proc/{pid}/cmdline").read_bytes() == b""
        with procfs.ProcessHandle(pid) as handle:
            assert handle.is_kernel_thread
            assert handle.exe_name is None


# ---------------------------------------------------------------------------------------------------------------
# status, capabilities
# ---------------------------------------------------------------------------------------------------------------
def test_parse_status_and_helpers():
    status = procfs.parse_status(Path("/proc/self/status").read_text())
    assert procfs.status_uid(status) == os.getuid()
    assert procfs.status_kb(status, "VmRSS") > 0
    assert procfs.status_kb(status, "NoSuchKey") is None
    assert status["Tgid"] == str(os.getpid())


def test_has_cap_sys_resource_matches_capeff():
    capeff = int(procfs.parse_status(Path("/proc/self/status").read_text())["CapEff"], 16)
    assert procfs.has_cap_sys_resource() is bool(capeff & (1 << 24))


@pytest.mark.parametrize("capeff,expected", [("000001fffeffffff", False), ("000001ffffffffff", True), ("0000000001000000", True),
                                             ("0000000000000000", False)])
def test_has_cap_sys_resource_bit_24(tmp_path, capeff, expected):
    # A fake proc root: the real bit cannot be flipped for this process.
    (tmp_path / "self").mkdir()
    (tmp_path / "self" / "status").write_text(f"Name:\tx\nCapInh:\t0\nCapEff:\t{capeff}\n")
    assert procfs.has_cap_sys_resource(str(tmp_path)) is expected


# ---------------------------------------------------------------------------------------------------------------
# cgroup
# ---------------------------------------------------------------------------------------------------------------
def test_parse_cgroup_real_self():
    text = Path("/proc/self/cgroup").read_text()
    entries = procfs.parse_cgroup(text)
    assert len(entries) == len([line for line in text.splitlines() if line])
    path = procfs.systemd_cgroup_path(entries)
    assert path is not None and path.startswith("/")
    if any(e.controllers == ("memory",) for e in entries):  # hybrid/v1 host (this VM)
        assert procfs.memory_cgroup_path(entries) == next(e.path for e in entries if "memory" in e.controllers)


V1_RECORDED = """\
12:memory:/system.slice/postgresql@15-main.service
11:cpu,cpuacct:/system.slice/postgresql@15-main.service
3:net_cls,net_prio:/
1:name=systemd:/system.slice/postgresql@15-main.service
"""
# Recorded from a hybrid host (Debian 11 default): v1 controllers plus systemd's unified mirror.
HYBRID_RECORDED = """\
9:memory:/user.slice/user-1000.slice
1:name=systemd:/user.slice/user-1000.slice/session-3.scope
0::/user.slice/user-1000.slice/session-3.scope
"""
# Recorded from a pure cgroup v2 host (this machine has no v2 memory controller): one line.
V2_RECORDED = "0::/system.slice/nginx.service\n"
# Recorded inside a podman container running systemd (v2 host): the container's own cgroup namespace root.
V2_CONTAINER_RECORDED = "0::/machine.slice/libpod-" + "a" * 64 + ".scope/container/system.slice/cron.service\n"


def test_parse_cgroup_v1_recorded():
    entries = procfs.parse_cgroup(V1_RECORDED)
    assert entries[1] == procfs.CgroupEntry(11, ("cpu", "cpuacct"), "/system.slice/postgresql@15-main.service")
    assert entries[3].controllers == ("name=systemd",)
    assert procfs.systemd_cgroup_path(entries) == "/system.slice/postgresql@15-main.service"
    assert procfs.memory_cgroup_path(entries) == "/system.slice/postgresql@15-main.service"
    assert procfs.process_unit(entries)["unit"] == "postgresql@15-main.service"
    assert procfs.process_unit(entries)["slice"] == "system.slice"


def test_parse_cgroup_hybrid_prefers_named_systemd():
    entries = procfs.parse_cgroup(HYBRID_RECORDED)
    assert entries[-1].is_unified
    assert procfs.systemd_cgroup_path(entries) == "/user.slice/user-1000.slice/session-3.scope"
    assert procfs.memory_cgroup_path(entries) == "/user.slice/user-1000.slice"
    assert procfs.process_unit(entries)["unit"] == "session-3.scope"


def test_parse_cgroup_v2_recorded():
    entries = procfs.parse_cgroup(V2_RECORDED)
    assert entries == [procfs.CgroupEntry(0, (), "/system.slice/nginx.service")]
    assert procfs.systemd_cgroup_path(entries) == procfs.memory_cgroup_path(entries) == "/system.slice/nginx.service"
    assert procfs.process_unit(entries) == {"unit": "nginx.service", "slice": "system.slice", "container_id": None}


def test_parse_cgroup_v2_container_and_odd_lines():
    entries = procfs.parse_cgroup(V2_CONTAINER_RECORDED + "garbage\n\nx:y:z\n5:cpu:/a:b\n")
    assert procfs.process_unit(entries[:1]) == {"unit": "cron.service", "slice": "system.slice", "container_id": "a" * 64}
    assert entries[-1] == procfs.CgroupEntry(5, ("cpu",), "/a:b")  # a path holding ':' survives
    assert len(entries) == 2


def test_parse_cgroup_empty():
    assert procfs.parse_cgroup("") == []
    assert procfs.systemd_cgroup_path([]) is None
    assert procfs.process_unit([])["unit"] is None


# ---------------------------------------------------------------------------------------------------------------
# ProcessHandle on real processes
# ---------------------------------------------------------------------------------------------------------------
def test_handle_reads_real_process(spawner):
    proc = spawner.start("oomt-handle")
    write_adj(proc.pid, 321)
    with procfs.ProcessHandle(proc.pid) as handle:
        assert handle.pid == proc.pid
        assert handle.comm == "oomt-handle"
        assert handle.ppid == os.getpid()
        assert handle.starttime == real_stat(proc.pid).starttime
        assert handle.uid == os.getuid()
        assert handle.exe_name == "oomt-handle"
        assert handle.cmdline == [spawner.exe("oomt-handle"), "300"]
        assert handle.oom_score_adj == 321
        assert handle.oom_score == int(Path(f"/proc/{proc.pid}/oom_score").read_text())
        assert handle.cgroup == procfs.parse_cgroup(Path(f"/proc/{proc.pid}/cgroup").read_text())
        assert set(handle.unit) == {"unit", "slice", "container_id"}
        assert handle.rss_kb > 0 and handle.swap_kb >= 0
        assert not handle.is_kernel_thread
        handle.set_oom_score_adj(654)
        assert read_adj(proc.pid) == 654
    assert handle.closed


@pytest.mark.skipif(not IS_ROOT, reason="needs root to start a process as nobody")
def test_handle_uid_from_status_not_owner(spawner):
    # A non-dumpable process of nobody: the files in /proc/PID belong to root, the real uid is 65534.
    proc = spawner.python("time.sleep(300)", uid=NOBODY, dumpable=False)
    assert os.stat(f"/proc/{proc.pid}/status").st_uid == 0
    with procfs.ProcessHandle(proc.pid) as handle:
        assert handle.uid == NOBODY


def test_handle_vanished(spawner):
    proc = spawner.start("oomt-vanish")
    handle = procfs.ProcessHandle(proc.pid)
    spawner.kill(proc)
    with pytest.raises(procfs.ProcessVanished):
        handle.oom_score_adj  # pylint: disable=pointless-statement
    with pytest.raises(procfs.ProcessVanished):
        handle.set_oom_score_adj(100)
    handle.close()
    with pytest.raises(procfs.ProcessVanished):
        procfs.ProcessHandle(proc.pid)


def test_handle_value_range(spawner):
    proc = spawner.start("oomt-range")
    with procfs.ProcessHandle(proc.pid) as handle:
        for bad in (1001, -1001):
            with pytest.raises(ValueError):
                handle.set_oom_score_adj(bad)
    assert read_adj(proc.pid) == 0


def test_handle_expected_starttime_mismatch(spawner):
    proc = spawner.start("oomt-expect")
    start = real_stat(proc.pid).starttime
    with pytest.raises(procfs.PidReused):
        procfs.ProcessHandle(proc.pid, expected_starttime=start - 1)
    procfs.ProcessHandle(proc.pid, expected_starttime=start).close()


PID_REUSE_SCRIPT = textwrap.dedent("""
    import json, os, subprocess, sys, time
    sys.path.insert(0, sys.argv[1])
    from ansible_collections.oomguard.linux.plugins.module_utils import _procfs as procfs
    first = subprocess.Popen(["sleep", "300"])
    handle = procfs.ProcessHandle(first.pid)
    old_start = handle.starttime
    first.kill(); first.wait()
    time.sleep(0.05)  # a later clock tick, so the start times differ
    with open("/proc/sys/kernel/ns_last_pid", "w") as fh:
        fh.write(str(first.pid - 1))
    second = subprocess.Popen(["sleep", "300"])
    out = {"first": first.pid, "second": second.pid}
    try:
        handle.set_oom_score_adj(700)
        out["write"] = "written"
    except (procfs.ProcessVanished, procfs.PidReused) as exc:
        out["write"] = type(exc).__name__
    try:
        procfs.ProcessHandle(second.pid, expected_starttime=old_start)
        out["reopen"] = "opened"
    except procfs.PidReused:
        out["reopen"] = "PidReused"
    out["second_adj"] = int(open("/proc/%d/oom_score_adj" % second.pid).read())
    second.kill(); second.wait()
    print(json.dumps(out))
""")


@pytest.mark.skipif(not IS_ROOT, reason="needs root for a pid namespace and ns_last_pid")
def test_pid_reuse_guard_real_pid_namespace():
    """A real reused pid: in a fresh pid namespace, ns_last_pid makes the kernel hand the dead process's pid to
    the next child. The old handle must not write to it and a reopen with the old start time must refuse."""
    proc = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c", PID_REUSE_SCRIPT, COLLECTIONS],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["first"] == out["second"], "the kernel did not reuse the pid"
    assert out["write"] in ("ProcessVanished", "PidReused")
    assert out["reopen"] == "PidReused"
    assert out["second_adj"] == 0


def _fake_proc(root: Path, pid: int, starttime: int, comm: str = "fake", cgroup: str = V2_RECORDED, adj: int = 0,
               score: int = 100, flags: int = 4194560, ppid: int = 1, cmdline: bytes = b"fake\0--flag\0"):
    d = root / str(pid)
    d.mkdir(exist_ok=True)
    (d / "stat").write_text(f"{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 {flags} 0 0 0 0 0 0 0 0 20 0 1 0 {starttime} 1048576 25 "
                            "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n")
    (d / "oom_score_adj").write_text(f"{adj}\n")
    (d / "oom_score").write_text(f"{score}\n")
    (d / "cgroup").write_text(cgroup)
    (d / "cmdline").write_bytes(cmdline)
    (d / "status").write_text(f"Name:\t{comm}\nTgid:\t{pid}\nUid:\t1000\t1000\t1000\t1000\nVmRSS:\t  100 kB\nVmSwap:\t  7 kB\n"
                              "VmPTE:\t  12 kB\n")
    return d


def test_set_rechecks_start_time_fake_proc(tmp_path):
    """Simulated with a fake proc root (a real pid cannot be reused under an open fd: the stale fd fails first):
    the start time read through the fd at write time differs, so nothing is written."""
    d = _fake_proc(tmp_path, 77, starttime=1000)
    handle = procfs.ProcessHandle(77, proc_root=str(tmp_path))
    _fake_proc(tmp_path, 77, starttime=2000)
    with pytest.raises(procfs.PidReused) as info:
        handle.set_oom_score_adj(500)
    assert (info.value.expected, info.value.actual) == (1000, 2000)
    assert (d / "oom_score_adj").read_text() == "0\n"
    handle.close()


# ---------------------------------------------------------------------------------------------------------------
# selection
# ---------------------------------------------------------------------------------------------------------------
def pids_of(handles):
    result = [h.pid for h in handles]
    for handle in handles:
        handle.close()
    return result


def test_find_by_name_comm_and_long_exe_name(spawner):
    long_name = "oomt-a-very-long-process-name"
    target = spawner.start(long_name)
    assert Path(f"/proc/{target.pid}/comm").read_text().strip() == long_name[:15]
    other = spawner.start("oomt-a-very-long-process-nameX")  # same 15-char comm, another exe
    handles, missing = procfs.find_processes(names=[long_name])
    assert pids_of(handles) == [target.pid] and missing == []
    # the comm itself matches too, like pgrep -x
    assert sorted(pids_of(procfs.find_processes(names=long_name[:15])[0])) == sorted([target.pid, other.pid])
    assert pids_of(procfs.find_processes(names=["oomt-a-very-long-process-nam"])[0]) == []


def test_find_by_name_argv0_when_started_through_symlink(spawner, tmp_path):
    link = tmp_path / "oomt-symlinked-daemon-name"
    link.symlink_to(spawner.exe("oomt-real"))
    proc = subprocess.Popen([str(link), "300"], stdin=subprocess.DEVNULL, start_new_session=True)
    spawner.procs.append(proc)
    assert pids_of(procfs.find_processes(names=["oomt-symlinked-daemon-name"])[0]) == [proc.pid]
    assert pids_of(procfs.find_processes(names=["oomt-real"])[0]) == [proc.pid]


def test_find_by_pattern_like_pgrep_f(spawner):
    a = spawner.start("oomt-pat", args=["301"])
    b = spawner.start("oomt-pat", args=["302"])
    assert pids_of(procfs.find_processes(pattern=r"oomt-pat 30[12]")[0]) == sorted([a.pid, b.pid])
    assert pids_of(procfs.find_processes(pattern=r"oomt-pat 302$")[0]) == [b.pid]
    pgrep = subprocess.run(["pgrep", "-f", r"oomt-pat 30[12]"], capture_output=True, text=True, check=False).stdout.split()
    assert sorted(int(p) for p in pgrep) == sorted([a.pid, b.pid])


def test_find_pattern_excludes_self_and_ancestors(spawner):
    others = [spawner.start("oomt-any"), spawner.start("oomt-any")]
    everything = pids_of(procfs.find_processes(pattern=".")[0])
    assert os.getpid() not in everything and os.getppid() not in everything
    assert {p.pid for p in others} <= set(everything)  # a pattern matching everything still finds the others


def test_find_match_oldest_newest_and_children(spawner):
    procs = []
    for _index in range(3):
        procs.append(spawner.start("oomt-mat"))
        time.sleep(0.03)  # distinct start ticks
    assert pids_of(procfs.find_processes(names="oomt-mat", match="oldest")[0]) == [procs[0].pid]
    assert pids_of(procfs.find_processes(names="oomt-mat", match="newest")[0]) == [procs[-1].pid]
    assert pids_of(procfs.find_processes(names="oomt-mat")[0]) == sorted(p.pid for p in procs)
    parent = spawner.start("oomt-par", args=["-c", "sleep 300 & sleep 300 & sh -c 'sleep 300 & wait' & wait"], source="sh")
    kids = wait_for(lambda: len([pid for pid in procfs.list_pids() if _descends(pid, parent.pid)]) >= 4 and
                    [pid for pid in procfs.list_pids() if _descends(pid, parent.pid)], what="children")
    assert pids_of(procfs.find_processes(names="oomt-par")[0]) == [parent.pid]
    assert pids_of(procfs.find_processes(names="oomt-par", include_children=True)[0]) == [parent.pid] + sorted(kids)


def _descends(pid, ancestor):
    seen = 0
    while pid > 1 and seen < 100:
        stat = procfs._stat_of("/proc", pid)
        if stat is None:
            return False
        if stat.ppid == ancestor:
            return True
        pid = stat.ppid
        seen += 1
    return False


@pytest.mark.skipif(not IS_ROOT, reason="needs root to start a process as nobody")
def test_find_user_filter(spawner):
    mine = spawner.start("oomt-user")
    theirs = spawner.start("oomt-user", uid=NOBODY)
    assert pids_of(procfs.find_processes(names="oomt-user", user="nobody")[0]) == [theirs.pid]
    assert pids_of(procfs.find_processes(names="oomt-user", user=str(os.getuid()))[0]) == [mine.pid]
    with pytest.raises(procfs.SelectorError, match="unknown user"):
        procfs.find_processes(names="oomt-user", user="no-such-user-oomt")


def test_find_pids_missing_thread_and_kernel_thread(spawner):
    proc = spawner.python("import threading\nthreading.Thread(target=time.sleep, args=(300,)).start()\ntime.sleep(300)")
    tids = wait_for(lambda: [int(t) for t in os.listdir(f"/proc/{proc.pid}/task") if int(t) != proc.pid], what="thread")
    handles, missing = procfs.find_processes(pids=[proc.pid, tids[0], 2, 999999999])
    assert pids_of(handles) == [proc.pid]
    assert tids[0] in missing and 999999999 in missing
    if procfs._stat_of("/proc", 2) and procfs._stat_of("/proc", 2).is_kernel_thread:
        assert 2 in missing


def test_find_pidfile(spawner, tmp_path):
    proc = spawner.start("oomt-pidfile")
    pidfile = tmp_path / "x.pid"
    pidfile.write_text(f"{proc.pid}\n")
    assert pids_of(procfs.find_processes(pidfile=str(pidfile))[0]) == [proc.pid]
    for garbage in ("", "abc\n", "12 13\n", "-5\n", "0\n"):
        pidfile.write_text(garbage)
        with pytest.raises(procfs.SelectorError, match="does not contain a pid") as info:
            procfs.find_processes(pidfile=str(pidfile))
        assert info.value.missing is False
    with pytest.raises(procfs.SelectorError) as info:
        procfs.find_processes(pidfile=str(tmp_path / "absent.pid"))
    assert info.value.missing is True


def test_find_bad_selectors():
    with pytest.raises(procfs.SelectorError, match="invalid regular expression"):
        procfs.find_processes(pattern="(unclosed")
    with pytest.raises(procfs.SelectorError, match="exactly one selector"):
        procfs.find_processes(names="a", pattern="b")
    with pytest.raises(procfs.SelectorError, match="exactly one selector"):
        procfs.find_processes()


def test_find_by_unit_fake_proc(tmp_path):
    # The unit selector needs systemd cgroups; real units are covered in tests/integration (systemd test host).
    _fake_proc(tmp_path, 10, 100, comm="nginx", cgroup=V2_RECORDED)
    _fake_proc(tmp_path, 11, 101, comm="nginx", cgroup=V2_RECORDED, ppid=10)
    _fake_proc(tmp_path, 12, 102, comm="cron", cgroup=V2_CONTAINER_RECORDED)
    _fake_proc(tmp_path, 13, 103, comm="kworker", cgroup=V2_RECORDED, flags=procfs.PF_KTHREAD)
    handles, dummy = procfs.find_processes(unit="nginx.service", proc_root=str(tmp_path))
    assert pids_of(handles) == [10, 11]
    # cron.service of a container is not this host's cron.service (issue 14): never matched by unit, and its
    # placement names the container, with the unit inside it apart
    assert pids_of(procfs.find_processes(unit="cron.service", proc_root=str(tmp_path))[0]) == []
    where = procfs.placement(procfs.parse_cgroup(V2_CONTAINER_RECORDED))
    assert where == {"unit": None, "slice": None, "container_id": "a" * 64, "container_runtime": "podman",
                     "container_unit": "cron.service", "foreign": True}
    # seen from inside that same container, the process is a local one with its unit
    own = {"runtime": "podman", "id": "a" * 64}
    where = procfs.placement(procfs.parse_cgroup(V2_CONTAINER_RECORDED), own)
    assert (where["unit"], where["container_id"], where["foreign"]) == ("cron.service", "a" * 64, False)


# ---------------------------------------------------------------------------------------------------------------
# apply (vanished, rollback)
# ---------------------------------------------------------------------------------------------------------------
def test_apply_vanished_between_listing_and_writing(spawner):
    a = spawner.start("oomt-apply")
    b = spawner.start("oomt-apply")
    handles, dummy = procfs.find_processes(names="oomt-apply")
    spawner.kill(b)  # exits after the listing, before the write
    processes, vanished = procfs.apply_oom_score_adj(handles, 400)
    for handle in handles:
        handle.close()
    assert [p["pid"] for p in processes] == [a.pid]
    assert processes[0]["before"] == 0 and processes[0]["after"] == 400 and processes[0]["changed"]
    assert vanished == [{"pid": b.pid, "comm": "oomt-apply"}]
    assert read_adj(a.pid) == 400


def test_apply_check_mode_and_idempotent(spawner):
    proc = spawner.start("oomt-idem")
    with procfs.ProcessHandle(proc.pid) as handle:
        rows, dummy = procfs.apply_oom_score_adj([handle], 250, check_mode=True)
        assert rows[0]["changed"] and rows[0]["after"] == 250
        assert read_adj(proc.pid) == 0
        rows, dummy = procfs.apply_oom_score_adj([handle], 250)
        assert rows[0]["changed"] and read_adj(proc.pid) == 250
        rows, dummy = procfs.apply_oom_score_adj([handle], 250)
        assert not rows[0]["changed"]


ROLLBACK_SCRIPT = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from ansible_collections.oomguard.linux.plugins.module_utils import _procfs as procfs
    handles, missing = procfs.find_processes(pids=[int(sys.argv[2]), int(sys.argv[3])])
    try:
        procfs.apply_oom_score_adj(handles, 300)
        print(json.dumps({"raised": False}))
    except procfs.BatchWriteError as exc:
        print(json.dumps({"raised": True, "msg": str(exc), "failed": exc.failed["pid"],
                          "rolled_back": [r["pid"] for r in exc.rolled_back], "errno": exc.cause.errno}))
""")


@pytest.mark.skipif(not IS_ROOT, reason="needs root to start processes as two users")
def test_apply_rollback_real_eacces(spawner):
    """Two pids, the writer runs as nobody: its own process takes the write, root's process refuses it with a real
    EACCES, so the first one is set back to its previous value and the error names both."""
    own = spawner.start("oomt-rb-own", uid=NOBODY)
    roots = spawner.start("oomt-rb-root")
    write_adj(own.pid, 150)
    proc = subprocess.run([sys.executable, "-c", ROLLBACK_SCRIPT, COLLECTIONS, str(own.pid), str(roots.pid)],
                          capture_output=True, text=True, user=NOBODY, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["raised"] and out["failed"] == roots.pid and out["rolled_back"] == [own.pid]
    assert out["errno"] == 13
    assert f"{own.pid} (oomt-rb-own) set back to 150" in out["msg"]
    assert f"{roots.pid} (oomt-rb-root)" in out["msg"]
    assert read_adj(own.pid) == 150
    assert read_adj(roots.pid) == 0


def test_lower_below_zero_capability_branches(spawner):
    proc = spawner.start("oomt-neg")
    write_adj(proc.pid, 800)
    with procfs.ProcessHandle(proc.pid) as handle:
        handle.set_oom_score_adj(100)  # lowering above the minimum needs no capability
        assert read_adj(proc.pid) == 100
        if procfs.has_cap_sys_resource():
            handle.set_oom_score_adj(-500)
            assert read_adj(proc.pid) == -500
        else:
            with pytest.raises(procfs.OomAdjPermissionError) as info:
                handle.set_oom_score_adj(-500)
            assert info.value.missing_capability
            assert "CAP_SYS_RESOURCE" in str(info.value)
            assert read_adj(proc.pid) == 100


# ---------------------------------------------------------------------------------------------------------------
# the process table
# ---------------------------------------------------------------------------------------------------------------
def test_scan_agrees_with_proc(spawner):
    procs = [spawner.start("oomt-scan") for _index in range(3)]
    for proc, adj in zip(procs, (100, 900, 500)):
        write_adj(proc.pid, adj)
    for top in (0, 50):
        rows = procfs.scan_process_table(top=top, include_cmdline=True)["rows"]
        assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
        scores = [r["oom_score"] for r in rows]
        assert scores == sorted(scores, reverse=True)
        by_pid = {r["pid"]: r for r in rows}
        # 900 is the top spawned one; all three appear with the values in /proc
        for proc in procs:
            row = by_pid[proc.pid]
            assert row["oom_score_adj"] == read_adj(proc.pid)
            assert row["comm"] == "oomt-scan" and row["ppid"] == os.getpid()
            assert row["uid"] == os.getuid() and row["user"]
            assert row["cmdline"] == [spawner.exe("oomt-scan"), "300"]
            assert row["rss_kb"] > 0 and "unit" in row and row["memory_cgroup"]
        assert by_pid[procs[1].pid]["rank"] < by_pid[procs[2].pid]["rank"] < by_pid[procs[0].pid]["rank"]
        assert not any(procfs._stat_of("/proc", r["pid"]) and procfs._stat_of("/proc", r["pid"]).is_kernel_thread for r in rows)
    top3 = procfs.scan_process_table(top=3, names=["oomt-scan"])["rows"]
    assert [r["pid"] for r in top3] == [procs[1].pid, procs[2].pid, procs[0].pid]
    # a filtered row keeps its rank in the whole table
    assert [r["rank"] for r in top3] == [by_pid[p.pid]["rank"] for p in (procs[1], procs[2], procs[0])]


def test_scan_fake_proc_v2_units(tmp_path):
    # Recorded v2 cgroups in a fake proc root (no v2 memory controller here).
    _fake_proc(tmp_path, 10, 100, comm="nginx", score=300)
    _fake_proc(tmp_path, 12, 102, comm="cron", cgroup=V2_CONTAINER_RECORDED, score=500)
    _fake_proc(tmp_path, 13, 103, comm="kworker", flags=procfs.PF_KTHREAD, score=900)
    rows = procfs.scan_process_table(top=0, proc_root=str(tmp_path), with_user_name=False)["rows"]
    assert [r["pid"] for r in rows] == [12, 10]
    assert rows[0]["unit"] == "cron.service" and rows[0]["container_id"] == "a" * 64
    assert (rows[1]["uid"], rows[1]["rss_kb"], rows[1]["swap_kb"], rows[1]["pgtables_kb"]) == (1000, 100, 7, 12)
    assert procfs.scan_process_table(top=1, units="nginx.service", proc_root=str(tmp_path))["rows"][0]["pid"] == 10


# ---------------------------------------------------------------------------------------------------------------
# hostile input (issue 13): names that are not UTF-8, pidfiles anyone wrote, catastrophic patterns
# ---------------------------------------------------------------------------------------------------------------
def assert_valid_utf8(value):
    for text in all_strings(value):
        text.encode("utf-8")  # raises on a lone surrogate, as ansible-core 2.19 refuses it


def test_parse_stat_status_cgroup_undecodable_bytes_spelled_like_the_kernel():
    line = b"77 (oo\xff\xfeevil) S 1 77 77 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 5 100 3 0 0 0\n"
    assert procfs.parse_stat(line).comm == "oo\\xff\\xfeevil"
    assert procfs.parse_status(b"Name:\tx\xff\nUid:\t0\t0\t0\t0\n")["Name"] == "x\\xff"
    entries = procfs.parse_cgroup(b"0::/user.slice/\xffbad.service\n")
    assert entries[0].path == "/user.slice/\\xffbad.service"
    assert procfs.process_unit(entries)["unit"] == "\\xffbad.service"


@pytest.mark.skipif(not IS_ROOT, reason="needs root to start processes as nobody")
def test_hostile_names_of_real_processes_are_valid_utf8(hostile, tmp_path):
    bad = hostile(b"oomt\xffevil", uid=NOBODY, args=["arg\xff".encode("latin-1")])
    newline = hostile(b"oomt\nnl", uid=NOBODY)
    assert Path(f"/proc/{bad.pid}/comm").read_bytes() == b"oomt\xffevil\n"  # the kernel keeps the raw byte

    table = procfs.scan_process_table(top=0, include_cmdline=True)
    rows = {r["pid"]: r for r in table["rows"]}
    assert rows[bad.pid]["comm"] == "oomt\\xffevil"
    assert rows[bad.pid]["cmdline"][-1] == "arg\\xff"
    assert rows[bad.pid]["user"] == "nobody" and rows[bad.pid]["oom_score_adj"] == 1000
    assert rows[newline.pid]["comm"] == "oomt\nnl"
    assert "oomt\\xffevil" in table["comms"]
    assert_valid_utf8(table)
    json.dumps(table["rows"], ensure_ascii=False).encode("utf-8")
    # ranked among the top victims, and the top rows still serialise
    top = procfs.scan_process_table(top=5, include_cmdline=True)
    assert bad.pid in [r["pid"] for r in top["rows"]] or all(r["oom_score_adj"] == 1000 for r in top["rows"])
    assert_valid_utf8(top)

    handles, dummy = procfs.find_processes(names="oomt\\xffevil")
    try:
        assert [h.pid for h in handles] == [bad.pid]
        procs, vanished = procfs.apply_oom_score_adj(handles, 900)
    finally:
        for handle in handles:
            handle.close()
    assert procs[0]["comm"] == "oomt\\xffevil" and vanished == []
    assert_valid_utf8(procs)
    assert read_adj(bad.pid) == 900
    assert pids_of(procfs.find_processes(pattern=r"arg\\xff$")[0]) == [bad.pid]


def _pidfile_cases(tmp_path, target_pid):
    fifo = tmp_path / "fifo.pid"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.pid"
    with open(huge, "wb") as fh:
        fh.write(b"%d\n" % target_pid)
        fh.truncate(100 << 20)  # 100 MB (sparse: its size is what must stop us, not the disk)
    binary = tmp_path / "binary.pid"
    binary.write_bytes(b"%d\x00\xff\xfe\x1b[2J\n" % target_pid)
    real = tmp_path / "real.pid"
    real.write_text("%d\n" % target_pid)
    link = tmp_path / "link.pid"
    link.symlink_to(real)
    directory = tmp_path / "dir.pid"
    directory.mkdir()
    return {
        "fifo": (fifo, "is a FIFO, not a regular file"),
        "huge": (huge, "is 104857600 bytes, more than the 4096"),
        "binary": (binary, "does not contain a pid"),
        "symlink": (link, "is a symbolic link: refused"),
        "directory": (directory, "is a directory, not a regular file"),
        "device": (Path("/dev/zero"), "is a character device, not a regular file"),
    }


@pytest.mark.parametrize("case", ["fifo", "huge", "binary", "symlink", "directory", "device"])
def test_pidfile_hostile_files_fail_fast(spawner, tmp_path, case):
    proc = spawner.start("oomt-pidf")
    path, message = _pidfile_cases(tmp_path, proc.pid)[case]
    started = time.monotonic()
    with pytest.raises(procfs.SelectorError) as info:
        procfs.find_processes(pidfile=str(path))
    elapsed = time.monotonic() - started
    assert message in str(info.value), str(info.value)
    assert elapsed < 1.0, elapsed
    assert not getattr(info.value, "missing", True)
    str(info.value).encode("utf-8")
    assert read_adj(proc.pid) == 0


@pytest.mark.skipif(not IS_ROOT, reason="needs root to own files as two users")
def test_pidfile_owner_must_be_root_or_the_process_owner(spawner, tmp_path):
    os.chmod(tmp_path, 0o755)
    victim = spawner.start("oomt-pidf-root")
    own = spawner.start("oomt-pidf-nob", uid=NOBODY)
    forged = tmp_path / "forged.pid"
    forged.write_text("%d\n" % victim.pid)
    os.chown(forged, NOBODY, NOBODY)
    with pytest.raises(procfs.SelectorError) as info:
        procfs.find_processes(pidfile=str(forged))
    assert "owned by uid 65534 (nobody)" in str(info.value) and "runs as uid 0 (root)" in str(info.value)
    assert read_adj(victim.pid) == 0

    honest = tmp_path / "honest.pid"
    honest.write_text("%d\n" % own.pid)
    os.chown(honest, NOBODY, NOBODY)
    handles, missing = procfs.find_processes(pidfile=str(honest))
    assert pids_of(handles) == [own.pid] and missing == []
    # the user selector narrows a pidfile too
    rooted = tmp_path / "root.pid"
    rooted.write_text("%d\n" % own.pid)
    assert pids_of(procfs.find_processes(pidfile=str(rooted), user="root")[0]) == []
    assert pids_of(procfs.find_processes(pidfile=str(rooted), user="nobody")[0]) == [own.pid]


def test_pidfile_pid_reused_during_the_owner_check_is_refused(spawner, tmp_path, monkeypatch):
    """The owner is checked against the process the pidfile names; if that process is replaced (pid reused) between
    the check and the selection, the selection must not go ahead. The reuse itself cannot be timed here, so the
    owner check is wrapped to change the process's start time right after it ran (a mock of the timing only: the
    pidfile, its owner and the process are real)."""
    os.chmod(tmp_path, 0o755)
    own = spawner.start("oomt-pidf-race", uid=NOBODY)
    honest = tmp_path / "race.pid"
    honest.write_text("%d\n" % own.pid)
    os.chown(honest, NOBODY, NOBODY)
    real_stat_of, real_check = procfs._stat_of, procfs.check_pidfile_owner
    swapped = {"done": False}

    def check_then_reuse(*args, **kwargs):
        real_check(*args, **kwargs)
        swapped["done"] = True

    def stat_of(proc_root, pid):
        stat = real_stat_of(proc_root, pid)
        if swapped["done"] and stat is not None and pid == own.pid:
            stat.starttime += 1  # another process now holds this pid
        return stat

    monkeypatch.setattr(procfs, "check_pidfile_owner", check_then_reuse)
    monkeypatch.setattr(procfs, "_stat_of", stat_of)
    with pytest.raises(procfs.SelectorError) as info:
        procfs.find_processes(pidfile=str(honest))
    assert "changed while its owner was checked" in str(info.value)
    monkeypatch.undo()
    assert pids_of(procfs.find_processes(pidfile=str(honest))[0]) == [own.pid]  # without the swap it is selected


@pytest.mark.skipif(not IS_ROOT, reason="needs root to start an impostor as nobody")
def test_oldest_name_picks_impostor_unless_user_is_given(spawner):
    impostor = spawner.start("oomt-daemon", uid=NOBODY)
    time.sleep(0.05)
    real = spawner.start("oomt-daemon")
    assert pids_of(procfs.find_processes(names="oomt-daemon", match="oldest")[0]) == [impostor.pid]  # the hazard
    assert pids_of(procfs.find_processes(names="oomt-daemon", match="oldest", user="root")[0]) == [real.pid]
    assert pids_of(procfs.find_processes(pattern="oomt-daemo[n]", match="oldest", user="root")[0]) == [real.pid]
    assert pids_of(procfs.find_processes(pattern="oomt-daemo[n]", user="nobody")[0]) == [impostor.pid]


def test_catastrophic_pattern_is_bounded(spawner):
    victim = spawner.python("time.sleep(300)")
    redos = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "a" * 40 + "!"],
                             start_new_session=True)
    spawner.procs.append(redos)
    wait_for(lambda: Path(f"/proc/{redos.pid}/cmdline").read_bytes().endswith(b"a!\0"), what="cmdline")
    before = set(_children(os.getpid()))
    started = time.monotonic()
    with pytest.raises(procfs.PatternTimeout, match=r"did not finish matching .* within 1 s"):
        procfs.find_processes(pattern=r"(a+)+$", pattern_timeout=1)
    elapsed = time.monotonic() - started
    # the bound held (no earlier give-up) and the match was stopped: without the guard (a+)+$ on 40 a's runs for hours;
    # the upper bound leaves room for a loaded CI machine
    assert 1.0 <= elapsed < 15.0, elapsed
    assert set(_children(os.getpid())) == before, "the matching child was left behind"
    assert read_adj(redos.pid) == 0 and read_adj(victim.pid) == 0
    # the same engine, bounded, still answers a sane pattern against the same table
    assert pids_of(procfs.find_processes(pattern=r"a{40}!$", pattern_timeout=1)[0]) == [redos.pid]


def _children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False).stdout
    return [int(x) for x in out.split()]
