# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The kernel-log readers against hostile input (issue 13, classes 1, 3 and 4): bounded reading of real files,
trust per source, journal entries checked by journald's trusted fields, one record per kill whatever the name holds.

Files here are real files in tmp_path. The journal answers are constructed journalctl ``-o json`` lines fed through a
fake ``run_command``: a journal entry that journald really attributes to earlyoom.service or to PID 1 needs systemd
as PID 1, which this machine kind does not have (the forged entries ARE written for real by ``nobody`` into a real
journald in tests/integration/test_kernel_log_hostile.py). The newline/0xff name is a recording of a real kill on
this machine (fixtures real-6.18-*-newline-comm.log); the live kill is in the integration test as well.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import stat as stat_mod

import pytest

from ansible_collections.oomguard.linux.plugins.module_utils import _kernel_log as kl
from helpers.journal import as_logged_by_owner

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "kernel_log")
KILL = "Nov 27 09:00:00 h kernel: [50000.1] Memory cgroup out of memory: Killed process %d (%s) total-vm:1kB, anon-rss:1kB, file-rss:0kB\n"
NAME_SPELLED = "lg\\x0acd\\xff\\x09"  # b"lg\ncd\xff\t" as /dev/kmsg spells it, and as every reader returns it


def fixture_lines(name):
    with io.open(os.path.join(FIXTURES, name), "rb") as handle:
        return [line.rstrip(b"\n") for line in handle if not line.startswith(b"# ")]


