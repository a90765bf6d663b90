# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Assemble ``ansible_facts.oom`` (the contract in docs/oom_facts.md) from the shared module_utils.

The ``oom_facts`` module is argument handling plus :func:`collect`; the benchmarks (benchmarks/bench_module.py) time
the module as Ansible runs it. Nothing here fails because a source is missing: every part degrades to None/[] and says
why where it can.

Cheap to run where it matters (docs/performance.md):

* the kernel-log code (``_kernel_log``: a large module with many regular expressions) is imported only by a call that
  reads a kernel-log source; the constants the module's argument spec needs are defined here;
* process rows and kill records leave as dicts keyed by ``process_columns`` / ``kill_columns`` (schema 2), or, with
  ``row_format: lists`` (what the audit asks for), as lists in that order: about 2.4 times smaller and half the JSON
  encoding, though ``exit_json``'s no_log walk still visits every value. :func:`rows_as_dicts` turns list rows back
  into dicts for code that wants them (the report);
* each row is built once, in its final shape; cgroup-derived values (limit, container) are computed once per cgroup.
"""
from __future__ import annotations

import datetime
import os
import time

from ansible_collections.oomguard.linux.plugins.module_utils import _memory as mem
from ansible_collections.oomguard.linux.plugins.module_utils import _procfs as procfs
from ansible_collections.oomguard.linux.plugins.module_utils import _swap as swap
from ansible_collections.oomguard.linux.plugins.module_utils import _systemd as systemd
from ansible_collections.oomguard.linux.plugins.module_utils._container import container_of
from ansible_collections.oomguard.linux.plugins.module_utils._text import safe_text

SCHEMA = 2
SOURCES = ("journal", "dmesg", "kmsg", "files")
SHOW_PROPS = ("Id", "LoadState", "MainPID", "ControlGroup", "OOMScoreAdjust", "MemoryMax", "MemoryHigh", "OOMPolicy",
              "ManagedOOMPreference", "ActiveState")
MAX_UNITS = 50
MAX_CGROUP_MEMBERS = 20000
PROCESS_KEYS = ("rank", "cgroup_rank", "pid", "ppid", "comm", "uid", "user", "rss_kb", "swap_kb", "pgtables_kb",
                "oom_score", "oom_score_adj", "unit", "slice", "container_id", "container_runtime", "memcg", "limit_memcg",
                "memcg_limit_bytes")
# What the ``process_fields`` and ``kill_fields`` options may select, in the order of the columns.
PROCESS_FIELDS = PROCESS_KEYS + ("cmdline",)
# The kill record's keys: ``_kernel_log.RECORD_KEYS`` plus ``container_runtime`` (a unit test holds them equal), here
# so that the argument spec does not import the kernel-log code.
KILL_FIELDS = (
    "time", "timestamp", "monotonic", "boot_id", "basis", "pid", "comm", "uid",
    "total_vm_kb", "anon_rss_kb", "file_rss_kb", "shmem_rss_kb", "pgtables_kb", "vm_rss_kb",
    "oom_score_adj", "score", "cmdline", "constraint", "oom_memcg", "task_memcg", "unit", "slice", "slice_path",
    "user_manager", "container_id", "container_runtime", "invoker", "killer", "signal", "reason", "processes_killed",
    "group_kill", "reaped", "unit_reported", "trust", "sources", "raw",
)
# ``_kernel_log``'s MAX_RAW_LINES, DEFAULT_LOG_FILES and DEFAULT_LIMITS (a unit test holds them equal)
MAX_RAW_LINES = 6
DEFAULT_LOG_FILES = ("/var/log/kern.log", "/var/log/messages")
DEFAULT_LIMITS = {"max_line_length": 65536, "max_bytes_per_file": 256 << 20, "max_inflated_bytes": 256 << 20}
DEFAULT_SINCE = "7d"
ROW_FORMATS = ("lists", "dicts")


def _klog():
    """The kernel-log module, imported on first use (only calls that read a kernel-log source need it)."""
    from ansible_collections.oomguard.linux.plugins.module_utils import _kernel_log  # pylint: disable=import-outside-toplevel
    return _kernel_log


def rows_as_dicts(facts) -> dict:
    """``ansible_facts.oom`` with ``processes``, ``watched`` and ``kills`` as lists of dicts (the 0.1.0 shape).

    The module returns rows as lists in the order of ``process_columns`` (processes and watched) and ``kill_columns``
    (kills). This is the one place that turns them back: ``dict(zip(columns, row))`` for each row. Facts that already
    hold dicts (``row_format: dicts``, or schema 1) are returned as they are; the input is never modified."""
    if not isinstance(facts, dict):
        return facts
    out = dict(facts)
    for key, columns_key in (("processes", "process_columns"), ("watched", "process_columns"), ("kills", "kill_columns")):
        rows = facts.get(key)
        columns = facts.get(columns_key)
        if not rows or not columns or not isinstance(rows[0], list):
            continue
        out[key] = [dict(zip(columns, row)) for row in rows]
    return out


def _iso(epoch):
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc).astimezone().isoformat()


# ------------------------------------------------------------------------------------------------ processes
class CgroupRanker(object):
    """``cgroup_rank`` of processes: their position in the victim order of a cgroup OOM in their nearest
    memory-limited cgroup, computed as mm/oom_kill.c does (see ``_memory.oom_badness``), with the adjustment scaled
    by that cgroup's ``mem_cgroup_get_max()`` instead of the machine's memory."""

    def __init__(self, reader, total_swap_pages, vm_swappiness, proc_root=procfs.PROC_ROOT):
        self.reader = reader
        self.total_swap_pages = total_swap_pages
        self.vm_swappiness = vm_swappiness
        self.proc_root = proc_root
        self._ranks = {}

    def _members(self, path, limits):
        totalpages = mem.cgroup_totalpages(limits, self.total_swap_pages, self.reader.version, self.vm_swappiness)
        candidates = []
        for pid in self.reader.procs(path)[:MAX_CGROUP_MEMBERS]:
            try:
                with procfs.ProcessHandle(pid, self.proc_root) as handle:
                    if handle.is_kernel_thread:
                        continue
                    status = handle.status
                    adj = handle.oom_score_adj
            except (procfs.ProcError, OSError, ValueError):
                continue
            rss = procfs.status_kb(status, "VmRSS")
            if rss is None:  # zombie: no mm, nothing to kill
                continue
            badness = mem.badness_from_kb(rss, procfs.status_kb(status, "VmSwap"), procfs.status_kb(status, "VmPTE"),
                                          adj, totalpages)
            candidates.append({"pid": pid, "badness": badness, "rss_kb": rss})
        return mem.rank_by_badness(candidates)

    def rank(self, memory_cgroup):
        """``(limit_cgroup, limit_bytes, {pid: rank})`` for a process's memory cgroup path."""
        path, limits = self.reader.nearest_limited(memory_cgroup)
        if path is None:
            return None, None, {}
        if path not in self._ranks:
            self._ranks[path] = self._members(path, limits)
        return path, limits["memory_max"], self._ranks[path]


