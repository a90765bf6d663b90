# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Render the fleet report (``_report.build_report``) as the audit's five files.

``render_all(report)`` returns ``{file name: text}`` for ``report.json``, ``hosts.csv``, ``kills.csv``, ``index.html``
(self-contained: inline CSS, inline SVG, a few lines of inline JS to sort the host table; no external asset or URL)
and ``oomguard.prom`` (Prometheus text exposition format 0.0.4, for node_exporter's textfile collector).
Standard library only, Python 3.8+.
"""
from __future__ import annotations

import csv
import datetime
import html
import io
import json

from ansible_collections.oomguard.linux.plugins.plugin_utils._report import RISK_SCORES

FILES = ("report.json", "hosts.csv", "kills.csv", "index.html", "oomguard.prom")

HOSTS_CSV_FIELDS = ("host", "reachable", "status", "reason", "risk", "reasons", "kernel", "cgroup_memory", "mem_total_kb",
                    "mem_available_kb", "available_pct", "swap_total_kb", "swap_free_kb", "kill_count", "oom_kill_counter",
                    "critical_found", "critical_unprotected", "drift_count", "collected_at")
KILLS_CSV_FIELDS = ("host", "time", "pid", "comm", "unit", "container_id", "killer", "constraint", "oom_score_adj", "anon_rss_kb",
                    "total_vm_kb", "task_memcg", "oom_memcg", "critical")


# index.html is for people: beyond this many kill rows it shows the newest and points to kills.csv (which has them all)
HTML_MAX_KILL_ROWS = 1000


def render_json(report):
    """Compact JSON (one line; the C encoder keeps 1,000 hosts well under a second); pretty-print with ``jq .``."""
    return json.dumps(report, separators=(",", ":"), default=str) + "\n"


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _csv(rows, fields):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow([_csv_value(row.get(f)) for f in fields])
    return out.getvalue()


def render_hosts_csv(report):
    rows = []
    for h in report["hosts"]:
        row = dict(h)
        row["reasons"] = "; ".join(r["message"] for r in h["reasons"])
        rows.append(row)
    return _csv(rows, HOSTS_CSV_FIELDS)


def render_kills_csv(report):
    return _csv(report["kills"], KILLS_CSV_FIELDS)


# --- Prometheus text format -------------------------------------------------------------------------------------------

def _label_value(value):
    """Escape a label value: backslash, double quote and line feed (text format 0.0.4)."""
    return str("" if value is None else value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs):
    return "{" + ",".join('%s="%s"' % (k, _label_value(v)) for k, v in pairs) + "}"


def _number(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def render_prom(report):
    families = []  # (name, type, help, [(labels, value)])

    def family(name, kind, help_text, samples):
        families.append((name, kind, help_text, samples))

    hosts = report["hosts"]
    family("oomguard_host_up", "gauge", "1 when the audit read the host's OOM facts, 0 when it was unreachable or failed.",
           [([("host", h["host"])], 1 if h["status"] == "ok" else 0) for h in hosts])
    family("oomguard_risk_level", "gauge", "Audit risk level of the host: -1 unknown, 0 low, 1 medium, 2 high, 3 critical.",
           [([("host", h["host"])], h["risk_score"]) for h in hosts])
    counts = {}
    for k in report["kills"]:
        key = (k["host"], k["unit"] or "", k["killer"] or "kernel")
        counts[key] = counts.get(key, 0) + 1
    ok_hosts = [h for h in hosts if h["status"] == "ok"]
    family("oomguard_kills", "gauge",
           "OOM kills seen in the audit window (since %s), by host, systemd unit (empty: none) and killer."
           % report["settings"].get("since"),
           [([("host", host), ("unit", unit), ("killer", killer)], n) for (host, unit, killer), n in sorted(counts.items())])
    family("oomguard_host_kills", "gauge", "OOM kills seen in the audit window per audited host (0 included).",
           [([("host", h["host"])], h["kill_count"]) for h in ok_hosts])
    family("oomguard_kernel_oom_kills_total", "counter", "The kernel's oom_kill counter from /proc/vmstat (since boot).",
           [([("host", h["host"])], h["oom_kill_counter"]) for h in ok_hosts if h["oom_kill_counter"] is not None])
    crit = [s for s in report["critical_services"] if s["critical"]]
    family("oomguard_critical_unprotected", "gauge",
           "1 when a critical service's main process has oom_score_adj >= 0 (not lowered), else 0.",
           [([("host", s["host"]), ("service", s["service"])], 0 if s["protected"] else 1) for s in crit])
    family("oomguard_critical_oom_score_adj", "gauge", "Live oom_score_adj of a critical service's main process.",
           [([("host", s["host"]), ("service", s["service"])], s["oom_score_adj"]) for s in crit if s["oom_score_adj"] is not None])
    family("oomguard_critical_rank", "gauge", "Global OOM victim rank of a critical service's main process (1 = next victim).",
           [([("host", s["host"]), ("service", s["service"])], s["rank"]) for s in crit if s["rank"] is not None])
    family("oomguard_oom_score_adj_drift", "gauge", "1 when a service's live oom_score_adj differs from its intended value.",
           [([("host", s["host"]), ("service", s["service"])], 1 if s["drift"] else 0)
            for s in report["critical_services"] if s["intended"] is not None])
    family("oomguard_swap_total_bytes", "gauge", "Total swap of the host in bytes.",
           [([("host", h["host"])], h["swap_total_kb"] * 1024) for h in ok_hosts if h["swap_total_kb"] is not None])
    family("oomguard_mem_available_ratio", "gauge", "MemAvailable / MemTotal of the host (0..1).",
           [([("host", h["host"])], round(h["available_pct"] / 100.0, 6)) for h in ok_hosts if h["available_pct"] is not None])
    family("oomguard_audit_timestamp_seconds", "gauge", "When the audit report was generated (Unix time).",
           [([], _epoch(report["generated_at"]) or 0)])
    lines = []
    for name, kind, help_text, samples in families:
        lines.append("# HELP %s %s" % (name, help_text.replace("\\", "\\\\").replace("\n", "\\n")))
        lines.append("# TYPE %s %s" % (name, kind))
        for labels, value in samples:
            lines.append("%s%s %s" % (name, _labels(labels) if labels else "", _number(value)))
    return "\n".join(lines) + "\n"


# --- HTML ---------------------------------------------------------------------------------------------------------

def _epoch(stamp):
    if not stamp:
        return None
    text = str(stamp).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def _e(value):
    return html.escape("" if value is None else str(value), quote=True)


_CSS = """
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em;color:#1d232a;background:#fafbfc}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.6em 0 .5em}
.meta{color:#5b6670}.cards{display:flex;flex-wrap:wrap;gap:.6em;margin:1em 0}
.card{background:#fff;border:1px solid #d8dee4;border-radius:6px;padding:.5em .9em;min-width:7em}
.card b{display:block;font-size:1.5em}
table{border-collapse:collapse;background:#fff;width:100%;font-size:13px}
th,td{border:1px solid #d8dee4;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#eef1f4;cursor:pointer;user-select:none;white-space:nowrap}th.sorted-asc:after{content:' \\25B2'}
th.sorted-desc:after{content:' \\25BC'}td.num{text-align:right;font-variant-numeric:tabular-nums}
.risk{font-weight:600;border-radius:4px;padding:0 .4em}
.risk-critical{background:#7a0010;color:#fff}.risk-high{background:#d73a49;color:#fff}
.risk-medium{background:#f9c513}.risk-low{background:#85e89d}.risk-unknown{background:#959da5;color:#fff}
ul.reasons{margin:0;padding-left:1.1em}svg{background:#fff;border:1px solid #d8dee4;border-radius:6px;max-width:100%}
.empty{color:#5b6670;font-style:italic}
"""

_JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
 t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){
  var asc=!th.classList.contains('sorted-asc');t.querySelectorAll('th').forEach(function(x){x.classList.remove('sorted-asc','sorted-desc')});
  th.classList.add(asc?'sorted-asc':'sorted-desc');var b=t.tBodies[0];var rows=Array.prototype.slice.call(b.rows);
  rows.sort(function(r1,r2){var a=r1.cells[i].getAttribute('data-v')||r1.cells[i].textContent,
   c=r2.cells[i].getAttribute('data-v')||r2.cells[i].textContent;var x=parseFloat(a),y=parseFloat(c);
   var d=(!isNaN(x)&&!isNaN(y))?x-y:a.localeCompare(c);return asc?d:-d});rows.forEach(function(r){b.appendChild(r)})})})});
"""


def _td(value, num=False, sort=None):
    attrs = ' class="num"' if num else ""
    if sort is not None:
        attrs += ' data-v="%s"' % _e(sort)
    return "<td%s>%s</td>" % (attrs, _e(value))


def _risk_cell(level):
    return '<td data-v="%d"><span class="risk risk-%s">%s</span></td>' % (RISK_SCORES.get(level, -1), _e(level), _e(level))


def _chart(report):
    """An SVG swimlane chart: one lane per host/unit, one dot per kill at its time."""
    kills = report["kills"]
    if not kills:
        return '<p class="empty">No OOM kills in the audit window.</p>'
    lanes = {}  # lane label -> row index, in order of first kill; at most 80 lanes
    names = ["%s / %s" % (k["host"], k["unit"] or k["comm"] or "?") for k in kills]
    for lane in names:
        if lane not in lanes and len(lanes) < 80:
            lanes[lane] = len(lanes)
    stamps = [_epoch(k["time"]) for k in kills]
    known = [s for s in stamps if s is not None]
    end = max(known + [_epoch(report["generated_at"]) or 0]) if known else 1.0
    start = min(known) if known else 0.0
    if end - start < 3600:
        start = end - 3600
    left, width, lane_h, top = 300, 640, 22, 24
    height = top + lane_h * len(lanes) + 30
    parts = ['<svg role="img" aria-label="OOM kills per host and unit over time" viewBox="0 0 %d %d" width="%d" height="%d">'
             % (left + width + 20, height, left + width + 20, height)]
    for i, lane in enumerate(lanes):
        y = top + i * lane_h
        if i % 2 == 0:
            parts.append('<rect x="0" y="%d" width="%d" height="%d" fill="#f4f6f8"/>' % (y, left + width + 20, lane_h))
        label = lane if len(lane) <= 44 else lane[:43] + "\u2026"
        parts.append('<text x="6" y="%d" font-size="12" fill="#1d232a">%s</text>' % (y + 15, _e(label)))
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = left + frac * width
        moment = datetime.datetime.fromtimestamp(start + frac * (end - start), datetime.timezone.utc)
        parts.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#d8dee4"/>' % (x, top, x, height - 26))
        anchor = "start" if frac == 0.0 else "end" if frac == 1.0 else "middle"
        parts.append('<text x="%.1f" y="%d" font-size="11" fill="#5b6670" text-anchor="%s">%s</text>'
                     % (x, height - 10, anchor, _e(moment.strftime("%m-%d %H:%M"))))
    for k, stamp, lane in zip(kills, stamps, names):
        row = lanes.get(lane)
        if row is None:
            continue
        y = top + row * lane_h + lane_h / 2.0
        x = left + (width * (stamp - start) / (end - start) if stamp is not None else 0)
        color = "#7a0010" if k["critical"] else "#d73a49"
        parts.append('<circle cx="%.1f" cy="%.1f" r="6" fill="%s" fill-opacity="0.8"><title>%s</title></circle>'
                     % (x, y, color, _e("%s pid %s (%s) by %s at %s" % (k["host"], k["pid"], k["comm"], k["killer"], k["time"]))))
    parts.append("</svg>")
    return "".join(parts)


def render_html(report):
    t = report["totals"]
    s = report["settings"]
    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<title>oomguard fleet audit</title><style>%s</style></head><body>" % _CSS,
           "<h1>oomguard fleet audit</h1>",
           '<p class="meta">generated %s &middot; kills since %s &middot; critical names: %s</p>'
           % (_e(report["generated_at"]), _e(s.get("since")), _e(", ".join(s.get("critical") or []))),
           '<div class="cards">']
    for label, value in (("hosts", t["hosts"]), ("reachable", t["reachable"]), ("unreachable", t["unreachable"]),
                         ("failed", t["failed"]), ("OOM kills", t["kills"]), ("high/critical risk", t["risk"]["high"] + t["risk"]["critical"]),
                         ("unprotected critical", t["critical_unprotected"]), ("drift", t["drift"]), ("no swap", t["no_swap"])):
        out.append('<div class="card"><b>%s</b>%s</div>' % (_e(value), _e(label)))
    out.append("</div>")
    out.append("<h2>Kills per host and unit over time</h2>")
    out.append(_chart(report))
    out.append('<h2>Hosts</h2><table class="sortable" id="hosts"><thead><tr>')
    for col in ("host", "risk", "status", "kills", "unprotected critical", "drift", "available %", "swap MiB", "kernel", "reasons"):
        out.append("<th>%s</th>" % _e(col))
    out.append("</tr></thead><tbody>")
    for h in sorted(report["hosts"], key=lambda x: (-x["risk_score"] if x["risk_score"] >= 0 else -10, x["host"])):
        reasons = "".join("<li>%s</li>" % _e(r["message"]) for r in h["reasons"])
        swap = "" if h["swap_total_kb"] is None else "%d" % (h["swap_total_kb"] // 1024)
        out.append('<tr class="host">' + _td(h["host"]) + _risk_cell(h["risk"]) + _td(h["status"])
                   + _td(h["kill_count"], True) + _td(h["critical_unprotected"], True) + _td(h["drift_count"], True)
                   + _td("" if h["available_pct"] is None else "%.1f" % h["available_pct"], True)
                   + _td(swap, True) + _td(h["kernel"])
                   + '<td><ul class="reasons">%s</ul></td></tr>' % reasons)
    out.append("</tbody></table>")
    out.append('<h2>OOM kills</h2>')
    kills = report["kills"]
    if len(kills) > HTML_MAX_KILL_ROWS:
        out.append('<p class="meta">The newest %d of %d kills; kills.csv and report.json hold them all.</p>'
                   % (HTML_MAX_KILL_ROWS, len(kills)))
        kills = kills[-HTML_MAX_KILL_ROWS:]
    if kills:
        out.append('<table class="sortable" id="kills"><thead><tr>')
        for col in ("time", "host", "pid", "comm", "unit", "killer", "constraint", "oom_score_adj", "anon RSS kB", "critical"):
            out.append("<th>%s</th>" % _e(col))
        out.append("</tr></thead><tbody>")
        for k in kills:
            out.append('<tr class="kill">' + _td(k["time"]) + _td(k["host"]) + _td(k["pid"], True) + _td(k["comm"])
                       + _td(k["unit"]) + _td(k["killer"]) + _td(k["constraint"]) + _td(k["oom_score_adj"], True)
                       + _td(k["anon_rss_kb"], True) + _td("yes" if k["critical"] else "") + "</tr>")
        out.append("</tbody></table>")
    else:
        out.append('<p class="empty">No OOM kills in the audit window.</p>')
    out.append('<h2>Critical services</h2>')
    if report["critical_services"]:
        out.append('<table class="sortable" id="services"><thead><tr>')
        for col in ("host", "service", "pid", "comm", "unit", "rank", "oom_score", "oom_score_adj", "configured", "intended",
                    "drift", "protected"):
            out.append("<th>%s</th>" % _e(col))
        out.append("</tr></thead><tbody>")
        for v in report["critical_services"]:
            out.append('<tr class="service">' + _td(v["host"]) + _td(v["service"]) + _td(v["pid"], True) + _td(v["comm"])
                       + _td(v["unit"]) + _td(v["rank"], True) + _td(v["oom_score"], True) + _td(v["oom_score_adj"], True)
                       + _td(v["configured_adj"], True) + _td(v["intended"], True) + _td("yes" if v["drift"] else "")
                       + _td("yes" if v["protected"] else "no") + "</tr>")
        out.append("</tbody></table>")
    else:
        out.append('<p class="empty">None of the critical names runs on the audited hosts.</p>')
    out.append("<script>%s</script></body></html>\n" % _JS)
    return "".join(out)


RENDERERS = {
    "report.json": render_json,
    "hosts.csv": render_hosts_csv,
    "kills.csv": render_kills_csv,
    "index.html": render_html,
    "oomguard.prom": render_prom,
}


def render_all(report, files=None):
    """``{file name: content}`` for the requested files (default: all five)."""
    names = list(files) if files else list(FILES)
    unknown = [n for n in names if n not in RENDERERS]
    if unknown:
        raise ValueError("unknown report file(s) %s (known: %s)" % (", ".join(unknown), ", ".join(FILES)))
    return dict((name, RENDERERS[name](report)) for name in names)
