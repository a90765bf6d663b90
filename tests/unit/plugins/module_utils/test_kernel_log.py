# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Unit tests for the kernel-log kill parser: every format and prefix, pairing, dedup, since, the readers' statuses.

The fixtures under fixtures/kernel_log are either recorded on this machine (real-*) or constructed from the kernel's
and the user-space killers' format strings (c-*); see their README. Readers are fed a fake ``run_command`` only to
reproduce failures that cannot be produced on demand here (an unreadable journal, EPERM from dmesg); the real
commands are exercised by tests/integration/test_kernel_log_real.py.
"""
from __future__ import annotations

import calendar
import gzip
import io
import json
import os
import time

import pytest

from ansible_collections.oomguard.linux.plugins.module_utils import _kernel_log as kl
from helpers.journal import as_logged_by_owner

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "kernel_log")
REAL_BOOT_ID = "04646ba2beef4b29b3c63f936401c08e"
# 2026-11-27 14:16:43 local time is what `dmesg -T` printed for the kill at printk stamp 589.160380.
REAL_T_WALL = time.mktime((2026, 11, 27, 14, 16, 43, 0, 0, -1))
REAL_BOOT_TIME = REAL_T_WALL - 589.160380 + 0.5
NOW = time.mktime((2026, 11, 28, 0, 0, 0, 0, 0, -1))


def lines_of(name):
    with io.open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        return [line for line in handle if not line.startswith("# ")]


def kills(name, **kwargs):
    kwargs.setdefault("now", NOW)
    return kl.merge_records(kl.parse_lines(lines_of(name), name, **kwargs))


def only(records):
    assert len(records) == 1, records
    return records[0]


# -- recorded formats --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs", [
    ("real-6.18-dmesg.log", {"boot_time": REAL_BOOT_TIME}),
    ("real-6.18-kmsg.log", {"boot_time": REAL_BOOT_TIME}),
    ("real-6.18-journal-short-monotonic.log", {"boot_time": REAL_BOOT_TIME}),
    ("real-6.18-journal.json", {}),
    ("real-6.18-dmesg-T.log", {}),
])
def test_recorded_kills_every_prefix(name, kwargs):
    recs = kills(name, **kwargs)
    assert [(r["pid"], r["comm"]) for r in recs] == [(17153, "a (b) c"), (17324, "python3")]
    first = recs[0]
    assert first["killer"] == "kernel"
    assert first["constraint"] == "memcg"
    assert first["oom_memcg"] == first["task_memcg"] == "/oomguard-kl-4511"
    assert first["uid"] == 0 and first["oom_score_adj"] == 0
    assert (first["total_vm_kb"], first["anon_rss_kb"], first["file_rss_kb"], first["shmem_rss_kb"], first["pgtables_kb"]) == (
        75176, 65152, 6608, 0, 184)
    # pid and uid from the stack dump's first line, "CPU: 1 UID: 0 PID: 17153 Comm: a (b) c ..." (UID: since 6.11)
    assert first["invoker"] == {"comm": "a (b) c", "pid": 17153, "uid": 0, "gfp_mask": "0xcc0", "gfp_flags": "GFP_KERNEL",
                                "order": 0, "oom_score_adj": 0}
    assert first["unit"] is None  # /oomguard-kl-4511 is no systemd unit
    assert first["sources"] == [name]
    assert first["time"] is not None and first["timestamp"] is not None


def test_recorded_monotonic_converted_with_boot_time():
    first = kills("real-6.18-dmesg.log", boot_time=REAL_BOOT_TIME)[0]
    assert first["monotonic"] == pytest.approx(589.160380)
    assert first["timestamp"] == pytest.approx(REAL_BOOT_TIME + 589.160380)
    assert first["time"].startswith("2026-11-27T")


def test_monotonic_without_boot_time_has_no_wall_clock():
    first = kills("real-6.18-dmesg.log")[0]
    assert first["monotonic"] == pytest.approx(589.160380)
    assert first["timestamp"] is None and first["time"] is None


def test_journal_json_boot_id_and_source_monotonic():
    first = kills("real-6.18-journal.json")[0]
    assert first["boot_id"] == REAL_BOOT_ID
    # _SOURCE_MONOTONIC_TIMESTAMP (the printk stamp), not journald's own reception time
    assert first["monotonic"] == pytest.approx(589.160380)


# -- constructed formats, 2.6 to 6.x -----------------------------------------------------------------------
def test_2_6_18_and_children():
    rec = only(kills("c-2.6.18-and-children.log", year=2026))
    assert (rec["pid"], rec["comm"], rec["score"]) == (2218, "yum", None)
    assert rec["invoker"]["oom_score_adj"] == 0 and rec["invoker"]["gfp_mask"] == "0x201d2"
    assert rec["monotonic"] == pytest.approx(8123.000302)
    assert rec["timestamp"] == time.mktime((2026, 3, 3, 4, 5, 6, 0, 0, -1))


def test_2_6_32_child_of_selected_process():
    rec = only(kills("c-2.6.32-or-a-child.log"))
    assert (rec["pid"], rec["comm"]) == (2305, "httpd")
    assert rec["score"] is None  # the score belonged to the parent 2301
    assert (rec["total_vm_kb"], rec["anon_rss_kb"], rec["file_rss_kb"]) == (415236, 301244, 1024)


def test_3_x_sacrifice_child_pair_syslog():
    rec = only(kills("c-3.x-sacrifice-child.log"))
    assert (rec["pid"], rec["comm"], rec["score"]) == (3001, "java", 901)
    assert rec["uid"] is None and rec["shmem_rss_kb"] is None
    assert rec["timestamp"] == time.mktime((2026, 11, 27, 12, 42, 21, 0, 0, -1))
    assert rec["invoker"]["comm"] == "java"


def test_4_x_cgroup_v1_task_in_and_reaper():
    rec = only(kills("c-4.x-memcg-v1-task-in.log"))
    assert (rec["pid"], rec["comm"], rec["score"]) == (4001, "node", 1001)
    assert rec["constraint"] == "memcg"
    assert rec["task_memcg"].startswith("/system.slice/docker-0123")
    assert rec["container_id"] == "0123456789abcdef" * 4
    assert rec["reaped"] is True
    assert rec["invoker"]["gfp_flags"] == "GFP_KERNEL"


def test_5_0_summary_global_oom():
    rec = only(kills("c-5.0-summary-global.log"))
    assert (rec["pid"], rec["uid"], rec["constraint"]) == (5001, 27, "global")
    assert rec["oom_memcg"] is None
    assert rec["task_memcg"] == "/system.slice/mysql.service" and rec["unit"] == "mysql.service"
    assert rec["slice"] == "system.slice"
    assert rec["score"] == 700 and rec["shmem_rss_kb"] == 4
    assert rec["timestamp"] == time.mktime((2026, 11, 27, 12, 42, 22, 0, 0, -1))


def test_5_1_killed_process_kmsg_cpuset():
    rec = only(kills("c-5.1-killed-kmsg.log", boot_time=1000.0))
    assert (rec["pid"], rec["comm"], rec["constraint"]) == (5101, "stress-ng", "cpuset")
    assert rec["monotonic"] == pytest.approx(7777.123456)
    assert rec["timestamp"] == pytest.approx(1000.0 + 7777.123456)
    assert rec["unit"] == "session-3.scope"
    assert rec["invoker"]["oom_score_adj"] == 1000


def test_5_3_uid_rfc3339():
    rec = only(kills("c-5.3-uid-rfc3339.log"))
    assert (rec["pid"], rec["uid"], rec["constraint"]) == (5301, 1000, "mempolicy")
    assert rec["timestamp"] == pytest.approx(calendar.timegm((2026, 11, 27, 10, 0, 1)) + 0.25)
    assert rec["pgtables_kb"] is None


def test_5_4_pgtables_short_iso():
    rec = only(kills("c-5.4-pgtables-short-iso.log"))
    assert (rec["pid"], rec["pgtables_kb"], rec["oom_score_adj"], rec["shmem_rss_kb"]) == (5401, 2048, 500, 40000)
    assert rec["unit"] == "postgresql@15-main.service"
    assert rec["oom_memcg"] == "/system.slice/system-postgresql.slice"
    assert rec["reaped"] is True
    assert rec["timestamp"] == calendar.timegm((2026, 11, 27, 11, 0, 0))


def test_oom_group_marks_every_kill_of_the_event():
    recs = kills("c-oom-group.log")
    assert [(r["pid"], r["comm"]) for r in recs] == [(901, "worker"), (900, "app main"), (902, "helper")]
    assert all(r["group_kill"] for r in recs)
    assert all(r["unit"] == "app.service" and r["oom_memcg"] == "/system.slice/app.service" for r in recs)
    assert all(r["invoker"]["comm"] == "worker" for r in recs)
    assert recs[0]["task_memcg"] == "/system.slice/app.service"
    assert recs[1]["task_memcg"] is None  # the kernel does not print the members' own cgroup


def test_split_summary_is_paired_by_pid():
    rec = only(kills("c-split-summary.log"))
    assert (rec["pid"], rec["comm"]) == (77, "a (b) c")
    assert rec["task_memcg"] == "/system.slice/split.service" and rec["unit"] == "split.service"


def test_summary_continuation_after_the_kill_line():
    lines = [
        "[10.0] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0",
        "[10.1] Memory cgroup out of memory: Killed process 5 (late) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB",
        "[10.2] ,oom_memcg=/system.slice/late.service,task_memcg=/system.slice/late.service,task=late,pid=5,uid=7",
    ]
    rec = only(kl.merge_records(kl.parse_lines(lines)))
    assert (rec["pid"], rec["uid"], rec["unit"]) == (5, 7, "late.service")


def test_summary_for_another_pid_is_not_applied():
    lines = [
        "[10.0] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/a,task_memcg=/a/x.service,task=x,pid=1,uid=0",
        "[10.1] Memory cgroup out of memory: Killed process 2 (y) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB",
    ]
    lost, rec = kl.merge_records(kl.parse_lines(lines))
    assert rec["pid"] == 2 and rec["task_memcg"] is None and rec["unit"] is None and rec["basis"] == "kill_line"
    assert rec["constraint"] == "memcg"  # from the kill line's own message
    # the summary names another victim whose kill line is missing: a kill of its own, saying what it rests on
    assert (lost["pid"], lost["comm"], lost["basis"], lost["unit"]) == (1, "x", "summary_only", "x.service")


def test_stale_header_is_not_paired():
    lines = [
        "[10.0] old invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
        "[99.0] Out of memory: Killed process 3 (z) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB",
    ]
    rec = only(kl.merge_records(kl.parse_lines(lines)))
    assert rec["invoker"] is None


def test_oom_kill_allocating_task_without_header():
    rec = only(kills("c-oom-kill-allocating-task.log"))
    assert (rec["pid"], rec["comm"], rec["invoker"], rec["constraint"]) == (6001, "dd", None, None)


@pytest.mark.parametrize("comm", ["a (b) c", "x)", "(y", "sp ace", "((()))", "Web Content"])
def test_process_names_with_blanks_and_parentheses(comm):
    line = "[1.0] Out of memory: Killed process 77 (%s) total-vm:10kB, anon-rss:5kB, file-rss:1kB, shmem-rss:0kB" % comm
    rec = only(kl.merge_records(kl.parse_lines([line])))
    assert (rec["pid"], rec["comm"], rec["total_vm_kb"]) == (77, comm, 10)
    reaper = "[3.0] oom_reaper: reaped process 77 (%s), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB" % comm
    rec = only(kl.merge_records(kl.parse_lines([line, reaper])))
    assert rec["reaped"] is True


def test_orphan_reaper_line_is_a_kill():
    rec = only(kl.merge_records(kl.parse_lines(
        ["[3.0] oom_reaper: reaped process 8 (gone), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"])))
    assert (rec["pid"], rec["comm"], rec["reaped"]) == (8, "gone", True)


# -- locales ---------------------------------------------------------------------------------------------
def test_dmesg_t_in_other_locales():
    recs = kl.merge_records(kl.parse_lines(lines_of("c-dmesg-T-locales.log")))
    assert [(r["pid"], r["comm"]) for r in recs] == [(17153, "a (b) c"), (17324, "python3")]
    assert all(r["timestamp"] == REAL_T_WALL for r in recs)
    # the ja_JP copies ("金 11月") were recognised as the same kills, not new ones
    assert all(r["invoker"] is not None for r in recs)


@pytest.mark.parametrize("token, month", [
    ("Nov", 11), ("nov.", 11), ("Okt", 10), ("déc.", 12), ("Mär", 3), ("mai", 5), ("11月", 11), ("3월", 3),
    ("ноя", 11), ("kwi", 4), ("Xyz", None), ("13", None),
])
def test_month_names(token, month):
    assert kl.month_number(token) == month


# -- user-space killers and systemd's unit report ----------------------------------------------------------
def test_journal_userspace_killers_and_unit_report():
    recs = kills("c-journal-userspace.json")
    assert [r["killer"] for r in recs] == ["kernel", "systemd-oomd", "systemd-oomd", "earlyoom", "earlyoom"]
    kernel, oomd_pressure, oomd_swap, early_old, early_new = recs
    # MESSAGE as a byte array, merged with systemd's report and "Failed with result 'oom-kill'"
    assert (kernel["pid"], kernel["comm"], kernel["unit"], kernel["unit_reported"]) == (7001, "rsync", "backup.service", True)
    assert kernel["boot_id"] == "3f2a1c0b9e8d7f6a5b4c3d2e1f0a9b8c"
    assert oomd_pressure["task_memcg"].endswith("/app-firefox-1234.scope")
    assert oomd_pressure["reason"] == "memory pressure" and oomd_pressure["processes_killed"] == 23
    assert oomd_pressure["pid"] is None
    assert (oomd_swap["task_memcg"], oomd_swap["reason"], oomd_swap["unit"]) == ("/system.slice/batch.service", "swap", "batch.service")
    # SIGTERM then SIGKILL to the same pid: one kill, escalated
    assert (early_old["pid"], early_old["comm"], early_old["uid"], early_old["signal"]) == (8123, "chrome", 1000, "SIGKILL")
    assert early_old["score"] == 900 and early_old["vm_rss_kb"] == 1234 * 1024
    assert (early_new["comm"], early_new["oom_score_adj"], early_new["score"]) == ('tsc "x" (y)', 300, 950)


def test_syslog_userspace_and_foreign_killed_line():
    recs = kills("c-syslog-userspace.log", year=2026)
    assert [(r["killer"], r["pid"]) for r in recs] == [("kernel", 9001), ("earlyoom", 9100), ("systemd-oomd", None)]
    assert recs[0]["unit_reported"] is True and recs[0]["unit"] == "tomcat.service"
    assert recs[1]["comm"] == "leaky app" and recs[1]["uid"] is None and recs[1]["signal"] == "SIGTERM"
    assert all(r["pid"] != 1 for r in recs)  # "someapp: Killed process 1 (init)" is not a kernel line


def test_unit_report_merged_across_sources_not_counted_twice():
    kernel = kl.parse_lines([
        "[50.0] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/system.slice/web.service,"
        "task_memcg=/system.slice/web.service,task=gunicorn,pid=31,uid=33",
        "[50.1] Memory cgroup out of memory: Killed process 31 (gunicorn) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB",
    ], "dmesg", boot_time=1000.0)
    journal = kl.parse_lines([
        "Jan  1 00:17:31 h systemd[1]: web.service: A process of this unit has been killed by the OOM killer.",
        "Jan  1 00:17:31 h systemd[1]: user@1000.service: A process of this unit has been killed by the OOM killer.",
    ], "journal", year=1970)
    recs = kl.merge_records(journal, kernel)
    rec = only(recs)
    assert rec["pid"] == 31 and rec["unit_reported"] is True
    assert rec["sources"] == ["dmesg", "journal"]


def test_unit_report_without_kernel_line_is_one_kill():
    recs = kl.merge_records(kl.parse_lines([
        "Jan  1 00:17:31 h systemd[1]: user@1000.service: A process of this unit has been killed by the OOM killer.",
        "Jan  1 00:17:31 h systemd[1000]: tracker-miner-fs-3.service: A process of this unit has been killed by the OOM killer.",
        "Jan  1 00:17:33 h systemd[1000]: tracker-miner-fs-3.service: Failed with result 'oom-kill'.",
    ], "journal", year=1970))
    rec = only(recs)
    assert rec["pid"] is None and rec["unit"] == "tracker-miner-fs-3.service" and rec["unit_reported"] is True


# -- dedup across sources --------------------------------------------------------------------------------
def test_dedup_across_every_recorded_source():
    lists = [
        kl.parse_lines(lines_of("real-6.18-journal.json"), "journal"),
        kl.parse_lines(lines_of("real-6.18-dmesg.log"), "dmesg", boot_time=REAL_BOOT_TIME, boot_id=REAL_BOOT_ID),
        kl.parse_lines(lines_of("real-6.18-kmsg.log"), "kmsg", boot_time=REAL_BOOT_TIME, boot_id=REAL_BOOT_ID),
        kl.parse_lines(lines_of("real-6.18-dmesg-T.log"), "dmesg-T"),
        kl.parse_lines(lines_of("real-6.18-journal-short-monotonic.log"), "short-monotonic", boot_time=REAL_BOOT_TIME),
    ]
    recs = kl.merge_records(*lists)
    assert [r["pid"] for r in recs] == [17153, 17324]
    assert recs[0]["sources"] == ["journal", "dmesg", "kmsg", "dmesg-T", "short-monotonic"]
    assert recs[0]["boot_id"] == REAL_BOOT_ID


def test_dedup_keeps_same_pid_in_another_boot():
    line = "[589.160380] Memory cgroup out of memory: Killed process 17153 (a (b) c) total-vm:1kB, anon-rss:1kB, file-rss:0kB"
    this_boot = kl.parse_lines([line], "dmesg", boot_time=REAL_BOOT_TIME, boot_id=REAL_BOOT_ID)
    other_boot = kl.parse_lines([line], "old", boot_time=REAL_BOOT_TIME - 86400, boot_id="ffff" * 8)
    assert len(kl.merge_records(this_boot, other_boot)) == 2


def test_dedup_wall_clock_tolerance_for_syslog_seconds():
    dmesg = kl.parse_lines(["[100.900000] Out of memory: Killed process 9 (q) total-vm:1kB, anon-rss:1kB, file-rss:0kB"],
                           "dmesg", boot_time=1000.0)
    # rsyslog's one-second stamp, 0.9 s before the exact time dmesg gives
    syslog = kl.parse_lines(["1970-01-01T00:18:20+00:00 h kernel: Out of memory: Killed process 9 (q) total-vm:1kB, anon-rss:1kB, file-rss:0kB"],
                            "file")
    assert only(kl.merge_records(dmesg, syslog, tolerance=3.0))["sources"] == ["dmesg", "file"]
    far = kl.parse_lines(["[200.0] Out of memory: Killed process 9 (q) total-vm:1kB, anon-rss:1kB, file-rss:0kB"],
                         "dmesg", boot_time=1000.0)
    assert len(kl.merge_records(far, kl.parse_lines(["[100.9] Out of memory: Killed process 9 (q) total-vm:1kB"],
                                                    "x", boot_time=1000.0))) == 2


# -- streaming and files ---------------------------------------------------------------------------------
def test_parse_file_plain_gz_and_chunk_boundaries(tmp_path):
    text = "".join(lines_of("real-6.18-dmesg.log")).encode()
    plain = tmp_path / "kern.log"
    plain.write_bytes(text)
    packed = tmp_path / "kern.log.2.gz"
    with gzip.open(str(packed), "wb") as handle:
        handle.write(text)
    for path, chunk in ((str(plain), 4096), (str(plain), 97), (str(packed), 1 << 20)):
        recs = kl.merge_records(kl.parse_file(path, chunk_size=chunk))
        assert [r["pid"] for r in recs] == [17153, 17324], (path, chunk)
        assert recs[0]["invoker"]["comm"] == "a (b) c"
    assert kl.expand_rotated([str(plain)]) == [str(plain), str(packed)]


def test_parser_holds_a_bounded_number_of_kills():
    parser = kl.KillParser("x")
    out = []
    for pid in range(1, 500):
        out.extend(parser.feed("[%d.0] Out of memory: Killed process %d (p) total-vm:1kB" % (pid, pid)))
        assert len(parser._pending) <= kl.MAX_PENDING  # pylint: disable=protected-access
    out.extend(parser.close())
    assert [r["pid"] for r in out] == list(range(1, 500))


# -- since ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    ("7d", NOW - 7 * 86400), ("24h", NOW - 86400), ("30m", NOW - 1800), ("90s", NOW - 90), ("2w", NOW - 14 * 86400),
    ("2026-11-27", time.mktime((2026, 11, 27, 0, 0, 0, 0, 0, -1))),
    ("2026-11-27T12:30", time.mktime((2026, 11, 27, 12, 30, 0, 0, 0, -1))),
    ("2026-11-27 12:30:00+01:00", calendar.timegm((2026, 11, 27, 11, 30, 0))),
    ("2026-11-27T12:30:00Z", calendar.timegm((2026, 11, 27, 12, 30, 0))),
    ("@1795780000", 1795780000.0), (1795780000, 1795780000.0), (None, None),
])
def test_parse_since(value, expected):
    assert kl.parse_since(value, now=NOW) == expected


@pytest.mark.parametrize("value", ["yesterday", "7x", "2026-13-01"])
def test_parse_since_rejects(value):
    with pytest.raises(ValueError):
        kl.parse_since(value, now=NOW)


def test_filter_since_and_cgroup():
    recs = kills("c-journal-userspace.json")
    limit = recs[2]["timestamp"]
    assert [r["killer"] for r in kl.filter_since(recs, limit)] == ["systemd-oomd", "earlyoom", "earlyoom"]
    assert [r["pid"] for r in kl.filter_cgroup(recs, "/system.slice/backup.service")] == [7001]
    assert [r["task_memcg"] for r in kl.filter_cgroup(recs, "/system.slice")] == [
        "/system.slice/backup.service", "/system.slice/batch.service"]
    assert len(kl.filter_cgroup(recs, "/")) == len(recs)


# -- readers: statuses, never raising ---------------------------------------------------------------------
def fake_run(results):
    calls = []

    def run(cmd):
        calls.append(cmd)
        result = results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result
    run.calls = calls
    return run


def test_read_journal_empty_journal_is_unavailable():
    # what `journalctl -k` prints on this host (no journald running): exit 0
    run = fake_run([(0, "-- No entries --\n", "No journal files were found.\n")])
    events, status = kl.read_journal(run)
    assert events == [] and status["available"] is False
    assert "No journal files were found" in status["reason"]


def test_read_journal_reads_json_and_userspace():
    kernel = "".join(lines_of("real-6.18-journal.json"))
    user = as_logged_by_owner("".join(line for line in lines_of("c-journal-userspace.json") if '"kernel"' not in line))
    run = fake_run([(0, kernel, ""), (0, user, "")])
    events, status = kl.read_journal(run, since="7d")
    assert status["available"] is True and status["lines"] > 100 and status["kills"] >= 2
    assert run.calls[0][-1] == "_TRANSPORT=kernel" and any(arg.startswith("--since=@") for arg in run.calls[0])
    assert "-t" in run.calls[1]
    recs = kl.merge_records(events)
    assert {r["killer"] for r in recs} == {"kernel", "systemd-oomd", "earlyoom"}


def test_read_journal_failures():
    assert kl.read_journal(fake_run([OSError(2, "No such file or directory")]))[1]["available"] is False
    # rc 1 from the filtered query may mean "nothing matched": the unfiltered probe (-n 1) gives the real error
    run = fake_run([(1, "", "Failed to open journal")] * 2)
    status = kl.read_journal(run)[1]
    assert run.calls[1][-3:] == ["-n", "1", "_TRANSPORT=kernel"] and not any(arg.startswith("--grep") for arg in run.calls[1])
    assert status["available"] is False and "Failed to open journal" in status["reason"]
    assert "cannot read since" in kl.read_journal(fake_run([]), since="soon")[1]["reason"]


def test_read_dmesg_eperm_and_success():
    run = fake_run([(1, "", "dmesg: read kernel buffer failed: Operation not permitted\n")])
    events, status = kl.read_dmesg(run)
    assert events == [] and status["available"] is False and "Operation not permitted" in status["reason"]
    run = fake_run([(0, "".join(lines_of("real-6.18-dmesg.log")), "")])
    events, status = kl.read_dmesg(run, boot_time_value=REAL_BOOT_TIME)
    assert status["available"] is True and status["kills"] == 2 and status["lines"] == 159


def test_read_kmsg_missing_device(tmp_path):
    events, status = kl.read_kmsg(str(tmp_path / "nope"))
    assert events == [] and status["available"] is False and "No such file" in status["reason"]


def test_read_kmsg_from_a_fifo(tmp_path):
    # /dev/kmsg hands out one record per read(); a FIFO with one write does the same for a single record and
    # then returns EAGAIN/EOF, which is the end condition the reader must handle without blocking.
    fifo = str(tmp_path / "kmsg")
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    writer = os.open(fifo, os.O_WRONLY)
    try:
        os.write(writer, b"3,9003,7777123456,-;Out of memory: Killed process 5101 (stress-ng) total-vm:2kB\n")
        events, status = kl.read_kmsg(fifo, boot_time_value=0.0)
    finally:
        os.close(writer)
        os.close(reader)
    assert status["available"] is True and status["lines"] == 1
    assert [(e["pid"], e["monotonic"]) for e in events] == [(5101, pytest.approx(7777.123456))]


def test_read_log_files_statuses(tmp_path):
    log = tmp_path / "kern.log"
    log.write_text("".join(lines_of("c-3.x-sacrifice-child.log")))
    rotated = tmp_path / "kern.log.1"
    rotated.write_text("".join(lines_of("c-5.0-summary-global.log")))
    broken = tmp_path / "messages.1.gz"
    broken.write_bytes(b"not gzip")
    events, status = kl.read_log_files([str(log), str(tmp_path / "messages"), str(tmp_path / "absent.log")])
    assert status["available"] is True
    assert sorted(r["pid"] for r in kl.merge_records(events)) == [3001, 5001]
    by_path = {f["path"]: f for f in status["files"]}
    assert by_path[str(log)]["read"] and by_path[str(log)]["lines"] == 3
    assert by_path[str(rotated)]["read"]
    assert by_path[str(broken)]["read"] is False and by_path[str(broken)]["reason"]
    assert by_path[str(tmp_path / "absent.log")]["reason"] == "not found"
    events, status = kl.read_log_files([str(tmp_path / "absent.log")])
    assert events == [] and status["available"] is False


def test_records_have_the_documented_keys():
    for rec in kills("c-journal-userspace.json"):
        assert set(rec) == set(kl.RECORD_KEYS)
        json.dumps(rec)
        assert all(key in kl.__doc__ for key in kl.RECORD_KEYS)


@pytest.mark.parametrize("name, expected", [
    ("c-split-summary.log", [(77, "/system.slice/split.service")]),
    ("c-4.x-memcg-v1-task-in.log", [(4001, "/system.slice/docker-" + "0123456789abcdef" * 4 + ".scope")]),
    ("c-syslog-userspace.log", [(9001, "/system.slice/tomcat.service"), (9100, None), (None, "/system.slice/x.service")]),
])
def test_parse_file_prefilter_keeps_every_needed_line(tmp_path, name, expected):
    path = tmp_path / "log"
    path.write_text("".join(lines_of(name)))
    for chunk in (64, 1 << 20):
        recs = kl.merge_records(kl.parse_file(str(path), year=2026, chunk_size=chunk))
        assert [(r["pid"], r["task_memcg"]) for r in recs] == expected, chunk
        assert all(r["reaped"] for r in recs if r["pid"] == 4001)


# -- issue 15: logs of the world --------------------------------------------------------------------------
def both_paths(tmp_path, name, **kwargs):
    """The records of a fixture through parse_lines (the journal, dmesg) and through parse_file (log files, in small
    chunks too): the two entry points must agree."""
    kwargs.setdefault("now", NOW)
    by_lines = kills(name, **kwargs)
    path = tmp_path / "log"
    path.write_text("".join(lines_of(name)))
    for chunk in (97, 1 << 20):
        by_file = kl.merge_records(kl.parse_file(str(path), name, chunk_size=chunk, **kwargs))
        assert by_file == by_lines, chunk
    return by_lines


def canary(name, **kwargs):
    kwargs.setdefault("now", NOW)
    return kl.unparsed_of(list(kl.parse_lines(lines_of(name), name, **kwargs)))


def test_1_records_resting_on_other_evidence(tmp_path):
    recs = both_paths(tmp_path, "c-evidence-without-kill-line.log")
    assert [(r["pid"], r["comm"], r["basis"]) for r in recs] == [
        (4101, "postgres", "summary_only"), (4202, "java", "selection_only"), (4505, "worker", "reaper_only"),
        (4404, "app", "kill_line")]
    summary, select, reaper, whole = recs
    assert (summary["uid"], summary["unit"], summary["constraint"], summary["oom_memcg"]) == (
        26, "db.service", "memcg", "/system.slice/db.service")
    assert summary["anon_rss_kb"] is None  # only the kill line prints the memory
    assert (select["score"], select["constraint"], select["uid"]) == (900, "memcg", None)
    assert reaper["reaped"] is True
    assert whole["invoker"]["comm"] == "sshd" and whole["anon_rss_kb"] == 800000
    # the header of the event that left nothing else is not silently dropped
    assert canary("c-evidence-without-kill-line.log")["lines"] == [
        "cron invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0"]


def test_1_a_kill_line_in_another_source_wins_the_basis():
    lines = lines_of("c-evidence-without-kill-line.log")
    summary_only = kl.parse_lines(lines[:1], "dmesg", boot_id="b1")
    whole = kl.parse_lines(lines[:1] + [
        "[ 5000.100100] Memory cgroup out of memory: Killed process 4101 (postgres) total-vm:1kB, anon-rss:1kB, "
        "file-rss:0kB, shmem-rss:0kB, UID:26 pgtables:4kB oom_score_adj:0"], "file:/var/log/kern.log", boot_id="b1")
    rec = only(kl.merge_records(summary_only, whole))
    assert rec["basis"] == "kill_line" and rec["sources"] == ["dmesg", "file:/var/log/kern.log"]
    assert rec["anon_rss_kb"] == 1 and rec["unit"] == "db.service"


def test_2_rhel_backports_keep_the_uid(tmp_path):
    recs = both_paths(tmp_path, "c-rhel-backports.log", year=2026)
    assert [(r["pid"], r["comm"], r["uid"], r["score"], r["basis"]) for r in recs] == [
        (6001, "httpd", 48, 812, "kill_line"), (7002, "my app", 1000, 777, "kill_line")]
    assert (recs[0]["total_vm_kb"], recs[0]["anon_rss_kb"], recs[0]["file_rss_kb"]) == (512000, 400000, 12)
    assert (recs[1]["anon_rss_kb"], recs[1]["file_rss_kb"], recs[1]["shmem_rss_kb"]) == (500000, 24, 0)


def test_3_prefixes_leak_nothing_and_lose_no_kill(tmp_path):
    recs = both_paths(tmp_path, "c-prefixes.log", year=2026)
    assert sorted((r["pid"], r["comm"], r["invoker"]["comm"]) for r in recs) == [
        (8000 + n, "app %d" % n, "inv %d" % n) for n in range(1, 9)]
    for rec in recs:
        assert sorted(line.split(" ")[0] for line in rec["raw"]) == ["Out", "inv"]  # the message part only
        assert rec["uid"] == 0 and rec["oom_score_adj"] == 0 and rec["pgtables_kb"] == 40
    by_pid = {r["pid"]: r for r in recs}
    assert by_pid[8002]["timestamp"] == time.mktime((2026, 11, 27, 10, 0, 2, 0, 0, -1))
    assert by_pid[8005]["monotonic"] == pytest.approx(4005.0001)
    assert by_pid[8007]["timestamp"] == 1795780007 and by_pid[8007]["monotonic"] == pytest.approx(4007.0001)
    assert by_pid[8008]["monotonic"] == pytest.approx(4008.0001)
    assert canary("c-prefixes.log", year=2026)["count"] == 0


@pytest.mark.parametrize("line, tag, msg", [
    ("Nov 27 10:00:01 kernel: Killed process 1 (a)", "kernel", "Killed process 1 (a)"),
    ("Nov 27 10:00:01 h <kern.warning> kernel: x invoked oom-killer: order=0", "kernel", "x invoked oom-killer: order=0"),
    ("Nov 27 10:00:01 h kernel:x invoked oom-killer: order=0", "kernel", "x invoked oom-killer: order=0"),
    ("Nov 27 10:00:01 h kernel: kernel: [12.5] oom_reaper: reaped", "kernel", "oom_reaper: reaped"),
    ("Nov 27 10:00:01 h: oom_reaper: reaped", None, "oom_reaper: reaped"),
    ("[   12.500000] kernel: oom_reaper: reaped", "kernel", "oom_reaper: reaped"),
    ("[   12.500000] oom_reaper: reaped", None, "oom_reaper: reaped"),  # no host: the message's own "word:" stays
    ("[   12.500000] a (b) c invoked oom-killer: order=0", None, "a (b) c invoked oom-killer: order=0"),
    ("kernel: Killed process 1 (a)", "kernel", "Killed process 1 (a)"),
    ("<6>[   12.500000] Killed process 1 (a)", None, "Killed process 1 (a)"),
    ("Nov 27 10:00:01 h earlyoom[7]: sending SIGTERM", "earlyoom", "sending SIGTERM"),
])
def test_3_split_line_prefixes(line, tag, msg):
    ln = kl.split_line(line, year=2026)
    assert (ln.tag, ln.msg) == (tag, msg)


def test_4_newest_first_lines_attach_by_what_they_say(tmp_path):
    recs = both_paths(tmp_path, "c-newest-first.log")
    got = [(r["pid"], r["comm"], (r["invoker"] or {}).get("comm"), r["uid"], r["score"], r["unit"], r["group_kill"],
            r["reaped"]) for r in recs]
    assert got == [
        (9301, "db", "postgres", 26, None, "db.service", False, True),
        (9202, "java", "javac", None, 850, None, False, False),
        (9101, "lead", "lead", 0, None, "grp.service", True, False),
        (9102, "member a", "lead", 0, None, "grp.service", True, False),  # the group's header, as in the log's own order
        (9103, "member b", "lead", 0, None, "grp.service", True, False),
    ]
    assert recs[0]["constraint"] == "global" and recs[2]["oom_memcg"] == "/system.slice/grp.service"
    assert all(r["basis"] == "kill_line" for r in recs)
    assert canary("c-newest-first.log")["count"] == 0


def test_4_real_kill_listed_newest_first_equals_the_kill_in_order():
    # recorded here: the same real event in dmesg's order and reversed (journalctl -r, merged files)
    reverse = only(kills("real-6.18-dmesg-reversed.log"))
    forward = only(kl.merge_records(kl.parse_lines(list(reversed(lines_of("real-6.18-dmesg-reversed.log"))), "x")))
    for rec in (reverse, forward):
        assert (rec["pid"], rec["comm"], rec["basis"], rec["uid"]) == (14989, "python3", "kill_line", 0)
        assert rec["task_memcg"] == rec["oom_memcg"] == "/oomguard-parser-17968" and rec["constraint"] == "memcg"
        assert rec["invoker"]["comm"] == "python3" and rec["invoker"]["gfp_mask"] == "0xcc0"
    assert forward["invoker"]["pid"] == 14989  # the CPU line follows the header only in the log's own order
    assert canary("real-6.18-dmesg-reversed.log")["count"] == 0


def test_4_a_reboot_inside_a_file_is_no_reversal():
    lines = [
        "[ 9000.000000] a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
        "[ 9000.000100] Out of memory: Killed process 11 (a) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB",
        "[    5.000000] b invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
        "[    5.000100] Out of memory: Killed process 12 (b) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB",
    ]
    recs = kl.merge_records(kl.parse_lines(lines))
    assert sorted((r["pid"], r["invoker"]["comm"]) for r in recs) == [(11, "a"), (12, "b")]


def test_5_user_manager_units_the_way_systemd_names_them():
    rec = only(kills("real-6.18-user-manager.log"))  # a real kill in a cgroup laid out like a user's manager
    assert rec["unit"] == "vte-spawn-5f1e2d3c-0a9b-4c8d-9e7f-6a5b4c3d2e1f.scope"
    assert (rec["slice"], rec["user_manager"]) == ("app.slice", "user@1001.service")
    assert rec["slice_path"] == "/oomguard-parser-u17968/user.slice/user-1001.slice/user@1001.service/app.slice"
    assert (rec["invoker"]["pid"], rec["invoker"]["uid"]) == (16143, 0)  # 6.11+ "CPU: 1 UID: 0 PID: 16143 Comm: python3"


@pytest.mark.parametrize("path, unit, slc, manager, slice_path", [
    ("/user.slice/user-1001.slice/user@1001.service/app.slice/vte-spawn-1.scope", "vte-spawn-1.scope", "app.slice",
     "user@1001.service", "/user.slice/user-1001.slice/user@1001.service/app.slice"),
    ("/user.slice/user-1001.slice/user@1001.service/app.slice/app-gnome-firefox-9.scope/tab", "app-gnome-firefox-9.scope",
     "app.slice", "user@1001.service", "/user.slice/user-1001.slice/user@1001.service/app.slice"),
    ("/user.slice/user-1001.slice/user@1001.service", "user@1001.service", "user-1001.slice", "user@1001.service",
     "/user.slice/user-1001.slice"),
    ("/user.slice/user-1001.slice/session-4.scope", "session-4.scope", "user-1001.slice", None, "/user.slice/user-1001.slice"),
    ("/system.slice/nginx.service", "nginx.service", "system.slice", None, "/system.slice"),
    ("/oomtest", None, None, None, None),
    # a user nests a cgroup named user@0.service in their own tree: the system manager's (leftmost) one is the manager
    # (inside it, "user@0.service" is only the name of one of user 1001's own units)
    ("/user.slice/user-1001.slice/user@1001.service/app.slice/user@0.service/evil.scope", "user@0.service", "app.slice",
     "user@1001.service", "/user.slice/user-1001.slice/user@1001.service/app.slice"),
])
def test_5_unit_names(path, unit, slc, manager, slice_path):
    info = kl.unit_names(path)
    assert (info["unit"], info["slice"], info["user_manager"], info["slice_path"]) == (unit, slc, manager, slice_path)


def test_5_unit_report_of_the_user_unit_merges_into_the_oomd_kill():
    recs = kills("c-userspace-2024-2026.log", year=2026)
    oomd = [r for r in recs if r["killer"] == "systemd-oomd"]
    assert oomd[0]["unit"] == "vte-spawn-0b1c.scope" and oomd[0]["processes_killed"] == 12
    assert oomd[0]["user_manager"] == "user@1001.service" and oomd[0]["slice"] == "app-org.gnome.Terminal.slice"


def test_6_terminal_wrapped_lines_are_joined(tmp_path):
    recs = both_paths(tmp_path, "c-terminal-wrapped.log", year=2026)
    assert sorted((r["pid"], r["comm"], r["score"]) for r in recs) == [(3301, "web worker 7", 904), (3302, "VM Monitoring T", None)]
    by_pid = {r["pid"]: r for r in recs}
    assert (by_pid[3301]["anon_rss_kb"], by_pid[3301]["file_rss_kb"], by_pid[3301]["shmem_rss_kb"]) == (1900000, 1000, 4)
    assert by_pid[3301]["invoker"]["comm"] == "httpd"
    assert by_pid[3302]["anon_rss_kb"] == 1900000
    assert canary("c-terminal-wrapped.log", year=2026)["count"] == 0


def test_6_a_short_kill_line_followed_by_a_new_line_is_not_glued():
    lines = ["[  1.000000] Killed process 5 (x) total-vm:10kB, anon-rss:1",
             "[  1.000100] oom_reaper: reaped process 5 (x), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"]
    rec = only(kl.merge_records(kl.parse_lines(lines)))
    assert (rec["pid"], rec["anon_rss_kb"], rec["reaped"]) == (5, 1, True)


def test_7_userspace_formats_2024_2026(tmp_path):
    recs = both_paths(tmp_path, "c-userspace-2024-2026.log", year=2026)
    got = [(r["killer"], r["basis"], r["pid"], r["comm"], r["reason"], r["signal"], r["score"], r["oom_score_adj"])
           for r in recs]
    assert got == [
        ("systemd-oomd", "killer_line", None, None, "memory pressure", None, None, None),
        ("systemd-oomd", "killer_line", None, None, "swap", None, None, None),
        ("earlyoom", "killer_line", 4100, "node", None, "SIGKILL", 812, None),
        ("earlyoom", "killer_line", 4200, "tsc", None, "SIGTERM", 950, 300),
        ("kernel", "kill_line", 4300, "chrome", None, None, None, 300),
    ]
    assert recs[1]["unit"] == "batch.service"
    assert recs[2]["cmdline"] == "node /srv/app/server.js --port 8080" and recs[2]["vm_rss_kb"] in (6890 * 1024, 6900 * 1024)
    assert recs[3]["cmdline"] == "/usr/bin/node /usr/lib/node_modules/typescript/bin/tsc -w" and recs[3]["uid"] == 1000
    # earlyoom's kernel-OOM mode: a sysrq-f kill by the kernel, from a kworker, order -1
    assert recs[4]["invoker"]["comm"] == "kworker/1:2" and recs[4]["invoker"]["order"] == -1
    # the candidate list, earlyoom's startup line and its "Invoking oom killer" are context, not unparsed kills
    assert canary("c-userspace-2024-2026.log", year=2026)["count"] == 0


def test_7_earlyoom_name_and_cmdline_with_quotes():
    line = ('Dec  1 10:00:00 d earlyoom[1]: sending SIGTERM to process 7 uid 0 "a": b": oom_score 5, oom_score_adj 0, '
            'VmRSS 1 MiB, cmdline "sh -c \\"echo \\": oom_score 9\\""')
    rec = only(kl.merge_records(kl.parse_lines([line], year=2026)))
    assert (rec["comm"], rec["score"], rec["oom_score_adj"]) == ('a": b', 5, 0)
    assert rec["cmdline"] == 'sh -c \\"echo \\": oom_score 9\\"'


def test_7_group_kill_one_header_n_victims():
    recs = kills("c-oom-group.log")
    assert len(recs) == 3 and all(r["group_kill"] and r["basis"] == "kill_line" for r in recs)
    assert len({r["invoker"]["comm"] for r in recs}) == 1


def test_8_the_canary_counts_what_no_rule_read():
    found = canary("c-canary.log", year=2026)
    assert found["count"] == 4 and found["by_source"] == {"c-canary.log": 4}
    assert found["lines"] == ["Out of memory and no killable processes...",
                              "Killed process 4711 [future] total-vm:1000kB, anon-rss:900kB",
                              "OOM victim 4712 (later) killed by oom-kill",
                              "Marked cgroup /system.slice/x.service for killing due to memory pressure"]
    assert kills("c-canary.log", year=2026) == []


def test_8_canary_over_sources_counts_the_most_any_source_saw_and_keeps_five_lines():
    lines = ["[%d.0] Killed process %d [future]" % (n, n) for n in range(1, 9)]
    dmesg = list(kl.parse_lines(lines, "dmesg"))
    journal = list(kl.parse_lines(lines[:3], "journal"))
    found = kl.unparsed_of(journal, dmesg)
    assert found["count"] == 8 and found["by_source"] == {"journal": 3, "dmesg": 8}
    assert found["lines"] == ["Killed process %d [future]" % n for n in range(1, 6)]
    assert kl.unparsed_of(list(kl.parse_lines(lines_of("real-6.18-dmesg.log"), "dmesg"))) == {
        "count": 0, "lines": [], "by_source": {}}


def test_8_canary_lines_are_valid_utf8():
    found = kl.unparsed_of(list(kl.parse_lines(['{"MESSAGE": "Killed process 1 [\\ud800]", "_TRANSPORT": "kernel"}'])))
    assert found["count"] == 1
    found["lines"][0].encode("utf-8")  # a lone surrogate from JSON would raise here


def _kill_rec(pid, boot_id, memcg, basis="kill_line", killer="kernel", trust="kernel"):
    return kl.new_record(pid=pid, comm="x", boot_id=boot_id, task_memcg=memcg, basis=basis, killer=killer, timestamp=2000.0,
                         trust=trust)


def test_8_unaccounted_kills_against_vmstat_and_cgroups():
    recs = [_kill_rec(1, "b", "/a"), _kill_rec(2, "b", "/a/b"), _kill_rec(3, "old", "/a"),
            _kill_rec(4, "b", None, killer="earlyoom"), _kill_rec(5, "b", None, basis="unit_report")]
    cgroups = [{"path": "/a", "oom_kill": 3, "source": "memory.oom_control"},
               {"path": "/a", "oom_kill": 4, "source": "memory.events"}]
    got = kl.account_kills(recs, 5, cgroups, boot_id="b", boot_time=1000.0, since=None, sources_read=["dmesg"])
    assert (got["count"], got["counter"], got["parsed"], got["reason"]) == (3, 5, 2, None)
    # v1 counts the cgroup's own kills, v2 its subtree's
    assert got["cgroups"] == [{"path": "/a", "oom_kill": 3, "parsed": 1, "unaccounted": 2},
                              {"path": "/a", "oom_kill": 4, "parsed": 2, "unaccounted": 2}]


@pytest.mark.parametrize("oom_kill, since, sources, reason", [
    (None, None, ["dmesg"], "oom_kill counter"),
    (5, None, [], "no kernel log source"),
    (5, 1500.0, ["journal", "files"], "starts after the boot"),
])
def test_8_unaccounted_kills_unknown_is_null_never_0(oom_kill, since, sources, reason):
    got = kl.account_kills([_kill_rec(1, "b", "/a")], oom_kill, [{"path": "/a", "oom_kill": 1, "source": "x"}], "b", 1000.0,
                           since, sources)
    assert got["count"] is None and reason in got["reason"]
    assert got["cgroups"] == [{"path": "/a", "oom_kill": 1, "parsed": 1, "unaccounted": None}]


def test_8_unaccounted_kills_count_only_what_the_kernel_wrote_and_never_go_negative():
    # two forged kern.log lines (unverified) on a host whose kernel counted no kill: not two kills too many
    forged = [_kill_rec(1, "b", "/a", trust="unverified"), _kill_rec(2, "b", "/a", trust="unverified")]
    got = kl.account_kills(forged, 0, [{"path": "/a", "oom_kill": 0, "source": "memory.oom_control"}], "b", 1000.0, None,
                           ["files"])
    assert (got["count"], got["parsed"], got["reason"]) == (0, 0, None)
    assert got["cgroups"] == [{"path": "/a", "oom_kill": 0, "parsed": 0, "unaccounted": 0}]
    # a record of no source (trust None) is no kernel record either; systemd-oomd's and earlyoom's never were
    got = kl.account_kills([_kill_rec(1, "b", "/a", trust=None), _kill_rec(2, "b", None, killer="earlyoom")] + forged, 3,
                           None, "b", 1000.0, None, ["dmesg"])
    assert (got["count"], got["parsed"]) == (3, 0)
    # more kernel kills in the log than the counter: 0 unaccounted and a reason, never a negative count
    got = kl.account_kills([_kill_rec(1, "b", "/a"), _kill_rec(2, "b", "/a")], 1,
                           [{"path": "/a", "oom_kill": 1, "source": "memory.oom_control"}], "b", 1000.0, None, ["dmesg"])
    assert (got["count"], got["parsed"], got["counter"]) == (0, 2, 1)
    assert "more kernel kills (2) than the kernel counted (1)" in got["reason"]
    assert got["cgroups"] == [{"path": "/a", "oom_kill": 1, "parsed": 2, "unaccounted": 0}]


@pytest.mark.parametrize("source", ["dmesg", "kmsg"])
def test_8_unaccounted_kills_with_since_after_boot_when_the_ring_buffer_was_read(source):
    # dmesg and /dev/kmsg are read whole, whatever since says: the comparison holds for the whole boot
    got = kl.account_kills([_kill_rec(1, "b", "/a")], 3, None, "b", 1000.0, 1500.0, ["journal", source])
    assert (got["count"], got["parsed"], got["reason"]) == (2, 1, None)


def test_regexes_are_compiled_on_first_use_not_at_import():
    import subprocess  # pylint: disable=import-outside-toplevel
    import sys  # pylint: disable=import-outside-toplevel
    code = ("import re, sys\n"
            "compiled = []\n"
            "real = re.compile\n"
            "re.compile = lambda *a, **k: compiled.append(a[0]) or real(*a, **k)\n"
            "from ansible_collections.oomguard.linux.plugins.module_utils import _kernel_log as kl\n"
            "assert kl._RX.__dict__ == {}, kl._RX.__dict__\n"
            "print(len([c for c in compiled if c in kl._Patterns.SOURCES.values()]))\n"
            "kl.split_line('[1.0] Killed process 1 (a)')\n"
            "print(sorted(kl._RX.__dict__))\n")
    out = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
                         universal_newlines=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.splitlines()
    assert first == "0" and second == "['HOSTTAG', 'MONO']"


def test_invoker_pid_from_another_source_fills_the_journals():
    # journalctl --grep keeps the header but drops the CPU line (no needle): dmesg's invoker pid and uid fill it in
    journal = kl.merge_records(kl.parse_lines([l for l in lines_of("real-6.18-journal.json") if "CPU:" not in l], "journal"))
    assert journal[0]["invoker"]["pid"] is None
    dmesg = kl.parse_lines(lines_of("real-6.18-dmesg.log"), "dmesg", boot_time=REAL_BOOT_TIME, boot_id=REAL_BOOT_ID)
    merged = kl.merge_records(kl.parse_lines([l for l in lines_of("real-6.18-journal.json") if "CPU:" not in l], "journal"),
                              dmesg)
    assert merged[0]["sources"] == ["journal", "dmesg"]
    assert (merged[0]["invoker"]["pid"], merged[0]["invoker"]["uid"], merged[0]["invoker"]["comm"]) == (17153, 0, "a (b) c")


@pytest.mark.parametrize("name, kwargs", [
    ("c-2.6.18-and-children.log", {}), ("c-2.6.32-or-a-child.log", {}), ("c-3.x-sacrifice-child.log", {}),
    ("c-5.0-summary-global.log", {}), ("c-oom-group.log", {}), ("c-prefixes.log", {"year": 2026}),
    ("c-userspace-2024-2026.log", {"year": 2026}), ("real-6.18-dmesg.log", {}), ("c-evidence-without-kill-line.log", {}),
])
def test_4_every_fixture_read_newest_first_gives_the_same_kills(name, kwargs):
    """The same lines in reverse give the same kills (no child kill grows a second record for its parent) with the
    same invoker, cgroup and score."""
    def key(recs):
        return sorted(tuple(str(v) for v in (r["pid"], r["comm"], r["basis"], r["task_memcg"], r["score"],
                                             (r["invoker"] or {}).get("comm"))) for r in recs)
    lines = lines_of(name)
    forward = kl.merge_records(kl.parse_lines(lines, name, now=NOW, **kwargs))
    backward = kl.merge_records(kl.parse_lines(lines[::-1], name, now=NOW, **kwargs))
    assert forward and key(backward) == key(forward)


@pytest.mark.parametrize("crafted, counted", [
    ("x" + ": Killed process 1 (((" * 2800, 1),  # 60 KB: 4.1 s before the bound and the bounded comm
    ("x" + ": Kill process 1 (((" * 3100, 1),
    ("Task in /x killed as a result of limit of " + " " * 60000 + "x", 0),  # 29 s before; no OOM marker: not counted
])
def test_crafted_long_lines_cost_linear_time_and_are_counted(crafted, counted):
    # anyone can write such a line to syslog: it must neither stall the parser nor pass for a kill
    real = "[5.0] Out of memory: Killed process 42 (real) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB"
    started = time.monotonic()
    events = list(kl.parse_lines(["[4.0] " + crafted, real]))
    assert time.monotonic() - started < 1.0
    assert [(e["pid"], e["comm"]) for e in events if e.get("_event", "kill") == "kill"] == [(42, "real")]
    canary = kl.unparsed_of(events)
    assert canary["count"] == counted
    if counted:
        assert canary["lines"][0].endswith("[%d characters, longer than any kernel record: not parsed]" % len(crafted))
    # under the bound the patterns themselves are linear: the longest message a kernel record can be is cheap too
    head = crafted[:kl.MAX_MESSAGE_CHARS]
    started = time.monotonic()
    events = list(kl.parse_lines(["[4.0] " + head] * 20))
    assert time.monotonic() - started < 1.0
    assert not [e for e in events if e.get("_event", "kill") == "kill"]
