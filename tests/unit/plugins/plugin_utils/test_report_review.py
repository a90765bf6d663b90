# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Defects a review of the audit report found (each test failed on the code before its fix)."""
from __future__ import annotations

import json
import shlex

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.oomguard.linux.plugins.modules import oom_facts
from ansible_collections.oomguard.linux.plugins.plugin_utils._report import build_report, epoch
from ansible_collections.oomguard.linux.plugins.plugin_utils._report_render import chart_window, render_all
from helpers.audit_facts import host_facts, kill, ok

SWAP = 2_000_000
GENERATED = "2026-11-27T14:30:00+00:00"


def _host(report, name):
    return next(h for h in report["hosts"] if h["host"] == name)


def test_an_insane_kill_time_costs_neither_the_report_nor_the_chart():
    """A time that is a string but no sane epoch (year 9999, year 1 east of UTC) used to raise in the chart's ticks and
    stop every host's report; a far-future valid time used to stretch the axis for the whole fleet."""
    assert epoch("9999-12-31T23:59:59+00:00") is None and epoch("0001-01-01T00:00:00+14:00") is None
    assert epoch("1969-12-31T23:59:59+00:00") is None and epoch("2026-11-27T10:00:00Z") == 1795773600.0
    odd = host_facts(kills=[kill(1, "a", time="9999-12-31T23:59:59+00:00"), kill(2, "b", time="0001-01-01T00:00:00+14:00")],
                     swap_kb=SWAP)
    future = host_facts(kills=[kill(3, "c", time="2099-06-01T00:00:00+00:00")], swap_kb=SWAP)
    good = host_facts(kills=[kill(4, "d", time="2026-11-27T10:00:00+00:00"), kill(5, "e", time="2026-11-27T12:00:00+00:00")],
                      swap_kb=SWAP)
    report = build_report({"odd": ok(odd), "future": ok(future), "good": ok(good)}, generated_at=GENERATED)
    files = render_all(report)
    assert set(files) == {"report.json", "hosts.csv", "kills.csv", "index.html", "oomguard.prom"}
    assert len(report["kills"]) == 5 and all(_host(report, h)["status"] == "ok" for h in ("odd", "future", "good"))
    start, end = chart_window(report["kills"], until=epoch(GENERATED) + 86400)
    assert end - start < 86400  # the 2099 kill does not stretch the axis; the insane ones have no place on it
    assert files["index.html"].count("<circle") == 2
    assert "9999-12-31T23:59:59+00:00" in files["index.html"]  # the kill is listed, with the time it claims


def test_non_finite_numbers_fail_their_host_and_report_json_stays_json():
    """NaN and Infinity are no JSON: a host whose numbers are not finite is malformed, and report.json refuses them."""
    nan_up = host_facts(swap_kb=SWAP)
    nan_up["uptime_s"] = float("nan")
    inf_pct = host_facts(swap_kb=SWAP)
    inf_pct["memory"]["available_pct"] = float("inf")
    odd_source = host_facts(swap_kb=SWAP)
    odd_source["sources"]["journal"]["lines"] = float("-inf")
    report = build_report({"a": ok(nan_up), "b": ok(inf_pct), "c": ok(odd_source), "good": ok(host_facts(swap_kb=SWAP))},
                          generated_at=GENERATED)
    got = {h["host"]: (h["status"], h["reason"]) for h in report["hosts"]}
    assert got["a"] == ("failed", "malformed oom_facts result: uptime_s must be a finite number, got float nan")
    assert got["b"] == ("failed", "malformed oom_facts result: memory.available_pct must be a finite number, got float inf")
    assert got["c"][0] == "failed" and "sources.journal.lines" in got["c"][1] and got["good"] == ("ok", None)
    text = render_all(report)["report.json"]
    json.loads(text, parse_constant=lambda name: (_never for _never in ()).throw(AssertionError(name)))
    try:
        build_report({"h": ok(host_facts(swap_kb=SWAP))}, thresholds={"low_available_pct": "nan"})
    except ValueError as exc:
        assert "finite" in str(exc)
    else:
        raise AssertionError("a NaN threshold was accepted")
    from ansible_collections.oomguard.linux.plugins.plugin_utils._report_render import render_json  # pylint: disable=import-outside-toplevel
    try:
        render_json(dict(report, generated_at=float("nan")))
    except ValueError:
        pass
    else:
        raise AssertionError("render_json wrote NaN")


