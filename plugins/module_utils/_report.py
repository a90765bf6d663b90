# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The fleet audit's aggregation: per-host ``oom_facts`` results in, one report out.

Pure Python (standard library only, Python 3.8+), so the filter plugin, the tests and the benchmarks share it.
Input: one entry per audited host, either the registered result of the ``oomguard.linux.oom_facts`` task
(``ansible_facts.oom`` inside, or ``unreachable``/``failed`` with ``msg``) or ``None`` when the host never
produced a result. Output: the report documented in ``docs/audit.md`` (``REPORT_SCHEMA`` below is the version).

Report (``build_report``)::

    {"schema": 1, "generated_at": ISO, "settings": {...},
     "hosts": [{"host", "reachable", "status", "reason", "risk", "risk_score", "reasons": [{"rule", "level", "message"}],
                "collected_at", "kernel", "cgroup_memory", "uptime_s", "mem_total_kb", "mem_available_kb",
                "available_pct", "swap_total_kb", "swap_free_kb", "kill_count", "oom_kill_counter",
                "critical_found", "critical_unprotected", "drift_count", "cap_sys_resource", "killers"}],
     "kills": [{"host", "time", "pid", "comm", "unit", "container_id", "killer", "constraint", "oom_score_adj", "anon_rss_kb",
                "total_vm_kb", "task_memcg", "oom_memcg", "critical"}],
     "critical_services": [{"host", "service", "critical", "pid", "comm", "unit", "container_id", "rank", "top_rank", "processes", "oom_score",
                            "oom_score_adj", "intended", "drift", "protected", "configured_adj"}],
     "totals": {"hosts", "reachable", "unreachable", "failed", "kills", "hosts_with_kills", "critical_services",
                "critical_unprotected", "drift", "no_swap", "risk": {"unknown", "low", "medium", "high", "critical"}},
     "summary": [str], "failures": [{"condition", "hosts", "message"}]}
