# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The fleet report: risk rules, drift, unreachable hosts, and the five rendered files (parsed back)."""
from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ansible.errors import AnsibleFilterError
from ansible_collections.oomguard.linux.plugins.filter.oom_report import oom_report
from ansible_collections.oomguard.linux.plugins.filter.oom_report_gate import oom_report_gate
from ansible_collections.oomguard.linux.plugins.filter.oom_report_render import oom_report_render
from ansible_collections.oomguard.linux.plugins.plugin_utils._report import build_report, gate, normalize_result
from ansible_collections.oomguard.linux.plugins.plugin_utils._report_render import FILES, render_all
from helpers.audit_facts import host_facts, kill, ok, proc, recorded, unit

SWAP = 2_000_000  # kB: hosts "with swap" in these tests


def _host(report, name):
    return next(h for h in report["hosts"] if h["host"] == name)


def _rules(report, name):
    return {r["rule"]: r["level"] for r in _host(report, name)["reasons"]}


def _service(report, host, name):
    return next(s for s in report["critical_services"] if s["host"] == host and s["service"] == name)


def _fleet():
    """web: a kill and an exposed nginx; db: healthy, postgres protected; tight: no swap, 5% available; plus the unreachable."""
    web = host_facts(
        processes=[proc(10, "java", adj=0, score=800, unit="batch.service")],
        watched=[proc(100, "nginx", adj=500, score=700, unit="nginx.service"),
                 proc(101, "nginx", adj=500, score=690, unit="nginx.service"),
                 proc(50, "sshd", adj=-1000, score=0, unit="ssh.service")],
        kills=[kill(4956, "python3", unit="leak.service", time="2026-11-27T10:00:00+00:00"),
               kill(4990, "python3", unit="leak.service", time="2026-11-27T11:00:00+00:00", killer="earlyoom")],
        units=[unit("nginx.service", 100)], swap_kb=SWAP)
    db = host_facts(
        processes=[proc(30, "cron", adj=0, score=5)],
        watched=[proc(200, "postgres", adj=-900, score=1, unit="postgresql@15-main.service"),
                 proc(201, "postgres", adj=0, score=100, unit="postgresql@15-main.service")],
        units=[unit("postgresql@15-main.service", 200, configured_adj=-900, enforced_adj=-900)], swap_kb=SWAP,
        cap_sys_resource=True)
    tight = host_facts(processes=[proc(70, "worker", adj=0, score=900)], mem_total_kb=1_000_000, mem_available_kb=50_000)
    return {
        "web": ok(web), "db": ok(db), "tight": ok(tight),
        "ghost": {"unreachable": True, "changed": False, "msg": "Failed to create temporary directory: no such container"},
    }


@pytest.fixture(name="report")
def fixture_report():
    return build_report(_fleet(), intended={"nginx": -500, "postgres": -900}, since="7d", generated_at="2026-11-27T14:30:00+00:00")


def test_kills_and_exposed_service_make_a_high_risk(report):
    web = _host(report, "web")
    assert web["risk"] == "high" and web["risk_score"] == 2
    rules = _rules(report, "web")
    assert rules["kills"] == "high"
    assert rules["unprotected"] == "high"  # nginx at +500
    assert rules["drift"] == "medium"  # nginx intended -500, live 500
    assert "critical_killed" not in rules  # python3 is not critical
    msg = next(r["message"] for r in web["reasons"] if r["rule"] == "kills")
    assert "2 OOM kill(s) since 7d" in msg and "1 by earlyoom" in msg and "1 by kernel" in msg
    nginx = _service(report, "web", "nginx")
    assert nginx == {"host": "web", "service": "nginx", "critical": True, "pid": 100, "comm": "nginx", "user": "root",
                     "unit": "nginx.service", "container_id": None, "container_runtime": None, "rank": 2,
                     "place": 2, "place_max": 2, "tied": 0, "tie_open": True, "best_place": 2, "best_pid": 100,
                     "processes": 2, "oom_score": 700, "oom_score_adj": 500, "configured_adj": None,
                     "intended": -500, "drift": True, "protected": False}
    sshd = _service(report, "web", "sshd")
    assert sshd["protected"] is True and sshd["drift"] is False and sshd["intended"] is None


