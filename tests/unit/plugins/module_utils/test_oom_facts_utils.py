# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Tests of plugins/module_utils/_oom_facts.py: the systemd view's comparison and the source status shape.

The unit's cgroup files below are written into a temporary tree laid out like /sys/fs/cgroup/memory (v1): the
comparison logic is what is tested here; the real systemd host test (tests/integration/test_oom_facts.py) covers
the same comparison against a live systemd and kernel.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from ansible_collections.oomguard.linux.plugins.module_utils import _oom_facts as facts

V1_LAYOUT = {"layout": "hybrid", "memory": "v1"}
COLLECTIONS = Path(__file__).resolve().parents[4] / ".collections"


def make_unit_cgroup(root, path, limit):
    directory = root / "memory" / path.lstrip("/")
    directory.mkdir(parents=True)
    (directory / "memory.limit_in_bytes").write_text("%d\n" % limit)


def test_unit_view_flags_skipped_adj_and_v1_memory_high(tmp_path):
    make_unit_cgroup(tmp_path, "/system.slice/db.service", 128 << 20)
    proc = subprocess.Popen(["sleep", "30"])
    try:
        props = {"Id": "db.service", "MainPID": str(proc.pid), "ControlGroup": "/system.slice/db.service",
                 "OOMScoreAdjust": "-500", "MemoryMax": str(128 << 20), "MemoryHigh": str(96 << 20), "OOMPolicy": "stop"}
        view = facts.unit_view(props, V1_LAYOUT, cgroup_root=str(tmp_path))
        adj = int(open("/proc/%d/oom_score_adj" % proc.pid).read())
    finally:
        proc.kill()
        proc.wait()
    assert view["configured"] == {"OOMScoreAdjust": -500, "MemoryMax": str(128 << 20), "MemoryHigh": str(96 << 20),
                                  "OOMPolicy": "stop"}
    assert view["enforced"] == {"oom_score_adj": adj, "memory_limit_bytes": 128 << 20, "memory_high_enforced": False}
    assert view["main_pid"] == proc.pid
    assert any(m.startswith("OOMScoreAdjust=-500 configured, but MainPID") for m in view["mismatches"])
    assert any("no memory.high" in m for m in view["mismatches"])
    assert not any(m.startswith("MemoryMax") for m in view["mismatches"])


def test_unit_view_flags_a_limit_not_applied(tmp_path):
    make_unit_cgroup(tmp_path, "/system.slice/web.service", 0x7FFFFFFFFFFFF000)
    props = {"Id": "web.service", "MainPID": "0", "ControlGroup": "/system.slice/web.service", "OOMScoreAdjust": "0",
             "MemoryMax": str(64 << 20), "MemoryHigh": "infinity", "OOMPolicy": "stop"}
    view = facts.unit_view(props, V1_LAYOUT, cgroup_root=str(tmp_path))
    assert view["main_pid"] is None
    assert view["enforced"]["memory_limit_bytes"] is None
    assert view["mismatches"] == ["MemoryMax=%d configured, but the cgroup's limit is infinity" % (64 << 20)]


def test_systemd_view_skips_unknown_and_duplicates():
    calls = []

    def show(unit, props):
        calls.append(unit)
        if unit == "gone.service":
            return {"LoadState": "not-found"}
        return {"Id": unit, "MainPID": "0", "OOMScoreAdjust": "0", "MemoryMax": "infinity", "MemoryHigh": "infinity",
                "OOMPolicy": "stop"}

    units = facts.systemd_view(show, ["a.service", "gone.service", "a.service", None], V1_LAYOUT)
    assert [u["unit"] for u in units] == ["a.service"]
    assert calls == ["a.service", "gone.service"]
    assert units[0]["mismatches"] == []


def test_source_status_shape():
    assert facts._source_status({"source": "dmesg", "available": True, "lines": 3, "kills": 1, "reason": None})["status"] == "read"
    out = facts._source_status({"source": "dmesg", "available": False, "lines": 0, "kills": 0,
                                "reason": "dmesg failed (rc=1): Operation not permitted"})
    assert out["status"] == "error" and "source" not in out
    out = facts._source_status({"source": "journal", "available": False, "lines": 0, "kills": 0,
                                "reason": "journal unavailable: No journal files were found"})
    assert out["status"] == "unavailable"


def test_kill_facts_reports_every_source_without_failing(tmp_path):
    def run_command(argv):
        return 1, "", "dmesg: read kernel buffer failed: Operation not permitted"

    def get_bin_path(name):
        return None if name == "journalctl" else "/bin/" + name

    out = facts.kill_facts(run_command, get_bin_path, sources=["journal", "dmesg", "files"],
                           log_files=[str(tmp_path / "none.log")], since="1d", proc_root="/proc")
    assert out["sources"]["journal"] == {"status": "unavailable", "lines": 0, "kills": 0, "reason": "journalctl not found"}
    assert out["sources"]["dmesg"]["status"] == "error"
    assert out["sources"]["kmsg"]["status"] == "skipped"
    assert out["sources"]["files"]["status"] == "unavailable"
    assert out["kills"] == [] and out["kill_count"] is None  # no source was read: unknown, never 0


