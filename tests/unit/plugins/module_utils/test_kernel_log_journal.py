# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The journal reader's own filter (``journalctl --grep`` / ``--output-fields``) and its fallbacks.

A fake ``run_command`` stands in for journalctl here ONLY because the journalctls these tests are about cannot run on
this machine: its journalctl (systemd 252) is built with PCRE2, and we cannot build one without it (it prints
"Compiled without pattern matching support" and exits 1 for --grep) nor install one older than systemd 237 (getopt's
"unrecognized option"). The fake answers with those exact words. The filtered query against the REAL journalctl is
tested in tests/integration/test_journal_filter.py.
"""
from __future__ import annotations

import io
import json
import os
import re

from ansible_collections.oomguard.linux.plugins.module_utils import _kernel_log as kl
from helpers.journal import as_logged_by_owner

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "kernel_log")
NO_PCRE2 = (1, "", "Compiled without pattern matching support\n")


def lines_of(name):
    with io.open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        return [line for line in handle if not line.startswith("# ")]


KERNEL = "".join(lines_of("real-6.18-journal.json"))
# the daemons' lines as journald records them for the real daemons (their own units, PID 1): trusted
USER = as_logged_by_owner("".join(line for line in lines_of("c-journal-userspace.json") if '"kernel"' not in line))


def fake_journalctl(answers):
    """``run_command`` double: answers in order, records every argv."""
    calls = []

    def run(cmd):
        calls.append(list(cmd))
        return answers.pop(0)
    run.calls = calls
    run.answers = answers
    return run


def grep_of(cmd):
    return [arg for arg in cmd if arg.startswith("--grep=")]


def fields_of(cmd):
    return [arg for arg in cmd if arg.startswith("--output-fields=")]


def kill_keys(events):
    return sorted(tuple(str(r[key]) for key in ("killer", "pid", "comm", "task_memcg")) for r in kl.merge_records(events))


def message_of(line):
    """The MESSAGE journalctl --grep matches: a JSON entry's (bytes arrays decoded), else the line's message part."""
    if not line.startswith("{"):
        return kl.split_line(line).msg
    msg = json.loads(line).get("MESSAGE") or ""
    return bytes(msg).decode("utf-8", "replace") if isinstance(msg, list) else msg


def test_filtered_query_asks_journalctl_to_grep_and_trim():
    run = fake_journalctl([(0, KERNEL, ""), (0, USER, "")])
    events, status = kl.read_journal(run, since="7d")
    assert len(run.calls) == 2
    for cmd in run.calls:
        assert grep_of(cmd) == ["--grep=" + kl.JOURNAL_GREP]
        assert fields_of(cmd) == ["--output-fields=" + kl.JOURNAL_FIELDS]
        assert any(arg.startswith("--since=@") for arg in cmd)
    assert run.calls[0][-1] == "_TRANSPORT=kernel" and run.calls[1][-6:] == ["-t", "systemd-oomd", "-t", "earlyoom", "-t", "systemd"]
    assert status["available"] is True and status["filtered"] is True and status["reason"] is None
    assert {r["killer"] for r in kl.merge_records(events)} == {"kernel", "systemd-oomd", "earlyoom"}


def test_journalctl_without_pcre2_is_asked_again_unfiltered():
    run = fake_journalctl([NO_PCRE2, (0, KERNEL, ""), (0, USER, "")])
    events, status = kl.read_journal(run, since="7d")
    # 1: --grep refused; 2: the same query without --grep (still trimmed); 3: the user-space query starts there
    assert len(run.calls) == 3
    assert grep_of(run.calls[0]) and not grep_of(run.calls[1]) and not grep_of(run.calls[2])
    assert fields_of(run.calls[1]) and fields_of(run.calls[2])
    assert status["available"] is True and status["filtered"] is False
    assert "--grep not supported (Compiled without pattern matching support)" in status["reason"]
    assert "read unfiltered" in status["reason"]
    # the same kills as from a journalctl that filtered
    filtered_run = fake_journalctl([(0, KERNEL, ""), (0, USER, "")])
    filtered_events = kl.read_journal(filtered_run, since="7d")[0]
    assert kill_keys(events) == kill_keys(filtered_events) and len(kill_keys(events)) >= 4


def test_journalctl_older_than_237_falls_back_to_the_plain_query():
    run = fake_journalctl([
        (1, "", "journalctl: unrecognized option '--grep=%s'\n" % kl.JOURNAL_GREP),
        (1, "", "journalctl: unrecognized option '--output-fields=%s'\n" % kl.JOURNAL_FIELDS),
        (0, KERNEL, ""),
        (0, USER, ""),
    ])
    events, status = kl.read_journal(run)
    assert len(run.calls) == 4
    assert run.calls[2] == ["journalctl", "--no-pager", "-o", "json", "_TRANSPORT=kernel"]  # exactly the query of old
    assert not grep_of(run.calls[3]) and not fields_of(run.calls[3])
    assert status["available"] is True and status["filtered"] is False
    assert "--grep not supported" in status["reason"] and "--output-fields not supported" in status["reason"]
    assert status["kills"] >= 2 and events


def test_no_match_is_read_with_zero_lines():
    # --grep exits 1 without a word when nothing matched; the one-entry unfiltered probe shows the journal is there
    probe = (0, lines_of("real-6.18-journal.json")[0], "")
    run = fake_journalctl([(1, "", ""), probe, (1, "", "")])
    events, status = kl.read_journal(run)
    assert run.calls[1][-3:] == ["-n", "1", "_TRANSPORT=kernel"] and not grep_of(run.calls[1])
    assert events == []
    assert status["available"] is True and status["lines"] == 0 and status["kills"] == 0 and status["filtered"] is True
    assert status["reason"] is None  # the user-space query matching nothing is no failure either


def test_no_match_without_a_journal_is_unavailable():
    run = fake_journalctl([(1, "", "No journal files were found.\n"), (0, "-- No entries --\n", "No journal files were found.\n")])
    events, status = kl.read_journal(run)
    assert events == [] and status["available"] is False
    assert status["reason"] == "journal unavailable: No journal files were found"
    assert not run.answers


def test_user_space_query_failure_is_a_note():
    run = fake_journalctl([(0, KERNEL, ""), (1, "", "Failed to add match 'SYSLOG_IDENTIFIER=earlyoom': Invalid argument\n")])
    events, status = kl.read_journal(run)
    assert status["available"] is True and events
    assert status["reason"].startswith("user-space killers not read: rc=1 Failed to add match")


def test_grep_pattern_selects_what_the_prefilter_selects():
    """journalctl's --grep (PCRE2, case sensitive because the pattern has capitals) and the parser's substring
    prefilter must agree on every message, or a filtered journal would lose kills."""
    pattern = re.compile(kl.JOURNAL_GREP)
    messages = []
    for name in sorted(os.listdir(FIXTURES)):
        if name.endswith((".log", ".json")):
            messages.extend(message_of(line) for line in lines_of(name))
    messages += ["Out of memory: Killed process 1 (a)", "oom_reaper: reaped process 1 (a), now anon-rss:0kB",
                 ",task_memcg=/x,task=a,pid=1,uid=0", "nothing here", "still running, will fill"]
    assert len(messages) > 200
    for msg in messages:
        assert bool(pattern.search(msg)) == kl.is_candidate(msg), msg
    # every message the parser turns into a kill passes the filter
    for name in sorted(os.listdir(FIXTURES)):
        if name.endswith((".log", ".json")):
            kept = [line for line in lines_of(name) if pattern.search(message_of(line))]
            assert kill_keys(kl.parse_lines(kept, name)) == kill_keys(kl.parse_lines(lines_of(name), name)), name


def test_fields_cover_what_the_parser_reads():
    wanted = set(kl.JOURNAL_FIELDS.split(","))
    # journalctl always adds these to JSON output
    wanted |= {"__CURSOR", "__REALTIME_TIMESTAMP", "__MONOTONIC_TIMESTAMP", "_BOOT_ID"}
    full = [json.loads(line) for line in lines_of("real-6.18-journal.json")]
    trimmed = [json.dumps(dict((k, v) for k, v in entry.items() if k in wanted)) for entry in full]
    untrimmed = [json.dumps(entry) for entry in full]
    a = kl.merge_records(kl.parse_lines(trimmed, "journal"))
    b = kl.merge_records(kl.parse_lines(untrimmed, "journal"))
    assert a == b and a