def test_protected_host_is_low_and_uses_the_main_pid(report):
    db = _host(report, "db")
    assert db["risk"] == "low", db["reasons"]
    assert db["reasons"] == []
    pg = _service(report, "db", "postgres")
    # the main PID (-900) represents the service, not the backend that reset itself to 0
    assert (pg["pid"], pg["oom_score_adj"], pg["protected"], pg["drift"], pg["configured_adj"]) == (200, -900, True, False, -900)
    # the backend is the next victim, but the service is protected
    assert pg["processes"] == 2 and (pg["best_place"], pg["best_pid"]) == (1, 201)


def test_no_swap_and_low_memory(report):
    tight = _host(report, "tight")
    assert tight["risk"] == "high"
    assert _rules(report, "tight") == {"no_swap_low_memory": "high"}
    assert tight["available_pct"] == 5.0 and tight["swap_total_kb"] == 0


def test_unreachable_host_is_listed_with_its_reason(report):
    ghost = _host(report, "ghost")
    assert ghost["reachable"] is False and ghost["status"] == "unreachable" and ghost["risk"] == "unknown"
    assert "no such container" in ghost["reason"]
    assert [h["host"] for h in report["hosts"]] == ["web", "db", "tight", "ghost"]  # input order, nothing dropped
    t = report["totals"]
    assert (t["hosts"], t["reachable"], t["unreachable"], t["failed"]) == (4, 3, 1, 0)
    assert (t["kills"], t["hosts_with_kills"], t["no_swap"], t["drift"]) == (2, 1, 1, 1)
    assert t["risk"] == {"unknown": 1, "low": 1, "medium": 0, "high": 2, "critical": 0}
    assert any("ghost" in line and "unreachable" in line for line in report["summary"])


def test_failed_skipped_and_missing_results():
    report = build_report({
        "a": {"failed": True, "msg": "", "module_stderr": "Traceback\nPermissionError: denied\n"},
        "b": {"failed": True, "msg": "Failed to read /proc: boom"},
        "c": {"skipped": True, "skip_reason": "Conditional result was False"},
        "d": None,
        "e": {"changed": False},
    })
    got = {h["host"]: (h["status"], h["reason"], h["reachable"]) for h in report["hosts"]}
    assert got["a"] == ("failed", "PermissionError: denied", True)
    assert got["b"] == ("failed", "Failed to read /proc: boom", True)
    assert got["c"] == ("skipped", "Conditional result was False", True)
    assert got["d"][0] == "missing" and got["d"][2] is False
    assert got["e"] == ("failed", "the oom_facts task returned no ansible_facts.oom", True)
    assert all(h["risk"] == "unknown" for h in report["hosts"])
    assert report["totals"]["failed"] == 4 and report["totals"]["unreachable"] == 1


def test_bare_facts_are_accepted():
    assert normalize_result("h", host_facts())[0] == "ok"


def test_critical_service_killed_is_critical():
    facts = host_facts(kills=[kill(321, "mysqld", unit="mariadb.service")], swap_kb=SWAP)
    report = build_report({"h": ok(facts)})
    assert _host(report, "h")["risk"] == "critical"
    assert report["kills"][0]["critical"] is True
    assert "mysqld (pid 321)" in _host(report, "h")["reasons"][0]["message"]


@pytest.mark.parametrize("adj,score,others,rule,level", [
    (0, 900, 0, "top_victim", "high"),        # the next victim and not lowered
    (0, 10, 10, "not_lowered", "medium"),    # ranked below 10 others: only "not lowered"
    (300, 10, 10, "unprotected", "high"),    # raised: exposed wherever it ranks
    (-100, 900, 0, None, "low"),             # lowered: protected
])
def test_critical_service_rules(adj, score, others, rule, level):
    procs = [proc(1000 + i, "w%d" % i, score=500 + i) for i in range(others)]
    facts = host_facts(processes=procs, watched=[proc(80, "redis-server", adj=adj, score=score, unit="redis-server.service")],
                       swap_kb=SWAP)
    report = build_report({"h": ok(facts)})
    rules = _rules(report, "h")
    assert _host(report, "h")["risk"] == level
    if rule:
        assert rules == {rule: level}
    else:
        assert rules == {}


