# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Render the fleet report (``_report.build_report``) as the audit's five files.

``render_all(report)`` returns ``{file name: text}`` for ``report.json``, ``hosts.csv``, ``kills.csv``, ``index.html``
(self-contained: inline CSS, inline SVG, a few lines of inline JS to sort and filter; no external asset or URL)
and ``oomguard.prom`` (Prometheus text exposition format 0.0.4, for node_exporter's textfile collector).
Controller-side code (plugins/plugin_utils), standard library only.

CSV cells are spreadsheet-safe: every text cell is quoted, and a text cell that a spreadsheet would run as a formula
(it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading single quote (OWASP's advice for
CSV injection). Numbers are written as numbers.
"""
from __future__ import annotations

import csv
import datetime
import html
import io
import json

from ansible_collections.oomguard.linux.plugins.plugin_utils._report import RISK_SCORES, coverage_note, epoch, partial_text, place_text

FILES = ("report.json", "hosts.csv", "kills.csv", "index.html", "oomguard.prom")

HOSTS_CSV_FIELDS = ("host", "reachable", "status", "reason", "coverage", "risk", "reasons", "next_steps", "kernel",
                    "cgroup_memory", "mem_total_kb", "mem_available_kb", "available_pct", "swap_total_kb", "swap_free_kb",
                    "kill_count", "kill_sources_read", "kill_sources_failed", "oom_kill_counter", "critical_found",
                    "critical_unprotected", "drift_count", "cap_sys_resource", "collected_at")
KILLS_CSV_FIELDS = ("host", "time", "pid", "comm", "unit", "container_id", "container_runtime", "killer", "trust", "basis",
                    "constraint", "oom_score_adj", "anon_rss_kb", "total_vm_kb", "task_memcg", "oom_memcg", "uid",
                    "user_manager", "critical")


# index.html is for people: beyond this many kill rows it shows the newest and points to kills.csv (which has them all)
HTML_MAX_KILL_ROWS = 1000

# what a spreadsheet reads as the start of a formula (or of a cell it re-parses)
CSV_FORMULA_START = "=+-@\t\r"


def render_json(report):
    """Compact JSON (one line; the C encoder keeps 1,000 hosts well under a second); pretty-print with ``jq .``.
    NaN and Infinity are no JSON: a report holding one raises ValueError instead of writing an invalid file."""
    return json.dumps(report, separators=(",", ":"), default=str, allow_nan=False) + "\n"


def csv_cell(value):
    """One CSV cell: ``None`` empty, booleans ``true``/``false``, numbers as they are, text neutralised for spreadsheets."""
    kind = type(value)
    if kind is str:
        first = value.lstrip(" ")[:1] if value[:1] == " " else value[:1]
        if first and first in CSV_FORMULA_START:
            return "'" + value
        return value
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        return value
    # subclasses (ansible-core 2.19 tags values that passed through a template)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return int(value) if isinstance(value, int) else float(value)
    return csv_cell(str(value))


def _csv(rows, fields):
    out = io.StringIO()
    # QUOTE_NONNUMERIC: every text cell is quoted, numbers are not
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(fields)
    for row in rows:
        writer.writerow([csv_cell(row.get(f)) for f in fields])
    return out.getvalue()


def render_hosts_csv(report):
    rows = []
    for h in report["hosts"]:
        row = dict(h)
        row["reasons"] = "; ".join(r["message"] for r in h["reasons"])
        row["next_steps"] = "; ".join("%s: %s" % (r["rule"], r["next_step"]) for r in h["reasons"] if r.get("next_step"))
        sources = h.get("kill_sources") or {}
        row["kill_sources_read"] = " ".join(h.get("kill_sources_read") or [])
        row["kill_sources_failed"] = "; ".join("%s: %s" % (name, s.get("reason") or s.get("status"))
                                               for name, s in sorted(sources.items())
                                               if s.get("status") not in ("read", "partial", "skipped"))
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
    ok_hosts = [h for h in hosts if h["status"] == "ok"]
    family("oomguard_kernel_log_read", "gauge",
           "1 when at least one kernel log source of the host could be read, 0 when none could (its kills are unknown).",
           [([("host", h["host"])], 1 if h["kill_count"] is not None else 0) for h in ok_hosts])
    counts = {}
    for k in report["kills"]:
        key = (k["host"], k["unit"] or "", k["killer"] or "kernel", k.get("container_id") or "")
        counts[key] = counts.get(key, 0) + 1
    family("oomguard_kills", "gauge",
           "OOM kills seen in the audit window (since %s), by host, systemd unit (empty: none), killer and container "
           "(empty: the host's own)." % report["settings"].get("since"),
           [([("host", host), ("unit", unit), ("killer", killer), ("container_id", cid)], n)
            for (host, unit, killer, cid), n in sorted(counts.items())])
    family("oomguard_host_kills", "gauge",
           "OOM kills seen in the audit window per audited host (0 included; absent when its kernel log could not be read).",
           [([("host", h["host"])], h["kill_count"]) for h in ok_hosts if h["kill_count"] is not None])
    family("oomguard_kernel_oom_kills_total", "counter", "The kernel's oom_kill counter from /proc/vmstat (since boot).",
           [([("host", h["host"])], h["oom_kill_counter"]) for h in ok_hosts if h["oom_kill_counter"] is not None])
    crit = [s for s in report["critical_services"] if s["critical"]]

    def svc_labels(s):
        return [("host", s["host"]), ("service", s["service"]), ("container_id", s.get("container_id") or "")]
    family("oomguard_critical_unprotected", "gauge",
           "1 when a critical service's main process has oom_score_adj >= 0 (not lowered), else 0.",
           [(svc_labels(s), 0 if s["protected"] else 1) for s in crit])
    family("oomguard_critical_oom_score_adj", "gauge", "Live oom_score_adj of a critical service's main process.",
           [(svc_labels(s), s["oom_score_adj"]) for s in crit if s["oom_score_adj"] is not None])
    family("oomguard_critical_place", "gauge",
           "Place of a critical service's main process in the kernel's kill order (1 = next victim; equal oom_scores "
           "share a place). Only where the audit knows it exactly.",
           [(svc_labels(s), s["place"]) for s in crit if s["place"] is not None and s["place"] == s["place_max"]])
    family("oomguard_oom_score_adj_drift", "gauge", "1 when a service's live oom_score_adj differs from its intended value.",
           [(svc_labels(s), 1 if s["drift"] else 0) for s in report["critical_services"] if s["intended"] is not None])
    family("oomguard_swap_total_bytes", "gauge", "Total swap of the host in bytes.",
           [([("host", h["host"])], h["swap_total_kb"] * 1024) for h in ok_hosts if h["swap_total_kb"] is not None])
    family("oomguard_mem_available_ratio", "gauge", "MemAvailable / MemTotal of the host (0..1).",
           [([("host", h["host"])], round(h["available_pct"] / 100.0, 6)) for h in ok_hosts if h["available_pct"] is not None])
    family("oomguard_audit_timestamp_seconds", "gauge", "When the audit report was generated (Unix time).",
           [([], epoch(report["generated_at"]) or 0)])
    lines = []
    for name, kind, help_text, samples in families:
        lines.append("# HELP %s %s" % (name, help_text.replace("\\", "\\\\").replace("\n", "\\n")))
        lines.append("# TYPE %s %s" % (name, kind))
        for labels, value in samples:
            lines.append("%s%s %s" % (name, _labels(labels) if labels else "", _number(value)))
    return "\n".join(lines) + "\n"


# --- HTML ---------------------------------------------------------------------------------------------------------

def _e(value):
    return html.escape("" if value is None else str(value), quote=True)


_CSS = """
*{box-sizing:border-box}[hidden]{display:none!important}
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;padding:1em 1.2em;color:#1d232a;background:#fafbfc;
 overflow-wrap:anywhere}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.6em 0 .5em}