def test_a_users_process_named_like_a_critical_service_is_not_the_hosts_service():
    """Any local user can run a process in ``user@1000.service/app.slice/nginx.service`` and make the kernel kill it:
    that is a user's nginx, never "critical service killed" on the host."""
    memcg = "/user.slice/user-1000.slice/user@1000.service/app.slice/nginx.service"
    users = dict(kill(4242, "nginx", unit="nginx.service"), task_memcg=memcg, oom_memcg=memcg, uid=1000,
                 user_manager="user@1000.service", trust="kernel")
    report = build_report({"h": ok(host_facts(kills=[users], swap_kb=SWAP))}, generated_at=GENERATED)
    row = report["kills"][0]
    assert row["critical"] is False and (row["user_manager"], row["uid"]) == ("user@1000.service", 1000)
    reasons = {r["rule"]: r for r in _host(report, "h")["reasons"]}
    assert "critical_killed" not in reasons and reasons["kills"]["level"] == "high"
    assert "1 of a user's (user@1000.service: nginx.service)" in reasons["kills"]["message"]
    assert "user@1000.service" in render_all(report)["kills.csv"]
    # the host's own nginx stays critical
    own = dict(users, task_memcg="/system.slice/nginx.service", uid=0, user_manager=None)
    assert build_report({"h": ok(host_facts(kills=[own], swap_kb=SWAP))})["kills"][0]["critical"] is True
    bad = dict(users, uid="1000")
    assert _host(build_report({"h": ok(host_facts(kills=[bad], swap_kb=SWAP))}), "h")["status"] == "failed"


def test_kills_the_kernel_counted_but_the_log_lost_raise_the_risk():
    """oom_facts' unaccounted_kills.count: kills /proc/vmstat counted this boot that no log line shows (the ring buffer
    wrapped, the journal dropped them). They used to be only displayed: a host with 5 was "low", "kills: 0"."""
    lost = host_facts(swap_kb=SWAP)
    lost["unaccounted_kills"] = {"count": 5, "compared_with": "/proc/vmstat oom_kill", "counter": 5, "parsed": 0,
                                 "reason": None, "cgroups": []}
    report = build_report({"lost": ok(lost), "fine": ok(host_facts(swap_kb=SWAP))}, generated_at=GENERATED)
    host = _host(report, "lost")
    reason = next(r for r in host["reasons"] if r["rule"] == "kills_unaccounted")
    assert host["risk"] == "high" and reason["level"] == "high"
    assert reason["message"] == "5 kill(s) counted by the kernel are missing from the kernel log" and reason["next_step"]
    kills_line = next(line for line in report["summary"] if line.startswith("kills:"))
    assert "lower bound" in kills_line and "5 kill(s) counted by the kernel on 1 host(s)" in kills_line
    assert _host(report, "fine")["risk"] == "low"
    for count in (-3, None, 0):
        odd = host_facts(swap_kb=SWAP)
        odd["unaccounted_kills"] = {"count": count, "counter": 1, "parsed": 4, "reason": None}
        again = build_report({"h": ok(odd)})
        assert _host(again, "h")["risk"] == "low" and "lower bound" not in " ".join(again["summary"]), count