"""
from __future__ import annotations

import datetime

from ansible_collections.oomguard.linux.plugins.module_utils._oom_facts import rows_as_dicts

REPORT_SCHEMA = 1

# Risk levels, ordered. ``unknown`` is a host the audit could not read (unreachable or failed).
RISK_LEVELS = ("low", "medium", "high", "critical")
RISK_SCORES = {"unknown": -1, "low": 0, "medium": 1, "high": 2, "critical": 3}

DEFAULT_CRITICAL = (
    "postgres", "mysqld", "mariadbd", "nginx", "httpd", "apache2", "redis-server", "mongod", "sshd",
    "systemd-journald", "dockerd", "containerd", "kubelet",
)
DEFAULT_THRESHOLDS = {
    # a critical service ranked this high (1 = the kernel's next victim) and not lowered is a high risk
    "top_victims": 5,
    # MemAvailable below this percentage of MemTotal is "low headroom"
    "low_available_pct": 10.0,
}
FAIL_ON_CHOICES = ("kills", "unprotected", "drift", "no_swap")

_UNLIMITED = ("", "infinity", "max", "none")


def _now_iso():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def to_plain(value):
    """Copy mappings and sequences (Ansible's lazy or tagged containers included) into plain dicts and lists."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return dict((str(k), to_plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


def _int_or_none(value):
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def normalize_settings(critical=None, intended=None, since="7d", thresholds=None, fail_on=None):
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
    fail_on = list(fail_on or [])
    bad = [item for item in fail_on if item not in FAIL_ON_CHOICES]
    if bad:
        raise ValueError("fail_on accepts %s; got %s" % (", ".join(FAIL_ON_CHOICES), ", ".join(str(b) for b in bad)))
    # The names watched by oom_facts: critical names first, then names only given an intended value.
    watch = list(critical) + [name for name in clean_intended if name not in critical]
    return {"critical": critical, "intended": clean_intended, "since": str(since or "7d"),
            "thresholds": merged, "fail_on": fail_on, "watch": watch}


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
        return "ok", None, rows_as_dicts(result)
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
    return "ok", None, rows_as_dicts(facts)  # oom_facts schema 2 returns rows as lists with a columns header


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


def _configured_adj(units_by_name, unit):
    info = units_by_name.get(unit) if unit else None
    if not info:
        return None
    return _int_or_none((info.get("configured") or {}).get("OOMScoreAdjust"))


def _services(host, facts, settings, cache):
    """One row per watched name present on the host; the representative process is the unit's main PID when known."""
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
        for name in _match_keys(p.get("comm"), p.get("unit"), cache) & watch_set:
            groups.setdefault(name, []).append(p)
    for name in watch:
        matched = groups.get(name)
        if not matched:
            continue
        mains = [p for p in matched if p.get("pid") in main_pids]
        pool = mains or matched
        # the service's own process: its main PID, else the oldest (lowest pid, usually the parent of its workers);
        # the host's own processes before those of containers running on it
        rep = min(pool, key=lambda p: (p.get("container_id") is not None, _int_or_none(p.get("pid")) or 0))
        ranks = [r for r in (_int_or_none(p.get("rank")) for p in matched) if r is not None]
        adj = _int_or_none(rep.get("oom_score_adj"))
        intended = settings["intended"].get(name)
        rows.append({
            "host": host,
            "service": name,
            "critical": name in critical,
            "pid": _int_or_none(rep.get("pid")),
            "comm": rep.get("comm"),
            "unit": rep.get("unit"),
            "container_id": rep.get("container_id"),
            "rank": _int_or_none(rep.get("rank")),
            "top_rank": min(ranks) if ranks else None,
            "processes": len(matched),
            "oom_score": _int_or_none(rep.get("oom_score")),
            "oom_score_adj": adj,
            "configured_adj": _configured_adj(units, rep.get("unit")),
            "intended": intended,
            "drift": intended is not None and adj is not None and adj != intended,
            "protected": adj is not None and adj < 0,
        })
    return rows


def _reason(reasons, rule, level, message):
    reasons.append({"rule": rule, "level": level, "message": message})


def _assess(entry, facts, services, kills, settings):
    """Fill entry['reasons'] and entry['risk'] from the host's facts, services and kills (rules: docs/audit.md)."""
    reasons = []
    th = settings["thresholds"]
    critical_names = settings["critical_set"]
    killed_critical = [k for k in kills if k["critical"]]
    if killed_critical:
        names = sorted(set("%s (pid %s)" % (k["comm"], k["pid"]) for k in killed_critical))
        _reason(reasons, "critical_killed", "critical", "critical service killed by the OOM killer: %s" % ", ".join(names))
    if kills:
        by_killer = {}
        for k in kills:
            by_killer[k["killer"]] = by_killer.get(k["killer"], 0) + 1
        detail = ", ".join("%d by %s" % (n, killer) for killer, n in sorted(by_killer.items()))
        _reason(reasons, "kills", "high", "%d OOM kill(s) since %s (%s)" % (len(kills), settings["since"], detail))
    for svc in services:
        if not svc["critical"]:
            continue
        adj = svc["oom_score_adj"]
        label = "%s (pid %s, oom_score_adj %s, rank %s)" % (svc["service"], svc["pid"], adj, svc["rank"])
        if adj is not None and adj > 0:
            _reason(reasons, "unprotected", "high", "critical service exposed: %s has a raised oom_score_adj" % label)
        elif adj is not None and adj >= 0 and svc["top_rank"] is not None and svc["top_rank"] <= th["top_victims"]:
            _reason(reasons, "top_victim", "high", "critical service among the top %d OOM victims and not lowered: %s"
                    % (th["top_victims"], label))
        elif adj == 0 and not (svc["configured_adj"] is not None and svc["configured_adj"] < 0):
            # (a negative OOMScoreAdjust= that is not enforced is reported once, by the adj_not_enforced rule)
            _reason(reasons, "not_lowered", "medium", "critical service not protected (oom_score_adj not lowered): %s" % label)
    for svc in services:
        if svc["drift"]:
            _reason(reasons, "drift", "medium", "oom_score_adj drift on %s (pid %s): intended %s, live %s"
                    % (svc["service"], svc["pid"], svc["intended"], svc["oom_score_adj"]))
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
                    % (unit, conf_adj, live_adj, "" if facts.get("cap_sys_resource", True) else " (no CAP_SYS_RESOURCE)"))
        high = configured.get("MemoryHigh")
        if high is not None and str(high).strip().lower() not in _UNLIMITED and enforced.get("memory_high_enforced") is False:
            _reason(reasons, "memory_high_not_enforced", "medium",
                    "%s sets MemoryHigh=%s but it is not enforced (needs the cgroup v2 memory controller)" % (unit, high))
    swap = entry["swap_total_kb"]
    avail = entry["available_pct"]
    low = avail is not None and avail < th["low_available_pct"]
    if swap == 0 and low:
        _reason(reasons, "no_swap_low_memory", "high", "no swap and only %.1f%% of memory available (threshold %.1f%%)"
                % (avail, th["low_available_pct"]))
    elif low:
        _reason(reasons, "low_memory", "medium", "only %.1f%% of memory available (threshold %.1f%%)" % (avail, th["low_available_pct"]))
    elif swap == 0:
        _reason(reasons, "no_swap", "low", "no swap configured")
    level = "low"
    for reason in reasons:
        if RISK_SCORES[reason["level"]] > RISK_SCORES[level]:
            level = reason["level"]
    reasons.sort(key=lambda r: -RISK_SCORES[r["level"]])
    entry["reasons"] = reasons
    entry["risk"] = level
    entry["risk_score"] = RISK_SCORES[level]