class _Placement(object):
    """What a row's cgroup paths say, computed once per distinct path: the nearest memory-limited cgroup (and the
    ``cgroup_rank`` table of its members) and the container (``_container.container_of``)."""

    def __init__(self, ranker):
        self.ranker = ranker
        self._limits = {}
        self._containers = {}

    def limit(self, memcg):
        found = self._limits.get(memcg)
        if found is None:
            found = self.ranker.rank(memcg) if self.ranker is not None and memcg else (None, None, {})
            self._limits[memcg] = found
        return found

    def container(self, path):
        if path not in self._containers:
            self._containers[path] = container_of(path)
        return self._containers[path]


def _complete(row, placement, include_cmdline):
    """Fill in a scanned row (in place) with the keys of PROCESS_FIELDS that the scan does not give."""
    memcg = row.get("memory_cgroup")
    row["memcg"] = memcg
    row["swap_kb"] = row.get("swap_kb") or 0
    row["limit_memcg"], row["memcg_limit_bytes"], ranks = placement.limit(memcg)
    row["cgroup_rank"] = ranks.get(row["pid"])
    # systemd's path decides when it names a container, else the memory hierarchy's (hosts without systemd's tree)
    container = placement.container(row.get("cgroup_path")) or placement.container(memcg)
    if container is not None:
        row["container_id"] = container["id"]
        row["container_runtime"] = container["runtime"]
    else:
        row["container_id"] = row["container_runtime"] = None
    if include_cmdline:
        row["cmdline"] = safe_text(" ".join(row.get("cmdline") or []))
    return row


