# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Tests of plugins/module_utils/_memory.py.

v1 memory cgroups are real here (this machine's /sys/fs/cgroup/memory). cgroup v2 memory CANNOT exist on this machine
(hybrid layout, the memory controller is bound to v1), so the v2 files under fixtures/memory/v2 are constructed in the
kernel's exact format (mm/memcontrol.c: memory.events prints ``low high max oom oom_kill oom_group_kill``, memory.max
``max`` or bytes, memory.stat ``key value`` lines) rather than read from a live cgroup.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ansible_collections.oomguard.linux.plugins.module_utils import _memory as mem

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "memory"
V1_MEMORY = Path("/sys/fs/cgroup/memory")
PAGE = mem.PAGE_SIZE


# ----------------------------------------------------------------------------------------------------------- parsers
def test_parse_pressure_kernel_format():
    text = "some avg10=1.25 avg60=0.50 avg300=0.10 total=123456\nfull avg10=0.75 avg60=0.00 avg300=0.02 total=99\n"
    assert mem.parse_pressure(text) == {
        "some": {"avg10": 1.25, "avg60": 0.5, "avg300": 0.1, "total": 123456},
        "full": {"avg10": 0.75, "avg60": 0.0, "avg300": 0.02, "total": 99},
    }
    assert mem.parse_pressure("") is None
    assert mem.parse_pressure(None) is None


def test_read_pressure_matches_live_file():
    path = Path("/proc/pressure/memory")
    if not path.exists():
        assert mem.read_pressure() is None
        return

    def some_total():
        return int(path.read_text().split()[4].split("=")[1])

    before = some_total()
    result = mem.read_pressure()
    after = some_total()
    assert set(result) == {"some", "full"}
    # the stall total only grows: what we read lies between two reads of the real file
    assert before <= result["some"]["total"] <= after


def test_vmstat_and_sysctls_are_the_live_values():
    vmstat = dict(line.split() for line in Path("/proc/vmstat").read_text().splitlines())
    before = int(vmstat["oom_kill"])
    value = mem.read_vmstat_oom_kill()
    after = int(dict(line.split() for line in Path("/proc/vmstat").read_text().splitlines())["oom_kill"])
    assert before <= value <= after
    sysctls = mem.read_sysctls()
    for name in mem.OOM_SYSCTLS:
        assert sysctls[name] == int(Path("/proc/sys/" + name.replace(".", "/")).read_text())


def test_missing_files_give_none(tmp_path):
    assert mem.read_vmstat_oom_kill(str(tmp_path)) is None
    assert mem.read_pressure(str(tmp_path)) is None
    assert mem.read_sysctls(str(tmp_path)) == dict((n, None) for n in mem.OOM_SYSCTLS)


def test_flat_keyed_skips_garbage():
    assert mem.parse_flat_keyed("oom_kill 3\nbad line here\nnum x\n\n") == {"oom_kill": 3}


def test_parse_limit_v1_v2():
    assert mem.parse_limit("9223372036854771712\n", 1) is None
    assert mem.parse_limit("100663296\n", 1) == 100663296
    assert mem.parse_limit("max\n", 2) is None
    assert mem.parse_limit("268435456\n", 2) == 268435456
    assert mem.parse_limit(None, 2) is None


def test_memory_summary():
    meminfo = {"MemTotal": 1024 * 1000, "MemAvailable": 1024 * 250, "SwapTotal": 1024 * 64, "SwapFree": 1024 * 60}
    swaps = [{"path": "/swap img", "type": "file", "size_bytes": 65536 * 1024, "used_bytes": 4096 * 1024, "priority": -2}]
    out = mem.memory_summary(meminfo, swaps)
    assert out == {"mem_total_kb": 1000, "mem_available_kb": 250, "available_pct": 25.0, "swap_total_kb": 64,
                   "swap_free_kb": 60,
                   "swap_devices": [{"path": "/swap img", "type": "file", "size_kb": 65536, "used_kb": 4096, "priority": -2}]}


