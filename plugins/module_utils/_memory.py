# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Memory-side facts the OOM killer works from: counters, pressure, sysctls, memory cgroups and the badness arithmetic.

What lives here and nowhere else:

* ``/proc/vmstat`` ``oom_kill``, PSI ``/proc/pressure/memory``, the ``vm.*`` sysctls that steer the OOM killer;
* the cgroup layout (v1, v2 or hybrid, and which hierarchy carries the memory controller) from ``/proc/self/mountinfo``;
* memory cgroup files: v2 ``memory.events`` / ``memory.max`` / ``memory.swap.max`` / ``memory.stat``, v1
  ``memory.oom_control`` / ``memory.limit_in_bytes`` / ``memory.memsw.limit_in_bytes`` / ``memory.swappiness``;
* the nearest memory-limited cgroup of a process and the kernel's badness for a cgroup OOM (``cgroup_rank``);
* whether systemd-oomd or earlyoom watch the host.

Parsers are pure functions of the file text (tests feed them recorded files); readers take a root directory so tests
can point them at a recorded tree. Nothing here raises for a missing or unreadable file: it returns None.
"""
from __future__ import annotations

import os

from ansible_collections.oomguard.linux.plugins.module_utils._swap import unescape_octal as _unescape
from ansible_collections.oomguard.linux.plugins.module_utils._text import safe_text

PROC_ROOT = "/proc"
CGROUP_ROOT = "/sys/fs/cgroup"

# The vm.* sysctls the OOM killer reads (and the swap policy next to it).
OOM_SYSCTLS = ("vm.swappiness", "vm.overcommit_memory", "vm.panic_on_oom", "vm.oom_kill_allocating_task")

# Kernel constants (include/uapi/linux/oom.h).
OOM_SCORE_ADJ_MIN = -1000
OOM_SCORE_ADJ_MAX = 1000

# Controllers a v1 hierarchy can carry (the super options of its mount name them).
V1_CONTROLLERS = frozenset(("cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "net_prio", "blkio",
                            "perf_event", "hugetlb", "pids", "rdma", "misc", "debug"))

# v1 prints "no limit" as PAGE_COUNTER_MAX pages in bytes (LONG_MAX rounded down to a page: 9223372036854771712 on
# 4 KiB pages); anything at or above 2**62 cannot be a real limit on any machine.
V1_UNLIMITED_THRESHOLD = 1 << 62

try:
    PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
except (ValueError, OSError, AttributeError):  # pragma: no cover - every Linux has it
    PAGE_SIZE = 4096


def _read_text(path):
    """The text of a small kernel file, None when it does not exist or cannot be read."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "surrogateescape")
    except (OSError, IOError):
        return None


def _to_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------------------------------------------------ counters
def parse_flat_keyed(text) -> dict:
    """``key value`` lines (``/proc/vmstat``, ``memory.events``, ``memory.stat``, v1 ``memory.oom_control``) -> {key: int}.

    Lines whose value is not an integer are skipped."""
    result = {}
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) != 2:
            continue
        value = _to_int(parts[1])
        if value is not None:
            result[parts[0]] = value
    return result


def read_vmstat_oom_kill(proc_root=PROC_ROOT):
    """``oom_kill`` of ``/proc/vmstat`` (kills since boot, kernel >= 4.13), None when absent."""
    return parse_flat_keyed(_read_text(os.path.join(proc_root, "vmstat"))).get("oom_kill")


def parse_pressure(text):
    """PSI text (``some avg10=0.00 avg60=0.00 avg300=0.00 total=0`` / ``full ...``) ->
    ``{"some": {"avg10": float, "avg60": float, "avg300": float, "total": int}, "full": {...}}``; None for empty text."""
    if not text:
        return None
    result = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0] not in ("some", "full"):
            continue
        entry = {}
        for item in parts[1:]:
            key, sep, value = item.partition("=")
            if not sep:
                continue
            try:
                entry[key] = int(value) if key == "total" else float(value)
            except ValueError:
                continue
        result[parts[0]] = entry
    return result or None