def process_facts(top=20, names=None, units=None, watch=None, include_cmdline=False, reader=None,
                  total_swap_pages=0, vm_swappiness=60, proc_root=procfs.PROC_ROOT) -> dict:
    """``{"processes", "watched", "process_count", "comms"}``: the ranked table (``_procfs.scan_process_table``)
    with ``cgroup_rank``, ``memcg``, the limit of the nearest memory-limited cgroup and the container filled in.

    The rows are the scan's dicts, completed in place (every key of PROCESS_FIELDS, plus the scan's own such as
    ``cgroup_path``); :func:`shape_rows` makes the result's rows from them."""
    table = procfs.scan_process_table(top=top, names=names or None, units=units or None, watch=watch or None,
                                      include_cmdline=include_cmdline, proc_root=proc_root)
    ranker = CgroupRanker(reader, total_swap_pages, vm_swappiness, proc_root) if reader is not None and reader.available else None
    placement = _Placement(ranker)
    return {
        "processes": [_complete(row, placement, include_cmdline) for row in table["rows"]],
        "watched": [_complete(row, placement, include_cmdline) for row in table["watched"]],
        "process_count": table["count"],
        "comms": table["comms"],
    }


def columns_of(fields, all_fields):
    """The result's columns: ``fields`` (the option, in the order of ``all_fields``, duplicates dropped) or every one."""
    if not fields:
        return list(all_fields)
    wanted = set(fields)
    return [name for name in all_fields if name in wanted]


def shape_rows(rows, columns, row_format="dicts"):
    """The result's rows, built in one pass: ``[row[c] for c in columns]`` (or a dict of those, ``row_format: dicts``)."""
    if row_format == "dicts":
        return [dict((name, row.get(name)) for name in columns) for row in rows]
    return [[row.get(name) for name in columns] for row in rows]


# ------------------------------------------------------------------------------------------------ kills
def container_cgroup(proc_root=procfs.PROC_ROOT):
    """The memory cgroup of this container (pid 1's, without systemd's ``/init.scope``) when we run in one that
    shares the host's cgroup paths, else None. Container detection: /run/.containerenv, /.dockerenv, or
    ``container=`` in pid 1's environment."""
    in_container = os.path.exists("/run/.containerenv") or os.path.exists("/.dockerenv")
    if not in_container:
        try:
            with open(os.path.join(proc_root, "1", "environ"), "rb") as handle:
                in_container = any(v.startswith(b"container=") for v in handle.read().split(b"\0"))
        except (IOError, OSError):
            in_container = False
    if not in_container:
        return None
    try:
        with open(os.path.join(proc_root, "1", "cgroup"), "rb") as handle:
            entries = procfs.parse_cgroup(handle.read())
    except (IOError, OSError):
        return None
    path = procfs.memory_cgroup_path(entries) or ""
    for tail in ("/init.scope",):
        if path.endswith(tail):
            path = path[:-len(tail)]
    return path if path not in ("", "/") else None


def _source_status(status):
    """A reader's status dict in the contract's shape (``status``: read/unavailable/error) plus its details."""
    out = dict(status)
    out.pop("source", None)
    reason = status.get("reason") or ""
    if status.get("available"):
        out["status"] = "read"
    elif "failed" in reason and "unavailable" not in reason:
        out["status"] = "error"
    else:
        out["status"] = "unavailable"
    return out


