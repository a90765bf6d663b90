# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The fleet audit's aggregation: per-host ``oom_facts`` results in, one report out.

Controller-side code (plugins/plugin_utils: no module imports it, so it never ships to a managed host). Standard
library only; the filter plugins, the oom_report_write action, the tests and the benchmarks share it.
Input: one entry per audited host, either the registered result of the ``oomguard.linux.oom_facts`` task
(``ansible_facts.oom`` inside, or ``unreachable``/``failed`` with ``msg``) or ``None`` when the host never
produced a result. Output: the report documented in ``docs/audit.md`` (``REPORT_SCHEMA`` below is the version).

Rules of the report: a figure the audit could not measure is ``null``, never 0 (a host whose kernel log could not be
read has ``kill_count: null``; an unreachable host has ``null`` for everything), and sums say how many hosts they cover.
One host's malformed result marks that host failed, with why; the others are reported. Every finding carries a next
step (``_report_steps``). Text meant for a terminal (``summary``, ``failures[].message``) has its control characters
escaped (``term_safe``).

Report (``build_report``)::

    {"schema": 1, "generated_at": ISO, "settings": {...},
     "hosts": [{"host", "reachable", "status", "reason", "coverage", "risk", "risk_score",
                "reasons": [{"rule", "level", "message", "next_step", "blocked"}],
                "collected_at", "kernel", "cgroup_memory", "uptime_s", "mem_total_kb", "mem_available_kb",
                "available_pct", "swap_total_kb", "swap_free_kb", "kill_count", "kill_sources", "kill_sources_read",
                "oom_kill_counter", "unaccounted_kills", "unparsed_count", "critical_found", "critical_unprotected",
                "drift_count", "cap_sys_resource", "killers", "container"}],
     "kills": [{"host", "time", "pid", "comm", "unit", "container_id", "container_runtime", "killer", "trust", "basis",
                "constraint", "oom_score_adj", "anon_rss_kb", "total_vm_kb", "task_memcg", "oom_memcg", "uid",
                "user_manager", "critical"}],
     "victims": [{"host", "place", "place_max", "tied", "tie_open", "pid", "comm", "user", "unit", "container_id",
                  "container_runtime", "oom_score", "oom_score_adj", "rss_kb", "service"}],
     "critical_services": [{"host", "service", "critical", "pid", "comm", "user", "unit", "container_id",
                            "container_runtime", "rank", "place", "place_max", "tied", "best_place", "best_pid",
                            "processes", "oom_score", "oom_score_adj", "intended", "drift", "protected", "configured_adj"}],
     "totals": {"hosts", "reachable", "unreachable", "failed", "hosts_incomplete", "not_fully_audited", "kills",
                "hosts_with_kills", "critical_services", "critical_unprotected", "drift", "no_swap",
                "covers": {"kills", "critical_services", "drift", "no_swap"},
                "risk": {"unknown", "low", "medium", "high", "critical"}},
     "summary": [str], "failures": [{"condition", "hosts", "message"}]}