def test_coverage_is_full_only_when_every_read_source_was_read_whole_and_trusted():
    """Readers say what a cap cut (files: truncated, long_lines; per file too) and what the journal refused; the report
    used to drop those and call such a host "full", and a host read only from plain log files "full" as well."""
    def facts_with(sources):
        facts = host_facts(swap_kb=SWAP)
        facts["sources"] = sources
        return facts
    journal = {"status": "read", "lines": 10, "kills": 0, "reason": None}
    capped = {"status": "read", "lines": 5, "kills": 0, "reason": None, "long_lines": 0,
              "truncated": ["/var/log/kern.log"], "limits": {"max_bytes_per_file": 1024},
              "files": [{"path": "/var/log/kern.log", "read": True, "skipped": False, "reason": None, "size": 9000,
                         "bytes_read": 1024, "lines": 5, "long_lines": 0, "truncated": "read the last 1024 of 9000 bytes"},
                        {"path": "/var/log/messages", "read": False, "skipped": True, "reason": "a symbolic link"}]}
    cut = dict(capped, truncated=[], long_lines=2, files=[])
    refused = dict(journal, refused=3, reason="3 entries not trusted (kernel line not from the kernel: 3)")
    skipped = {"status": "skipped", "lines": 0, "kills": 0, "reason": "not in sources"}
    report = build_report({
        "whole": ok(facts_with({"journal": journal, "files": skipped})),
        "capped": ok(facts_with({"journal": journal, "files": capped})),
        "cut": ok(facts_with({"journal": journal, "files": cut})),
        "refused": ok(facts_with({"journal": refused})),
        "files_only": ok(facts_with({"journal": {"status": "unavailable", "lines": 0, "kills": 0, "reason": "no journal"},
                                     "files": dict(capped, truncated=[], files=[])})),
    }, generated_at=GENERATED)
    coverage = {h["host"]: h["coverage"] for h in report["hosts"]}
    assert coverage == {"whole": "full", "capped": "partial", "cut": "partial", "refused": "partial",
                        "files_only": "untrusted_only"}
    capped_sources = _host(report, "capped")["kill_sources"]["files"]
    assert capped_sources["truncated"] == ["/var/log/kern.log"] and capped_sources["long_lines"] == 0
    assert capped_sources["files"] == [
        {"path": "/var/log/kern.log", "truncated": "read the last 1024 of 9000 bytes", "skipped": False},
        {"path": "/var/log/messages", "truncated": None, "skipped": True}]
    assert _host(report, "refused")["kill_sources"]["journal"]["refused"] == 3
    assert report["totals"]["not_fully_audited"] == 4
    assert report["summary"][0].startswith("hosts: 5 in inventory, 1 fully audited, 4 not fully audited")
    assert "3 kernel log partial, 1 only untrusted log files" in report["summary"][0]
    page = render_all(report)["index.html"]
    assert "only plain log files were read, which anyone could have written" in page
    assert "files: truncated by a cap (/var/log/kern.log)" in page and "journal: 3 entries refused" in page
    assert "files: 2 long line(s) cut" in page


def test_every_oom_facts_next_step_is_accepted_by_the_module(capsys):
    """A next step the page tells the user to copy must run: each ``-m oomguard.linux.oom_facts -a '...'`` step of a
    report with every kill rule is given to the real module (its argument spec and its own range checks, on this host's
    real /proc and dmesg). A step once said raw_lines=40, which the module refuses (0-6)."""
    unverified = kill(7, "postgres", unit="postgresql@15-main.service")
    unverified["trust"] = "unverified"
    facts = host_facts(kills=[kill(6, "batch"), unverified], swap_kb=SWAP)
    facts["unaccounted_kills"] = {"count": 3, "counter": 5, "parsed": 2, "reason": None, "cgroups": []}
    report = build_report({"h": ok(facts)}, generated_at=GENERATED)
    steps = [r["next_step"] for r in _host(report, "h")["reasons"] if "oomguard.linux.oom_facts -a" in (r["next_step"] or "")]
    assert steps, [r["rule"] for r in _host(report, "h")["reasons"]]
    for step in steps:
        words = shlex.split(step.split("#", 1)[0])
        args = dict(word.split("=", 1) for word in shlex.split(words[words.index("-a") + 1]))
        for key in ("sources",):
            if key in args:
                args[key] = args[key].split(",")
        with patch_module_args(args), pytest.raises(SystemExit):
            oom_facts.main()
        result = json.loads(capsys.readouterr().out)
        assert not result.get("failed"), (step, result.get("msg"))