def _kill_rows(host, facts, settings, cache):
    rows = []
    names = settings["critical_set"]
    for k in facts.get("kills") or []:
        comm = k.get("comm")
        unit = k.get("unit")
        rows.append({
            "host": host,
            "time": k.get("time"),
            "pid": _int_or_none(k.get("pid")),
            "comm": comm,
            "unit": unit,
            "container_id": k.get("container_id"),
            "killer": k.get("killer") or "kernel",
            "constraint": k.get("constraint"),
            "oom_score_adj": _int_or_none(k.get("oom_score_adj")),
            "anon_rss_kb": _int_or_none(k.get("anon_rss_kb")),
            "total_vm_kb": _int_or_none(k.get("total_vm_kb")),
            "task_memcg": k.get("task_memcg"),
            "oom_memcg": k.get("oom_memcg"),
            "critical": not names.isdisjoint(_match_keys(comm, unit, cache)),
        })
    return rows


def _host_entry(host, status, reason, facts):
    entry = {"host": host, "reachable": status not in ("unreachable", "missing"), "status": status, "reason": reason,
             "risk": "unknown", "risk_score": RISK_SCORES["unknown"], "reasons": [],
             "collected_at": None, "kernel": None, "cgroup_memory": None, "uptime_s": None,
             "mem_total_kb": None, "mem_available_kb": None, "available_pct": None,
             "swap_total_kb": None, "swap_free_kb": None, "kill_count": 0, "oom_kill_counter": None,
             "critical_found": 0, "critical_unprotected": 0, "drift_count": 0,
             "cap_sys_resource": None, "killers": None}
    if facts is None:
        _reason(entry["reasons"], status, "unknown", "%s: %s" % (status, reason))
        return entry
    memory = facts.get("memory") or {}
    total = _int_or_none(memory.get("mem_total_kb"))
    avail = _int_or_none(memory.get("mem_available_kb"))
    pct = memory.get("available_pct")
    if pct is None and total and avail is not None:
        pct = 100.0 * avail / total
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
        "oom_kill_counter": _int_or_none((facts.get("counters") or {}).get("oom_kill")),
        "cap_sys_resource": facts.get("cap_sys_resource"),
        "killers": facts.get("killers"),
    })
    return entry