def utf8_json(value):
    """What ansible-core 2.19 needs of a result: JSON that encodes as UTF-8 (no lone surrogates)."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def write_log(path, data):
    """Write ``data`` to ``path``, gzip-compressed when the name ends in .gz (a rotated log)."""
    if str(path).endswith(".gz"):
        with gzip.open(str(path), "wb") as handle:
            handle.write(data)
    else:
        path.write_bytes(data)


def kills_in(path, **kwargs):
    stats = kl.FileStats()
    recs = kl.merge_records(kl.parse_file(str(path), stats=stats, year=2026, **kwargs))
    return recs, stats


# -- class 3: bounded reading ---------------------------------------------------------------------------
@pytest.mark.parametrize("chunk", [7, 64, 4096, 1 << 20])
def test_long_line_is_cut_counted_and_the_next_kill_still_found(tmp_path, chunk):
    log = tmp_path / "kern.log"
    log.write_bytes(KILL.encode() % (11, b"first") + b"x" * 5000 + b"\n" + b"\0" * 3000 + b"\n" + KILL.encode() % (12, b"second"))
    recs, stats = kills_in(log, chunk_size=chunk, limits={"max_line_length": 1024})
    assert [r["pid"] for r in recs] == [11, 12]
    assert stats.long_lines == 2 and stats.lines == 4


def test_a_line_without_end_is_never_accumulated(tmp_path):
    """The reader asks for chunks; what it keeps between chunks never exceeds max_line_length."""
    held = []

    class Endless(object):
        """64 MiB of NUL bytes without a newline, then one kill line; records the longest carry seen."""
        left = 64 << 20

        def read(self, size):
            if self.left <= 0:
                if self.left == 0:
                    self.left = -1
                    return b"\n" + (KILL % (13, "after")).encode()
                return b""
            size = min(size, self.left)
            self.left -= size
            return b"\0" * size

    stats = kl.FileStats()
    blocks = list(kl._line_blocks(Endless().read, 1 << 20, 4096, stats))  # pylint: disable=protected-access
    held.extend(len(b) for b in blocks)
    assert max(held) <= 4096 + 1 and stats.long_lines == 1
    recs = kl.merge_records(kl.parse_file(Endless(), limits={"max_line_length": 4096}, year=2026))
    assert [r["pid"] for r in recs] == [13]


def test_plain_file_over_the_cap_is_read_from_its_end(tmp_path):
    log = tmp_path / "messages"
    old = KILL.encode() % (21, b"old")
    new = KILL.encode() % (22, b"new")
    log.write_bytes(old + b"filler line\n" * 1000 + new)
    recs, stats = kills_in(log, limits={"max_bytes_per_file": 4096})
    assert [r["pid"] for r in recs] == [22]
    assert stats.bytes_read == 4096 and stats.size == log.stat().st_size
    assert stats.truncated == "read the last 4096 of %d bytes (max_bytes_per_file)" % log.stat().st_size
    whole, stats = kills_in(log)
    assert [r["pid"] for r in whole] == [21, 22] and stats.truncated is None


def test_gzip_inflated_and_compressed_caps(tmp_path):
    packed = tmp_path / "kern.log.2.gz"
    with gzip.open(str(packed), "wb") as handle:
        handle.write(KILL.encode() % (31, b"early"))
        handle.write(b"\0" * (8 << 20))  # inflates far beyond the cap below
        handle.write(b"\n" + KILL.encode() % (32, b"late"))
    recs, stats = kills_in(packed, limits={"max_inflated_bytes": 1 << 20})
    assert [r["pid"] for r in recs] == [31]
    assert stats.bytes_read == 1 << 20 and stats.truncated == "stopped after 1048576 inflated bytes (max_inflated_bytes)"
    recs, stats = kills_in(packed, limits={"max_bytes_per_file": 200})
    assert stats.truncated == "stopped after 200 compressed bytes (max_bytes_per_file)"
    recs, stats = kills_in(packed)
    assert [r["pid"] for r in recs] == [31, 32] and stats.truncated is None and stats.long_lines == 1


def test_non_regular_files_are_skipped_before_open(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(str(fifo))
    target = tmp_path / "real.log"
    target.write_bytes(KILL.encode() % (41, b"via-link"))
    link = tmp_path / "kern.log"
    link.symlink_to(target)
    dangling = tmp_path / "messages"
    dangling.symlink_to(tmp_path / "nowhere")
    folder = tmp_path / "dir.log"
    folder.mkdir()
    events, status = kl.read_log_files([str(fifo), "/dev/zero", str(folder), str(link), str(dangling)], rotated=False)
    by_path = dict((f["path"], f) for f in status["files"])
    assert by_path[str(fifo)]["reason"] == "not a regular file: FIFO"
    assert by_path["/dev/zero"]["reason"] == "not a regular file: character device"
    assert by_path[str(folder)]["reason"] == "not a regular file: directory"
    for path in (str(link), str(dangling)):
        assert by_path[path]["reason"] == "not a regular file: symbolic link (not followed)"
    assert all(f["skipped"] and not f["read"] for f in status["files"]) and len(status["files"]) == 5
    assert events == [] and status["available"] is False


def test_file_swapped_between_check_and_open_is_refused(tmp_path, monkeypatch):
    """The race (regular file at lstat, a FIFO at open) cannot be timed from a test: lstat is made to answer
    what it answered for a regular file a moment before; the open and fstat are real."""
    regular = tmp_path / "was-regular"
    regular.write_text("x\n")
    fifo = tmp_path / "kern.log"
    os.mkfifo(str(fifo))
    seen = os.lstat(str(regular))
    real_lstat = os.lstat
    monkeypatch.setattr(kl.os, "lstat", lambda path: seen if path == str(fifo) else real_lstat(path))
    with pytest.raises(kl.SkippedFile, match=r"replaced while being opened \(now a FIFO\)"):
        kl.open_log(str(fifo))
    assert stat_mod.S_ISFIFO(real_lstat(str(fifo)).st_mode)


# -- class 1: valid UTF-8 from every byte ---------------------------------------------------------------
@pytest.mark.parametrize("name", ["kern.log", "kern.log.2.gz"])
def test_undecodable_bytes_in_a_file_are_spelled_not_surrogates(tmp_path, name):
    log = tmp_path / name
    write_log(log, b"Nov 27 09:00:00 h kernel: [50000.0] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
                   b"mems_allowed=0,oom_memcg=/system.slice/w\xffb.service,task_memcg=/system.slice/w\xffb.service,"
                   b"task=a\xffb,pid=51,uid=0\n" + KILL.encode() % (51, b"a\xffb") +
                   b"Nov 27 09:00:01 h kernel: [50000.2] Memory cgroup out of memory: Killed process 52 (tab#011name) "
                   b"total-vm:1kB\n")
    events, status = kl.read_log_files([str(log)])
    recs = kl.merge_records(events)
    first, second = recs
    assert first["comm"] == "a\\xffb" and first["task_memcg"] == "/system.slice/w\\xffb.service"
    assert first["unit"] == "w\\xffb.service"
    assert all("\\xff" in line for line in first["raw"])
    assert second["comm"] == "tab\\x09name"  # rsyslog's #011 spelled as the kernel spells a tab
    utf8_json(recs)
    utf8_json(status)


def test_log_text_spellings():
    assert kl.log_text(b"a\nb\tc\x7f\xff\xc3\xa9") == "a\\x0ab\\x09c\\x7f\\xff\u00e9"
    assert kl.log_text("s\udcffx") == "s\\xffx"  # a surrogate-escaped str from run_command
    assert kl.log_text(b"a\\x0ab\\xc3\\xa9\\x5c", "kmsg") == "a\\x0ab\u00e9\\"
    assert kl.log_text(b"a\\x41\\xc3\\xa9", "dmesg") == "a\\x41\u00e9"  # dmesg escapes only what it cannot print
    assert kl.log_text(b"a#012b#040", "syslog") == "a\\x0ab#040"


# -- class 4: a name with a newline is one kill; trust follows the source ---------------------------------
def test_recorded_newline_name_is_one_record_in_dmesg_and_kmsg():
    dmesg_lines = [line.decode("utf-8", "surrogateescape") for line in fixture_lines("real-6.18-dmesg-newline-comm.log")]
    dmesg = list(kl.parse_lines(kl.dmesg_records(dmesg_lines), "dmesg", boot_time=1000.0))
    kmsg = list(kl.parse_lines((kl.kmsg_text(line) for line in fixture_lines("real-6.18-kmsg-newline-comm.log")), "kmsg",
                               boot_time=1000.0))
    for events in (dmesg, kmsg):
        rec, = kl.merge_records(events)
        assert (rec["pid"], rec["comm"], rec["uid"]) == (472, NAME_SPELLED, 0)
        assert rec["task_memcg"] == "/oomguard-test-0a2cc22f" and rec["invoker"]["comm"] == NAME_SPELLED
    rec, = kl.merge_records(dmesg, kmsg)
    assert rec["sources"] == ["dmesg", "kmsg"]
    utf8_json(rec)


def test_file_records_are_unverified_and_the_kernel_wins_a_merge(tmp_path):
    log = tmp_path / "kern.log"
    # a forged line (logger -t kernel) for the same kill, claiming another cgroup the kernel did not print
    log.write_bytes(b"1970-01-01T00:18:20+00:00 h kernel: oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
                    b"mems_allowed=0,oom_memcg=/system.slice/postgresql.service,task_memcg=/system.slice/postgresql.service,"
                    b"task=q,pid=9,uid=0\n"
                    b"1970-01-01T00:18:20+00:00 h kernel: Out of memory: Killed process 9 (q) total-vm:1kB, anon-rss:1kB, "
                    b"file-rss:0kB, UID:0\n")
    files, dummy = kl.read_log_files([str(log)])
    assert {e["trust"] for e in files} == {"unverified"}
    dmesg = kl._set_trust(list(kl.parse_lines(  # pylint: disable=protected-access
        ["[100.900000] Out of memory: Killed process 9 (q) total-vm:1kB, anon-rss:1kB, file-rss:0kB"], "dmesg", boot_time=1000.0)),
        "kernel")
    for order in ((dmesg, files), (files, dmesg)):
        rec, = kl.merge_records(*order)
        assert rec["trust"] == "kernel" and sorted(rec["sources"]) == ["dmesg", "file:" + str(log)]
    rec, = kl.merge_records(dmesg, files)
    assert rec["task_memcg"] is None and rec["unit"] is None  # the text log filled in nothing
    alone, = kl.merge_records(files)
    assert alone["trust"] == "unverified" and alone["unit"] == "postgresql.service"


def journal_line(**fields):
    entry = {"__REALTIME_TIMESTAMP": "1795780180000000", "__MONOTONIC_TIMESTAMP": "0", "_BOOT_ID": "3f" * 16}
    entry.update(fields)
    return json.dumps(entry, separators=(",", ":"))  # journalctl's compact spelling


def fake_run(answers):
    def run(cmd):
        return answers.pop(0)
    return run


def test_journal_trust_is_checked_per_entry():
    earlyoom = 'sending SIGKILL to process %d uid 0 "postgres": badness 900, VmRSS 100 MiB'
    kernel_query = "\n".join([
        journal_line(_TRANSPORT="kernel", SYSLOG_IDENTIFIER="kernel", _SOURCE_MONOTONIC_TIMESTAMP="5000000",
                     MESSAGE="Out of memory: Killed process 61 (real) total-vm:1kB, anon-rss:1kB, file-rss:0kB"),
        # what a journal match must never let through, checked again per entry: a user's "kernel" line
        journal_line(_TRANSPORT="syslog", SYSLOG_IDENTIFIER="kernel", _UID="65534", _PID="4242",
                     MESSAGE="Out of memory: Killed process 62 (forged) total-vm:1kB"),
    ])
    user_query = "\n".join([
        journal_line(_TRANSPORT="syslog", SYSLOG_IDENTIFIER="earlyoom", _UID="65534", _PID="4243", MESSAGE=earlyoom % 63),
        journal_line(_TRANSPORT="journal", SYSLOG_IDENTIFIER="earlyoom", _UID="0", _PID="4244", _SYSTEMD_UNIT="session-3.scope",
                     MESSAGE=earlyoom % 64),
        journal_line(_TRANSPORT="stdout", SYSLOG_IDENTIFIER="earlyoom", _UID="1000", _PID="4245", _SYSTEMD_UNIT="earlyoom.service",
                     MESSAGE=earlyoom % 65),
        journal_line(_TRANSPORT="journal", SYSLOG_IDENTIFIER="systemd", _UID="1000", _PID="1500",
                     MESSAGE="web.service: A process of this unit has been killed by the OOM killer."),
        journal_line(_TRANSPORT="journal", SYSLOG_IDENTIFIER="systemd-oomd", _UID="65534", _PID="4246",
                     MESSAGE="Killed /system.slice/db.service due to memory pressure for / being 99.00% > 50.00% for > 20s"),
    ]) + "\n" + as_logged_by_owner(journal_line(SYSLOG_IDENTIFIER="earlyoom", MESSAGE=earlyoom % 66))
    events, status = kl.read_journal(fake_run([(0, kernel_query, ""), (0, user_query, "")]))
    recs = kl.merge_records(events)
    assert sorted((r["pid"], r["killer"], r["trust"]) for r in recs) == [(61, "kernel", "kernel"), (66, "earlyoom", "killer")]
    assert status["refused"] == 6
    for why in ("not _TRANSPORT=kernel: 1", "earlyoom line not from earlyoom.service: 2", "earlyoom line from uid 1000: 1",
                "systemd line not from PID 1 as root: 1", "systemd-oomd line not from systemd-oomd.service: 1"):
        assert why in status["reason"], status["reason"]


def test_journal_message_bytes_with_newline_and_0xff_are_one_record():
    name = b"lg\ncd\xff\t"
    message = b"Memory cgroup out of memory: Killed process 472 (" + name + b") total-vm:75344kB, anon-rss:65280kB, UID:0"
    kernel_query = journal_line(_TRANSPORT="kernel", SYSLOG_IDENTIFIER="kernel", _SOURCE_MONOTONIC_TIMESTAMP="634104393",
                                MESSAGE=list(message + b"\n"))
    events, status = kl.read_journal(fake_run([(0, kernel_query, ""), (1, "", "")]))
    rec, = kl.merge_records(events)
    assert (rec["pid"], rec["comm"], rec["uid"], rec["trust"]) == (472, NAME_SPELLED, 0, "kernel")
    assert status["refused"] == 0
    utf8_json(rec)


def _trusted(lines, source, trust, **kwargs):
    return kl._set_trust(list(kl.parse_lines(lines, source, **kwargs)), trust)  # pylint: disable=protected-access


def test_a_real_report_never_vouches_for_a_forged_kill():
    # systemd (PID 1, trusted by the journal reader) reports an OOM kill in batch.service; a user writes a kernel-looking
    # line into kern.log two seconds later: it stays unverified and unitless, and the report is a record of its own
    report = _trusted(["1970-01-01T00:18:20+00:00 h systemd[1]: batch.service: A process of this unit has been killed by "
                       "the OOM killer."], "journal", "killer")
    forged = _trusted(["1970-01-01T00:18:22+00:00 h kernel: Out of memory: Killed process 4242 (postgres)"],
                      "file:/var/log/kern.log", "unverified")
    for order in ((report, forged), (forged, report)):
        recs = kl.merge_records(*order)
        assert sorted(((r["comm"], r["unit"], r["trust"], r["basis"]) for r in recs), key=lambda r: r[2]) == [
            (None, "batch.service", "killer", "unit_report"), ("postgres", None, "unverified", "kill_line")]
    # a report as strong as the kill still names its unit (the kernel's kill line carries none on cgroup v1 hosts)
    kernel = _trusted(["[1101.0] Out of memory: Killed process 4242 (postgres)"], "dmesg", "kernel", boot_time=0.0)
    rec, = kl.merge_records(report, kernel)
    assert (rec["comm"], rec["unit"], rec["trust"], rec["unit_reported"]) == ("postgres", "batch.service", "kernel", True)


def test_a_forged_report_names_no_unit_in_a_real_reports_burst():
    # the real manager's report and a forged report of the app's unit at the same instant: the app's unit is not taken
    real = _trusted(["1970-01-01T00:18:20+00:00 h systemd[1]: user@1000.service: A process of this unit has been killed by "
                     "the OOM killer."], "journal", "killer")
    forged = _trusted(["1970-01-01T00:18:20+00:00 h systemd[1]: app.service: A process of this unit has been killed by "
                       "the OOM killer."], "file:/var/log/syslog", "unverified")
    for order in ((real, forged), (forged, real)):
        rec, = kl.merge_records(*order)
        assert (rec["unit"], rec["trust"]) == ("user@1000.service", "killer")


def test_a_kernel_reaper_line_never_raises_a_forged_kills_trust():
    forged = _trusted(["[1100.0] Out of memory: Killed process 4242 (postgres)"], "file:/var/log/kern.log", "unverified",
                      boot_time=0.0)
    reaper = _trusted(["[1100.2] oom_reaper: reaped process 4242 (postgres), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"],
                      "dmesg", "kernel", boot_time=0.0)
    rec, = kl.merge_records(reaper, forged)
    assert (rec["comm"], rec["trust"], rec["reaped"]) == ("postgres", "unverified", True)
