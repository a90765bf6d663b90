# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Real OOM kills in a small v1 memory cgroup, read back through the parser from the real dmesg and /dev/kmsg.

The kill helper lives in this file (tests/helpers/oomkill.py was still a stub when this was written): it creates
/sys/fs/cgroup/memory/oomguard-kl-<random>, limits it to 64 MiB (memsw too, in case another test has swap on),
runs a process that renames itself and allocates until the kernel kills it, and removes the cgroup afterwards.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from ansible_collections.oomguard.linux.plugins.module_utils import _kernel_log as kl

MEMCG_ROOT = "/sys/fs/cgroup/memory"
LIMIT = 64 << 20

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for memory cgroups and the kernel log"),
    pytest.mark.skipif(not os.path.exists(os.path.join(MEMCG_ROOT, "memory.limit_in_bytes")),
                       reason="needs the cgroup v1 memory controller"),
]

HOG = ("import sys\n"
       "open('/proc/self/comm', 'w').write(sys.argv[1])\n"
       "blocks = []\n"
       "while True:\n"
       "    blocks.append(bytearray(1 << 20))\n")


def run_command(cmd):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def oom_cgroup():
    path = os.path.join(MEMCG_ROOT, "oomguard-kl-" + uuid.uuid4().hex[:8])
    os.mkdir(path)
    try:
        with open(os.path.join(path, "memory.limit_in_bytes"), "w") as handle:
            handle.write(str(LIMIT))
        memsw = os.path.join(path, "memory.memsw.limit_in_bytes")
        if os.path.exists(memsw):
            with open(memsw, "w") as handle:
                handle.write(str(LIMIT))
        yield path
    finally:
        for dummy in range(50):
            try:
                os.rmdir(path)
                break
            except OSError:
                time.sleep(0.1)


def kill_in(cgroup, comm):
    """Run a memory hog named ``comm`` inside ``cgroup`` until the kernel kills it; return its pid."""
    procs = os.path.join(cgroup, "cgroup.procs")

    def enter():
        with open(procs, "w") as handle:
            handle.write(str(os.getpid()))

    proc = subprocess.Popen([sys.executable, "-c", HOG, comm], preexec_fn=enter)  # pylint: disable=subprocess-popen-preexec-fn
    assert proc.wait(timeout=60) == -9, "the hog was not killed by SIGKILL"
    return proc.pid


def find(records, pid):
    return [r for r in records if r["pid"] == pid]


def killed_with_summary(cgroup, comm):
    """Kill until the kernel printed the full report: its header and oom-kill: summary are rate-limited
    (10 per 5 s machine-wide), and other tests may kill at the same time. Returns (pid, dmesg events, status)."""
    for attempt in range(4):
        pid = kill_in(cgroup, comm)
        time.sleep(0.2)
        events, status = kl.read_dmesg(run_command)
        rec = find(kl.merge_records(events), pid)
        if rec and rec[0]["task_memcg"]:
            return pid, events, status
        time.sleep(5 + attempt)
    pytest.fail("no kill of %s came with its oom-kill: summary after 4 tries" % comm)
    return None


def test_real_kill_from_dmesg_and_kmsg(oom_cgroup):
    memcg = "/" + os.path.basename(oom_cgroup)
    before = time.time()
    pid, events, status = killed_with_summary(oom_cgroup, "kl t(e)st")
    with open(os.path.join(oom_cgroup, "memory.oom_control")) as handle:
        assert "oom_kill " in handle.read()

    assert status["available"] is True and status["lines"] > 0
    dmesg = kl.merge_records(events)
    rec = find(dmesg, pid)
    assert len(rec) == 1, dmesg[-3:]
    rec = rec[0]
    assert rec["comm"] == "kl t(e)st"
    assert rec["task_memcg"] == memcg and rec["oom_memcg"] == memcg and rec["constraint"] == "memcg"
    assert rec["killer"] == "kernel" and rec["uid"] == 0
    assert rec["anon_rss_kb"] and rec["anon_rss_kb"] <= LIMIT // 1024
    assert rec["invoker"] and rec["invoker"]["comm"] == "kl t(e)st"
    # monotonic stamp converted to wall clock through the boot time: within a few seconds of now
    assert before - 5 <= rec["timestamp"] <= time.time() + 5
    assert rec["boot_id"] == kl.current_boot_id()

    events_k, status_k = kl.read_kmsg()
    assert status_k["available"] is True and status_k["lines"] > 0
    merged = kl.merge_records(events, events_k)
    both = find(merged, pid)
    assert len(both) == 1 and both[0]["sources"] == ["dmesg", "kmsg"]
    # only kills under our cgroup are kept by the container filter
    assert [r["pid"] for r in kl.filter_cgroup(merged, memcg)] == [pid]


def test_real_dmesg_t_matches_raw(oom_cgroup):
    if not shutil.which("dmesg"):
        pytest.skip("no dmesg")
    pid, raw, dummy = killed_with_summary(oom_cgroup, "kl-wallclock")
    rc, out, dummy = run_command(["dmesg", "-T"])
    assert rc == 0
    wall = kl.merge_records(kl.parse_lines(out.splitlines(), "dmesg-T"))
    merged = kl.merge_records(kl.merge_records(raw), wall)
    rec = find(merged, pid)
    assert len(rec) == 1 and rec[0]["sources"] == ["dmesg", "dmesg-T"]
    assert rec[0]["task_memcg"] == "/" + os.path.basename(oom_cgroup)