def build_report(results, critical=None, intended=None, since="7d", thresholds=None, fail_on=None, generated_at=None):
    """Aggregate per-host results into the fleet report.

    ``results`` is a mapping ``host -> registered oom_facts result`` (or ``None``), or a list of ``(host, result)`` pairs;
    order is kept. Settings are checked by ``normalize_settings``.
    """
    settings = normalize_settings(critical, intended, since, thresholds, fail_on)
    settings["critical_set"] = frozenset(settings["critical"])
    cache = {}
    items = list(results.items()) if isinstance(results, dict) else [tuple(pair) for pair in results]
    hosts, kills, services = [], [], []
    risk_totals = dict((level, 0) for level in ("unknown",) + RISK_LEVELS)
    for host, result in items:
        host = str(host)
        status, reason, facts = normalize_result(host, result)
        entry = _host_entry(host, status, reason, facts)
        if facts is not None:
            host_kills = _kill_rows(host, facts, settings, cache)
            host_services = _services(host, facts, settings, cache)
            entry["kill_count"] = len(host_kills)
            entry["critical_found"] = sum(1 for s in host_services if s["critical"])
            entry["critical_unprotected"] = sum(1 for s in host_services if s["critical"] and not s["protected"])
            entry["drift_count"] = sum(1 for s in host_services if s["drift"])
            _assess(entry, facts, host_services, host_kills, settings)
            kills.extend(host_kills)
            services.extend(host_services)
        risk_totals[entry["risk"]] += 1
        hosts.append(entry)
    kills.sort(key=lambda k: (k["time"] or "", k["host"], k["pid"] or 0))
    totals = {
        "hosts": len(hosts),
        "reachable": sum(1 for h in hosts if h["status"] == "ok"),
        "unreachable": sum(1 for h in hosts if h["status"] in ("unreachable", "missing")),
        "failed": sum(1 for h in hosts if h["status"] in ("failed", "skipped")),
        "kills": len(kills),
        "hosts_with_kills": sum(1 for h in hosts if h["kill_count"]),
        "critical_services": sum(1 for s in services if s["critical"]),
        "critical_unprotected": sum(1 for s in services if s["critical"] and not s["protected"]),
        "drift": sum(1 for s in services if s["drift"]),
        "no_swap": sum(1 for h in hosts if h["swap_total_kb"] == 0),
        "risk": risk_totals,
    }
    public_settings = dict((k, v) for k, v in settings.items() if k not in ("watch", "critical_set"))
    report = {"schema": REPORT_SCHEMA, "generated_at": generated_at or _now_iso(), "settings": public_settings,
              "hosts": hosts, "kills": kills, "critical_services": services, "totals": totals}
    report["summary"] = summary_lines(report)
    report["failures"] = gate(report, settings["fail_on"])
    return report


def gate(report, fail_on):
    """Return the ``fail_on`` conditions the report matches: ``[{"condition", "hosts", "message"}]`` (empty: pass).

    ``kills``: a host had an OOM kill in the window; ``unprotected``: a critical service runs with oom_score_adj >= 0
    (not lowered); ``drift``: a live oom_score_adj differs from its intended value; ``no_swap``: a reachable host has no swap.
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
        else:
            hosts = sorted(h["host"] for h in report["hosts"] if h["swap_total_kb"] == 0)
            what = "%d host(s) without swap" % len(hosts)
        if hosts:
            shown = ", ".join(hosts[:20]) + (" and %d more" % (len(hosts) - 20) if len(hosts) > 20 else "")
            hits.append({"condition": condition, "hosts": hosts,
                         "message": "fail_on %s: %s on %s" % (condition, what, shown)})
    return hits


def summary_lines(report, report_dir=None):
    """A few lines for people: hosts, kills, risky hosts, where the report is."""
    t = report["totals"]
    risky = [h for h in report["hosts"] if h["risk"] in ("high", "critical")]
    lines = [
        "hosts: %d audited, %d reachable, %d unreachable, %d failed" % (t["hosts"], t["reachable"], t["unreachable"], t["failed"]),
        "kills: %d since %s on %d host(s)" % (t["kills"], report["settings"].get("since"), t["hosts_with_kills"]),
        "critical services: %d found, %d not protected, %d drifted" % (t["critical_services"], t["critical_unprotected"], t["drift"]),
        "risk: %s" % ", ".join("%s %d" % (level, t["risk"][level]) for level in ("critical", "high", "medium", "low", "unknown")),
    ]
    if risky:
        shown = ["%s (%s: %s%s)" % (h["host"], h["risk"], h["reasons"][0]["message"][:100],
                                    "..." if len(h["reasons"][0]["message"]) > 100 else "") for h in risky[:10]]
        lines.append("high-risk hosts: " + "; ".join(shown) + (" and %d more" % (len(risky) - 10) if len(risky) > 10 else ""))
    down = [h for h in report["hosts"] if h["status"] != "ok"]
    for h in down[:10]:
        reason = " ".join(str(h["reason"]).split())
        lines.append("not audited: %s (%s: %s)" % (h["host"], h["status"], reason if len(reason) <= 160 else reason[:157] + "..."))
    if len(down) > 10:
        lines.append("not audited: %d more host(s), see the report" % (len(down) - 10))
    if report_dir:
        lines.append("report: %s/index.html" % str(report_dir).rstrip("/"))
    return lines