# ------------------------------------------------------------------------------------------------------ layouts
HYBRID = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
"""


def test_layout_hybrid_from_text():
    layout = mem.cgroup_layout(HYBRID)
    assert layout["layout"] == "hybrid"
    assert layout["memory"] == "v1"
    assert layout["memory_mount"] == "/sys/fs/cgroup/memory"
    assert layout["unified_mount"] == "/sys/fs/cgroup/unified"
    mounts = mem.parse_cgroup_mounts(HYBRID)
    assert [m["controllers"] for m in mounts] == [["cpu"], ["memory"], ["name=systemd"], []]


def test_layout_v1_only():
    text = "".join(line + "\n" for line in HYBRID.splitlines() if "cgroup2" not in line)
    assert mem.cgroup_layout(text)["layout"] == "v1"
    assert mem.cgroup_layout("")["layout"] is None


def test_layout_v2_reads_root_controllers():
    text = "30 26 0:27 / %s rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n" % (FIXTURES / "v2")
    layout = mem.cgroup_layout(text)
    assert layout == {"layout": "v2", "memory": "v2", "memory_mount": str(FIXTURES / "v2"), "unified_mount": str(FIXTURES / "v2")}


def test_layout_of_this_machine_matches_mountinfo():
    layout = mem.read_cgroup_layout()
    text = Path("/proc/self/mountinfo").read_text()
    has_v1 = " - cgroup cgroup " in text
    has_v2 = " - cgroup2 " in text
    assert layout["layout"] == {(True, True): "hybrid", (True, False): "v1", (False, True): "v2", (False, False): None}[(has_v1, has_v2)]
    if layout["memory"] == "v1":
        assert (Path(layout["memory_mount"]) / "memory.limit_in_bytes").exists()


# --------------------------------------------------------------------------------------------- v2 (recorded format)
def v2_reader():
    return mem.MemoryCgroups("v2", str(FIXTURES / "v2"))


def test_v2_events_and_limits():
    reader = v2_reader()
    assert reader.oom_counts("/system.slice/web.service") == {"oom_kill": 2, "oom": 3, "source": "memory.events"}
    assert reader.limits("/system.slice/web.service") == {"memory_max": 268435456, "swap_max": 0, "memsw_max": None,
                                                          "swappiness": None, "memsw_accounting": False}
    assert reader.limits("/system.slice")["memory_max"] is None
    assert reader.oom_counts("/nonexistent") is None


def test_v2_nearest_limited_walks_up():
    reader = v2_reader()
    path, limits = reader.nearest_limited("/system.slice/web.service/worker")
    assert path == "/system.slice/web.service"
    assert limits["memory_max"] == 268435456
    assert reader.nearest_limited("/system.slice") == (None, None)
    assert reader.procs("/system.slice/web.service") == [4101, 4102, 4200]


def test_v2_walk_counters_nonzero_only():
    entries = v2_reader().walk_counters(unit_of=lambda p: p.rsplit("/", 1)[-1])
    assert [(e["path"], e["unit"], e["oom_kill"], e["oom"]) for e in entries] == [
        ("/system.slice", "system.slice", 2, 3), ("/system.slice/web.service", "web.service", 2, 3)]


def test_walk_counters_names_a_hostile_cgroup_in_valid_utf8(tmp_path):
    """A user who may create cgroups (a delegated user@UID.service on v2) names one with bytes that are not UTF-8 and a
    terminal escape, and gets one OOM kill counted there: the counter's path must still be valid UTF-8 (the kernel's
    \\xff spelling), or ansible-core refuses the host's whole result. Real directories and files, read for real."""
    root = tmp_path / "cg"
    evil = os.path.join(os.fsencode(root), b"user.slice", b"user-1000.slice", b"user@1000.service", b"\xff\x1b[2J")
    os.makedirs(evil)
    with open(os.path.join(evil, b"memory.events"), "w") as fh:
        fh.write("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
    entries = mem.MemoryCgroups("v2", str(root)).walk_counters(unit_of=lambda p: p.rsplit("/", 1)[-1])
    assert [(e["path"], e["unit"], e["oom_kill"]) for e in entries] == [
        ("/user.slice/user-1000.slice/user@1000.service/\\xff\x1b[2J", "\\xff\x1b[2J", 1)]
    json.dumps(entries, ensure_ascii=False).encode("utf-8")  # strict: a lone surrogate raises here


def test_v2_memory_stat_parses():
    stat = mem.parse_flat_keyed((FIXTURES / "v2" / "system.slice" / "web.service" / "memory.stat").read_text())
    assert stat["anon"] == 190382080 and stat["pagetables"] == 1015808


# ------------------------------------------------------------------------------------------------- badness arithmetic
def test_badness_formula_integer_division_first():
    # totalpages 262143 -> totalpages / 1000 = 262 (C integer division BEFORE the multiplication)
    assert mem.oom_badness(1000, 10, 5, 500, 262143) == 1015 + 500 * 262
    assert mem.oom_badness(1000, 0, 0, -500, 262143) == 1000 - 500 * 262
    assert mem.oom_badness(1000, 0, 0, -1000, 262143) is None
    assert mem.oom_badness(0, 0, 0, 0, 999) == 0  # totalpages < 1000: adj has no weight at all


def test_proc_oom_score_c_arithmetic():
    # fs/proc/base.c: (1000 + badness * 1000 / totalpages) * 2 / 3 with C truncation toward zero
    assert mem.proc_oom_score(0, 1000) == 666
    assert mem.proc_oom_score(1000, 1000) == 1333
    # -1000 / 3 truncates to -333 (Python's // would give -334): (1000 - 333) * 2 / 3 = 444
    assert mem.proc_oom_score(-1, 3) == 444
    assert mem.proc_oom_score(None, 1000) == 0


def test_cgroup_totalpages_v1_memsw():
    limits = {"memory_max": 96 << 20, "memsw_max": 128 << 20, "swappiness": 60, "memsw_accounting": True}
    # memsw excess (32 MiB) capped at the machine's swap
    assert mem.cgroup_totalpages(limits, total_swap_pages=1 << 20, version="v1", page_size=4096) == (128 << 20) // 4096
    assert mem.cgroup_totalpages(limits, total_swap_pages=100, version="v1", page_size=4096) == (96 << 20) // 4096 + 100
    assert mem.cgroup_totalpages(limits, total_swap_pages=0, version="v1", page_size=4096) == (96 << 20) // 4096
    no_swappiness = dict(limits, swappiness=0)
    assert mem.cgroup_totalpages(no_swappiness, total_swap_pages=1 << 20, version="v1", page_size=4096) == (96 << 20) // 4096


def test_cgroup_totalpages_v2_swap_max():
    limits = {"memory_max": 256 << 20, "swap_max": 0}
    assert mem.cgroup_totalpages(limits, 1 << 20, "v2", page_size=4096) == (256 << 20) // 4096
    limits = {"memory_max": 256 << 20, "swap_max": None}
    assert mem.cgroup_totalpages(limits, 1000, "v2", page_size=4096) == (256 << 20) // 4096 + 1000
    assert mem.cgroup_totalpages({"memory_max": 0}, 0, "v2") == 1
    assert mem.cgroup_totalpages({"memory_max": None}, 0, "v2") is None


def test_rank_by_badness_order_and_unkillable():
    ranks = mem.rank_by_badness([
        {"pid": 10, "badness": 100, "rss_kb": 400},
        {"pid": 11, "badness": 5000, "rss_kb": 4},
        {"pid": 12, "badness": 100, "rss_kb": 800},
        {"pid": 13, "badness": None, "rss_kb": 9999},
    ])
    assert ranks == {11: 1, 12: 2, 10: 3}


def _status_kb(pid, key):
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def test_badness_reproduces_the_kernels_oom_score():
    """The kernel's own /proc/PID/oom_score is our formula over the machine's totalpages (kernels >= 5.9)."""
    if tuple(int(x) for x in os.uname().release.split(".")[:2]) < (5, 9):
        pytest.skip("oom_score scaling differs before 5.9")
    meminfo = dict((line.split(":")[0], int(line.split()[1])) for line in Path("/proc/meminfo").read_text().splitlines())
    totalpages = (meminfo["MemTotal"] + meminfo["SwapTotal"]) // (PAGE // 1024)
    proc = subprocess.Popen([sys.executable, "-c", "import time; b = bytearray(64 << 20); time.sleep(30)"])
    try:
        time.sleep(0.5)
        for adj in (0, 300, 1000):
            Path("/proc/%d/oom_score_adj" % proc.pid).write_text(str(adj))
            badness = mem.badness_from_kb(_status_kb(proc.pid, "VmRSS"), _status_kb(proc.pid, "VmSwap"),
                                          _status_kb(proc.pid, "VmPTE"), adj, totalpages)
            expected = mem.proc_oom_score(badness, totalpages)
            actual = int(Path("/proc/%d/oom_score" % proc.pid).read_text())
            assert actual == expected, (adj, badness, totalpages)
    finally:
        proc.kill()
        proc.wait()


# ------------------------------------------------------------------------------------------------- v1 (real cgroups)
@pytest.fixture
def v1_cgroup():
    if not (V1_MEMORY / "memory.limit_in_bytes").exists() or not os.access(str(V1_MEMORY), os.W_OK):
        pytest.skip("no writable cgroup v1 memory hierarchy")
    path = V1_MEMORY / ("oomguard-unit-%d" % os.getpid())
    path.mkdir()
    child = path / "inner"
    procs = []
    try:
        child.mkdir()
        (path / "memory.limit_in_bytes").write_text(str(96 << 20))
        if (path / "memory.memsw.limit_in_bytes").exists():
            (path / "memory.memsw.limit_in_bytes").write_text(str(128 << 20))
        for target in (path, child):
            proc = subprocess.Popen(["sleep", "60"])
            procs.append(proc)
            (target / "cgroup.procs").write_text(str(proc.pid))
        yield path, procs
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        for directory in (child, path):
            for dummy in range(50):
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)


@pytest.mark.root
def test_v1_real_cgroup_limits_nearest_procs(v1_cgroup):
    path, procs = v1_cgroup
    layout = mem.read_cgroup_layout()
    reader = mem.MemoryCgroups.from_layout(layout)
    assert reader.version == 1
    rel = "/" + path.name
    limits = reader.limits(rel)
    assert limits["memory_max"] == int((path / "memory.limit_in_bytes").read_text()) == 96 << 20
    if limits["memsw_accounting"]:
        assert limits["memsw_max"] == 128 << 20
    assert limits["swappiness"] == int((path / "memory.swappiness").read_text())
    # the child has no limit of its own: its nearest limited cgroup is the parent
    assert reader.nearest_limited(rel + "/inner")[0] == rel
    assert reader.procs(rel) == sorted(p.pid for p in procs)
    counts = reader.oom_counts(rel)
    assert counts == {"oom_kill": 0, "oom": None, "source": "memory.oom_control"}
    assert "oom_kill 0" in (path / "memory.oom_control").read_text()
    # the root is never limited and the machine's /proc/self cgroup path resolves
    assert reader.nearest_limited("/") == (None, None)