def test_drift_matches_unit_names_and_templated_units():
    facts = host_facts(watched=[proc(200, "postgres", adj=0, score=10, unit="postgresql@15-main.service")],
                       units=[unit("postgresql@15-main.service", 200, configured_adj=-900, enforced_adj=0)], swap_kb=SWAP)
    report = build_report({"h": ok(facts)}, critical=["postgresql"], intended={"postgresql": -900})
    svc = _service(report, "h", "postgresql")
    assert (svc["drift"], svc["intended"], svc["oom_score_adj"], svc["configured_adj"]) == (True, -900, 0, -900)
    rules = _rules(report, "h")
    assert rules["drift"] == "medium"
    assert rules["adj_not_enforced"] == "high"  # -900 configured, 0 live, on a critical unit
    msg = next(r["message"] for r in _host(report, "h")["reasons"] if r["rule"] == "adj_not_enforced")
    assert "OOMScoreAdjust=-900" in msg and "runs at 0" in msg and "CAP_SYS_RESOURCE" in msg


def test_intended_names_outside_the_critical_list_are_watched_too():
    facts = host_facts(watched=[proc(90, "batchd", adj=700, score=800, unit="batch.service")], swap_kb=SWAP)
    report = build_report({"h": ok(facts)}, critical=["nginx"], intended={"batchd": 900})
    svc = _service(report, "h", "batchd")
    assert svc["critical"] is False and svc["drift"] is True
    assert _rules(report, "h") == {"drift": "medium"}  # a raised adj on a non-critical service is not a risk itself


def test_memory_high_not_enforced_and_non_critical_adj():
    facts = host_facts(units=[unit("cache.service", 5, configured_adj=-200, enforced_adj=0, memory_high="512M"),
                              unit("other.service", 6, memory_high="infinity")], swap_kb=SWAP)
    rules = _rules(build_report({"h": ok(facts)}), "h")
    assert rules == {"memory_high_not_enforced": "medium", "adj_not_enforced": "medium"}


def test_thresholds_and_low_memory_with_swap():
    facts = host_facts(swap_kb=SWAP, mem_total_kb=1000, mem_available_kb=150)  # 15 %
    assert _rules(build_report({"h": ok(facts)}), "h") == {}
    report = build_report({"h": ok(facts)}, thresholds={"low_available_pct": 20})
    assert _rules(report, "h") == {"low_memory": "medium"}
    assert report["settings"]["thresholds"] == {"top_victims": 5, "low_available_pct": 20.0}


@pytest.mark.parametrize("kwargs,match", [
    ({"critical": "nginx"}, "critical must be a list"),
    ({"intended": {"nginx": "low"}}, "intended"),
    ({"intended": {"nginx": -1001}}, "between -1000 and 1000"),
    ({"thresholds": {"nope": 1}}, "unknown threshold"),
    ({"thresholds": {"top_victims": "x"}}, "must be a number"),
    ({"fail_on": ["kills", "oops"]}, "fail_on accepts"),
])
def test_bad_settings_are_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_report({}, **kwargs)


def test_gate(report):
    assert gate(report, []) == []
    hits = {h["condition"]: h for h in gate(report, ["kills", "unprotected", "drift", "no_swap"])}
    assert hits["kills"]["hosts"] == ["web"] and "2 OOM kill(s) since 7d on web" in hits["kills"]["message"]
    assert hits["unprotected"]["hosts"] == ["web"] and "web/nginx=500" in hits["unprotected"]["message"]
    assert hits["drift"]["hosts"] == ["web"] and "intended -500 live 500" in hits["drift"]["message"]
    assert hits["no_swap"]["hosts"] == ["tight"]
    clean = build_report({"db": _fleet()["db"]})
    assert gate(clean, ["kills", "unprotected", "drift", "no_swap"]) == []
    assert build_report(_fleet(), fail_on=["no_swap"])["failures"][0]["condition"] == "no_swap"


def test_kills_are_flattened_newest_first(report):
    assert [(k["host"], k["pid"], k["killer"], k["unit"]) for k in report["kills"]] == [
        ("web", 4990, "earlyoom", "leak.service"), ("web", 4956, "kernel", "leak.service")]


def test_json_round_trip(report):
    files = render_all(report)
    assert sorted(files) == sorted(FILES)
    assert json.loads(files["report.json"]) == json.loads(json.dumps(report))