def kill_facts(run_command, get_bin_path, sources=SOURCES, log_files=None, since="7d", boot_time=None,
               proc_root=procfs.PROC_ROOT, raw_lines=MAX_RAW_LINES, file_limits=None, counters=None) -> dict:
    """``{"kills": [...], "kill_count": int, "sources": {...}}`` from the kernel log sources asked for.

    ``run_command(argv) -> (rc, out, err)``; ``get_bin_path(name)`` -> path or None. Each kill keeps at most
    ``raw_lines`` log lines in ``raw`` (0: none, and the parsers do not collect them at all). ``file_limits``
    (``DEFAULT_LIMITS`` keys) bound what is read of each log file. Each record gets ``container_id`` and
    ``container_runtime`` from its ``task_memcg`` (``_container.container_of``).
    Imports the kernel-log code only when a source is to be read."""
    statuses = {}
    if not any(name in sources for name in SOURCES):
        for name in SOURCES:
            statuses[name] = {"status": "skipped", "lines": 0, "kills": 0, "reason": "not in sources"}
        # nothing was read, so nothing is known: the count is unknown (None), never 0
        return {"kills": [], "kill_count": None, "sources": statuses, "unparsed": None, "unaccounted_kills": None}
    klog = _klog()
    raw_lines = max(0, min(int(raw_lines), klog.MAX_RAW_LINES))
    keep_raw = raw_lines > 0
    found = {}
    boot = klog.boot_time() if boot_time is None else boot_time
    for name in SOURCES:
        if name not in sources:
            statuses[name] = {"status": "skipped", "lines": 0, "kills": 0, "reason": "not in sources"}
            continue
        try:
            if name == "journal":
                binary = get_bin_path("journalctl")
                if not binary:
                    statuses[name] = {"status": "unavailable", "lines": 0, "kills": 0, "reason": "journalctl not found"}
                    continue
                events, status = klog.read_journal(run_command, since=since, boot_time=boot, journalctl=binary,
                                                   keep_raw=keep_raw)
            elif name == "dmesg":
                binary = get_bin_path("dmesg")
                if not binary:
                    statuses[name] = {"status": "unavailable", "lines": 0, "kills": 0, "reason": "dmesg not found"}
                    continue
                events, status = klog.read_dmesg(run_command, boot, dmesg=binary, keep_raw=keep_raw)
            elif name == "kmsg":
                if statuses.get("dmesg", {}).get("status") == "read":
                    # /dev/kmsg is the ring buffer dmesg has just read: it is the fallback when dmesg cannot be read
                    statuses[name] = {"status": "skipped", "lines": 0, "kills": 0,
                                      "reason": "dmesg already read the same ring buffer"}
                    continue
                events, status = klog.read_kmsg(boot_time_value=boot, keep_raw=keep_raw)
            else:
                events, status = klog.read_log_files(log_files or klog.DEFAULT_LOG_FILES, since=since, keep_raw=keep_raw,
                                                     limits=file_limits)
        except Exception as exc:  # pylint: disable=broad-except
            # a parser bug on one odd line must not cost the facts of the other sources
            statuses[name] = {"status": "error", "lines": 0, "kills": 0, "reason": "%s: %s" % (type(exc).__name__, exc)}
            continue
        found[name] = events
        statuses[name] = _source_status(status)
    # the journal first: its wall-clock times are exact and win in the merge
    kills = klog.merge_records(*[found[name] for name in SOURCES if name in found])
    # the canary, and the kernel's own counters against the kills of this boot (before since/container filters)
    unparsed = klog.unparsed_of(*[found[name] for name in SOURCES if name in found])
    counters = counters or {}
    try:
        window = klog.parse_since(since)
    except ValueError:
        window = None
    accounting = klog.account_kills(kills, counters.get("oom_kill"), counters.get("cgroups"), klog.current_boot_id(
        os.path.join(proc_root, "sys", "kernel", "random", "boot_id")), boot, window,
        [name for name in found if statuses[name].get("status") == "read"])
    kills = klog.filter_since(kills, since)
    if raw_lines < klog.MAX_RAW_LINES:
        for rec in kills:
            del rec["raw"][raw_lines:]
    prefix = container_cgroup(proc_root)
    if prefix:
        before = len(kills)
        kills = klog.filter_cgroup(kills, prefix)
        for name in found:
            statuses[name]["container_cgroup"] = prefix
            statuses[name]["dropped_outside_container"] = before - len(kills)
    containers = {}
    for rec in kills:
        path = rec.get("task_memcg")
        if path:
            if path not in containers:
                containers[path] = container_of(path)
            where = containers[path]
            rec["container_id"] = where["id"] if where else None
            rec["container_runtime"] = where["runtime"] if where else None
        else:  # no cgroup path in the log: whatever the parser knew (from systemd's own report), no runtime
            rec.setdefault("container_id", None)
            rec["container_runtime"] = None
    read = any(statuses[name].get("status") == "read" for name in found)
    return {"kills": kills, "kill_count": len(kills) if read else None, "sources": statuses, "unparsed": unparsed,
            "unaccounted_kills": accounting}


# ------------------------------------------------------------------------------------------------ systemd view
def _main_pid_adj(main_pid, proc_root):
    if not main_pid:
        return None
    try:
        with procfs.ProcessHandle(main_pid, proc_root) as handle:
            return handle.oom_score_adj
    except (procfs.ProcError, OSError, ValueError):
        return None


