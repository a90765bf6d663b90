# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""oomguard.linux.oom_facts against the real system: the process table agrees with /proc, real kernel OOM kills
come back as records (dmesg, a private journal, a systemd test host), cgroup_rank predicts the kernel's victim, and
fact gathering with facts_modules brings ansible_facts.oom along."""
from __future__ import annotations

import os
import pwd
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.ansible_run import run_playbook
from helpers.oomkill import MEMBER, MIB, read_kmsg
from helpers.procs import spawner, wait_for  # noqa: F401  pylint: disable=unused-import

from ansible_collections.oomguard.linux.plugins.module_utils._oom_facts import rows_as_dicts

pytestmark = [pytest.mark.root]


def facts_of(result):
    """The module's facts (the default row_format: dicts, each row keyed by process_columns/kill_columns)."""
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    facts = result["ansible_facts"]["oom"]
    assert facts["schema"] == 2
    for key, columns in (("processes", "process_columns"), ("watched", "process_columns"), ("kills", "kill_columns")):
        assert all(isinstance(row, dict) and sorted(row) == sorted(facts[columns]) for row in facts[key]), key
    return facts


def proc_value(pid, name):
    return Path("/proc/%d/%s" % (pid, name)).read_text()


def status_field(pid, key, index=0):
    for line in proc_value(pid, "status").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1 + index])
    return None


def by_pid(rows):
    return dict((row["pid"], row) for row in rows)


@pytest.fixture
def spawned(spawner):  # pylint: disable=redefined-outer-name
    """Processes under distinct names (tests/helpers/procs.py: world-readable executables, some run as nobody)."""
    return spawner


# ------------------------------------------------------------------------------------------------ process table
def test_process_table_agrees_with_proc(run_module, spawned):
    """Spawned processes with distinct comms and raised oom_score_adj are reported as /proc has them."""
    procs = {
        "oomf-zero": spawned.start("oomf-zero"),
        "oomf-three": spawned.start("oomf-three"),
        "oomf-seven": spawned.start("oomf-seven", uid=65534),
    }
    # a non-dumpable process: /proc/PID is owned by root, the uid must come from status
    procs["oomf-nodump"] = spawned.python("import time; time.sleep(300)", comm="oomf-nodump", uid=65534, dumpable=False)
    adjs = {"oomf-zero": 0, "oomf-three": 300, "oomf-seven": 700, "oomf-nodump": 100}
    for name, proc in procs.items():
        Path("/proc/%d/oom_score_adj" % proc.pid).write_text(str(adjs[name]))
    result = run_module("oom_facts", {"name": list(procs), "top": 0, "sources": ["kmsg"]})
    facts = facts_of(result)
    rows = by_pid(facts["processes"])
    assert set(rows) == set(p.pid for p in procs.values())
    for name, proc in procs.items():
        row = rows[proc.pid]
        assert row["comm"] == proc_value(proc.pid, "comm").strip() == name
        assert row["oom_score_adj"] == int(proc_value(proc.pid, "oom_score_adj")) == adjs[name]
        assert row["oom_score"] == int(proc_value(proc.pid, "oom_score"))
        assert row["rss_kb"] == status_field(proc.pid, "VmRSS")
        assert row["uid"] == status_field(proc.pid, "Uid")
        assert row["user"] == pwd.getpwuid(row["uid"]).pw_name
        assert row["ppid"] == int(proc_value(proc.pid, "stat").rsplit(")", 1)[1].split()[1])
        assert row["swap_kb"] == (status_field(proc.pid, "VmSwap") or 0)
    assert rows[procs["oomf-nodump"].pid]["uid"] == 65534
    assert os.stat("/proc/%d/status" % procs["oomf-nodump"].pid).st_uid == 0  # the file owner would have said root
    # kill order: the highest adj first; global ranks (the filter keeps the ranks of the whole table)
    order = [r["comm"] for r in facts["processes"]]
    assert order.index("oomf-seven") < order.index("oomf-three") < order.index("oomf-zero")
    assert facts["processes"][0]["rank"] >= 1
    assert all(a["rank"] < b["rank"] for a, b in zip(facts["processes"], facts["processes"][1:]))
    assert facts["process_count"] >= len(procs)