def test_csv_round_trip(report):
    files = render_all(report)
    hosts = list(csv.DictReader(io.StringIO(files["hosts.csv"])))
    assert [row["host"] for row in hosts] == ["web", "db", "tight", "ghost"]
    web = hosts[0]
    assert (web["risk"], web["kill_count"], web["reachable"], web["critical_unprotected"]) == ("high", "2", "true", "1")
    assert "2 OOM kill(s)" in web["reasons"]
    assert hosts[3]["status"] == "unreachable" and "no such container" in hosts[3]["reason"] and hosts[3]["mem_total_kb"] == ""
    kills = list(csv.DictReader(io.StringIO(files["kills.csv"])))
    assert [(k["host"], k["pid"], k["comm"], k["unit"], k["killer"]) for k in kills] == [
        ("web", "4990", "python3", "leak.service", "earlyoom"), ("web", "4956", "python3", "leak.service", "kernel")]


def test_csv_quotes_awkward_values():
    facts = host_facts(kills=[kill(7, 'a,"b"\nc', unit="x.service")], swap_kb=SWAP)
    files = render_all(build_report({"h,1": ok(facts)}))
    rows = list(csv.DictReader(io.StringIO(files["kills.csv"])))
    assert rows[0]["comm"] == 'a,"b"\nc' and rows[0]["host"] == "h,1"


def _samples(text):
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return out


def test_prometheus_file_parses(report):
    text = render_all(report)["oomguard.prom"]
    samples = _samples(text)
    assert dict((s[0]["host"], s[1]) for s in samples["oomguard_host_up"]) == {"web": 1, "db": 1, "tight": 1, "ghost": 0}
    assert samples["oomguard_kills"] == [({"host": "web", "unit": "leak.service", "killer": "earlyoom", "container_id": ""}, 1),
                                         ({"host": "web", "unit": "leak.service", "killer": "kernel", "container_id": ""}, 1)]
    assert ({"host": "web", "service": "nginx", "container_id": ""}, 1) in samples["oomguard_critical_unprotected"]
    assert ({"host": "db", "service": "postgres", "container_id": ""}, 0) in samples["oomguard_critical_unprotected"]
    assert ({"host": "web", "service": "nginx", "container_id": ""}, 2) in samples["oomguard_critical_place"]
    assert ({"host": "web"}, 2) in samples["oomguard_host_kills"] and ({"host": "web"}, 1) in samples["oomguard_kernel_log_read"]
    assert ({"host": "tight"}, 0) in samples["oomguard_swap_total_bytes"]
    assert ({"host": "web"}, SWAP * 1024) in samples["oomguard_swap_total_bytes"]
    assert ({"host": "tight"}, 0.05) in samples["oomguard_mem_available_ratio"]
    assert dict((s[0]["host"], s[1]) for s in samples["oomguard_risk_level"]) == {"web": 2, "db": 0, "tight": 2, "ghost": -1}
    assert ({"host": "web", "service": "nginx", "container_id": ""}, 1) in samples["oomguard_oom_score_adj_drift"]
    for name in ("oomguard_host_up", "oomguard_kills", "oomguard_critical_unprotected", "oomguard_swap_total_bytes",
                 "oomguard_mem_available_ratio", "oomguard_risk_level"):
        assert "# HELP %s " % name in text and "# TYPE %s gauge" % name in text
    assert "# TYPE oomguard_kernel_oom_kills_total counter" in text


def test_prometheus_label_values_are_escaped():
    nasty = 'we"b\\1\nx'
    facts = host_facts(kills=[kill(1, "x", unit='u"n\\it')], swap_kb=SWAP)
    text = render_all(build_report({nasty: ok(facts)}))["oomguard.prom"]
    assert "\n" not in text.split('oomguard_host_up{host="', 1)[1].split("}", 1)[0]
    samples = _samples(text)
    assert samples["oomguard_host_up"] == [({"host": nasty}, 1)]
    assert samples["oomguard_kills"] == [({"host": nasty, "unit": 'u"n\\it', "killer": "kernel", "container_id": ""}, 1)]


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows = []
        self.cells = None
        self.tags = set()
        self.attrs = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.extend(attrs)
        if tag == "tr":
            self.cells = []
        elif tag == "td" and self.cells is not None:
            self.cells.append("")

    def handle_endtag(self, tag):
        if tag == "tr" and self.cells is not None:
            self.rows.append(self.cells)
            self.cells = None

    def handle_data(self, data):
        if self.cells:
            self.cells[-1] += data