def unit_view(props, layout, proc_root=procfs.PROC_ROOT, cgroup_root=mem.CGROUP_ROOT) -> dict:
    """One entry of ``units``: configured values from ``systemctl show`` beside what the kernel enforces."""
    main_pid = systemd.show_value_int(props.get("MainPID")) or None
    configured = {
        "OOMScoreAdjust": systemd.show_value_int(props.get("OOMScoreAdjust")),
        "MemoryMax": props.get("MemoryMax") or None,
        "MemoryHigh": props.get("MemoryHigh") or None,
        "OOMPolicy": props.get("OOMPolicy") or None,
    }
    control_group = props.get("ControlGroup") or None
    enforced_files = systemd.enforced_memory(control_group, ("MemoryMax", "MemoryHigh"), cgroup_root) if control_group else \
        {"values": {}, "unsupported": []}
    limit = enforced_files["values"].get("MemoryMax")
    high = enforced_files["values"].get("MemoryHigh")
    enforced = {
        "oom_score_adj": _main_pid_adj(main_pid, proc_root),
        "memory_limit_bytes": limit if isinstance(limit, int) else None,
        "memory_high_enforced": isinstance(high, int),
    }
    mismatches = []
    want_adj = configured["OOMScoreAdjust"]
    if main_pid and want_adj is not None and enforced["oom_score_adj"] is not None and want_adj != enforced["oom_score_adj"]:
        mismatches.append("OOMScoreAdjust=%d configured, but MainPID %d runs with oom_score_adj %d"
                          % (want_adj, main_pid, enforced["oom_score_adj"]))
    want_max = systemd.show_value_bytes(configured["MemoryMax"])
    if control_group and "MemoryMax" in enforced_files.get("files", {}):
        if isinstance(want_max, int) and (limit == "infinity" or abs(limit - want_max) >= mem.PAGE_SIZE):
            mismatches.append("MemoryMax=%s configured, but the cgroup's limit is %s" % (want_max, limit))
        elif want_max == "infinity" and isinstance(limit, int):
            mismatches.append("MemoryMax=infinity configured, but the cgroup is limited to %d bytes" % limit)
    want_high = systemd.show_value_bytes(configured["MemoryHigh"])
    if isinstance(want_high, int):
        if "MemoryHigh" in enforced_files.get("unsupported", []) or layout.get("memory") == "v1":
            mismatches.append("MemoryHigh=%s configured, but cgroup v1 has no memory.high: it has no effect" % want_high)
        elif control_group and not isinstance(high, int):
            mismatches.append("MemoryHigh=%s configured, but the cgroup's memory.high is %s" % (want_high, high))
    return {"unit": props.get("Id"), "main_pid": main_pid, "configured": configured, "enforced": enforced,
            "mismatches": mismatches}


def _view_names(unit_names):
    """The units the systemd view shows: deduplicated, empty names dropped, at most MAX_UNITS."""
    names = []
    for name in unit_names:
        if name and name not in names and len(names) < MAX_UNITS:
            names.append(name)
    return names


def show_many(run_command, systemctl, units, props):
    """``systemctl show`` of several units in ONE call (one process instead of one per unit):
    ``{unit: {prop: value}}``, or None when the answer cannot be split per unit (then ask unit by unit).

    systemctl prints one block of ``Key=Value`` lines per unit, in the order given, separated by an empty line."""
    if not units:
        return {}
    cmd = [systemctl, "show", "--no-pager"]
    for prop in props:
        cmd.extend(["-p", prop])
    cmd.append("--")
    cmd.extend(units)
    try:
        rc, out, dummy = run_command(cmd)
    except Exception:  # pylint: disable=broad-except
        return None
    if rc != 0:  # e.g. one invalid unit name fails the whole call
        return None
    blocks = (out or "").strip("\n").split("\n\n")
    if len(blocks) != len(units):
        return None
    return dict((unit, systemd.parse_show(block)) for unit, block in zip(units, blocks))


def systemd_view(show, unit_names, layout, proc_root=procfs.PROC_ROOT) -> list:
    """``units`` fact for ``unit_names`` (deduplicated, at most MAX_UNITS); ``show(unit, props) -> dict``."""
    result = []
    for name in _view_names(unit_names):
        props = show(name, SHOW_PROPS)
        if not props or props.get("LoadState") == "not-found":
            continue
        props.setdefault("Id", name)
        result.append(unit_view(props, layout, proc_root))
    return result


