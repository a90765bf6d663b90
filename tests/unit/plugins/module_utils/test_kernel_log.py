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
    assert first["invoker"] == {"comm": "a (b) c", "gfp_mask": "0xcc0", "gfp_flags": "GFP_KERNEL", "order": 0,
                                "oom_score_adj": 0}
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
    rec = only(kl.merge_records(kl.parse_lines(lines)))
    assert rec["pid"] == 2 and rec["task_memcg"] is None and rec["unit"] is None
    assert rec["constraint"] == "memcg"  # from the kill line's own message


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