def test_kmsg_is_the_fallback_for_dmesg():
    """/dev/kmsg is read (for real: root) only when dmesg could not be; after a good dmesg it would repeat it."""
    def dmesg_denied(argv):
        return 1, "", "dmesg: read kernel buffer failed: Operation not permitted"

    def dmesg_ok(argv):
        return 0, "[    1.000000] Linux version 6.x\n", ""

    def bins(name):
        return "/bin/" + name

    out = facts.kill_facts(dmesg_denied, bins, sources=["dmesg", "kmsg"], since="1d", proc_root="/proc")
    assert out["sources"]["dmesg"]["status"] == "error"
    assert out["sources"]["kmsg"]["status"] == "read" and out["sources"]["kmsg"]["lines"] > 0
    out = facts.kill_facts(dmesg_ok, bins, sources=["dmesg", "kmsg"], since="1d", proc_root="/proc")
    assert out["sources"]["dmesg"]["status"] == "read" and out["sources"]["dmesg"]["lines"] == 1
    assert out["sources"]["kmsg"]["status"] == "skipped" and "same ring buffer" in out["sources"]["kmsg"]["reason"]


# ------------------------------------------------------------------------------------------------ schema 2, lazy imports
def test_constants_are_the_kernel_log_modules():
    """The module's argument spec takes these from _oom_facts so that it need not import _kernel_log."""
    from ansible_collections.oomguard.linux.plugins.module_utils import _kernel_log as klog

    assert set(facts.KILL_FIELDS) == set(klog.RECORD_KEYS) | {"container_runtime"}
    assert len(facts.KILL_FIELDS) == len(set(facts.KILL_FIELDS))
    assert facts.MAX_RAW_LINES == klog.MAX_RAW_LINES
    assert tuple(facts.DEFAULT_LOG_FILES) == tuple(klog.DEFAULT_LOG_FILES)
    assert facts.DEFAULT_LIMITS == klog.DEFAULT_LIMITS


def test_boot_id_reader_agrees_with_the_kernel_log_one():
    from ansible_collections.oomguard.linux.plugins.module_utils import _kernel_log as klog
    from ansible_collections.oomguard.linux.plugins.module_utils import _memory as mem

    raw = open("/proc/sys/kernel/random/boot_id").read().strip()
    assert mem.read_boot_id() == klog.current_boot_id() == raw.replace("-", "")
    assert mem.read_boot_id("/nonexistent") is None


def test_a_call_without_kernel_log_sources_does_not_import_the_kernel_log_code():
    """Run collect() in a fresh interpreter (as the module would): sources [] leaves _kernel_log unimported,
    a source to read imports it."""
    code = r"""
import sys
sys.path.insert(0, %r)
from ansible_collections.oomguard.linux.plugins.module_utils import _oom_facts as facts
name = "ansible_collections.oomguard.linux.plugins.module_utils._kernel_log"
out = facts.collect({"top": 2, "sources": []}, None, lambda n: None, None)
assert out["process_columns"] and len(out["processes"]) == 2, out["processes"]
print(name in sys.modules)
facts.kill_facts(lambda argv: (1, "", "denied"), lambda n: None, sources=["files"], log_files=["/nonexistent.log"])
print(name in sys.modules)
""" % str(COLLECTIONS)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]


def test_rows_as_dicts_names_every_row_and_leaves_the_input_alone():
    given = {"schema": 2, "process_columns": ["rank", "pid", "comm"], "processes": [[1, 10, "a"], [2, 11, "b"]],
             "watched": [[7, 12, "pg"]], "kill_columns": ["pid", "container_id"], "kills": [[99, None]], "kill_count": 1}
    out = facts.rows_as_dicts(given)
    assert out["processes"] == [{"rank": 1, "pid": 10, "comm": "a"}, {"rank": 2, "pid": 11, "comm": "b"}]
    assert out["watched"] == [{"rank": 7, "pid": 12, "comm": "pg"}]
    assert out["kills"] == [{"pid": 99, "container_id": None}]
    assert given["processes"][0] == [1, 10, "a"] and out["kill_count"] == 1
    dicts = {"schema": 2, "process_columns": ["pid"], "processes": [{"pid": 1}], "kills": [], "watched": []}
    assert facts.rows_as_dicts(dicts) == dicts  # row_format: dicts (and schema 1) pass through
    assert facts.rows_as_dicts(None) is None


def test_kills_from_a_log_file_carry_the_container_of_their_task_memcg(tmp_path):
    """A real parse of a syslog file: the podman victim gets podman and its id, the host's victim none."""
    cid = "4a23b606900e52804c29ecda56a0cdfeed269d438b144786a641a65d3ffae818"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 600))
    lines = []
    for pid, memcg in ((4001, "/libpod_parent/libpod-%s/system.slice/web.service" % cid), (4002, "/system.slice/db.service")):
        lines += [
            "%s h kernel: oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=%s,"
            "task_memcg=%s,task=worker,pid=%d,uid=0" % (stamp, memcg, memcg, pid),
            "%s h kernel: Memory cgroup out of memory: Killed process %d (worker) total-vm:1000kB, anon-rss:500kB, "
            "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:0" % (stamp, pid),
        ]
    log = tmp_path / "kern.log"
    log.write_text("\n".join(lines) + "\n")
    out = facts.kill_facts(None, lambda n: None, sources=["files"], log_files=[str(log)], since="1d", proc_root="/proc")
    kills = dict((k["pid"], k) for k in out["kills"])
    assert sorted(kills) == [4001, 4002], out
    assert (kills[4001]["container_id"], kills[4001]["container_runtime"]) == (cid, "podman")
    assert (kills[4002]["container_id"], kills[4002]["container_runtime"]) == (None, None)