"""
from __future__ import annotations

import datetime
import math
import re

from ansible_collections.oomguard.linux.plugins.module_utils._container import container_of
from ansible_collections.oomguard.linux.plugins.module_utils._oom_facts import rows_as_dicts
from ansible_collections.oomguard.linux.plugins.plugin_utils import _report_steps as steps

REPORT_SCHEMA = 1

# Risk levels, ordered. ``unknown`` is a host the audit could not read (unreachable or failed) or whose kills it could
# not read: such a host is never ``low``.
RISK_LEVELS = ("low", "medium", "high", "critical")
RISK_SCORES = {"unknown": -1, "low": 0, "medium": 1, "high": 2, "critical": 3}

DEFAULT_CRITICAL = (
    "postgres", "mysqld", "mariadbd", "nginx", "httpd", "apache2", "redis-server", "mongod", "sshd",
    "systemd-journald", "dockerd", "containerd", "kubelet",
)
DEFAULT_THRESHOLDS = {
    # a critical service placed this high (1 = the kernel's next victim) and not lowered is a high risk
    "top_victims": 5,
    # MemAvailable below this percentage of MemTotal is "low headroom"
    "low_available_pct": 10.0,
}
FAIL_ON_CHOICES = ("kills", "unprotected", "drift", "no_swap", "incomplete", "unreachable")

# the page text of a host whose kernel log could not be read (docs/audit.md)
KILLS_UNKNOWN = "kills unknown: could not read the kernel log (run with become)"

_UNLIMITED = ("", "infinity", "max", "none")
_READ = ("read", "partial")  # source statuses that mean "this source was read" (partial: read, with lines cut)


# --- text for terminals --------------------------------------------------------------------------------------------

# C0 controls (ESC starts terminal escape sequences; CR and BS overwrite what came before), DEL, C1 controls (CSI is
# U+009B) and the Unicode bidi controls that reorder what a reader sees
_TERMINAL_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def term_safe(text):
    """``text`` with every control character spelled as an escape (``\\x1b``, ``\\n``, ``\\u202e``): safe to print."""
    if text is None:
        return ""

    def spell(match):
        char = match.group(0)
        code = ord(char)
        if char == "\n":
            return "\\n"
        if char == "\t":
            return "\\t"
        if char == "\r":
            return "\\r"
        return "\\x%02x" % code if code < 0x100 else "\\u%04x" % code
    return _TERMINAL_UNSAFE.sub(spell, str(text))


def _now_iso():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def to_plain(value):
    """Copy mappings and sequences (Ansible's lazy or tagged containers included) into plain dicts and lists."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return dict((str(k), to_plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


def read_host_results(hosts, hostvars, result_var, plain=to_plain):
    """``[(host, registered result or None)]`` in the order of ``hosts``, read from ``hostvars[host][result_var]``.

    Registered results are data, never templates: they are read raw (``HostVars.raw_get``) instead of templating each
    host's whole result through ``hostvars[host][var]``, which costs the controller seconds per hundred hosts. A host
    unknown to the inventory has no result (``None``). ``plain`` turns a value into plain data (the action plugin
    passes one that can resolve a lazy template container)."""
    if hostvars is None:
        raise ValueError("hostvars are not available")
    raw_get = getattr(hostvars, "raw_get", None)
    results = []
    for host in hosts:
        host = str(host)
        host_vars = None
        if host in hostvars:
            host_vars = raw_get(host) if raw_get is not None else hostvars[host]
        value = host_vars.get(result_var) if hasattr(host_vars, "get") else None
        results.append((host, plain(value) if value is not None else None))
    return results


def _int_or_none(value):
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# the times the report places on an axis or sorts by: 1970-01-01 .. 2100-01-01 (a kill time outside is no sane time)
EPOCH_MAX = 4102444800.0


def epoch(stamp):
    """Seconds since the epoch of an ISO 8601 time string; None when it is not one, or lies outside 1970..2100."""
    if not stamp or not isinstance(stamp, str):
        return None
    text = stamp.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        seconds = moment.timestamp()
    except (ValueError, OverflowError):
        return None
    return seconds if 0.0 <= seconds < EPOCH_MAX else None


# --- settings -----------------------------------------------------------------------------------------------------

def normalize_settings(critical=None, intended=None, since="7d", thresholds=None, fail_on=None, include_containers=False):
    """Validate and complete the audit settings; raise ``ValueError`` with a clear message on bad input."""
    if critical is None:
        critical = list(DEFAULT_CRITICAL)
    if isinstance(critical, str) or not isinstance(critical, (list, tuple)):
        raise ValueError("critical must be a list of process or unit names, got %r" % (critical,))
    critical = [str(name) for name in critical if str(name)]
    intended = dict(intended or {})
    clean_intended = {}
    for name, value in intended.items():
        adj = _int_or_none(value)
        if adj is None or not -1000 <= adj <= 1000:
            raise ValueError("intended[%r] must be an integer oom_score_adj between -1000 and 1000, got %r" % (name, value))
        clean_intended[str(name)] = adj
    merged = dict(DEFAULT_THRESHOLDS)
    for key, value in (thresholds or {}).items():
        if key not in DEFAULT_THRESHOLDS:
            raise ValueError("unknown threshold %r (known: %s)" % (key, ", ".join(sorted(DEFAULT_THRESHOLDS))))
        try:
            merged[key] = type(DEFAULT_THRESHOLDS[key])(value)
        except (TypeError, ValueError):
            raise ValueError("threshold %s must be a number, got %r" % (key, value))
        if not math.isfinite(merged[key]):
            raise ValueError("threshold %s must be a finite number, got %r" % (key, value))
    fail_on = list(fail_on or [])
    bad = [item for item in fail_on if item not in FAIL_ON_CHOICES]
    if bad:
        raise ValueError("fail_on accepts %s; got %s" % (", ".join(FAIL_ON_CHOICES), ", ".join(str(b) for b in bad)))
    if not isinstance(include_containers, bool):
        raise ValueError("include_containers must be a boolean, got %r" % (include_containers,))
    # The names watched by oom_facts: critical names first, then names only given an intended value.
    watch = list(critical) + [name for name in clean_intended if name not in critical]
    return {"critical": critical, "intended": clean_intended, "since": str(since or "7d"),
            "thresholds": merged, "fail_on": fail_on, "include_containers": include_containers, "watch": watch}


# --- one host's result --------------------------------------------------------------------------------------------

class MalformedResult(ValueError):
    """A host's facts do not have the shape oom_facts returns; the message says where."""


_NUM = (int, float)
# what the report reads, and the type each must have when present (None is always allowed: "not measured")
_TOP_TYPES = {"collected_at": str, "kernel": str, "uptime_s": _NUM, "cap_sys_resource": bool, "kill_count": int,
              "unaccounted_kills": dict}
_MEMORY_TYPES = {"mem_total_kb": int, "mem_available_kb": int, "available_pct": _NUM, "swap_total_kb": int,
                 "swap_free_kb": int}
_PROC_TYPES = {"pid": int, "rank": int, "oom_score": int, "oom_score_adj": int, "rss_kb": int, "comm": str, "user": str,
               "unit": str, "container_id": str, "container_runtime": str, "memcg": str}
_KILL_TYPES = {"time": str, "pid": int, "comm": str, "unit": str, "container_id": str, "container_runtime": str,
               "killer": str, "trust": str, "basis": str, "constraint": str, "oom_score_adj": int, "anon_rss_kb": int,
               "total_vm_kb": int, "task_memcg": str, "oom_memcg": str, "uid": int, "user_manager": str}
_UNIT_TYPES = {"unit": str, "main_pid": int}
_TYPE_WORDS = {int: "an integer", str: "a string", bool: "a boolean", _NUM: "a number", dict: "a mapping", list: "a list"}


_ALLOWED = {int: (int,), str: (str,), bool: (bool,), _NUM: (int, float), dict: (dict,), list: (list,)}


def _wrong(value, want):
    """True when ``value`` is not of type ``want``; a bool is never an int or a number here. Subclasses count (ansible-core
    2.19 hands the action plugin tagged str and int subclasses)."""
    allowed = _ALLOWED[want]
    if type(value) in allowed:
        return False
    return not isinstance(value, allowed) or (isinstance(value, bool) and want is not bool)


def _check(where, value, want):
    if value is not None and _wrong(value, want):
        raise MalformedResult("%s must be %s, got %s %s" % (where, _TYPE_WORDS[want], type(value).__name__,
                                                            term_safe(repr(value)[:60])))
    if isinstance(value, float) and not math.isfinite(value):  # NaN and Infinity: no measurement, and no JSON
        raise MalformedResult("%s must be a finite number, got float %r" % (where, value))


def _check_fields(where, row, types):
    _check(where, row, dict)
    for key, value in row.items():
        want = types.get(key)
        if want is not None and value is not None and (type(value) not in _ALLOWED[want] or isinstance(value, float)):
            _check("%s.%s" % (where, key), value, want)


def _check_finite(where, value):
    """Raise ``MalformedResult`` for a NaN or an infinity anywhere in ``value`` (what the report copies as it is)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise MalformedResult("%s must be a finite number, got float %r" % (where, value))
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_finite("%s.%s" % (where, key), item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_finite("%s[%d]" % (where, index), item)


def check_facts(facts):
    """Raise ``MalformedResult`` when a value the report reads has the wrong type (a string where a number belongs, a
    number where a time belongs, a NaN or an infinity); extra and missing keys are fine (results of older and newer
    oom_facts)."""
    for key, want in _TOP_TYPES.items():  # "facts.uptime_s" would read worse than "uptime_s"
        _check(key, facts.get(key), want)
    _check_fields("memory", facts.get("memory") or {}, _MEMORY_TYPES)
    _check_fields("counters", facts.get("counters") or {}, {"oom_kill": int})
    _check_fields("cgroup", facts.get("cgroup") or {}, {"memory": str})
    for key, types in (("processes", _PROC_TYPES), ("watched", _PROC_TYPES), ("kills", _KILL_TYPES), ("units", _UNIT_TYPES)):
        rows = facts.get(key)
        _check(key, rows, list)
        for index, row in enumerate(rows or []):
            _check_fields("%s[%d]" % (key, index), row, types)
            if key == "units":
                _check_fields("units[%d].configured" % index, row.get("configured") or {}, {"OOMScoreAdjust": int})
                _check_fields("units[%d].enforced" % index, row.get("enforced") or {},
                              {"oom_score_adj": int, "memory_high_enforced": bool})
    sources = facts.get("sources")
    _check("sources", sources, dict)
    for name, status in (sources or {}).items():
        _check_fields("sources.%s" % name, status,
                      {"status": str, "reason": str, "kills": int, "lines": int, "long_lines": int, "refused": int, "files": list})
        for index, entry in enumerate((status or {}).get("files") or []):
            _check_fields("sources.%s.files[%d]" % (name, index), entry, {"path": str, "truncated": str, "skipped": bool})
    unparsed = facts.get("unparsed")
    if unparsed is not None:
        _check_fields("unparsed", unparsed, {"count": int, "lines": list})
    accounting = facts.get("unaccounted_kills")
    if accounting is not None:
        _check_fields("unaccounted_kills", accounting, {"count": int, "counter": int, "parsed": int, "reason": str})


def normalize_result(host, result):
    """Turn one host's registered task result into ``(status, reason, facts)``.

    ``status`` is ``ok``, ``unreachable``, ``failed``, ``skipped`` or ``missing``; ``facts`` is the
    ``ansible_facts.oom`` dict for ``ok`` and ``None`` otherwise. A bare facts dict (``schema`` key) is accepted too.
    """
    if result is None:
        return "missing", "no result: the host did not run the oom_facts task (it failed earlier or was removed from the play)", None
    if not isinstance(result, dict):
        return "failed", "unexpected result type %s" % type(result).__name__, None
    if "schema" in result and "memory" in result:
        return "ok", None, result
    msg = result.get("msg") or result.get("reason") or ""
    if result.get("unreachable"):
        return "unreachable", str(msg or "host unreachable").strip(), None
    if result.get("failed"):
        detail = str(msg or "").strip()
        if not detail:
            stderr = str(result.get("module_stderr") or result.get("stderr") or "").strip()
            detail = stderr.splitlines()[-1] if stderr else "the oom_facts task failed"
        return "failed", detail, None
    if result.get("skipped"):
        return "skipped", str(result.get("skip_reason") or msg or "the oom_facts task was skipped").strip(), None
    facts = (result.get("ansible_facts") or {}).get("oom")
    if not isinstance(facts, dict):
        return "failed", "the oom_facts task returned no ansible_facts.oom", None
    return "ok", None, facts


# --- names, containers, places ------------------------------------------------------------------------------------

def _unit_keys(unit):
    """The names a unit answers to: ``nginx.service`` -> nginx.service, nginx; ``postgresql@15-main.service`` adds postgresql."""
    keys = [unit]
    base = unit.rsplit(".", 1)[0] if "." in unit else unit
    keys.append(base)
    if "@" in base:
        keys.append(base.split("@", 1)[0])
    return keys


def _match_keys(comm, unit, cache):
    """Every name (process comm, unit, unit without suffix, template prefix) a process or kill matches; memoized."""
    key = (comm, unit)
    found = cache.get(key)
    if found is None:
        names = [comm] if comm else []
        if unit:
            names.extend(_unit_keys(unit))
        found = frozenset(names)
        cache[key] = found
    return found


def _own_container(facts):
    """The container the audited host itself is (oom_facts run inside one reports its cgroup in ``sources``), or None."""
    for status in (facts.get("sources") or {}).values():
        found = _container_of((status or {}).get("container_cgroup"))
        if found is not None:
            return found
    return None


_CONTAINERS = {}


def _container_of(path):
    """``container_of``, memoized: a fleet repeats the same few cgroup paths thousands of times."""
    try:
        return _CONTAINERS[path]
    except KeyError:
        if len(_CONTAINERS) > 100000:
            _CONTAINERS.clear()
        found = _CONTAINERS[path] = container_of(path)
        return found
    except TypeError:  # not hashable: not a path
        return None


def _container(row, path, own=None):
    """``(container_id, container_runtime)`` of a process or kill: oom_facts' fields when it sent them, else from the
    cgroup path with ``container_of`` (results of an oom_facts that did not name the runtime, or trimmed fields).
    A process of the container the audited host itself is (``own``) is the host's own: ``(None, None)``."""
    if row.get("container_runtime") is not None:
        cid, runtime = row.get("container_id"), row.get("container_runtime")
    else:  # not sent, or not known (an older recording's None): the id as sent, the runtime from the path
        found = _container_of(path)
        if "container_id" in row:
            cid = row.get("container_id")
            runtime = found["runtime"] if found is not None and found["id"] == cid else None
        else:
            cid, runtime = (found["id"], found["runtime"]) if found is not None else (None, None)
    if own is not None and cid == own["id"]:
        return None, None
    return cid, runtime


def _places(facts):
    """``place(proc) -> (place, place_max, tied, tie_open)``: where a process stands in the kernel's order.

    The kernel kills the highest oom_score; processes with the same oom_score are a tie, and nothing here can say which
    of them goes first, so they share a place (competition ranking: 1, 2, 2, 4). ``processes`` is the top of the order,
    so the place of a process at or above its lowest oom_score is exact; below it, the place lies between the known
    count and the module's rank (``place_max``). ``tie_open``: processes outside the known set may share the score."""
    top = [p for p in facts.get("processes") or [] if p.get("oom_score") is not None]
    known = {}
    for p in list(facts.get("processes") or []) + list(facts.get("watched") or []):
        if p.get("oom_score") is not None:
            known[p.get("pid")] = p["oom_score"]
    scores = list(known.values())
    floor = min(p["oom_score"] for p in top) if top else None
    truncated = (facts.get("process_count") or 0) > len(top) or not top

    def place(proc):
        score = proc.get("oom_score")
        if score is None:
            return None, None, None, None
        greater = sum(1 for s in scores if s > score)
        tied = sum(1 for s in scores if s == score) - (1 if proc.get("pid") in known else 0)
        if floor is not None and score >= floor:
            return greater + 1, greater + 1, tied, bool(truncated and score == floor)
        rank = _int_or_none(proc.get("rank"))
        low = greater + 1
        return low, (rank if rank is not None and rank >= low else None), tied, True
    return place


def place_text(place, place_max, tied, tie_open):
    """``1``, ``2= (tie of 3)``, ``5= (tie of 2 or more)``, ``6-63``: a place as people read it."""
    if place is None:
        return "?"
    if place_max is None or place_max != place:
        return "%d-%s" % (place, place_max) if place_max else "%d or later" % place
    if tied:
        return "%d= (tie of %d%s)" % (place, tied + 1, " or more" if tie_open else "")
    return "%d" % place


# --- rows ---------------------------------------------------------------------------------------------------------

def _configured_adj(units_by_name, unit):
    info = units_by_name.get(unit) if unit else None
    if not info:
        return None
    return _int_or_none((info.get("configured") or {}).get("OOMScoreAdjust"))


def _victims(host, facts, settings, place, cache, own=None):
    """The top of the kernel's order on the host (``processes``), ties as ties, each with the watched name it is."""
    watch_set = set(settings["watch"])
    rows = []
    for p in facts.get("processes") or []:
        cid, runtime = _container(p, p.get("memcg"), own)
        names = sorted(_match_keys(p.get("comm"), p.get("unit"), cache) & watch_set)
        pl, pl_max, tied, tie_open = place(p)
        rows.append({
            "host": host, "place": pl, "place_max": pl_max, "tied": tied, "tie_open": tie_open,
            "pid": _int_or_none(p.get("pid")), "comm": p.get("comm"), "user": p.get("user"), "unit": p.get("unit"),
            "container_id": cid, "container_runtime": runtime, "oom_score": p.get("oom_score"),
            "oom_score_adj": p.get("oom_score_adj"), "rss_kb": p.get("rss_kb"),
            "service": names[0] if names and (cid is None or settings["include_containers"]) else None,
        })
    # the kernel's order; inside a tie no order is claimed, the pid only makes the listing stable
    rows.sort(key=lambda r: (r["place"] if r["place"] is not None else 1 << 30, r["pid"] or 0))
    return rows


def _services(host, facts, settings, place, cache, own=None):
    """One row per watched name present on the host (per container too, when containers are included); the
    representative process is the unit's main PID when known. Container processes are left out unless asked for."""
    procs = list(facts.get("watched") or [])
    seen = set(p.get("pid") for p in procs)
    for proc in facts.get("processes") or []:
        if proc.get("pid") not in seen:
            procs.append(proc)
            seen.add(proc.get("pid"))
    units = {}
    for info in facts.get("units") or []:
        if info.get("unit"):
            units[info["unit"]] = info
    main_pids = set(info.get("main_pid") for info in units.values() if info.get("main_pid"))
    rows = []
    critical = set(settings["critical"])
    watch = settings["watch"]
    watch_set = set(watch)
    groups = {}
    for p in procs:
        cid, runtime = _container(p, p.get("memcg"), own)
        if cid is not None and not settings["include_containers"]:
            continue  # a container's process is not the host's service
        for name in _match_keys(p.get("comm"), p.get("unit"), cache) & watch_set:
            groups.setdefault((name, cid), []).append((p, runtime))
    order = dict((name, i) for i, name in enumerate(watch))
    for (name, cid) in sorted(groups, key=lambda key: (order[key[0]], key[1] is not None, key[1] or "")):
        matched = groups[(name, cid)]
        mains = [item for item in matched if item[0].get("pid") in main_pids]
        pool = mains or matched
        # the service's own process: its main PID, else the oldest (lowest pid, usually the parent of its workers)
        rep, runtime = min(pool, key=lambda item: _int_or_none(item[0].get("pid")) or 0)
        adj = _int_or_none(rep.get("oom_score_adj"))
        intended = settings["intended"].get(name)
        pl, pl_max, tied, tie_open = place(rep)
        # the process of the service that stands first in the kernel's order (a worker or backend may be ahead)
        best = None
        for p, dummy in matched:
            bp = place(p)
            if bp[1] is not None and (best is None or bp[1] < best[0]):
                best = (bp[1], p)
        rows.append({
            "host": host,
            "service": name,
            "critical": name in critical,
            "pid": _int_or_none(rep.get("pid")),
            "comm": rep.get("comm"),
            "user": rep.get("user"),
            "unit": rep.get("unit"),
            "container_id": cid,
            "container_runtime": runtime,
            "rank": _int_or_none(rep.get("rank")),
            "place": pl, "place_max": pl_max, "tied": tied, "tie_open": tie_open,
            "best_place": best[0] if best else None,
            "best_pid": _int_or_none(best[1].get("pid")) if best else None,
            "processes": len(matched),
            "oom_score": _int_or_none(rep.get("oom_score")),
            "oom_score_adj": adj,
            "configured_adj": _configured_adj(units, rep.get("unit")),
            "intended": intended,
            "drift": intended is not None and adj is not None and adj != intended,
            "protected": adj is not None and adj < 0,
        })
    return rows


def _kill_rows(host, facts, settings, cache, own=None):
    rows = []
    names = settings["critical_set"]
    for k in facts.get("kills") or []:
        comm = k.get("comm")
        unit = k.get("unit")
        cid, runtime = _container(k, k.get("task_memcg"), own)
        rows.append({
            "host": host,
            "time": k.get("time"),
            "pid": _int_or_none(k.get("pid")),
            "comm": comm,
            "unit": unit,
            "container_id": cid,
            "container_runtime": runtime,
            "killer": k.get("killer") or "kernel",
            "trust": k.get("trust"),
            "basis": k.get("basis"),
            "constraint": k.get("constraint"),
            "oom_score_adj": _int_or_none(k.get("oom_score_adj")),
            "anon_rss_kb": _int_or_none(k.get("anon_rss_kb")),
            "total_vm_kb": _int_or_none(k.get("total_vm_kb")),
            "task_memcg": k.get("task_memcg"),
            "oom_memcg": k.get("oom_memcg"),
            "uid": _int_or_none(k.get("uid")),
            "user_manager": k.get("user_manager"),
            # a kill inside a container is the container's, and a kill under a user's systemd manager (any local user
            # can name a unit nginx.service there) is that user's process: neither is a kill of the host's service
            "critical": ((cid is None or settings["include_containers"]) and not k.get("user_manager")
                         and not names.isdisjoint(_match_keys(comm, unit, cache))),
        })
    return rows


def source_cuts(name, source):
    """In words, what a source that was read left out: lines a cap truncated or cut, entries the journal refused."""
    cuts = []
    truncated = source.get("truncated")
    if truncated:
        paths = [str(p) for p in truncated] if isinstance(truncated, list) else [str(truncated)]
        cuts.append("%s: truncated by a cap (%s)" % (name, ", ".join(paths[:5])))
    elif any(f.get("truncated") for f in source.get("files") or []):
        cuts.append("%s: truncated by a cap (%s)" % (name, ", ".join(
            str(f.get("path")) for f in source["files"] if f.get("truncated"))))
    if (_int_or_none(source.get("long_lines")) or 0) > 0:
        cuts.append("%s: %d long line(s) cut" % (name, source["long_lines"]))
    if (_int_or_none(source.get("refused")) or 0) > 0:
        cuts.append("%s: %d entries refused" % (name, source["refused"]))
    if source.get("status") == "partial" and not cuts:
        cuts.append("%s: partly read" % name)
    return cuts


# the one source whose records anyone could have written (a plain text syslog file: trust "unverified")
UNTRUSTED_SOURCES = ("files",)


def coverage_of(sources, read):
    """``full`` (every read source read whole), ``partial`` (a read source was truncated, cut or refused entries),
    ``untrusted_only`` (only plain log files were read), ``no_kernel_log`` (nothing read)."""
    if not read:
        return "no_kernel_log"
    if all(name in UNTRUSTED_SOURCES for name in read):
        return "untrusted_only"
    if any(source_cuts(name, sources[name]) for name in read):
        return "partial"
    return "full"


def coverage_note(host):
    """Why an audited host's coverage is not full, in words (empty when it is full)."""
    coverage = host.get("coverage")
    sources = host.get("kill_sources") or {}
    read = host.get("kill_sources_read") or []
    if coverage == "untrusted_only":
        return ("only plain log files were read, which anyone could have written (%s): no kernel record confirms "
                "a kill, and kills missing from them are not seen" % ", ".join(read))
    if coverage == "partial":
        return "kernel log read in part: " + "; ".join(c for name in read for c in source_cuts(name, sources[name]))
    return ""


def _kill_sources(facts):
    """``(kill_sources, read)``: each kernel-log source's status, reason and kill count, and the names that were read."""
    out = {}
    read = []
    for name, status in sorted((facts.get("sources") or {}).items()):
        status = status or {}
        entry = {"status": status.get("status") or ("read" if status.get("available") else "unavailable"),
                 "reason": status.get("reason"), "kills": _int_or_none(status.get("kills"))}
        for extra in ("trust", "lines", "truncated", "long_lines", "refused"):
            if status.get(extra) is not None:
                entry[extra] = status[extra]
        if status.get("files") is not None:  # per file: what a cap left unread, what was not a regular file
            entry["files"] = [{"path": f.get("path"), "truncated": f.get("truncated"), "skipped": f.get("skipped")}
                              for f in status["files"] if f.get("truncated") or f.get("skipped")]
        out[name] = entry
        if entry["status"] in _READ:
            read.append(name)
    return out, read


# --- the rules ----------------------------------------------------------------------------------------------------

def _reason(reasons, rule, level, message, step=None):
    next_step, blocked = step if step is not None else (None, None)
    reasons.append({"rule": rule, "level": level, "message": message, "next_step": next_step, "blocked": blocked})


def _label(svc):
    where = "" if svc["container_id"] is None else ", container %s %s" % (svc["container_runtime"] or "?", svc["container_id"][:12])
    return "%s (pid %s, oom_score_adj %s, place %s%s)" % (
        svc["service"], svc["pid"], svc["oom_score_adj"],
        place_text(svc["place"], svc["place_max"], svc["tied"], svc["tie_open"]), where)


def _assess(entry, facts, services, kills, victims, settings):
    """Fill entry['reasons'] and entry['risk'] from the host's facts, services and kills (rules: docs/audit.md)."""
    reasons = []
    th = settings["thresholds"]
    host = entry["host"]
    critical_names = settings["critical_set"]
    if entry["kill_count"] is None:
        failed = ["%s: %s" % (name, s["reason"] or s["status"]) for name, s in sorted(entry["kill_sources"].items())
                  if s["status"] != "skipped"]
        if failed:
            message = "%s; %s" % (KILLS_UNKNOWN, "; ".join(failed))
        else:
            message = "kills unknown: no kernel log source was read (oomguard_audit_sources asks for none)"
        _reason(reasons, "kills_unknown", "unknown", message, steps.become(host))
    # evidence anyone could have written (a plain text log: trust "unverified") never makes a host critical
    killed_critical = [k for k in kills if k["critical"] and k["trust"] != "unverified"]
    claimed = [k for k in kills if k["critical"] and k["trust"] == "unverified"]
    if claimed:
        names = sorted(set("%s (pid %s)" % (k["comm"], k["pid"]) for k in claimed))
        _reason(reasons, "critical_killed_unverified", "medium",
                "a log anyone can write says a critical service was OOM-killed, and no kernel record confirms it: %s"
                % ", ".join(names),
                ("ansible %s -b -m oomguard.linux.oom_facts -a 'sources=journal,dmesg raw_lines=6'   # what the kernel says"
                 % steps.shlex.quote(host), None))
    if killed_critical:
        names = sorted(set("%s (pid %s)" % (k["comm"], k["pid"]) for k in killed_critical))
        first = killed_critical[0]
        names_of_first = _match_keys(first["comm"], first["unit"], {})
        svc = next((s for s in services if s["critical"] and s["service"] in names_of_first), None)
        target = svc or {"unit": first["unit"], "comm": first["comm"], "service": first["comm"]}
        _reason(reasons, "critical_killed", "critical", "critical service killed by the OOM killer: %s" % ", ".join(names),
                steps.protect(target, entry, victims, settings["intended"].get(target.get("service"))))
    if kills:
        by_killer = {}
        for k in kills:
            by_killer[k["killer"]] = by_killer.get(k["killer"], 0) + 1
        detail = ", ".join("%d by %s" % (n, killer) for killer, n in sorted(by_killer.items()))
        in_containers = sum(1 for k in kills if k["container_id"] is not None)
        if in_containers:
            detail += "; %d inside containers" % in_containers
        users = [k for k in kills if k.get("user_manager")]
        if users:
            named = sorted(set("%s: %s" % (k["user_manager"], k["unit"] or k["comm"]) for k in users))
            detail += "; %d of a user's (%s%s)" % (len(users), ", ".join(named[:5]), ", ..." if len(named) > 5 else "")
        untrusted = sum(1 for k in kills if k["trust"] == "unverified")
        if untrusted:
            detail += "; %d from a log anyone can write (unverified)" % untrusted
        level = "high" if untrusted < len(kills) else "medium"  # only unverified evidence: worth a look, not an alarm
        _reason(reasons, "kills", level, "%d OOM kill(s) since %s (%s)" % (len(kills), settings["since"], detail),
                (steps.contain_kills(kills, host), None))
    lost = entry["unaccounted_kills"]
    if lost is not None and lost > 0:  # a negative count (a counter reset, an older parser) says nothing
        _reason(reasons, "kills_unaccounted", "high", "%d kill(s) counted by the kernel are missing from the kernel log" % lost,
                steps.keep_kernel_log(host))
    for svc in services:
        if not svc["critical"]:
            continue
        adj = svc["oom_score_adj"]
        intended = settings["intended"].get(svc["service"])
        if adj is not None and adj > 0:
            # back to 0 at least: lowering to 0 works without CAP_SYS_RESOURCE too
            value = intended if intended is not None else None
            if entry.get("cap_sys_resource") is False and (value is None or value < 0):
                value = 0
            _reason(reasons, "unprotected", "high", "critical service exposed: %s has a raised oom_score_adj" % _label(svc),
                    steps.protect(svc, entry, victims, value))
        elif adj is not None and adj >= 0 and svc["best_place"] is not None and svc["best_place"] <= th["top_victims"]:
            ahead = "" if svc["best_pid"] == svc["pid"] else "; its process %s stands at place %s" % (svc["best_pid"], svc["best_place"])
            _reason(reasons, "top_victim", "high", "critical service among the kernel's top %d victims and not lowered: %s%s"
                    % (th["top_victims"], _label(svc), ahead), steps.protect(svc, entry, victims, intended))
        elif adj == 0 and not (svc["configured_adj"] is not None and svc["configured_adj"] < 0):
            # (a negative OOMScoreAdjust= that is not enforced is reported once, by the adj_not_enforced rule)
            _reason(reasons, "not_lowered", "medium", "critical service not protected (oom_score_adj not lowered): %s" % _label(svc),
                    steps.protect(svc, entry, victims, intended))
    for svc in services:
        if svc["drift"]:
            _reason(reasons, "drift", "medium", "oom_score_adj drift on %s (pid %s): intended %s, live %s"
                    % (svc["service"], svc["pid"], svc["intended"], svc["oom_score_adj"]),
                    steps.set_live(svc, entry, victims, svc["intended"]))
    for info in facts.get("units") or []:
        configured = info.get("configured") or {}
        enforced = info.get("enforced") or {}
        unit = info.get("unit") or "?"
        conf_adj = _int_or_none(configured.get("OOMScoreAdjust"))
        live_adj = _int_or_none(enforced.get("oom_score_adj"))
        if conf_adj is not None and conf_adj < 0 and live_adj is not None and live_adj != conf_adj:
            is_critical = not critical_names.isdisjoint(_unit_keys(unit))
            _reason(reasons, "adj_not_enforced", "high" if is_critical else "medium",
                    "%s configures OOMScoreAdjust=%d but its main process runs at %d%s"
                    % (unit, conf_adj, live_adj, "" if facts.get("cap_sys_resource", True) else " (no CAP_SYS_RESOURCE)"),
                    steps.not_enforced(unit, conf_adj, entry, victims))
        high = configured.get("MemoryHigh")
        if high is not None and str(high).strip().lower() not in _UNLIMITED and enforced.get("memory_high_enforced") is False:
            _reason(reasons, "memory_high_not_enforced", "medium",
                    "%s sets MemoryHigh=%s but it is not enforced (needs the cgroup v2 memory controller)" % (unit, high),
                    steps.memory_high(unit, high, entry))
    swap = entry["swap_total_kb"]
    avail = entry["available_pct"]
    low = avail is not None and avail < th["low_available_pct"]
    if swap == 0 and low:
        _reason(reasons, "no_swap_low_memory", "high", "no swap and only %.1f%% of memory available (threshold %.1f%%)"
                % (avail, th["low_available_pct"]), steps.add_swap(entry))
    elif low:
        biggest = next((v for v in victims if v["unit"] and v["container_id"] is None and not v["service"]), None)
        step = ((steps.role_var("services", {"unit": biggest["unit"], "memory_max": steps.mib_size(biggest["rss_kb"]) or "512M"})
                 + "   # limit the biggest consumer (sized from its RSS: check it fits)", None) if biggest else steps.add_swap(entry))
        _reason(reasons, "low_memory", "medium", "only %.1f%% of memory available (threshold %.1f%%)"
                % (avail, th["low_available_pct"]), step)
    elif swap == 0:
        _reason(reasons, "no_swap", "low", "no swap configured", steps.add_swap(entry))
    level = "low"
    for reason in reasons:
        if RISK_SCORES[reason["level"]] > RISK_SCORES[level]:
            level = reason["level"]
    if entry["kill_count"] is None and level == "low":
        level = "unknown"  # never an all-clear for a host whose kills could not be read
    # what the audit could not see first, then the worst findings
    reasons.sort(key=lambda r: (r["rule"] != "kills_unknown", -RISK_SCORES[r["level"]]))
    entry["reasons"] = reasons
    entry["risk"] = level
    entry["risk_score"] = RISK_SCORES[level]


def _host_entry(host, status, reason, facts):
    entry = {"host": host, "reachable": status not in ("unreachable", "missing"), "status": status, "reason": reason,
             "coverage": "none", "risk": "unknown", "risk_score": RISK_SCORES["unknown"], "reasons": [],
             "collected_at": None, "kernel": None, "cgroup_memory": None, "uptime_s": None,
             "mem_total_kb": None, "mem_available_kb": None, "available_pct": None,
             "swap_total_kb": None, "swap_free_kb": None, "kill_count": None, "kill_sources": None, "kill_sources_read": None,
             "oom_kill_counter": None, "unaccounted_kills": None, "unparsed_count": None,
             "critical_found": None, "critical_unprotected": None, "drift_count": None,
             "cap_sys_resource": None, "killers": None, "container": None}
    if facts is None:
        _reason(entry["reasons"], status, "unknown", "not audited (%s): %s" % (status, reason), steps.diagnose(host, status))
        return entry
    memory = facts.get("memory") or {}
    total = _int_or_none(memory.get("mem_total_kb"))
    avail = _int_or_none(memory.get("mem_available_kb"))
    pct = memory.get("available_pct")
    if pct is None and total and avail is not None:
        pct = 100.0 * avail / total
    sources, read = _kill_sources(facts)
    unparsed = facts.get("unparsed") or {}
    entry.update({
        "collected_at": facts.get("collected_at"),
        "kernel": facts.get("kernel"),
        "cgroup_memory": (facts.get("cgroup") or {}).get("memory"),
        "uptime_s": facts.get("uptime_s"),
        "mem_total_kb": total,
        "mem_available_kb": avail,
        "available_pct": round(float(pct), 2) if pct is not None else None,
        "swap_total_kb": _int_or_none(memory.get("swap_total_kb")),
        "swap_free_kb": _int_or_none(memory.get("swap_free_kb")),
        "kill_sources": sources,
        "kill_sources_read": read,
        "coverage": coverage_of(sources, read),
        "oom_kill_counter": _int_or_none((facts.get("counters") or {}).get("oom_kill")),
        "unaccounted_kills": _int_or_none((facts.get("unaccounted_kills") or {}).get("count")),
        "unparsed_count": _int_or_none(unparsed.get("count")),
        "cap_sys_resource": facts.get("cap_sys_resource"),
        "killers": facts.get("killers"),
    })
    return entry


def _dict_rows(facts):
    """The facts with their rows as dicts: oom_facts ``row_format: lists`` (what the audit asks for, the smallest
    result to carry back) gives each row as a list in the order of ``process_columns`` / ``kill_columns``. A host whose
    columns or rows do not fit together is malformed, not guessed at."""
    for key, columns_key in (("processes", "process_columns"), ("watched", "process_columns"), ("kills", "kill_columns")):
        rows = facts.get(key)
        if not isinstance(rows, list) or not rows or not any(isinstance(row, list) for row in rows):
            continue
        columns = facts.get(columns_key)
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise MalformedResult("%s holds rows as lists but %s is not a list of names" % (key, columns_key))
        for index, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != len(columns):
                raise MalformedResult("%s[%d] must be a list of %d values (%s)" % (key, index, len(columns), columns_key))
    return rows_as_dicts(facts)


def _audit_host(host, facts, settings, cache):
    """``(entry, kills, services, victims)`` of one host whose facts were read; raises MalformedResult."""
    facts = _dict_rows(facts)
    check_facts(facts)
    entry = _host_entry(host, "ok", None, facts)
    _check_finite("facts", entry)  # what the entry copies as oom_facts gave it (sources, killers) is JSON too
    own = _own_container(facts)
    entry["container"] = own
    place = _places(facts)
    victims = _victims(host, facts, settings, place, cache, own)
    host_kills = _kill_rows(host, facts, settings, cache, own)
    host_services = _services(host, facts, settings, place, cache, own)
    entry["kill_count"] = len(host_kills) if entry["kill_sources_read"] else None
    entry["critical_found"] = sum(1 for s in host_services if s["critical"])
    entry["critical_unprotected"] = sum(1 for s in host_services if s["critical"] and not s["protected"])
    entry["drift_count"] = sum(1 for s in host_services if s["drift"])
    _assess(entry, facts, host_services, host_kills, victims, settings)
    return entry, host_kills, host_services, victims


def build_report(results, critical=None, intended=None, since="7d", thresholds=None, fail_on=None, generated_at=None,
                 include_containers=False):
    """Aggregate per-host results into the fleet report.

    ``results`` is a mapping ``host -> registered oom_facts result`` (or ``None``), or a list of ``(host, result)`` pairs;
    order is kept. Settings are checked by ``normalize_settings``.
    """
    settings = normalize_settings(critical, intended, since, thresholds, fail_on, include_containers)
    settings["critical_set"] = frozenset(settings["critical"])
    cache = {}
    items = list(results.items()) if isinstance(results, dict) else [tuple(pair) for pair in results]
    hosts, kills, services, victims = [], [], [], []
    risk_totals = dict((level, 0) for level in ("unknown",) + RISK_LEVELS)
    for host, result in items:
        host = str(host)
        status, reason, facts = normalize_result(host, result)
        entry = None
        if facts is not None:
            try:
                entry, host_kills, host_services, host_victims = _audit_host(host, facts, settings, cache)
            except MalformedResult as exc:
                status, reason = "failed", "malformed oom_facts result: %s" % exc
            except (TypeError, ValueError, AttributeError, KeyError) as exc:
                # a shape check_facts does not know: this host fails, the others are reported
                status, reason = "failed", "malformed oom_facts result: %s: %s" % (type(exc).__name__, term_safe(exc))
            else:
                kills.extend(host_kills)
                services.extend(host_services)
                victims.extend(host_victims)
        if entry is None:
            entry = _host_entry(host, status, reason, None)
        risk_totals[entry["risk"]] += 1
        hosts.append(entry)
    # newest first; kills without a readable time last
    stamps = dict((id(k), epoch(k["time"])) for k in kills)
    kills.sort(key=lambda k: (stamps[id(k)] is None, -(stamps[id(k)] or 0.0), k["host"], k["pid"] or 0))
    audited = [h for h in hosts if h["status"] == "ok"]
    known_kills = [h for h in audited if h["kill_count"] is not None]
    swap_known = [h for h in audited if h["swap_total_kb"] is not None]
    totals = {
        "hosts": len(hosts),
        "reachable": len(audited),
        "unreachable": sum(1 for h in hosts if h["status"] in ("unreachable", "missing")),
        "failed": sum(1 for h in hosts if h["status"] in ("failed", "skipped")),
        "hosts_incomplete": sum(1 for h in audited if h["kill_count"] is None),
        "not_fully_audited": sum(1 for h in hosts if h["coverage"] != "full"),
        # null, not 0, when no host's kernel log could be read
        "kills": sum(h["kill_count"] for h in known_kills) if known_kills else None,
        "hosts_with_kills": sum(1 for h in known_kills if h["kill_count"]) if known_kills else None,
        "critical_services": sum(1 for s in services if s["critical"]),
        "critical_unprotected": sum(1 for s in services if s["critical"] and not s["protected"]),
        "drift": sum(1 for s in services if s["drift"]),
        "no_swap": sum(1 for h in swap_known if h["swap_total_kb"] == 0),
        # how many hosts each sum covers: hosts whose figure is unknown are left out, never counted as 0
        "covers": {"kills": len(known_kills), "critical_services": len(audited), "drift": len(audited),
                   "no_swap": len(swap_known)},
        "risk": risk_totals,
    }
    public_settings = dict((k, v) for k, v in settings.items() if k not in ("watch", "critical_set"))
    report = {"schema": REPORT_SCHEMA, "generated_at": generated_at or _now_iso(), "settings": public_settings,
              "hosts": hosts, "kills": kills, "victims": victims, "critical_services": services, "totals": totals}
    report["summary"] = summary_lines(report)
    report["failures"] = gate(report, settings["fail_on"])
    return report


# --- gate and summary ---------------------------------------------------------------------------------------------

def _hosts_text(hosts):
    return ", ".join(hosts[:20]) + (" and %d more" % (len(hosts) - 20) if len(hosts) > 20 else "")


def gate(report, fail_on):
    """Return the ``fail_on`` conditions the report matches: ``[{"condition", "hosts", "message"}]`` (empty: pass).

    ``kills``: a host had an OOM kill in the window; ``unprotected``: a critical service runs with oom_score_adj >= 0
    (not lowered); ``drift``: a live oom_score_adj differs from its intended value; ``no_swap``: a reachable host has no
    swap; ``incomplete``: a host was reached but not fully audited (its module failed, its result was malformed, or its
    kernel log could not be read); ``unreachable``: a host could not be reached (or left no result). Messages are
    terminal-safe.
    """
    fail_on = normalize_settings([], None, "7d", None, fail_on)["fail_on"]
    hits = []
    for condition in fail_on:
        if condition == "kills":
            hosts = sorted(set(k["host"] for k in report["kills"]))
            what = "%d OOM kill(s) since %s" % (len(report["kills"]), report["settings"].get("since"))
        elif condition == "unprotected":
            rows = [s for s in report["critical_services"] if s["critical"] and not s["protected"]]
            hosts = sorted(set(s["host"] for s in rows))
            what = "%d critical service(s) not protected: %s" % (
                len(rows), ", ".join("%s/%s=%s" % (s["host"], s["service"], s["oom_score_adj"]) for s in rows[:10]))
        elif condition == "drift":
            rows = [s for s in report["critical_services"] if s["drift"]]
            hosts = sorted(set(s["host"] for s in rows))
            what = "%d oom_score_adj drift(s): %s" % (
                len(rows), ", ".join("%s/%s intended %s live %s" % (s["host"], s["service"], s["intended"], s["oom_score_adj"])
                                     for s in rows[:10]))
        elif condition == "no_swap":
            hosts = sorted(h["host"] for h in report["hosts"] if h["swap_total_kb"] == 0)
            what = "%d host(s) without swap" % len(hosts)
        elif condition == "incomplete":
            rows = [h for h in report["hosts"] if h["status"] in ("failed", "skipped") or h["coverage"] == "no_kernel_log"]
            hosts = sorted(h["host"] for h in rows)
            what = "%d host(s) not fully audited (%d without a readable kernel log, %d failed)" % (
                len(rows), sum(1 for h in rows if h["coverage"] == "no_kernel_log"),
                sum(1 for h in rows if h["status"] != "ok"))
        else:
            hosts = sorted(h["host"] for h in report["hosts"] if h["status"] in ("unreachable", "missing"))
            what = "%d host(s) unreachable" % len(hosts)
        if hosts:
            hits.append({"condition": condition, "hosts": hosts,
                         "message": term_safe("fail_on %s: %s on %s" % (condition, what, _hosts_text(hosts)))})
    return hits


def _clip(text, limit):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def partial_text(hosts):
    """``"2 kernel log partial, 1 only untrusted log files, "`` for the summary's first line; empty when none."""
    partial = sum(1 for h in hosts if h["coverage"] == "partial")
    untrusted = sum(1 for h in hosts if h["coverage"] == "untrusted_only")
    text = "%d kernel log partial, " % partial if partial else ""
    return text + ("%d only untrusted log files, " % untrusted if untrusted else "")


def summary_lines(report, report_dir=None):
    """A few lines for people: hosts (and how many were not fully audited), kills, risky hosts. Terminal-safe."""
    t = report["totals"]
    covers = t.get("covers") or {}
    since = report["settings"].get("since")
    down = [h for h in report["hosts"] if h["coverage"] != "full"]
    lost = [h["unaccounted_kills"] for h in report["hosts"] if (h.get("unaccounted_kills") or 0) > 0]
    lower_bound = ("; a lower bound: %d kill(s) counted by the kernel on %d host(s) are missing from the kernel log"
                   % (sum(lost), len(lost))) if lost else ""
    lines = [
        "hosts: %d in inventory, %d fully audited, %d not fully audited (%d kernel log unreadable, %s%d unreachable, %d failed)"
        % (t["hosts"], t["hosts"] - t["not_fully_audited"], t["not_fully_audited"], t["hosts_incomplete"],
           partial_text(report["hosts"]), t["unreachable"], t["failed"]),
        ("kills: %d since %s on %d host(s) (covers %d of %d hosts)%s"
         % (t["kills"], since, t["hosts_with_kills"], covers.get("kills", t["hosts"]), t["hosts"], lower_bound))
        if t["kills"] is not None
        else "kills: unknown since %s: no host's kernel log could be read (covers 0 of %d hosts)%s" % (since, t["hosts"], lower_bound),
        "critical services: %d found, %d not protected, %d drifted (covers %d hosts)"
        % (t["critical_services"], t["critical_unprotected"], t["drift"], covers.get("critical_services", t["hosts"])),
        "risk: %s" % ", ".join("%s %d" % (level, t["risk"][level]) for level in ("critical", "high", "medium", "low", "unknown")),
    ]
    risky = [h for h in report["hosts"] if h["risk"] in ("high", "critical")]
    if risky:
        shown = ["%s (%s: %s)" % (h["host"], h["risk"], _clip(h["reasons"][0]["message"], 100)) for h in risky[:10]]
        lines.append("high-risk hosts: " + "; ".join(shown) + (" and %d more" % (len(risky) - 10) if len(risky) > 10 else ""))
    for h in down[:10]:
        unknown = next((r["message"] for r in h["reasons"] if r["rule"] == "kills_unknown"), None)
        why = h["reason"] if h["status"] != "ok" else (unknown or coverage_note(h))
        lines.append("not fully audited: %s (%s)" % (h["host"], _clip(why if h["status"] == "ok" else "%s: %s" % (h["status"], why), 160)))
    if len(down) > 10:
        lines.append("not fully audited: %d more host(s), see the report" % (len(down) - 10))
    if report_dir:
        lines.append("report: %s/index.html" % str(report_dir).rstrip("/"))
    return [term_safe(line) for line in lines]
