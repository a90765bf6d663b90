# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Facts documents shaped like ``oomguard.linux.oom_facts`` returns them (contract: docs/audit.md, FACTS schema 1).

Used by the report's unit tests and benchmarks/bench_audit.py. ``host_facts`` builds one host's
``ansible_facts.oom`` from a few knobs; ``recorded`` loads facts recorded from real hosts (tests/unit/.../fixtures).
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "unit" / "plugins" / "module_utils" / "fixtures"


def proc(pid, comm, adj=0, score=None, rank=None, unit=None, rss_kb=10_000):
    return {"rank": rank, "cgroup_rank": None, "pid": pid, "ppid": 1, "comm": comm, "uid": 0, "user": "root",
            "rss_kb": rss_kb, "swap_kb": 0, "oom_score": score if score is not None else max(0, adj + 1),
            "oom_score_adj": adj, "unit": unit, "slice": "system.slice" if unit else None, "container_id": None,
            "memcg": f"/system.slice/{unit}" if unit else "/", "memcg_limit_bytes": None}


def kill(pid, comm, unit=None, time="2026-11-27T10:00:00+00:00", killer="kernel", adj=0, anon_kb=30_000):
    memcg = f"/system.slice/{unit}" if unit else "/oomtest"
    return {"time": time, "monotonic": 1234.5, "boot_id": "b" * 32, "pid": pid, "comm": comm, "uid": 0,
            "total_vm_kb": anon_kb + 10_000, "anon_rss_kb": anon_kb, "file_rss_kb": 1000, "shmem_rss_kb": 0,
            "pgtables_kb": 100, "oom_score_adj": adj, "constraint": "memcg", "oom_memcg": memcg, "task_memcg": memcg,
            "unit": unit, "invoker": None, "killer": killer, "sources": ["dmesg"]}


def unit(name, main_pid, configured_adj=None, enforced_adj=0, memory_high=None, high_enforced=False, memory_max=None):
    return {"unit": name, "main_pid": main_pid,
            "configured": {"OOMScoreAdjust": configured_adj, "MemoryMax": memory_max, "MemoryHigh": memory_high,
                           "OOMPolicy": "stop"},
            "enforced": {"oom_score_adj": enforced_adj, "memory_limit_bytes": None, "memory_high_enforced": high_enforced},
            "mismatches": []}


def host_facts(processes=(), watched=(), kills=(), units=(), swap_kb=0, mem_total_kb=8_000_000, mem_available_kb=4_000_000,
               cap_sys_resource=False, collected_at="2026-11-27T14:07:28+00:00"):
    """One host's ansible_facts.oom with sensible defaults; ranks are filled from oom_score when missing."""
    procs = [dict(p) for p in processes]
    watch = [dict(p) for p in watched]
    everything = {p["pid"]: p for p in procs + watch}
    ordered = sorted(everything.values(), key=lambda p: (-p["oom_score"], p["pid"]))
    for i, p in enumerate(ordered, 1):
        if p.get("rank") is None:
            p["rank"] = i
    return {
        "schema": 1, "collected_at": collected_at, "kernel": "6.1.0-test", "boot_id": "b" * 32,
        "boot_time": "2026-11-27T08:00:00+00:00", "uptime_s": 22_000.0,
        "cgroup": {"layout": "hybrid", "memory": "v1"},
        "memory": {"mem_total_kb": mem_total_kb, "mem_available_kb": mem_available_kb,
                   "available_pct": round(100.0 * mem_available_kb / mem_total_kb, 2),
                   "swap_total_kb": swap_kb, "swap_free_kb": swap_kb,
                   "swap_devices": ([{"path": "/swapfile", "type": "file", "size_kb": swap_kb, "used_kb": 0, "priority": -2}]
                                    if swap_kb else [])},
        "sysctl": {"vm.swappiness": 60, "vm.overcommit_memory": 0, "vm.panic_on_oom": 0, "vm.oom_kill_allocating_task": 0},
        "pressure": None,
        "counters": {"oom_kill": len(kills), "cgroups": []},
        "killers": {"systemd_oomd": False, "earlyoom": False},
        "cap_sys_resource": cap_sys_resource, "systemd": True, "process_count": len(everything) + 50,
        "processes": procs, "watched": watch, "kills": [dict(k) for k in kills], "kill_count": len(kills),
        "sources": {"journal": {"status": "read", "lines": 10, "reason": ""}},
        "units": [dict(u) for u in units],
    }


def ok(facts):
    """Wrap facts the way a registered oom_facts task result holds them."""
    return {"changed": False, "ansible_facts": {"oom": facts}}


def recorded(name):
    """A facts document recorded from a real host (fixtures/<name>.json), deep-copied."""
    with open(FIXTURES / f"{name}.json", encoding="utf-8") as fh:
        return copy.deepcopy(json.load(fh))