# ------------------------------------------------------------------------------------------------ everything
def collect(params, run_command, get_bin_path, show, proc_root=procfs.PROC_ROOT) -> dict:
    """The whole ``ansible_facts.oom`` dict for the module's parameters.

    ``run_command(argv) -> (rc, out, err)``, ``get_bin_path(name)``, ``show(unit, props) -> dict`` come from the
    AnsibleModule (``_systemd.show_properties``)."""
    now = time.time()
    btime = mem.read_btime(proc_root)
    facts = {
        "schema": SCHEMA,
        "collected_at": _iso(int(now)),
        "kernel": os.uname()[2],
        "boot_id": mem.read_boot_id(proc_root),
        "boot_time": _iso(btime),
        "uptime_s": mem.read_uptime(proc_root),
    }
    layout = mem.read_cgroup_layout(proc_root)
    facts["cgroup"] = {"layout": layout["layout"], "memory": layout["memory"]}
    try:
        meminfo = swap.read_meminfo(os.path.join(proc_root, "meminfo"))
    except (IOError, OSError):
        meminfo = {}
    try:
        swaps = swap.read_proc_swaps(os.path.join(proc_root, "swaps"))
    except (IOError, OSError):
        swaps = []
    facts["memory"] = mem.memory_summary(meminfo, swaps)
    facts["sysctl"] = mem.read_sysctls(proc_root)
    facts["pressure"] = mem.read_pressure(proc_root)
    reader = mem.MemoryCgroups.from_layout(layout)

    def unit_of(path):
        names = systemd.unit_from_cgroup_path(path)
        return names["unit"] or names["slice"]

    facts["counters"] = {"oom_kill": mem.read_vmstat_oom_kill(proc_root), "cgroups": reader.walk_counters(unit_of)}
    page_kb = mem.PAGE_SIZE // 1024
    total_swap_pages = (facts["memory"]["swap_total_kb"] or 0) // page_kb
    table = process_facts(params.get("top", 20), params.get("name"), params.get("unit"), params.get("watch"),
                          params.get("include_cmdline", False), reader, total_swap_pages,
                          facts["sysctl"].get("vm.swappiness") or 0, proc_root)
    running = systemd.systemd_running()
    killers = mem.killers_from_comms(table["comms"])
    shown = {}

    def show_cached(unit, props):
        return shown[unit] if unit in shown else show(unit, props)

    if running:
        # every unit the facts need (the killers' and those of the systemd view), asked in one systemctl call
        view_names = _view_names(list(params.get("units") or []) +
                                 [p["unit"] for p in table["processes"] + table["watched"] if p.get("unit")])
        wanted = view_names + [unit for key, unit in mem.KILLER_UNITS.items() if not killers[key] and unit not in view_names]
        systemctl = get_bin_path("systemctl")
        shown.update((show_many(run_command, systemctl, wanted, SHOW_PROPS) if systemctl and wanted else None) or {})
        for key, unit in mem.KILLER_UNITS.items():
            if not killers[key]:
                killers[key] = show_cached(unit, ("ActiveState",)).get("ActiveState") in ("active", "activating", "reloading")
    facts["killers"] = killers
    facts["cap_sys_resource"] = procfs.has_cap_sys_resource(proc_root)
    facts["systemd"] = running
    facts["process_count"] = table["process_count"]
    facts["processes"] = table["processes"]
    facts["watched"] = table["watched"]
    sources = SOURCES if params.get("sources") is None else params["sources"]  # [] means: read no kernel log
    facts.update(kill_facts(run_command, get_bin_path, sources, params.get("log_files"),
                            params.get("since"), proc_root=proc_root,
                            raw_lines=params.get("raw_lines", MAX_RAW_LINES),
                            file_limits=dict((key, params[key]) for key in DEFAULT_LIMITS if params.get(key)),
                            counters=facts["counters"]))
    if running:
        names = [p["unit"] for p in facts["processes"] + facts["watched"] if p.get("unit")]
        names = list(params.get("units") or []) + names
        facts["units"] = systemd_view(show_cached, names, layout, proc_root)
    else:
        facts["units"] = []
    # last, once everything that needs the whole rows (the systemd view) is done: each row is built once, in the
    # result's shape (dicts, or lists in the order of the columns with row_format: lists)
    row_format = params.get("row_format") or "dicts"
    all_process = PROCESS_FIELDS if params.get("include_cmdline") else PROCESS_KEYS
    facts["process_columns"] = columns_of(params.get("process_fields"), all_process)
    facts["kill_columns"] = columns_of(params.get("kill_fields"), KILL_FIELDS)
    facts["processes"] = shape_rows(facts["processes"], facts["process_columns"], row_format)
    facts["watched"] = shape_rows(facts["watched"], facts["process_columns"], row_format)
    facts["kills"] = shape_rows(facts["kills"], facts["kill_columns"], row_format)
    return facts