def test_top_watch_and_kernel_threads(run_module, spawned):
    watched = spawned.start("oomf-watched")
    first = spawned.start("oomf-first")
    Path("/proc/%d/oom_score_adj" % first.pid).write_text("1000")  # raising needs no capability: the kernel's first victim
    facts = facts_of(run_module("oom_facts", {"top": 2, "watch": ["oomf-watched"], "sources": ["kmsg"]}))
    assert len(facts["processes"]) == 2
    assert [r["rank"] for r in facts["processes"]] == [1, 2]
    assert facts["processes"][0]["pid"] == first.pid
    assert [w["pid"] for w in facts["watched"]] == [watched.pid]
    # the watched process keeps its rank in the whole table: at least one more than the processes /proc scores higher
    score = int(proc_value(watched.pid, "oom_score"))
    assert facts["watched"][0]["oom_score"] == score
    higher = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != watched.pid:
            try:
                higher += int(proc_value(int(entry), "oom_score")) > score
            except (OSError, ValueError):
                continue
    assert facts["watched"][0]["rank"] > 2 and facts["watched"][0]["rank"] >= higher, (facts["watched"][0], higher)
    # top 0: every user-space process, never a kernel thread (PF_KTHREAD)
    facts = facts_of(run_module("oom_facts", {"top": 0, "sources": ["kmsg"]}))
    pids = set(r["pid"] for r in facts["processes"])
    kthreads = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                flags = int(proc_value(int(entry), "stat").rsplit(")", 1)[1].split()[6])
            except (OSError, IndexError, ValueError):
                continue
            if flags & 0x00200000:
                kthreads.append(int(entry))
    assert kthreads, "this kernel has kernel threads"
    assert not pids & set(kthreads)
    assert watched.pid in pids
    assert len(facts["processes"]) == facts["process_count"]


def test_rows_are_lists_in_column_order_and_dicts_on_request(run_module, spawned):
    """The default rows are dicts named by process_columns; row_format: lists gives the same values as lists in that
    order, and process_fields picks columns in the spec's order."""
    procs = [spawned.start("oomf-rows-a"), spawned.start("oomf-rows-b")]
    Path("/proc/%d/oom_score_adj" % procs[1].pid).write_text("600")
    args = {"name": ["oomf-rows-a", "oomf-rows-b"], "top": 0, "sources": []}
    lists = run_module("oom_facts", dict(args, row_format="lists"))["ansible_facts"]["oom"]
    dicts = run_module("oom_facts", args)["ansible_facts"]["oom"]
    assert lists["process_columns"] == dicts["process_columns"] and "container_runtime" in lists["process_columns"]
    assert all(isinstance(row, list) for row in lists["processes"])
    assert [sorted(row) for row in dicts["processes"]] == [sorted(lists["process_columns"])] * 2
    stable = ("pid", "ppid", "comm", "uid", "user", "oom_score_adj", "unit", "slice", "memcg", "container_id", "container_runtime")
    assert [[row[k] for k in stable] for row in rows_as_dicts(lists)["processes"]] == \
        [[row[k] for k in stable] for row in dicts["processes"]]  # (ranks and memory may move between two runs)
    pid_at = lists["process_columns"].index("pid")
    assert [row[pid_at] for row in lists["processes"]] == [procs[1].pid, procs[0].pid]  # +600 dies first
    assert [row["pid"] for row in dicts["processes"]] == [procs[1].pid, procs[0].pid]
    adj_at = lists["process_columns"].index("oom_score_adj")
    assert lists["processes"][0][adj_at] == int(proc_value(procs[1].pid, "oom_score_adj")) == 600
    # only the asked columns, in the order of the choices whatever the order given
    few = run_module("oom_facts", dict(args, process_fields=["oom_score_adj", "pid", "comm"]))["ansible_facts"]["oom"]
    assert few["process_columns"] == ["pid", "comm", "oom_score_adj"]
    assert few["processes"] == [{"pid": procs[1].pid, "comm": "oomf-rows-b", "oom_score_adj": 600},
                                {"pid": procs[0].pid, "comm": "oomf-rows-a", "oom_score_adj": 0}]
    few = run_module("oom_facts", dict(args, process_fields=["oom_score_adj", "pid", "comm"], row_format="lists"))
    assert few["ansible_facts"]["oom"]["processes"] == [[procs[1].pid, "oomf-rows-b", 600], [procs[0].pid, "oomf-rows-a", 0]]
    assert lists["kill_columns"][-1] == "raw" and lists["kills"] == [] and lists["sources"]["dmesg"]["status"] == "skipped"