def read_pressure(proc_root=PROC_ROOT):
    """``/proc/pressure/memory`` parsed, None when PSI is not there (kernel < 4.20, ``psi=0``) or unreadable."""
    return parse_pressure(_read_text(os.path.join(proc_root, "pressure", "memory")))


def read_sysctls(proc_root=PROC_ROOT, names=OOM_SYSCTLS) -> dict:
    """``{"vm.swappiness": int|None, ...}`` from ``/proc/sys``."""
    result = {}
    for name in names:
        text = _read_text(os.path.join(proc_root, "sys", *name.split(".")))
        result[name] = _to_int(text.strip()) if text is not None else None
    return result


def memory_summary(meminfo: dict, swaps: list) -> dict:
    """The ``memory`` fact from parsed ``/proc/meminfo`` (values in bytes, as ``_swap.parse_meminfo`` returns them)
    and parsed ``/proc/swaps`` (``_swap.parse_proc_swaps``)."""
    def kb(key):
        value = meminfo.get(key)
        return value // 1024 if value is not None else None

    total = kb("MemTotal")
    available = kb("MemAvailable")
    if available is None and total is not None:  # kernels before 3.14: the usual estimate
        available = sum(kb(k) or 0 for k in ("MemFree", "Buffers", "Cached"))
    return {
        "mem_total_kb": total,
        "mem_available_kb": available,
        "available_pct": round(100.0 * available / total, 1) if total and available is not None else None,
        "swap_total_kb": kb("SwapTotal"),
        "swap_free_kb": kb("SwapFree"),
        "swap_devices": [
            {"path": s["path"], "type": s["type"], "size_kb": s["size_bytes"] // 1024,
             "used_kb": s["used_bytes"] // 1024, "priority": s["priority"]}
            for s in swaps
        ],
    }


# ----------------------------------------------------------------------------------------------------- cgroup layout
def parse_cgroup_mounts(mountinfo_text) -> list:
    """The cgroup mounts of a ``/proc/self/mountinfo`` text: ``[{"mount_point", "version": 1|2, "root",
    "controllers": [..]}]``. v1 controllers come from the super options (``rw,memory``, ``rw,name=systemd``)."""
    mounts = []
    for line in (mountinfo_text or "").splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields = left.split()
        rfields = right.split()
        if len(fields) < 5 or len(rfields) < 2 or rfields[0] not in ("cgroup", "cgroup2"):
            continue
        options = rfields[2].split(",") if len(rfields) > 2 else []
        version = 2 if rfields[0] == "cgroup2" else 1
        controllers = [o for o in options if o in V1_CONTROLLERS or o.startswith("name=")] if version == 1 else []
        mounts.append({"mount_point": _unescape(fields[4]), "root": _unescape(fields[3]), "version": version,
                       "controllers": controllers})
    return mounts


def cgroup_layout(mountinfo_text, cgroup_root=CGROUP_ROOT) -> dict:
    """Classify the host: ``layout`` ``v2`` (unified only), ``v1`` (legacy hierarchies only), ``hybrid`` (v1 hierarchies
    plus a cgroup2 mount, usually ``/sys/fs/cgroup/unified``) or None (no cgroup mounted); ``memory``: ``v1``/``v2``/None,
    the hierarchy that carries the memory controller; ``memory_mount``: its mount point; ``unified_mount``.

    On a v2 mount the memory controller is available when the root's ``cgroup.controllers`` lists it.
    """
    mounts = parse_cgroup_mounts(mountinfo_text)
    v1 = [m for m in mounts if m["version"] == 1]
    v2 = [m for m in mounts if m["version"] == 2]
    result = {"layout": None, "memory": None, "memory_mount": None, "unified_mount": None}
    if v1 and v2:
        result["layout"] = "hybrid"
    elif v1:
        result["layout"] = "v1"
    elif v2:
        result["layout"] = "v2"
    for mount in v1:
        if "memory" in mount["controllers"]:
            result["memory"] = "v1"
            result["memory_mount"] = mount["mount_point"]
            break
    if v2:
        # prefer the mount at the cgroup root (/sys/fs/cgroup) over nested or container mounts
        v2.sort(key=lambda m: (m["mount_point"] != cgroup_root, len(m["mount_point"])))
        result["unified_mount"] = v2[0]["mount_point"]
        if result["memory"] is None:
            controllers = _read_text(os.path.join(v2[0]["mount_point"], "cgroup.controllers"))
            if controllers is not None and "memory" in controllers.split():
                result["memory"] = "v2"
                result["memory_mount"] = v2[0]["mount_point"]
    return result


def read_cgroup_layout(proc_root=PROC_ROOT) -> dict:
    return cgroup_layout(_read_text(os.path.join(proc_root, "self", "mountinfo")))


# ------------------------------------------------------------------------------------------------------ memory cgroups
def parse_limit(text, version):
    """A memory limit file -> bytes, or None for "no limit" (v2 ``max``, v1 PAGE_COUNTER_MAX) and unreadable text."""
    if text is None:
        return None
    text = text.strip()
    if version == 2 and text == "max":
        return None
    value = _to_int(text)
    if value is None or value >= V1_UNLIMITED_THRESHOLD:
        return None
    return value


def parse_oom_control(text) -> dict:
    """v1 ``memory.oom_control`` -> ``{"oom_kill_disable": int, "under_oom": int, "oom_kill": int}`` (``oom_kill``
    exists since 4.13)."""
    return parse_flat_keyed(text)


class MemoryCgroups(object):
    """Reads the memory controller's files for cgroup paths as ``/proc/PID/cgroup`` and the kernel print them
    (``/system.slice/x.service``), under the hierarchy found by :func:`cgroup_layout`.

    ``version``: 1 or 2 (None: no memory controller; every reader returns None).
    """

    def __init__(self, version, mount):
        self.version = {"v1": 1, "v2": 2}.get(version, version)
        self.mount = mount
        self._limit_cache = {}

    @classmethod
    def from_layout(cls, layout):
        return cls(layout.get("memory"), layout.get("memory_mount"))

    @property
    def available(self) -> bool:
        return self.version in (1, 2) and bool(self.mount)

    def dir_of(self, path):
        return os.path.join(self.mount, str(path).lstrip("/")) if path else self.mount

    def read(self, path, name):
        if not self.available:
            return None
        return _read_text(os.path.join(self.dir_of(path), name))

    def limits(self, path) -> dict:
        """``{"memory_max": bytes|None, "swap_max": bytes|None, "memsw_max": bytes|None, "swappiness": int|None}``
        of one cgroup (None = no limit). v2 ``swap_max`` is ``memory.swap.max``; v1 ``memsw_max`` is
        ``memory.memsw.limit_in_bytes`` (memory + swap), present when swap accounting is on."""
        if path in self._limit_cache:
            return self._limit_cache[path]
        if self.version == 2:
            result = {"memory_max": parse_limit(self.read(path, "memory.max"), 2),
                      "swap_max": parse_limit(self.read(path, "memory.swap.max"), 2),
                      "memsw_max": None, "swappiness": None, "memsw_accounting": False}
        else:
            memsw_text = self.read(path, "memory.memsw.limit_in_bytes")
            swappiness = self.read(path, "memory.swappiness")
            result = {"memory_max": parse_limit(self.read(path, "memory.limit_in_bytes"), 1),
                      "swap_max": None, "memsw_max": parse_limit(memsw_text, 1),
                      "swappiness": _to_int(swappiness.strip()) if swappiness else None,
                      "memsw_accounting": memsw_text is not None}
        self._limit_cache[path] = result
        return result

    def nearest_limited(self, path):
        """The nearest cgroup at or above ``path`` (a memory cgroup path) with a memory limit:
        ``(cgroup_path, limits)`` or ``(None, None)`` when no ancestor has one (the root never has)."""
        if not self.available or not path:
            return None, None
        current = "/" + str(path).strip("/")
        while current not in ("/", ""):
            limits = self.limits(current)
            if limits["memory_max"] is not None:
                return current, limits
            current = current.rsplit("/", 1)[0] or "/"
        return None, None

    def oom_counts(self, path):
        """``{"oom_kill": int, "oom": int|None, "source": file}`` of one cgroup, None when the file is absent.

        v2 ``memory.events`` (hierarchical: a parent counts its children's kills too; ``oom`` = times the limit was
        hit and the OOM killer invoked); v1 ``memory.oom_control`` (this cgroup only; no ``oom`` count)."""
        if self.version == 2:
            events = parse_flat_keyed(self.read(path, "memory.events"))
            if "oom_kill" not in events:
                return None
            return {"oom_kill": events["oom_kill"], "oom": events.get("oom"), "source": "memory.events"}
        control = parse_oom_control(self.read(path, "memory.oom_control"))
        if "oom_kill" not in control:
            return None
        return {"oom_kill": control["oom_kill"], "oom": None, "source": "memory.oom_control"}

    def procs(self, path) -> list:
        """Pids of the processes in ``path`` and every cgroup below it (the candidates of a cgroup OOM)."""
        if not self.available:
            return []
        pids = set()
        for dirpath, dummy, filenames in os.walk(self.dir_of(path)):
            if "cgroup.procs" not in filenames:
                continue
            text = _read_text(os.path.join(dirpath, "cgroup.procs"))
            for line in (text or "").split():
                value = _to_int(line)
                if value:
                    pids.add(value)
        return sorted(pids)

    def walk_counters(self, unit_of=None, nonzero=True, max_entries=500) -> list:
        """Every memory cgroup's kill counter: ``[{"path", "unit", "oom_kill", "oom", "source"}]``, sorted by path.

        ``unit_of``: callable path -> unit name (``_systemd.unit_from_cgroup_path``); ``nonzero``: keep only cgroups
        that saw an OOM (``oom_kill`` or ``oom`` > 0)."""
        if not self.available:
            return []
        result = []
        top = self.mount.rstrip("/")
        for dirpath, dummy, filenames in os.walk(top):
            name = "memory.events" if self.version == 2 else "memory.oom_control"
            if name not in filenames:
                continue
            rel = dirpath[len(top):] or "/"
            if rel == "/":
                continue  # the root: /proc/vmstat oom_kill is the machine-wide count
            counts = self.oom_counts(rel)
            if counts is None:
                continue
            if nonzero and not counts["oom_kill"] and not counts["oom"]:
                continue
            # a cgroup's name is chosen by whoever created it (a user under a delegated user@UID.service on v2):
            # os.walk keeps undecodable bytes as surrogates, which would make ansible-core refuse the whole result
            entry = {"path": safe_text(rel), "unit": None}
            if unit_of is not None:
                entry["unit"] = safe_text(unit_of(rel))
            entry.update(counts)
            result.append(entry)
            if len(result) >= max_entries:
                break
        result.sort(key=lambda e: e["path"])
        return result


# ------------------------------------------------------------------------------------------------- badness arithmetic
def _c_div(numerator, denominator):
    """C integer division (truncates toward zero), as the kernel's ``long`` arithmetic does."""
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator > 0) else -quotient


