# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Tests of plugins/module_utils/_oom_facts.py: the systemd view's comparison and the source status shape.

The unit's cgroup files below are written into a temporary tree laid out like /sys/fs/cgroup/memory (v1): the
comparison logic is what is tested here; the real systemd host test (tests/integration/test_oom_facts.py) covers
the same comparison against a live systemd and kernel.
"""
from __future__ import annotations

import subprocess

from ansible_collections.oomguard.linux.plugins.module_utils import _oom_facts as facts

V1_LAYOUT = {"layout": "hybrid", "memory": "v1"}


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
    assert out["kills"] == [] and out["kill_count"] == 0


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
