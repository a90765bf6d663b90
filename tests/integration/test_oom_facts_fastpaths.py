# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The facts module's fast paths against the real programs: journalctl filtering its own output (--grep,
--output-fields) loses no kill, and one `systemctl show` for many units answers what one call per unit does."""
from __future__ import annotations

import os
import subprocess
import time

import pytest

from ansible_collections.oomguard.linux.plugins.module_utils import _kernel_log as kl
from ansible_collections.oomguard.linux.plugins.module_utils import _oom_facts as facts
from ansible_collections.oomguard.linux.plugins.module_utils._systemd import parse_show


def run_command(argv):
    proc = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"), check=False)
    return proc.returncode, proc.stdout, proc.stderr


def kill_keys(records, before):
    return sorted((r["killer"], r["pid"], r["comm"], r["task_memcg"], round(r["timestamp"] or 0, 3))
                  for r in records if r["timestamp"] is not None and r["timestamp"] < before)


@pytest.mark.root
def test_filtered_journal_finds_the_same_kills_as_the_whole_journal(private_journal, oom_kill):
    """Against a real journald (the private one: the host's journal is empty here) holding a real kill."""
    kill = oom_kill()
    private_journal.wait_for("Killed process %d" % kill.victim_pid)

    def run_command(argv):  # pylint: disable=redefined-outer-name
        proc = subprocess.run(private_journal.wrapper + list(argv), capture_output=True, text=True,
                              env=dict(os.environ, LC_ALL="C"), check=False)
        return proc.returncode, proc.stdout, proc.stderr

    before = time.time()  # other tests may kill processes meanwhile: compare what was logged until now
    since = "@%d" % int(before - 86400)
    events, status = kl.read_journal(run_command, since=since, keep_raw=False)
    assert status["available"] is True and status["filtered"] is True, status
    # what the reader did before journalctl filtered: every line, every field, parsed here
    base = ["journalctl", "--no-pager", "-o", "json", "--since=@%d" % int(before - 86400)]
    rc_k, out_k, dummy = run_command(base + ["_TRANSPORT=kernel"])
    rc_u, out_u, dummy = run_command(base + ["-t", "systemd-oomd", "-t", "earlyoom", "-t", "systemd"])
    assert rc_k == 0
    whole = list(kl.parse_lines(out_k.splitlines(), "journal", keep_raw=False))
    if rc_u == 0:
        whole += list(kl.parse_lines(out_u.splitlines(), "journal", keep_raw=False))
    filtered_kills = kill_keys(kl.merge_records(events), before)
    whole_kills = kill_keys(kl.merge_records(whole), before)
    assert filtered_kills == whole_kills
    assert any(k[1] == kill.victim_pid for k in filtered_kills), "the real kill is missing"
    # and journalctl handed over far fewer lines than the whole kernel journal
    assert status["lines"] <= len(out_k.splitlines()) + len(out_u.splitlines())


@pytest.mark.bench
def test_one_systemctl_show_for_many_units(systemd_host):
    units = ["systemd-journald.service", "dbus.service", "no-such-unit.service", "systemd-oomd.service", "-.slice",
             "systemd-logind.service"]

    def in_host(argv):
        proc = systemd_host.exec(list(argv), check=False)
        return proc.returncode, proc.stdout, proc.stderr

    calls = []

    def counting(argv):
        calls.append(argv)
        return in_host(argv)

    many = facts.show_many(counting, "systemctl", units, facts.SHOW_PROPS)
    assert len(calls) == 1 and many is not None and list(many) == units
    for unit in units:
        args = ["systemctl", "show", "--no-pager"]
        for prop in facts.SHOW_PROPS:
            args += ["-p", prop]
        one = parse_show(in_host(args + ["--", unit])[1])
        assert many[unit] == one, unit
    assert many["no-such-unit.service"]["LoadState"] == "not-found"
    assert many["systemd-journald.service"]["ActiveState"] == "active" and int(many["systemd-journald.service"]["MainPID"]) > 0
    # a name systemctl rejects fails the whole call: the caller then asks unit by unit
    assert facts.show_many(in_host, "systemctl", ["dbus.service", "bad name!"], facts.SHOW_PROPS) is None