.meta{color:#5b6670}.cards{display:flex;flex-wrap:wrap;gap:.5em;margin:1em 0}
.card{background:#fff;border:1px solid #d8dee4;border-radius:6px;padding:.45em .8em;min-width:6.5em;flex:0 1 auto}
.card b{display:block;font-size:1.45em}.card.warn{border-color:#d73a49;background:#fff5f5}
.notice{background:#fff8e1;border:1px solid #f9c513;border-radius:6px;padding:.5em .8em}
table{border-collapse:collapse;background:#fff;width:100%;font-size:13px}
th,td{border:1px solid #d8dee4;padding:.3em .5em;text-align:left;vertical-align:top}
td{overflow-wrap:anywhere}th,td.num{overflow-wrap:normal}td.num{white-space:nowrap}td:first-child{min-width:7em}td.long{min-width:8em}td.wide{min-width:22em}
th{background:#eef1f4;cursor:pointer;user-select:none}th.sorted-asc:after{content:' \\25B2'}
th.sorted-desc:after{content:' \\25BC'}td.num{text-align:right;font-variant-numeric:tabular-nums}
.risk{font-weight:600;border-radius:4px;padding:0 .4em;white-space:nowrap}
.risk-critical{background:#7a0010;color:#fff}.risk-high{background:#d73a49;color:#fff}
.risk-medium{background:#f9c513}.risk-low{background:#85e89d}.risk-unknown{background:#5b6670;color:#fff}
ul.reasons{margin:0;padding-left:1.1em}ul.reasons li{margin:0 0 .45em}
.rule{font-family:ui-monospace,monospace;font-size:12px;color:#5b6670}
.blocked{color:#7a0010;margin:.15em 0}.blocked b{font-weight:600}
code.step{display:block;white-space:pre-wrap;overflow-wrap:anywhere;background:#f1f3f5;border-radius:4px;padding:.25em .45em;
 margin:.15em 0;font:12px/1.4 ui-monospace,monospace}
.container{font-family:ui-monospace,monospace;font-size:12px}.tie{color:#5b6670}
svg.chart{background:#fff;border:1px solid #d8dee4;border-radius:6px;width:100%;height:auto;display:block}
.empty{color:#5b6670;font-style:italic}.toolbar{margin:.4em 0}
@media (max-width:900px){
 body{padding:.6em}
 table.rt,table.rt tbody,table.rt tr{display:block;width:100%}
 table.rt thead{display:none}
 table.rt tr{border:1px solid #d8dee4;border-radius:6px;margin:0 0 .6em;background:#fff;padding:.2em 0}
 table.rt td{display:flex;gap:.6em;border:0;padding:.12em .5em;text-align:left;min-width:0;overflow-wrap:anywhere}
 table.rt td:empty{display:none}
 table.rt td:before{content:attr(data-label);flex:0 0 7.5em;font-size:12px;font-weight:600;color:#5b6670}
 table.rt td.wide{display:block;border-top:1px solid #eef1f4;margin-top:.2em;padding-top:.3em}
 table.rt td.wide:before{display:block}
 td.long,td.wide{min-width:0}
}
"""

_JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
 t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){
  var asc=!th.classList.contains('sorted-asc');t.querySelectorAll('th').forEach(function(x){x.classList.remove('sorted-asc','sorted-desc')});
  th.classList.add(asc?'sorted-asc':'sorted-desc');var b=t.tBodies[0];var rows=Array.prototype.slice.call(b.rows);
  rows.sort(function(r1,r2){var a=r1.cells[i].getAttribute('data-v')||r1.cells[i].textContent,
   c=r2.cells[i].getAttribute('data-v')||r2.cells[i].textContent;var x=parseFloat(a),y=parseFloat(c);
   var d=(!isNaN(x)&&!isNaN(y))?x-y:a.localeCompare(c);return asc?d:-d});rows.forEach(function(r){b.appendChild(r)})})})});
var scope=document.getElementById('scope');
if(scope){scope.addEventListener('change',function(){var v=scope.value;
 document.querySelectorAll('tr[data-scope]').forEach(function(r){r.hidden=!(v==='all'||r.getAttribute('data-scope')===v)})})}
"""


def _td(label, value, num=False, sort=None, cls=None):
    classes = [c for c in ("num" if num else None, cls) if c]
    attrs = ' data-label="%s"' % _e(label)
    if classes:
        attrs += ' class="%s"' % " ".join(classes)
    if sort is not None:
        attrs += ' data-v="%s"' % _e(sort)
    return "<td%s>%s</td>" % (attrs, _e(value))


def _td_html(label, inner, sort=None, cls=None):
    attrs = ' data-label="%s"' % _e(label)
    if cls:
        attrs += ' class="%s"' % cls
    if sort is not None:
        attrs += ' data-v="%s"' % _e(sort)
    return "<td%s>%s</td>" % (attrs, inner)


def _risk_html(level):
    return '<span class="risk risk-%s">%s</span>' % (_e(level), _e(level))


def _container_text(row):
    if not row.get("container_id"):
        return ""
    return "%s %s" % (row.get("container_runtime") or "container", row["container_id"][:12])


def _mib(kb):
    return "" if kb is None else "%d" % (kb // 1024)


def _table(table_id, columns, rows_html, sortable=True):
    head = "".join("<th>%s</th>" % _e(col) for col in columns)
    return ('<table class="rt%s" id="%s"><thead><tr>%s</tr></thead><tbody>%s</tbody></table>'
            % (" sortable" if sortable else "", table_id, head, "".join(rows_html)))


def _ticks(start, end):
    span = end - start
    fmt = "%H:%M:%S" if span < 600 else "%m-%d %H:%M" if span >= 86400 else "%H:%M"
    return [(frac, datetime.datetime.fromtimestamp(start + frac * span, datetime.timezone.utc).strftime(fmt))
            for frac in (0.0, 0.25, 0.5, 0.75, 1.0)]


def chart_window(kills, until=None):
    """``(start, end)`` of the chart's time axis: the first and the last kill, with a little room on both sides.
    Kills after ``until`` (the report's time plus a day: a clock far ahead) are left off the axis, not stretched to."""
    known = [s for s in (epoch(k["time"]) for k in kills) if s is not None and (until is None or s <= until)]
    if not known:
        return None
    first, last = min(known), max(known)
    pad = max((last - first) * 0.04, 30.0)
    return first - pad, last + pad


def _chart(kills, until=None):
    """An SVG swimlane chart: one lane per host/unit (at most 40), one dot per kill at its time; axis fits the kills
    (those after ``until`` are left off)."""
    window = chart_window(kills, until)
    if window is None:
        return ""
    start, end = window
    lanes = {}
    names = ["%s / %s" % (k["host"], _kill_unit_text(k) or _container_text(k) or k["comm"] or "?") for k in kills]
    for lane in names:
        if lane not in lanes and len(lanes) < 40:
            lanes[lane] = len(lanes)
    left, width, lane_h, top = 250, 850, 22, 10
    total = left + width + 20
    height = top + lane_h * len(lanes) + 30
    parts = ['<svg class="chart" role="img" aria-label="OOM kills per host and unit over time" viewBox="0 0 %d %d" '
             'preserveAspectRatio="xMinYMin meet">' % (total, height)]
    for i, lane in enumerate(lanes):
        y = top + i * lane_h
        if i % 2 == 0:
            parts.append('<rect x="0" y="%d" width="%d" height="%d" fill="#f4f6f8"/>' % (y, total, lane_h))
        label = lane if len(lane) <= 38 else lane[:37] + "\u2026"
        parts.append('<text x="6" y="%d" font-size="12" fill="#1d232a">%s<title>%s</title></text>' % (y + 15, _e(label), _e(lane)))
    for frac, text in _ticks(start, end):
        x = left + frac * width
        parts.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#d8dee4"/>' % (x, top, x, height - 26))
        anchor = "start" if frac == 0.0 else "end" if frac == 1.0 else "middle"
        parts.append('<text x="%.1f" y="%d" font-size="11" fill="#5b6670" text-anchor="%s">%s</text>'
                     % (x, height - 10, anchor, _e(text)))
    for k, lane in zip(kills, names):
        row = lanes.get(lane)
        stamp = epoch(k["time"])
        if row is None or stamp is None or not start <= stamp <= end:
            continue
        y = top + row * lane_h + lane_h / 2.0
        x = left + width * (stamp - start) / (end - start)
        color = "#7a0010" if k["critical"] else "#d73a49"
        parts.append('<circle cx="%.1f" cy="%.1f" r="6" fill="%s" fill-opacity="0.8"><title>%s</title></circle>'
                     % (x, y, color, _e("%s pid %s (%s) by %s at %s" % (k["host"], k["pid"], k["comm"], k["killer"], k["time"]))))
    parts.append("</svg>")
    return "".join(parts)


def _reasons_html(h):
    items = []
    for r in h["reasons"]:
        parts = ['<span class="rule">%s</span> %s' % (_e(r["rule"]), _e(r["message"]))]
        if r.get("blocked"):
            parts.append('<div class="blocked"><b>cannot be fixed here:</b> %s</div>' % _e(r["blocked"]))
        if r.get("next_step"):
            label = "instead" if r.get("blocked") else "next step"
            parts.append('<div class="step-label">%s:</div><code class="step">%s</code>' % (label, _e(r["next_step"])))
        items.append('<li class="reason level-%s">%s</li>' % (_e(r["level"]), "".join(parts)))
    return '<ul class="reasons">%s</ul>' % "".join(items) if items else '<span class="empty">no findings</span>'


def _coverage_text(h):
    if h["status"] != "ok":
        return "not audited: %s" % h["status"]
    sources = h.get("kill_sources") or {}
    read = h.get("kill_sources_read") or []
    failed = ["%s: %s" % (name, s.get("status")) for name, s in sorted(sources.items())
              if s.get("status") not in ("read", "partial", "skipped")]
    text = "kernel log read from %s" % ", ".join(read) if read else "kernel log NOT read"
    text += "; " + ", ".join(failed) if failed else ""
    note = coverage_note(h)
    text += "; " + note if note else ""
    if h.get("unaccounted_kills"):
        text += "; %d kill(s) the kernel counted that no log line explains" % h["unaccounted_kills"]
    if h.get("unparsed_count"):
        text += "; %d kernel line(s) that looked like a kill did not parse" % h["unparsed_count"]
    return text


def _hosts_section(report):
    rows = []
    # the worst first; hosts the audit could not see right after the high risks
    order = {"critical": 0, "high": 1, "unknown": 2, "medium": 3, "low": 4}
    for h in sorted(report["hosts"], key=lambda x: (order.get(x["risk"], 2), x["host"])):
        kills = "unknown" if h["kill_count"] is None else h["kill_count"]
        rows.append('<tr class="host">' + _td("host", h["host"])
                    + _td_html("risk", _risk_html(h["risk"]), sort=RISK_SCORES.get(h["risk"], -1))
                    + _td("audit", _coverage_text(h), cls="long")
                    + _td("kills", kills, num=True, sort=-1 if h["kill_count"] is None else h["kill_count"])
                    + _td("unprotected critical", h["critical_unprotected"], num=True)
                    + _td("drift", h["drift_count"], num=True)
                    + _td("available %", "" if h["available_pct"] is None else "%.1f" % h["available_pct"], num=True)
                    + _td("swap MiB", _mib(h["swap_total_kb"]), num=True)
                    + _td_html("findings and next steps", _reasons_html(h), cls="wide") + "</tr>")
    return ('<section id="hosts"><h2>Hosts</h2>'
            + _table("hosts-table", ("host", "risk", "audit", "kills", "unprotected critical", "drift", "available %",
                                     "swap MiB", "findings and next steps"), rows) + "</section>")


def _services_section(report):
    out = ['<section id="services"><h2>Critical services: where each stands</h2>']
    services = report["critical_services"]
    if not services:
        out.append('<p class="empty">None of the critical names runs on the audited hosts.</p></section>')
        return "".join(out)
    rows = []
    for v in services:
        place = place_text(v["place"], v["place_max"], v["tied"], v["tie_open"])
        if v.get("best_place") is not None and v.get("best_pid") != v["pid"]:
            place += " (its process %s: place %s)" % (v["best_pid"], v["best_place"])
        rows.append('<tr class="service" data-scope="%s">' % ("container" if v.get("container_id") else "host")
                    + _td("host", v["host"]) + _td("service", v["service"])
                    + _td("place", place, sort=v["place"] if v["place"] is not None else 1 << 30)
                    + _td("oom_score", v["oom_score"], num=True) + _td("oom_score_adj", v["oom_score_adj"], num=True)
                    + _td("configured", v["configured_adj"], num=True) + _td("intended", v["intended"], num=True)
                    + _td("protected", "yes" if v["protected"] else "no") + _td("pid", v["pid"], num=True)
                    + _td("unit", v["unit"], cls="long") + _td("container", _container_text(v), cls="container") + "</tr>")
    out.append('<p class="meta">The main process of each watched name: its place in the kernel\'s order (1 is killed '
               'first; equal oom_scores share a place, written 2=), and whether it is protected (oom_score_adj below 0).</p>')
    out.append(_table("services-table", ("host", "service", "place", "oom_score", "oom_score_adj", "configured", "intended",
                                         "protected", "pid", "unit", "container"), rows))
    out.append("</section>")
    return "".join(out)


def _victims_section(report):
    out = ['<section id="victims"><h2>Who dies next</h2>',
           '<p class="meta">Per host, the processes the kernel kills first, in its order. Processes with the same '
           'oom_score are a tie: they share a place (2=) and no order among them is claimed.</p>']
    victims = report.get("victims") or []
    if not victims:
        out.append('<p class="empty">No process list was collected.</p></section>')
        return "".join(out)
    rows = []
    for v in victims:
        place = place_text(v["place"], v["place_max"], v["tied"], v["tie_open"])
        rows.append('<tr class="victim" data-scope="%s">' % ("container" if v.get("container_id") else "host")
                    + _td("host", v["host"]) + _td("place", place, sort=v["place"] if v["place"] is not None else 1 << 30,
                                                   cls="tie" if v["tied"] else None)
                    + _td("pid", v["pid"], num=True) + _td("comm", v["comm"], cls="long") + _td("user", v["user"])
                    + _td("unit", v["unit"], cls="long") + _td("container", _container_text(v), cls="container")
                    + _td("oom_score", v["oom_score"], num=True) + _td("oom_score_adj", v["oom_score_adj"], num=True)
                    + _td("RSS MiB", _mib(v["rss_kb"]), num=True) + _td("service", v["service"]) + "</tr>")
    out.append(_table("victims-table", ("host", "place", "pid", "comm", "user", "unit", "container", "oom_score",
                                        "oom_score_adj", "RSS MiB", "service"), rows))
    out.append("</section>")
    return "".join(out)


def _kill_unit_text(k):
    """The unit of a kill; under a user's systemd manager, the user's: ``user@1000.service: nginx.service``."""
    if k.get("user_manager"):
        return "%s: %s" % (k["user_manager"], k["unit"] or "?")
    return k["unit"]


def _kills_section(report):
    kills = report["kills"]
    out = ['<section id="kills"><h2>OOM kills, newest first</h2>']
    unknown = [h["host"] for h in report["hosts"] if h["status"] == "ok" and h["kill_count"] is None]
    if unknown:
        out.append('<p class="notice">Kills unknown on %s: could not read the kernel log (run with become).</p>'
                   % _e(", ".join(unknown)))
    if not kills:
        out.append('<p class="empty">No OOM kills in the audit window on the hosts whose kernel log was read.</p></section>')
        return "".join(out)
    generated = epoch(report.get("generated_at"))
    out.append(_chart(kills, generated + 86400 if generated is not None else None))
    shown = kills[:HTML_MAX_KILL_ROWS]
    if len(kills) > HTML_MAX_KILL_ROWS:
        out.append('<p class="meta">The newest %d of %d kills; kills.csv and report.json hold them all.</p>'
                   % (HTML_MAX_KILL_ROWS, len(kills)))
    rows = []
    for k in shown:
        rows.append('<tr class="kill" data-scope="%s">' % ("container" if k.get("container_id") else "host")
                    + _td("time", k["time"], sort=epoch(k["time"]) or 0) + _td("host", k["host"]) + _td("pid", k["pid"], num=True)
                    + _td("comm", k["comm"], cls="long") + _td("unit", _kill_unit_text(k), cls="long") + _td("container", _container_text(k), cls="container")
                    + _td("killer", k["killer"]) + _td("trust", k.get("trust")) + _td("constraint", k["constraint"])
                    + _td("oom_score_adj", k["oom_score_adj"], num=True) + _td("anon RSS kB", k["anon_rss_kb"], num=True)
                    + _td("critical", "yes" if k["critical"] else "") + "</tr>")
    out.append(_table("kills-table", ("time", "host", "pid", "comm", "unit", "container", "killer", "trust", "constraint",
                                      "oom_score_adj", "anon RSS kB", "critical"), rows))
    out.append("</section>")
    return "".join(out)


def render_html(report):
    t = report["totals"]
    s = report["settings"]
    covers = t.get("covers") or {}
    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<title>oomguard fleet audit</title><style>%s</style></head><body>" % _CSS,
           "<header><h1>oomguard fleet audit</h1>",
           '<p class="meta">generated %s &middot; kills since %s &middot; critical names: %s%s</p></header>'
           % (_e(report["generated_at"]), _e(s.get("since")), _e(", ".join(s.get("critical") or [])),
              " &middot; container processes included" if s.get("include_containers") else ""),
           '<div class="cards" id="cards">']
    cards = (("hosts", t["hosts"], False), ("fully audited", t["hosts"] - t["not_fully_audited"], False),
             ("not fully audited", t["not_fully_audited"], t["not_fully_audited"] > 0),
             ("OOM kills (covers %d of %d hosts)" % (covers.get("kills", t["hosts"]), t["hosts"]),
              "unknown" if t["kills"] is None else t["kills"], bool(t["kills"])),
             ("high/critical risk", t["risk"]["high"] + t["risk"]["critical"], t["risk"]["high"] + t["risk"]["critical"] > 0),
             ("unprotected critical", t["critical_unprotected"], t["critical_unprotected"] > 0),
             ("drift", t["drift"], t["drift"] > 0), ("no swap", t["no_swap"], False))
    for label, value, warn in cards:
        out.append('<div class="card%s"><b>%s</b>%s</div>' % (" warn" if warn else "", _e(value), _e(label)))
    out.append("</div>")
    if t["not_fully_audited"]:
        out.append('<p class="notice" id="coverage">%d of %d hosts were not fully audited (%d kernel log unreadable, '
                   '%s%d unreachable, %d failed): their unknown figures are left out of the sums above, and the kills '
                   'of a host whose kernel log was read in part or only from plain log files are what was seen.</p>'
                   % (t["not_fully_audited"], t["hosts"], t["hosts_incomplete"], _e(partial_text(report["hosts"])),
                      t["unreachable"], t["failed"]))
    out.append('<div class="toolbar"><label for="scope">Show processes: </label><select id="scope">'
               '<option value="all">all</option><option value="host">the hosts\' own</option>'
               '<option value="container">in containers</option></select></div>')
    out.append(_hosts_section(report))
    out.append(_services_section(report))
    out.append(_victims_section(report))
    out.append(_kills_section(report))
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