def test_container_process_and_its_kill_are_named(run_module, memory_cgroup, spawned):
    """A process whose cgroup path is podman's (``.../libpod-<64 hex>``) carries container_id and
    container_runtime, and so does the kernel's kill of a process there (from task_memcg).

    The cgroup is one we create under a limited test cgroup, named the way podman's cgroupfs driver names a
    container's: the module decides from the path alone, which the kernel reports as it is. (A real podman
    container is in tests/integration/test_oom_facts.py::test_systemd_host_unit_kill_and_view.)"""
    cid = secrets.token_hex(32)
    parent = memory_cgroup(96 * MIB)
    child = parent.path / ("libpod-" + cid)
    child.mkdir()
    members = []
    try:
        def spawn(argv, **kwargs):
            wrapper = 'echo $$ > "$0" && exec "$@"'
            proc = subprocess.Popen(["sh", "-c", wrapper, str(child / "cgroup.procs")] + argv, **kwargs)
            members.append(proc)
            return proc

        sleeper = spawn([sys.executable, "-c", MEMBER, "oomf-in-ctr", "1", "0"], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, text=True)
        assert sleeper.stdout.readline().strip() == "ready"
        host_side = spawned.start("oomf-host-side")
        facts = facts_of(run_module("oom_facts", {"name": ["oomf-in-ctr", "oomf-host-side"], "top": 0, "sources": []}))
        rows = by_pid(facts["processes"])
        row = rows[sleeper.pid]
        assert row["memcg"] == parent.kernel_path + "/libpod-" + cid
        assert (row["container_id"], row["container_runtime"]) == (cid, "podman")
        assert row["limit_memcg"] == parent.kernel_path  # the limit is the parent's
        assert (rows[host_side.pid]["container_id"], rows[host_side.pid]["container_runtime"]) == (None, None)
        # now a real kill inside that cgroup
        seq = max((r.seq for r in read_kmsg()), default=-1)
        leaker = spawn([sys.executable, "-c", MEMBER, "oomf-ctr-leak", "-1", "400"], stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, text=True)
        wait_for(lambda: any("Killed process" in r.message for r in read_kmsg() if r.seq > seq), timeout=60,
                 what="the kill in the kernel log")
        facts = facts_of(run_module("oom_facts", {"sources": ["dmesg"], "since": "1h", "top": 1}))
        mine = [k for k in facts["kills"] if k["task_memcg"] == parent.kernel_path + "/libpod-" + cid]
        assert mine, [(k["pid"], k["task_memcg"]) for k in facts["kills"]][-5:]
        assert all((k["container_id"], k["container_runtime"]) == (cid, "podman") for k in mine)
        assert mine[0]["pid"] in (leaker.pid, sleeper.pid)
        # kills in the host's own test cgroups (other tests' kills: /oomguard-test-XXXX) are named as no container
        hosts = [k for k in facts["kills"] if (k["task_memcg"] or "").count("/") == 1 and
                 k["task_memcg"].startswith("/oomguard-test-")]
        assert all(k["container_id"] is None and k["container_runtime"] is None for k in hosts)
    finally:
        for proc in members:
            proc.kill()
            proc.wait()
        for _attempt in range(50):
            try:
                child.rmdir()
                break
            except OSError:
                time.sleep(0.1)


def test_check_mode_and_bad_input(run_module):
    facts = facts_of(run_module("oom_facts", {"top": 1, "sources": ["kmsg"]}, check=True))
    assert facts["schema"] == 2 and len(facts["processes"]) == 1
    assert facts["counters"]["oom_kill"] is not None
    bad = run_module("oom_facts", {"top": -1})
    assert bad["failed"] and "top must be 0" in bad["msg"]
    bad = run_module("oom_facts", {"since": "last tuesday"})
    assert bad["failed"] and "since" in bad["msg"]
    bad = run_module("oom_facts", {"sources": ["syslog"]})
    assert bad["failed"] and "sources" in bad["msg"]