def test_real_journal_status():
    """Both branches assert: on this machine kind journalctl finds no journal (PID 1 is not systemd)."""
    if not shutil.which("journalctl"):
        events, status = kl.read_journal(run_command)
        assert status["available"] is False and "failed" in status["reason"]
        return
    rc, out, err = run_command(["journalctl", "-k", "-n", "1", "--no-pager"])
    events, status = kl.read_journal(run_command)
    if "No journal files were found" in err + out or "-- No entries --" in out:
        assert status["available"] is False and status["reason"].startswith("journal unavailable")
        assert events == []
    else:
        assert rc == 0 and status["available"] is True and status["lines"] > 0


def test_real_kill_is_accounted_against_the_kernels_counters(oom_cgroup):
    """Issue 15 class 8 on a real kill: /proc/vmstat oom_kill and the cgroup's own memory.oom_control counter against the
    kills parsed back from the real dmesg (this boot), through the same calls as oom_facts."""
    from ansible_collections.oomguard.linux.plugins.module_utils import _memory as mem  # pylint: disable=import-outside-toplevel
    memcg = "/" + os.path.basename(oom_cgroup)
    before = mem.read_vmstat_oom_kill()
    pid, events, status = killed_with_summary(oom_cgroup, "kl-account")
    counter = mem.read_vmstat_oom_kill()
    assert before is not None and counter >= before + 1  # the kernel counted our kill
    reader = mem.MemoryCgroups.from_layout(mem.read_cgroup_layout())
    counts = reader.oom_counts(memcg)
    assert counts is not None and counts["oom_kill"] >= 1
    kills = kl.merge_records(events)
    got = kl.account_kills(kills, counter, [dict(counts, path=memcg)], kl.current_boot_id(), kl.boot_time(), None, ["dmesg"])
    assert got["count"] is not None and got["counter"] == counter
    this_boot = [r for r in kills if r["killer"] == "kernel" and r["boot_id"] == kl.current_boot_id()]
    assert got["parsed"] == len(this_boot) and got["count"] == counter - len(this_boot)
    # every kill the cgroup's counter holds is in the log with its cgroup, so none of them is unaccounted ...
    mine = [r for r in kills if r["task_memcg"] == memcg]
    assert pid in [r["pid"] for r in mine]
    assert got["cgroups"] == [{"path": memcg, "oom_kill": counts["oom_kill"], "parsed": len(mine),
                               "unaccounted": counts["oom_kill"] - len(mine)}]
    # ... unless the kernel rate-limited a summary (the kill line then lacks its cgroup): never more parsed than counted
    assert 0 <= got["cgroups"][0]["unaccounted"] <= counts["oom_kill"] - 1
    # a window that starts after the boot cannot show every kill of the journal or the files: unknown, not 0 ...
    late = kl.account_kills(kills, counter, [], kl.current_boot_id(), kl.boot_time(), time.time() - 60, ["journal"])
    assert late["count"] is None and "since" in late["reason"]
    # ... but dmesg is read whole, whatever since says
    late = kl.account_kills(kills, counter, [], kl.current_boot_id(), kl.boot_time(), time.time() - 60, ["dmesg"])
    assert late["count"] == got["count"] and late["reason"] is None


def test_real_kill_facts_return_the_canary_and_the_accounting(oom_cgroup):
    """oom_facts' own kill_facts on the real dmesg: the two facts of issue 15 class 8 are there and agree with /proc."""
    from ansible_collections.oomguard.linux.plugins.module_utils import _memory as mem  # pylint: disable=import-outside-toplevel
    from ansible_collections.oomguard.linux.plugins.module_utils import _oom_facts as facts  # pylint: disable=import-outside-toplevel
    pid = kill_in(oom_cgroup, "kl-facts")
    time.sleep(0.2)
    counter = mem.read_vmstat_oom_kill()
    got = facts.kill_facts(run_command, shutil.which, sources=["dmesg"], since=None,
                           counters={"oom_kill": counter, "cgroups": []})
    assert pid in [k["pid"] for k in got["kills"]]
    assert all(k["basis"] in kl.BASES for k in got["kills"])
    assert set(got["unparsed"]) == {"count", "lines", "by_source"} and got["unparsed"]["count"] >= 0
    account = got["unaccounted_kills"]
    kernel_now = [k for k in got["kills"] if k["killer"] == "kernel" and k["boot_id"] == kl.current_boot_id()]
    assert account["counter"] == counter and account["parsed"] == len(kernel_now)
    assert account["count"] == counter - len(kernel_now)
    # with the default window (7 days) the boot of this VM (minutes old) lies inside it: still known
    week = facts.kill_facts(run_command, shutil.which, sources=["dmesg"], counters={"oom_kill": counter, "cgroups": []})
    assert week["unaccounted_kills"]["count"] is not None or time.time() - kl.boot_time() > 7 * 86400
