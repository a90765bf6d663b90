# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The report never gives a false all-clear (issue 14) and survives hostile input (issue 13 class 7).

Facts are built with tests/helpers/audit_facts.py in the shape oom_facts returns them; the real-host versions of these
checks are in tests/integration/test_audit.py. Here: coverage as data, unreachable/failed hosts out of the sums,
containers named, ties as ties, next steps and what a host cannot enforce, malformed host results, CSV injection and
terminal escapes.
"""
from __future__ import annotations

import csv
import io

from ansible_collections.oomguard.linux.plugins.plugin_utils import _report_steps as steps
from ansible_collections.oomguard.linux.plugins.plugin_utils._report import KILLS_UNKNOWN, build_report, gate, term_safe
from ansible_collections.oomguard.linux.plugins.plugin_utils._report_render import chart_window, render_all
from helpers.audit_facts import host_facts, kill, ok, proc, unit

SWAP = 2_000_000
PODMAN_ID = "ab" * 32
PODMAN_MEMCG = f"/libpod_parent/libpod-{PODMAN_ID}/system.slice/postgresql@15-main.service"
DENIED = {"journal": {"status": "unavailable", "reason": "journal unavailable: journalctl printed nothing", "kills": 0},
          "dmesg": {"status": "error", "reason": "dmesg: read kernel buffer failed: Operation not permitted", "kills": 0},
          "kmsg": {"status": "unavailable", "reason": "cannot open /dev/kmsg: Operation not permitted", "kills": 0},
          "files": {"status": "unavailable", "reason": "no readable log file", "kills": 0}}


def _host(report, name):
    return next(h for h in report["hosts"] if h["host"] == name)


def _blind(**kwargs):
    facts = host_facts(**kwargs)
    facts["sources"] = dict(DENIED)
    return facts


def test_unreadable_kernel_log_is_unknown_never_zero():
    report = build_report({"blind": ok(_blind(swap_kb=0)), "seen": ok(host_facts(swap_kb=SWAP))})
    blind = _host(report, "blind")
    assert blind["kill_count"] is None and blind["coverage"] == "no_kernel_log"
    assert blind["kill_sources_read"] == [] and blind["kill_sources"]["dmesg"]["status"] == "error"
    assert "Operation not permitted" in blind["kill_sources"]["dmesg"]["reason"]
    # no_swap alone would be "low": a host whose kills are unknown is never an all-clear
    assert blind["risk"] == "unknown" and blind["reasons"][0]["rule"] == "kills_unknown"
    assert blind["reasons"][0]["message"].startswith(KILLS_UNKNOWN)
    assert "become" in blind["reasons"][0]["next_step"]
    t = report["totals"]
    assert (t["hosts_incomplete"], t["not_fully_audited"], t["kills"], t["covers"]["kills"]) == (1, 1, 0, 1)
    assert any("1 not fully audited (1 kernel log unreadable" in line for line in report["summary"])
    assert "kills: 0 since 7d on 0 host(s) (covers 1 of 2 hosts)" in report["summary"]
    page = render_all(report)["index.html"]
    assert KILLS_UNKNOWN in page and "kills unknown" in page.lower()
    rows = {r["host"]: r for r in csv.DictReader(io.StringIO(render_all(report)["hosts.csv"]))}
    assert rows["blind"]["kill_count"] == "" and "dmesg: dmesg: read kernel buffer failed" in rows["blind"]["kill_sources_failed"]
    assert rows["seen"]["kill_count"] == "0" and rows["seen"]["kill_sources_read"] == "journal"


def test_no_host_read_means_the_fleet_kill_total_is_unknown():
    report = build_report({"blind": ok(_blind(swap_kb=SWAP))})
    assert report["totals"]["kills"] is None and report["totals"]["covers"]["kills"] == 0
    assert any(line.startswith("kills: unknown since 7d") for line in report["summary"])
    assert "oomguard_host_kills{" not in render_all(report)["oomguard.prom"]
    assert 'oomguard_kernel_log_read{host="blind"} 0' in render_all(report)["oomguard.prom"]


def test_a_kill_found_while_other_sources_failed_is_counted():
    facts = host_facts(kills=[kill(7, "x")], swap_kb=SWAP)
    facts["sources"] = dict(DENIED, dmesg={"status": "read", "reason": None, "kills": 1})
    host = _host(build_report({"h": ok(facts)}), "h")
    assert host["kill_count"] == 1 and host["kill_sources_read"] == ["dmesg"] and host["coverage"] == "full"


def test_unreachable_and_failed_hosts_are_null_and_out_of_the_sums():
    report = build_report({
        "web": ok(host_facts(kills=[kill(1, "x")], swap_kb=0)),
        "ghost": {"unreachable": True, "msg": "ssh: connect to host 127.0.0.1 port 1: Connection refused"},
        "broken": {"failed": True, "msg": "MODULE FAILURE"},
    }, fail_on=["incomplete", "unreachable"])
    for name in ("ghost", "broken"):
        h = _host(report, name)
        assert all(h[key] is None for key in ("kill_count", "critical_found", "critical_unprotected", "drift_count",
                                              "swap_total_kb", "mem_total_kb", "kill_sources")), h
        assert h["risk"] == "unknown" and h["coverage"] == "none" and h["reasons"][0]["next_step"]
    t = report["totals"]
    assert (t["kills"], t["no_swap"], t["covers"]["kills"], t["covers"]["no_swap"], t["not_fully_audited"]) == (1, 1, 1, 1, 2)
    hits = {g["condition"]: g for g in report["failures"]}
    assert hits["unreachable"]["hosts"] == ["ghost"] and hits["incomplete"]["hosts"] == ["broken"]
    assert "kills: 1 since 7d on 1 host(s) (covers 1 of 3 hosts)" in report["summary"]
    assert report["summary"][0] == ("hosts: 3 in inventory, 1 fully audited, 2 not fully audited (0 kernel log unreadable, "
                                    "1 unreachable, 1 failed)")
    assert gate(build_report({"web": ok(host_facts(swap_kb=SWAP))}), ["incomplete", "unreachable"]) == []
    blind = build_report({"blind": ok(_blind(swap_kb=SWAP))}, fail_on=["incomplete"])
    assert blind["failures"][0]["hosts"] == ["blind"] and "1 without a readable kernel log" in blind["failures"][0]["message"]


def test_one_malformed_host_fails_alone():
    bad_number = host_facts(swap_kb=SWAP)
    bad_number["memory"]["mem_total_kb"] = "lots"
    bad_time = host_facts(kills=[kill(5, "x")], swap_kb=SWAP)
    bad_time["kills"][0]["time"] = 1796191020
    bad_list = host_facts(swap_kb=SWAP)
    bad_list["processes"] = "none"
    report = build_report({"a": ok(bad_number), "b": ok(bad_time), "c": ok(bad_list),
                           "good": ok(host_facts(kills=[kill(9, "y")], swap_kb=SWAP))})
    got = {h["host"]: (h["status"], h["reason"]) for h in report["hosts"]}
    assert got["a"] == ("failed", "malformed oom_facts result: memory.mem_total_kb must be an integer, got str 'lots'")
    assert got["b"] == ("failed", "malformed oom_facts result: kills[0].time must be a string, got int 1796191020")
    assert got["c"][0] == "failed" and "processes must be a list" in got["c"][1]
    assert got["good"] == ("ok", None)
    assert [k["host"] for k in report["kills"]] == ["good"] and report["totals"]["failed"] == 3
    assert all(_host(report, n)["risk"] == "unknown" for n in ("a", "b", "c"))
    assert set(render_all(report))  # every file still renders


def test_container_processes_are_named_and_not_the_hosts_services():
    pg_in_container = dict(proc(300, "postgres", adj=0, score=900, unit="postgresql@15-main.service"),
                           memcg=PODMAN_MEMCG, container_id=PODMAN_ID)
    del pg_in_container["container_id"]  # an older oom_facts: the report names the container from the cgroup path
    facts = host_facts(processes=[pg_in_container, proc(10, "java", score=500, unit="batch.service")],
                       watched=[pg_in_container],
                       kills=[dict(kill(301, "postgres", unit="postgresql@15-main.service"), task_memcg=PODMAN_MEMCG,
                                   container_id=PODMAN_ID)], swap_kb=SWAP)
    report = build_report({"h": ok(facts)})
    victim = report["victims"][0]
    assert (victim["pid"], victim["container_id"], victim["container_runtime"], victim["service"]) == (300, PODMAN_ID, "podman", None)
    assert report["critical_services"] == []  # the host runs no postgres of its own
    the_kill = report["kills"][0]
    assert (the_kill["container_id"], the_kill["container_runtime"], the_kill["critical"]) == (PODMAN_ID, "podman", False)
    rules = {r["rule"] for r in _host(report, "h")["reasons"]}
    assert "critical_killed" not in rules and "kills" in rules
    assert "1 inside containers" in next(r["message"] for r in _host(report, "h")["reasons"] if r["rule"] == "kills")
    assert "podman update --memory" in next(r["next_step"] for r in _host(report, "h")["reasons"] if r["rule"] == "kills")
    rows = list(csv.DictReader(io.StringIO(render_all(report)["kills.csv"])))
    assert (rows[0]["container_id"], rows[0]["container_runtime"]) == (PODMAN_ID, "podman")
    page = render_all(report)["index.html"]
    assert 'data-scope="container"' in page and "podman %s" % PODMAN_ID[:12] in page and 'id="scope"' in page
    # asked for: the container's postgres is a service row of its own, and its kill a critical one
    report = build_report({"h": ok(facts)}, include_containers=True)
    svc = report["critical_services"][0]
    assert (svc["service"], svc["container_id"], svc["container_runtime"], svc["pid"]) == ("postgres", PODMAN_ID, "podman", 300)
    assert report["kills"][0]["critical"] is True and report["settings"]["include_containers"] is True


def test_ties_are_ties_never_an_order():
    facts = host_facts(processes=[proc(11, "a", score=600), proc(12, "b", score=600), proc(13, "c", score=600),
                                  proc(14, "d", score=100)],
                       watched=[proc(80, "nginx", adj=0, score=600, unit="nginx.service")], swap_kb=SWAP)
    facts["process_count"] = 4  # the whole table: no other process can share a score
    report = build_report({"h": ok(facts)}, thresholds={"top_victims": 2})
    places = [(v["pid"], v["place"], v["tied"]) for v in report["victims"]]
    assert places == [(11, 1, 3), (12, 1, 3), (13, 1, 3), (14, 5, 0)]  # nginx is the fourth of the tie
    nginx = report["critical_services"][0]
    assert (nginx["place"], nginx["tied"], nginx["best_place"]) == (1, 3, 1)
    reason = next(r for r in _host(report, "h")["reasons"] if r["rule"] == "top_victim")
    assert "place 1= (tie of 4)" in reason["message"] and "rank" not in reason["message"]
    page = render_all(report)["index.html"]
    assert page.count("1= (tie of 4)") >= 4


def test_a_place_outside_the_top_is_a_range():
    facts = host_facts(processes=[proc(11, "a", score=900, rank=1), proc(12, "b", score=800, rank=2)],
                       watched=[proc(80, "nginx", adj=0, score=10, unit="nginx.service", rank=63)], swap_kb=SWAP)
    nginx = build_report({"h": ok(facts)})["critical_services"][0]
    assert (nginx["place"], nginx["place_max"]) == (3, 63)
    reasons = _host(build_report({"h": ok(facts)}), "h")["reasons"]
    assert [r["rule"] for r in reasons] == ["not_lowered"] and "place 3-63" in reasons[0]["message"]


def test_next_steps_and_what_a_host_cannot_enforce():
    watched = [proc(80, "nginx", adj=0, score=10, unit="nginx.service")]
    busy = [proc(20 + i, "w%d" % i, score=500 + i) for i in range(6)]
    units = [unit("cache.service", 5, memory_high="512M"), unit("nginx.service", 80)]
    capable = build_report({"h": ok(host_facts(processes=busy, watched=watched, units=units, swap_kb=SWAP, cap_sys_resource=True))})
    step = {r["rule"]: r for r in _host(capable, "h")["reasons"]}
    assert step["not_lowered"]["next_step"] == "oom_protect_services: [{unit: nginx.service, oom_score_adjust: -900}]"
    assert step["not_lowered"]["blocked"] is None
    assert step["memory_high_not_enforced"]["blocked"] == steps.V1_HIGH  # the test facts are cgroup v1
    assert "memory_max: 512M" in step["memory_high_not_enforced"]["next_step"]
    blocked = build_report({"h": ok(host_facts(processes=[proc(10, "java", score=900, unit="batch.service")] + busy, watched=watched,
                                               swap_kb=SWAP, cap_sys_resource=False))})
    reason = next(r for r in _host(blocked, "h")["reasons"] if r["rule"] == "not_lowered")
    assert reason["blocked"] == steps.NO_CAP and "oom_score_adjust: -900" not in reason["next_step"]
    assert reason["next_step"].startswith("oom_protect_services: [{unit: batch.service, oom_score_adjust: 500}]")
    page = render_all(blocked)["index.html"]
    assert "cannot be fixed here:" in page and "CAP_SYS_RESOURCE" in page
    swapless = build_report({"h": ok(host_facts(mem_total_kb=16_000_000))})
    assert _host(swapless, "h")["reasons"][0]["next_step"] == "oom_protect_swapfiles: [{path: /swapfile, size: 4G}]"
    # every finding of every host carries a step
    for report in (capable, blocked, swapless):
        assert all(r["next_step"] for h in report["hosts"] for r in h["reasons"])


def test_csv_cells_cannot_become_formulas():
    nasty = ["=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", " =1+1"]
    facts = host_facts(kills=[kill(100 + i, name, unit=name) for i, name in enumerate(nasty)], swap_kb=SWAP)
    facts["kills"][0]["oom_score_adj"] = -900
    files = render_all(build_report({"=h": ok(facts)}))
    rows = list(csv.DictReader(io.StringIO(files["kills.csv"])))
    assert sorted(r["comm"] for r in rows) == sorted("'" + name for name in nasty)
    assert all(r["unit"].startswith("'") and r["host"] == "'=h" for r in rows)
    assert "-900" in [r["oom_score_adj"] for r in rows]  # numbers stay numbers
    raw = files["kills.csv"]
    assert '"\'=HYPERLINK(""http://x"")"' in raw and ',-900,' in raw  # text quoted, numbers bare
    for line in raw.splitlines()[1:]:
        assert not line.startswith(("=", "+", "-", "@"))
    hosts = list(csv.DictReader(io.StringIO(files["hosts.csv"])))
    assert hosts[0]["host"] == "'=h"


def test_terminal_escapes_are_escaped_in_what_is_printed():
    evil = "\x1b]0;owned\x07\x1b[2J\u202egnp.exe\rpostgres"
    facts = host_facts(kills=[kill(5, evil, unit="x.service")], swap_kb=SWAP)
    report = build_report({"h\x1b[31m": ok(facts)}, critical=[evil], fail_on=["kills"])
    printed = "\n".join(report["summary"] + [f["message"] for f in report["failures"]])
    for char in ("\x1b", "\x07", "\r", "\u202e"):
        assert char not in printed
    assert "\\x1b]0;owned\\x07\\x1b[2J\\u202egnp.exe" in printed and "h\\x1b[31m" in printed
    assert term_safe("a\nb\tc\x7f\x9b") == "a\\nb\\tc\\x7f\\x9b"
    assert report["kills"][0]["comm"] == evil  # the data keeps the name as it is; report.json escapes it as JSON


T10 = 1795773600  # 2026-11-27T10:00:00+00:00
T12 = T10 + 7200


def test_chart_axis_fits_the_kills():
    kills = [{"time": "2026-11-27T10:00:00+00:00"}, {"time": "2026-11-27T12:00:00+00:00"}]
    start, end = chart_window(kills)
    assert T10 - 300 < start < T10 and T12 < end < T12 + 300
    single = chart_window([{"time": "2026-11-27T10:00:00+00:00"}])
    assert single[1] - single[0] == 60.0
    assert chart_window([{"time": None}]) is None


def test_page_order_newest_kill_first_and_services_before_kills():
    facts = host_facts(watched=[proc(80, "nginx", adj=0, score=10, unit="nginx.service")],
                       kills=[kill(1, "old", time="2026-11-26T10:00:00+00:00"), kill(2, "new", time="2026-11-27T10:00:00+00:00")],
                       swap_kb=SWAP)
    page = render_all(build_report({"h": ok(facts)}))["index.html"]
    order = [page.index('id="%s"' % name) for name in ("hosts", "services", "victims", "kills")]
    assert order == sorted(order)
    table = page[page.index('id="kills-table"'):]
    assert table.index(">new<") < table.index(">old<")


def test_a_host_that_is_itself_a_container_owns_its_processes():
    """oom_facts run inside a container (a podman test host) names its own container in every process: those are the
    host's own services and kills, not a container's."""
    own = "cd" * 32
    memcg = f"/libpod_parent/libpod-{own}/system.slice/nginx.service"
    nginx = dict(proc(80, "nginx", adj=0, score=10, unit="nginx.service"), memcg=memcg, container_id=own)
    facts = host_facts(watched=[nginx], kills=[dict(kill(81, "nginx", unit="nginx.service"), task_memcg=memcg, container_id=own)],
                       swap_kb=SWAP)
    facts["sources"] = {"dmesg": {"status": "read", "reason": None, "kills": 1, "container_cgroup": f"/libpod_parent/libpod-{own}"}}
    report = build_report({"bench": ok(facts)})
    assert _host(report, "bench")["container"] == {"runtime": "podman", "id": own}
    svc = report["critical_services"][0]
    assert (svc["service"], svc["container_id"]) == ("nginx", None)
    assert report["kills"][0]["container_id"] is None and report["kills"][0]["critical"] is True


def test_unverified_evidence_never_makes_a_host_critical():
    """A kill record from a plain text log (logger can write it: trust "unverified") is shown, but only kernel or
    killer evidence makes "critical service killed"."""
    forged = dict(kill(812, "postgres", unit="postgresql@15-main.service"), trust="unverified")
    report = build_report({"h": ok(host_facts(kills=[forged], swap_kb=SWAP))})
    rules = {r["rule"]: r["level"] for r in _host(report, "h")["reasons"]}
    assert rules == {"critical_killed_unverified": "medium", "kills": "medium"}
    assert _host(report, "h")["risk"] == "medium" and report["kills"][0]["trust"] == "unverified"
    real = dict(forged, trust="kernel")
    rules = {r["rule"]: r["level"] for r in _host(build_report({"h": ok(host_facts(kills=[real], swap_kb=SWAP))}), "h")["reasons"]}
    assert rules == {"critical_killed": "critical", "kills": "high"}


def test_csv_cell_leaves_harmless_text_alone():
    from ansible_collections.oomguard.linux.plugins.plugin_utils._report_render import csv_cell  # pylint: disable=import-outside-toplevel

    assert [csv_cell(v) for v in ("nginx", "   ", "", "a=b", "x-1", None, True, -900, 2.5)] == \
        ["nginx", "   ", "", "a=b", "x-1", "", "true", -900, 2.5]
    assert [csv_cell(v) for v in ("=1", "  +1", "-.mount", "@x", "\tx", "\rx")] == \
        ["'=1", "'  +1", "'-.mount", "'@x", "'\tx", "'\rx"]


def test_subclasses_of_str_and_int_are_accepted():
    """ansible-core 2.19 hands the action tagged subclasses of str and int: they are the types they extend."""
    class Tagged(int):
        pass

    class Text(str):
        pass

    facts = host_facts(kills=[kill(Tagged(5), Text("x"))], swap_kb=Tagged(SWAP))
    report = build_report({"h": ok(facts)})
    assert _host(report, "h")["status"] == "ok" and report["kills"][0]["pid"] == 5
    from ansible_collections.oomguard.linux.plugins.plugin_utils._report_render import csv_cell  # pylint: disable=import-outside-toplevel
    assert csv_cell(Tagged(-900)) == -900 and csv_cell(Tagged(-900)).__class__ is int and csv_cell(Text("=x")) == "'=x"
    bad = host_facts(swap_kb=SWAP)
    bad["memory"]["swap_total_kb"] = True  # a bool is not a number of kB
    assert _host(build_report({"h": ok(bad)}), "h")["status"] == "failed"


def test_the_alternative_never_sacrifices_init_or_the_audit_itself():
    watched = [proc(80, "nginx", adj=0, score=10, unit="nginx.service")]
    tools = [proc(1, "systemd", score=900, unit="init.scope"), proc(2, "python3", score=899), proc(3, "ansible-playboo", score=898),
             proc(4, "bash", score=897, unit="session-1.scope"), proc(5, "w1", score=896), proc(6, "w2", score=895)]
    report = build_report({"h": ok(host_facts(processes=tools, watched=watched, swap_kb=SWAP, cap_sys_resource=False))})
    step = next(r for r in _host(report, "h")["reasons"] if r["rule"] == "not_lowered")["next_step"]
    assert step.startswith("oomguard.linux.oom_score_adj: {name: [w1], value: 500, user: root}"), step
    only_tools = build_report({"h": ok(host_facts(processes=tools[:4], watched=watched, swap_kb=SWAP, cap_sys_resource=False))})
    reasons = _host(only_tools, "h")["reasons"]
    assert next(r for r in reasons if r["rule"] == "top_victim")["next_step"].startswith("oom_protect_swapfiles:")


def test_parser_and_reader_extras_are_shown_when_present():
    facts = host_facts(swap_kb=SWAP)
    # the shape oom_facts returns (plugins/modules/oom_facts.py RETURN unaccounted_kills)
    facts["unaccounted_kills"] = {"count": 2, "compared_with": "/proc/vmstat oom_kill", "counter": 5, "parsed": 3,
                                  "reason": None, "cgroups": []}
    facts["unparsed"] = {"count": 3, "lines": ["Memory cgroup out of memory: Killed process ?"]}
    report = build_report({"new": ok(facts), "old": ok(host_facts(swap_kb=SWAP))})
    assert (_host(report, "new")["unaccounted_kills"], _host(report, "new")["unparsed_count"]) == (2, 3)
    assert (_host(report, "old")["unaccounted_kills"], _host(report, "old")["unparsed_count"]) == (None, None)
    page = render_all(report)["index.html"]
    assert "2 kill(s) the kernel counted that no log line explains" in page and "3 kernel line(s)" in page
    unknown = host_facts(swap_kb=SWAP)
    unknown["unaccounted_kills"] = {"count": None, "reason": "no kernel log was read", "counter": 5, "parsed": None}
    assert _host(build_report({"u": ok(unknown)}), "u")["unaccounted_kills"] is None  # unknown stays unknown, never 0
    bad = host_facts(swap_kb=SWAP)
    bad["unaccounted_kills"] = {"count": "2"}
    assert _host(build_report({"b": ok(bad)}), "b")["status"] == "failed"