def test_machine_facts_match_the_kernel(run_module):
    facts = facts_of(run_module("oom_facts", {"top": 1, "sources": ["kmsg"]}))
    meminfo = dict((line.split(":")[0], int(line.split()[1])) for line in Path("/proc/meminfo").read_text().splitlines())
    assert facts["memory"]["mem_total_kb"] == meminfo["MemTotal"]
    assert facts["memory"]["swap_total_kb"] == meminfo["SwapTotal"]
    assert len(facts["memory"]["swap_devices"]) == len(Path("/proc/swaps").read_text().strip().splitlines()) - 1
    for name in ("vm.swappiness", "vm.overcommit_memory", "vm.panic_on_oom", "vm.oom_kill_allocating_task"):
        assert facts["sysctl"][name] == int(Path("/proc/sys/" + name.replace(".", "/")).read_text())
    assert facts["boot_id"] == Path("/proc/sys/kernel/random/boot_id").read_text().strip().replace("-", "")  # as kills[].boot_id
    assert facts["kernel"] == os.uname().release
    mountinfo = Path("/proc/self/mountinfo").read_text()
    if " - cgroup cgroup " in mountinfo and " - cgroup2 " in mountinfo:
        assert facts["cgroup"]["layout"] == "hybrid"
    if Path("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists():
        assert facts["cgroup"]["memory"] == "v1"
    cap = int([line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("CapEff:")][0].split()[1], 16)
    assert facts["cap_sys_resource"] == bool(cap & (1 << 24))
    assert facts["systemd"] == os.path.isdir("/run/systemd/system")


# ------------------------------------------------------------------------------------------------ cgroup rank
def test_cgroup_rank_predicts_the_kernels_victim(run_module, memory_cgroup):
    """Two processes in a limited cgroup at 0 and +500: cgroup_rank 1 is the +500 one although it holds less
    memory, and a real OOM in that cgroup then kills exactly that one."""
    cgroup = memory_cgroup(96 * MIB)
    members = {}
    try:
        for comm, adj, mib in (("oomf-cg-zero", 0, 40), ("oomf-cg-five", 500, 10)):
            proc = cgroup.spawn([sys.executable, "-c", MEMBER, comm, str(mib), "0"], adj=adj, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
            assert proc.stdout.readline().strip() == "ready"
            members[comm] = proc
        facts = facts_of(run_module("oom_facts", {"name": list(members), "top": 0, "sources": ["kmsg"]}))
        rows = dict((r["comm"], r) for r in facts["processes"])
        assert rows["oomf-cg-five"]["cgroup_rank"] == 1
        assert rows["oomf-cg-zero"]["cgroup_rank"] == 2
        assert rows["oomf-cg-five"]["rss_kb"] < rows["oomf-cg-zero"]["rss_kb"]
        for row in rows.values():
            assert row["memcg"] == row["limit_memcg"] == cgroup.kernel_path
            assert row["memcg_limit_bytes"] == int((cgroup.path / "memory.limit_in_bytes").read_text()) == 96 * MIB
        # now the kernel decides: a leaker pushes the cgroup over its limit
        seq = max((r.seq for r in read_kmsg()), default=-1)
        leaker = cgroup.spawn([sys.executable, "-c", MEMBER, "oomf-cg-leak", "-1", "400"], adj=0, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: members["oomf-cg-five"].poll() is not None or leaker.poll() is not None, timeout=60,
                     what="an OOM kill in the test cgroup")
            wait_for(lambda: any("Killed process" in r.message for r in read_kmsg() if r.seq > seq), timeout=10,
                     what="the kill in the kernel log")
            first = [r.message for r in read_kmsg() if r.seq > seq and "Killed process" in r.message][0]
            assert "Killed process %d (oomf-cg-five)" % members["oomf-cg-five"].pid in first, first
        finally:
            leaker.kill()
            leaker.wait()
    finally:
        for proc in members.values():
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------------------------------------ real kills
def find_kill(facts, pid, comm):
    hits = [k for k in facts["kills"] if k["pid"] == pid and k["comm"] == comm]
    assert len(hits) == 1, (pid, comm, [(k["pid"], k["comm"], k["sources"]) for k in facts["kills"]][-10:])
    return hits[0]


def test_real_kill_from_dmesg(run_module, oom_kill):
    kill = oom_kill(comm="oomf-dmesg")
    facts = facts_of(run_module("oom_facts", {"sources": ["dmesg"], "since": "1h", "top": 1}))
    assert facts["sources"]["dmesg"]["status"] == "read"
    assert facts["sources"]["journal"]["status"] == "skipped"
    rec = find_kill(facts, kill.victim_pid, kill.victim_comm)
    assert rec["sources"] == ["dmesg"]
    assert rec["killer"] == "kernel"
    assert rec["constraint"] == "memcg"
    assert rec["oom_memcg"] == rec["task_memcg"] == kill.cgroup
    assert rec["uid"] == 0
    assert rec["anon_rss_kb"] > 0 and rec["pgtables_kb"] is not None
    assert rec["time"] is not None and rec["monotonic"] is not None
    assert facts["counters"]["oom_kill"] >= kill.vmstat_after


def test_real_kill_from_private_journal(run_module, oom_kill, private_journal):
    kill = oom_kill(comm="oomf-journal")
    private_journal.wait_for(kill.killed_line)
    facts = facts_of(run_module("oom_facts", {"sources": ["journal"], "since": "1h", "top": 1},
                                wrapper=private_journal.wrapper))
    assert facts["sources"]["journal"]["status"] == "read", facts["sources"]["journal"]
    rec = find_kill(facts, kill.victim_pid, kill.victim_comm)
    assert rec["sources"] == ["journal"]
    assert rec["oom_memcg"] == rec["task_memcg"] == kill.cgroup
    assert rec["constraint"] == "memcg"
    # the same kill read from the journal and the ring buffer is ONE record
    facts = facts_of(run_module("oom_facts", {"sources": ["journal", "dmesg", "kmsg"], "since": "1h", "top": 1},
                                wrapper=private_journal.wrapper))
    rec = find_kill(facts, kill.victim_pid, kill.victim_comm)
    assert sorted(rec["sources"]) == ["dmesg", "journal"]
    # /dev/kmsg is the ring buffer dmesg already read: skipped, and said so
    assert facts["sources"]["kmsg"]["status"] == "skipped" and "same ring buffer" in facts["sources"]["kmsg"]["reason"]


def test_sources_never_fail_the_module(run_module, tmp_path):
    missing = str(tmp_path / "no-such.log")
    facts = facts_of(run_module("oom_facts", {"sources": ["files"], "log_files": [missing], "top": 1}))
    assert facts["sources"]["files"]["status"] == "unavailable"
    assert "no readable log file" in facts["sources"]["files"]["reason"]
    assert facts["kills"] == []


def test_empty_sources_read_no_kernel_log(run_module, oom_kill):
    oom_kill()  # a real kill is in dmesg now: with sources: [] it must still not be read
    facts = facts_of(run_module("oom_facts", {"sources": [], "top": 1}))
    assert facts["kills"] == [] and facts["kill_count"] is None  # nothing was read: unknown, never 0
    assert {name: src["status"] for name, src in facts["sources"].items()} == {
        "journal": "skipped", "dmesg": "skipped", "kmsg": "skipped", "files": "skipped"}
    facts = facts_of(run_module("oom_facts", {"sources": ["dmesg"], "since": "1h", "top": 1}))
    assert facts["kill_count"] >= 1 and facts["sources"]["dmesg"]["status"] == "read"


# ------------------------------------------------------------------------------------------------ systemd host
HOG_UNIT = """\
[Unit]
Description=oom_facts test: leaks until MemoryMax= kills it
[Service]
ExecStart=/usr/bin/python3 -c "b = []\\nwhile True: b.append(bytearray(1 << 20))"
MemoryMax=64M
MemorySwapMax=0
"""

GUARD_UNIT = """\
[Unit]
Description=oom_facts test: protected by configuration only
[Service]
ExecStart=/bin/sleep infinity
OOMScoreAdjust=-500
MemoryMax=128M
MemoryHigh=96M
"""


@pytest.mark.bench
@pytest.mark.slow
def test_systemd_host_unit_kill_and_view(run_module, make_systemd_host):
    host = make_systemd_host()
    host.write_file("/etc/systemd/system/oomf-hog.service", HOG_UNIT)
    host.write_file("/etc/systemd/system/oomf-guard.service", GUARD_UNIT)
    host.exec("systemctl daemon-reload && systemctl start oomf-guard.service && systemctl start oomf-hog.service")
    wait_for(lambda: host.systemctl_show("oomf-hog.service", "ActiveState")["ActiveState"] in ("failed", "inactive"),
             timeout=60, what="the hog's kill")
    facts = facts_of(run_module("oom_facts", {"sources": ["journal", "dmesg"], "since": "1h", "top": 5,
                                              "watch": ["oomf-guard.service"], "units": ["oomf-guard.service"]},
                                host=host.name, inventory=host.inventory))
    assert facts["systemd"] is True
    kills = [k for k in facts["kills"] if k["unit"] == "oomf-hog.service"]
    assert kills, [(k["comm"], k["task_memcg"], k["unit"]) for k in facts["kills"]]
    rec = kills[0]
    assert rec["killer"] == "kernel"
    assert rec["comm"] == "python3"
    assert rec["constraint"] == "memcg"
    assert rec["task_memcg"].endswith("/system.slice/oomf-hog.service")
    assert rec["container_id"] == host.id
    # the container sees the whole VM's kernel log: only its own cgroups' kills are kept
    assert all((k["task_memcg"] or k["oom_memcg"] or "").startswith(host.cgroup_prefix) for k in facts["kills"])
    assert facts["sources"]["dmesg"].get("container_cgroup") == host.cgroup_prefix

    # the watched unit's process agrees with /proc (inside the container)
    main_pid = host.main_pid("oomf-guard.service")
    rows = [w for w in facts["watched"] if w["pid"] == main_pid]
    assert rows and rows[0]["unit"] == "oomf-guard.service" and rows[0]["comm"] == "sleep"
    adj = int(host.exec(["cat", "/proc/%d/oom_score_adj" % main_pid]).stdout)
    assert rows[0]["oom_score_adj"] == adj
    # configured beside enforced: OOMScoreAdjust=-500 is skipped without CAP_SYS_RESOURCE; MemoryHigh has no v1 file
    view = [u for u in facts["units"] if u["unit"] == "oomf-guard.service"][0]
    shown = host.systemctl_show("oomf-guard.service", "OOMScoreAdjust", "MemoryMax", "MemoryHigh", "OOMPolicy")
    assert view["configured"] == {"OOMScoreAdjust": int(shown["OOMScoreAdjust"]), "MemoryMax": shown["MemoryMax"],
                                  "MemoryHigh": shown["MemoryHigh"], "OOMPolicy": shown["OOMPolicy"]}
    assert view["main_pid"] == main_pid
    assert view["enforced"]["oom_score_adj"] == adj
    limit_file = host.memory_cgroup_dir / "system.slice" / "oomf-guard.service" / "memory.limit_in_bytes"
    assert view["enforced"]["memory_limit_bytes"] == int(limit_file.read_text()) == 128 * MIB
    assert view["enforced"]["memory_high_enforced"] is False
    if adj != -500:
        assert any("OOMScoreAdjust=-500" in m for m in view["mismatches"]), view
    assert any(m.startswith("MemoryHigh=") for m in view["mismatches"]), view
    assert not any(m.startswith("MemoryMax=") for m in view["mismatches"]), view


# ------------------------------------------------------------------------------------------------ fact gathering
def test_facts_modules_bring_oom_facts_along():
    play = {"hosts": "localhost", "gather_facts": True,
            "tasks": [{"name": "show", "ansible.builtin.debug": {"msg": "{{ ansible_facts.oom.schema }}|{{ ansible_facts.distribution }}"}}]}
    # setup's own collectors time out after 10 s on a loaded machine: give them room, this test is about oom_facts
    doc = run_playbook([play], extra_env={"ANSIBLE_FACTS_MODULES": "ansible.builtin.setup,oomguard.linux.oom_facts",
                                          "ANSIBLE_GATHER_TIMEOUT": "120"})
    tasks = doc["plays"][0]["tasks"]
    gathered = tasks[0]["hosts"]["localhost"].get("ansible_facts", {})
    assert "oom" in gathered, dict((k, v) for k, v in tasks[0]["hosts"]["localhost"].items() if k != "ansible_facts")
    assert gathered["oom"]["schema"] == 2
    assert gathered["oom"]["process_count"] > 0
    assert "ansible_distribution" in gathered  # setup ran too
    assert tasks[1]["hosts"]["localhost"]["msg"].startswith("2|")
    # without the setting, gather_facts brings no oom facts
    doc = run_playbook([dict(play, tasks=[])])
    assert "oom" not in doc["plays"][0]["tasks"][0]["hosts"]["localhost"]["ansible_facts"]