def test_html_is_self_contained_and_has_hosts_and_kills(report):
    page = render_all(report)["index.html"]
    parser = _Text()
    parser.feed(page)
    assert not re.search(r"(?i)https?:|//[a-z0-9]|<link|@import|url\(", page)
    assert not any(attr[0] in ("src", "href") for attr in parser.attrs)
    assert {"svg", "style", "script", "table"} <= parser.tags
    hosts = [row[0] for row in parser.rows if len(row) == 9 and row[1] in ("low", "medium", "high", "critical", "unknown")]
    assert hosts == ["tight", "web", "ghost", "db"]  # high first, then the host the audit could not see, then the rest
    kill_rows = [row for row in parser.rows if len(row) == 12 and row[2] in ("4956", "4990")]
    assert [(r[1], r[2], r[3], r[4], r[6]) for r in kill_rows] == [("web", "4990", "python3", "leak.service", "earlyoom"),
                                                                   ("web", "4956", "python3", "leak.service", "kernel")]
    assert page.count("<circle") == 2  # one dot per kill in the chart


def test_html_escapes_everything():
    facts = host_facts(kills=[kill(1, "<script>x</script>", unit="a&b.service")], swap_kb=SWAP)
    page = render_all(build_report({'<img onerror="x">': ok(facts)}))["index.html"]
    assert "<script>x</script>" not in page and "<img" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "a&amp;b.service" in page


def test_empty_fleet_renders():
    files = render_all(build_report({}))
    assert "No OOM kills" in files["index.html"]
    assert list(csv.reader(io.StringIO(files["kills.csv"])))[0][0] == "host"
    assert _samples(files["oomguard.prom"])["oomguard_audit_timestamp_seconds"]


def test_filter_from_hostvars_and_from_a_dict():
    fleet = _fleet()
    hostvars = {name: {"__r": result, "inventory_hostname": name} for name, result in fleet.items() if name != "ghost"}
    report = oom_report(["web", "db", "ghost", "absent"], hostvars, result_var="__r", intended={"nginx": -500})
    status = {h["host"]: h["status"] for h in report["hosts"]}
    assert status == {"web": "ok", "db": "ok", "ghost": "missing", "absent": "missing"}
    report2 = oom_report(fleet, since="1d", fail_on=["kills"])
    assert report2["settings"]["since"] == "1d" and report2["failures"][0]["hosts"] == ["web"]
    assert sorted(oom_report_render(report2)) == sorted(FILES)
    assert list(oom_report_render(report2, ["oomguard.prom"])) == ["oomguard.prom"]
    assert [g["condition"] for g in oom_report_gate(report2, ["kills", "drift"])] == ["kills"]


@pytest.mark.parametrize("call,match", [
    (lambda: oom_report(["a"]), "needs hostvars"),
    (lambda: oom_report(42), "input must be"),
    (lambda: oom_report({}, intended={"x": "y"}), "intended"),
    (lambda: oom_report_render({"hosts": []}), "not an oom_report report"),
    (lambda: oom_report_render(build_report({}), ["x.txt"]), "unknown report file"),
    (lambda: oom_report_gate(build_report({}), ["everything"]), "fail_on accepts"),
])
def test_filter_errors(call, match):
    with pytest.raises(AnsibleFilterError, match=match):
        call()


def test_recorded_facts_of_a_real_host():
    """Facts recorded by oom_facts from a real host (tests/unit/plugins/module_utils/fixtures/oom_facts_localhost.json)."""
    facts = recorded("oom_facts_localhost")
    report = build_report({"recorded": ok(facts)})
    host = _host(report, "recorded")
    assert host["status"] == "ok" and host["mem_total_kb"] == facts["memory"]["mem_total_kb"]
    assert host["kill_count"] == len(facts["kills"])
    files = render_all(report)
    assert _samples(files["oomguard.prom"])["oomguard_host_up"] == [({"host": "recorded"}, 1)]