def cgroup_totalpages(limits, total_swap_pages, version, vm_swappiness=60, page_size=PAGE_SIZE):
    """``mem_cgroup_get_max()`` (mm/memcontrol.c): the ``totalpages`` of a cgroup OOM, in pages.

    memory limit, plus when the cgroup may swap (swappiness != 0): v1 with swap accounting, the memsw limit's excess
    over the memory limit, capped at the machine's swap; otherwise (v2, or v1 without memsw) the swap limit
    (``memory.swap.max``, unlimited without one), capped at the machine's swap. ``oom_kill.c`` uses 1 for a zero
    limit."""
    if not limits or limits.get("memory_max") is None:
        return None
    memory_pages = limits["memory_max"] // page_size
    total = memory_pages
    swappiness = limits.get("swappiness")
    if swappiness is None:
        swappiness = vm_swappiness
    if swappiness:
        if version in (1, "v1") and limits.get("memsw_accounting"):
            memsw = limits.get("memsw_max")
            swap = (memsw // page_size - memory_pages) if memsw is not None else total_swap_pages
            total += max(0, min(swap, total_swap_pages))
        else:
            swap_max = limits.get("swap_max")
            swap = swap_max // page_size if swap_max is not None else total_swap_pages
            total += min(swap, total_swap_pages)
    return total or 1


def oom_badness(rss_pages, swap_pages, pgtables_pages, oom_score_adj, totalpages):
    """``oom_badness()`` of mm/oom_kill.c (kernels >= 5.9; earlier ones differ only by clamping to >= 1).

    ``points = rss + swap entries + page-table pages``, then ``adj *= totalpages / 1000`` (integer division first,
    as the kernel does) and ``points += adj``. Returns None (the kernel's LONG_MIN: never chosen) for
    oom_score_adj -1000."""
    if oom_score_adj == OOM_SCORE_ADJ_MIN:
        return None
    points = rss_pages + swap_pages + pgtables_pages
    return points + oom_score_adj * (totalpages // 1000)


def proc_oom_score(badness, totalpages):
    """``/proc/PID/oom_score`` from a badness value (fs/proc/base.c, kernels >= 5.9):
    ``(1000 + badness * 1000 / totalpages) * 2 / 3`` in C integer arithmetic; 0 for an unkillable task."""
    if badness is None:
        return 0
    return _c_div((1000 + _c_div(badness * 1000, totalpages)) * 2, 3)


def badness_from_kb(rss_kb, swap_kb, pgtables_kb, oom_score_adj, totalpages, page_size=PAGE_SIZE):
    """:func:`oom_badness` from the kB values of ``/proc/PID/status`` (VmRSS, VmSwap, VmPTE)."""
    page_kb = page_size // 1024
    return oom_badness((rss_kb or 0) // page_kb, (swap_kb or 0) // page_kb, (pgtables_kb or 0) // page_kb,
                       oom_score_adj, totalpages)


def rank_by_badness(candidates):
    """Order ``[{"pid", "badness", "rss_kb"}]`` the way a cgroup OOM picks its victim (highest badness first, then
    larger rss, then lower pid); unkillable entries (badness None) get no rank. Returns ``{pid: rank}``."""
    killable = [c for c in candidates if c.get("badness") is not None]
    killable.sort(key=lambda c: (-c["badness"], -(c.get("rss_kb") or 0), c["pid"]))
    return dict((c["pid"], position) for position, c in enumerate(killable, 1))


# ---------------------------------------------------------------------------------------------- user-space killers
USERSPACE_KILLERS = {"systemd_oomd": ("systemd-oomd",), "earlyoom": ("earlyoom",)}
KILLER_UNITS = {"systemd_oomd": "systemd-oomd.service", "earlyoom": "earlyoom.service"}


def killers_from_comms(comms) -> dict:
    """``{"systemd_oomd": bool, "earlyoom": bool}`` from a collection of process names (comm, 15 characters, or
    the executable's basename)."""
    names = set(comms)
    return dict((key, any(n[:15] in names or n in names for n in candidates)) for key, candidates in USERSPACE_KILLERS.items())


def read_uptime(proc_root=PROC_ROOT):
    text = _read_text(os.path.join(proc_root, "uptime"))
    try:
        return float(text.split()[0])
    except (AttributeError, IndexError, ValueError):
        return None


def read_boot_id(proc_root=PROC_ROOT):
    """The running boot's id (``sys/kernel/random/boot_id``) in the journal's spelling (32 hex digits, no dashes),
    or None. The same value as ``_kernel_log.current_boot_id``, readable without importing the kernel-log code."""
    text = _read_text(os.path.join(proc_root, "sys", "kernel", "random", "boot_id"))
    return (text or "").strip().replace("-", "") or None


def read_btime(proc_root=PROC_ROOT):
    """Boot time (epoch seconds) from ``/proc/stat`` ``btime``."""
    text = _read_text(os.path.join(proc_root, "stat")) or ""
    for line in text.splitlines():
        if line.startswith("btime "):
            return _to_int(line.split()[1])
    return None
