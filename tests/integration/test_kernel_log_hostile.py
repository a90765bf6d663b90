# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Issue 13 for the kernel-log readers, run for real: hostile log files (a FIFO, /dev/zero, a directory, symbolic
links, a sparse 2 GiB file of NUL bytes, a gzip bomb), forged kills written by ``nobody`` with ``logger`` into a real
journald and into a syslog file, and a real OOM kill of a process whose name holds a newline, a 0xff byte and a tab.

The module runs as Ansible runs it on a host: ``plugins/modules/oom_facts.py`` in its own Python process (its peak
RSS is its own VmHWM, read as it exits), or through ansible-playbook (ansible-core 2.19 refuses a result that is not valid UTF-8).
The one stand-in: no syslog daemon is installed on this machine kind, so ``MiniSyslog`` receives what ``logger``
sends to a syslog socket and appends it to a file the way rsyslog's traditional format does (``<PRI>`` removed,
the host name added); ``logger`` and the forging user are real.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

import pytest

from ansible_collections.oomguard.linux.plugins.module_utils import _kernel_log as kl
from helpers.journal import start_private_journal
from helpers.oomkill import MemoryCgroup

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "plugins" / "modules" / "oom_facts.py"
MIB = 1 << 20
RSS_LIMIT_KIB = 60 * 1024
NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]

pytestmark = [pytest.mark.root, pytest.mark.skipif(os.geteuid() != 0, reason="needs root: memory cgroups, setpriv, the kernel log")]


def run_command(argv):
    proc = subprocess.run(argv, capture_output=True, env=dict(os.environ, LC_ALL="C"), check=False)
    return (proc.returncode, proc.stdout.decode("utf-8", "surrogateescape"), proc.stderr.decode("utf-8", "surrogateescape"))


# Runs the module file as its __main__ and, when it exits (exit_json ends in sys.exit), writes the process's VmHWM:
# the peak RSS of this process's own memory since exec. (ru_maxrss from wait4 would not do: Linux carries the
# forking parent's RSS over into the child's maxrss across exec, so it measured pytest.)
RUNNER = r"""
import atexit, runpy, sys
out, module, args = sys.argv[1:4]
def peak():
    with open('/proc/self/status') as status, open(out, 'w') as handle:
        handle.write([line for line in status if line.startswith('VmHWM:')][0].split()[1])
atexit.register(peak)
sys.argv = [module, args]
runpy.run_path(module, run_name='__main__')
"""


def module_process(args, timeout=120.0):
    """Run oom_facts.py as the module process on this host; return (result, peak RSS in KiB, seconds)."""
    with tempfile.TemporaryDirectory(prefix="oomguard-logsec-") as tmp:
        args_file = Path(tmp) / "args.json"
        args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        peak_file = Path(tmp) / "vmhwm"
        env = dict(os.environ, PYTHONPATH=str(ROOT / ".collections"), LC_ALL="C")
        started = time.monotonic()
        try:
            proc = subprocess.run([sys.executable, "-c", RUNNER, str(peak_file), str(MODULE), str(args_file)],
                                  capture_output=True, env=env, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            pytest.fail("the module did not return within %ss" % timeout)
        seconds = time.monotonic() - started
        peak = int(peak_file.read_text())
    text = proc.stdout
    result = json.loads(text[text.index(b"{"):])
    return result, peak, seconds


def files_status(result):
    return result["ansible_facts"]["oom"]["sources"]["files"]


@pytest.fixture(scope="module")
def baseline_rss():
    """Peak RSS of the module reading one tiny log (Python, Ansible's module_utils, the process table)."""
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "kern.log"
        small.write_text("Nov 27 09:00:00 h kernel: nothing\n")
        result, rss, dummy = module_process({"sources": ["files"], "log_files": [str(small)], "top": 1})
    assert files_status(result)["files"][0]["read"] is True
    return rss


# -- class 3: what is not a regular file is never opened -----------------------------------------------
def test_fifo_zero_directory_and_links_are_skipped_quickly(tmp_path):
    fifo = tmp_path / "kern.log"
    os.mkfifo(str(fifo))  # no writer: a plain open() for reading would block forever
    target = tmp_path / "elsewhere.log"
    target.write_text("Nov 27 09:00:00 h kernel: Out of memory: Killed process 4242 (via-link) total-vm:1kB\n")
    link = tmp_path / "messages"
    link.symlink_to(target)
    loop = tmp_path / "syslog"
    loop.symlink_to(loop)
    folder = tmp_path / "daemon.log"
    folder.mkdir()
    paths = [str(fifo), "/dev/zero", str(folder), str(link), str(loop)]
    result, rss, seconds = module_process({"sources": ["files"], "log_files": paths, "top": 1}, timeout=30)
    assert seconds < 10, seconds
    print("FIFO, /dev/zero, directory, links: the module returned in %.2f s" % seconds)
    status = files_status(result)
    by_path = dict((f["path"], f) for f in status["files"])
    assert {p: (by_path[p]["skipped"], by_path[p]["reason"]) for p in paths} == {
        str(fifo): (True, "not a regular file: FIFO"),
        "/dev/zero": (True, "not a regular file: character device"),
        str(folder): (True, "not a regular file: directory"),
        str(link): (True, "not a regular file: symbolic link (not followed)"),
        str(loop): (True, "not a regular file: symbolic link (not followed)"),
    }
    assert status["status"] == "unavailable" and result["ansible_facts"]["oom"]["kills"] == []
    # nothing was changed or consumed: the FIFO is still a FIFO, the link still points where it pointed
    assert fifo.is_fifo() and os.readlink(str(link)) == str(target)


# -- class 3: bounded lines, bytes and inflation, with flat memory ---------------------------------------
@pytest.fixture
def crashed_syslog(tmp_path):
    """A sparse 2 GiB run of NUL bytes (no disk used), then a real kill line: a syslog after an ext4 crash."""
    path = tmp_path / "kern.log"
    with open(path, "wb") as handle:
        handle.truncate(2 << 30)
        handle.seek(2 << 30)
        handle.write(b"\nNov 27 09:00:00 h kernel: [50000.1] Out of memory: Killed process 4343 (after-crash) total-vm:1kB\n")
    assert os.stat(path).st_blocks * 512 < 1 << 20  # sparse indeed
    return path


def test_rss_measurement_sees_memory_that_is_held(tmp_path, baseline_rss):
    """The instrument itself: with the line cap raised above a 48 MiB line, the module must hold that line, and
    the peak RSS measured this way shows it (so the flat figures below are measured, not a constant)."""
    big = tmp_path / "kern.log"
    big.write_bytes(b"x" * (48 * MIB) + b" Killed process 1 (x)\n")
    result, rss, dummy = module_process({"sources": ["files"], "log_files": [str(big)], "top": 1,
                                         "max_line_length": 64 * MIB})
    assert files_status(result)["files"][0]["long_lines"] == 0
    assert rss - baseline_rss > 40 * 1024, (rss, baseline_rss)


def test_sparse_2gib_nul_file_default_caps(crashed_syslog, baseline_rss):
    result, rss, seconds = module_process({"sources": ["files"], "log_files": [str(crashed_syslog)], "top": 1})
    entry, = files_status(result)["files"]
    size = crashed_syslog.stat().st_size
    assert entry["read"] is True and entry["bytes_read"] == 256 * MIB
    assert entry["truncated"] == "read the last %d of %d bytes (max_bytes_per_file)" % (256 * MIB, size)
    assert [k["pid"] for k in result["ansible_facts"]["oom"]["kills"]] == [4343]
    assert rss < RSS_LIMIT_KIB and rss - baseline_rss < 8 * 1024, (rss, baseline_rss)
    print("sparse 2 GiB, default caps: %.2f s, peak RSS %d KiB (baseline %d KiB)" % (seconds, rss, baseline_rss))


@pytest.mark.slow
def test_sparse_2gib_nul_file_read_whole_in_flat_memory(crashed_syslog, baseline_rss):
    """All 2 GiB read (cap raised): one 2 GiB "line" without a newline is cut, not collected."""
    args = {"sources": ["files"], "log_files": [str(crashed_syslog)], "top": 1, "max_bytes_per_file": 4 << 30}
    result, rss, seconds = module_process(args, timeout=180)
    entry, = files_status(result)["files"]
    assert entry["bytes_read"] == crashed_syslog.stat().st_size and entry["truncated"] is None
    assert entry["long_lines"] == 1
    assert [k["pid"] for k in result["ansible_facts"]["oom"]["kills"]] == [4343]
    assert rss < RSS_LIMIT_KIB and rss - baseline_rss < 8 * 1024, (rss, baseline_rss)
    print("sparse 2 GiB read whole: %.2f s, peak RSS %d KiB (baseline %d KiB)" % (seconds, rss, baseline_rss))


def gzip_bomb(path, members=192, member_mib=16):
    """A real gzip bomb: one gzip member made by streaming ``member_mib`` MiB of zeros into zlib's gzip encoder,
    repeated ``members`` times (gzip readers inflate concatenated members as one stream). Returns the inflated size."""
    encoder = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MIB)
    member = b"".join([encoder.compress(zeros) for _index in range(member_mib)] + [encoder.flush()])
    assert int.from_bytes(member[-4:], "little") == member_mib * MIB  # ISIZE: what this member inflates to
    with open(path, "wb") as handle:
        for _index in range(members):
            handle.write(member)
    return members * member_mib * MIB


def test_gzip_bomb_is_capped(tmp_path, baseline_rss):
    bomb = tmp_path / "kern.log.2.gz"
    inflated = gzip_bomb(bomb)
    assert bomb.stat().st_size < 8 * MIB and inflated == 3 << 30
    result, rss, seconds = module_process({"sources": ["files"], "log_files": [str(bomb)], "top": 1})
    entry, = files_status(result)["files"]
    assert entry["read"] is True and entry["bytes_read"] == 256 * MIB
    assert entry["truncated"] == "stopped after %d inflated bytes (max_inflated_bytes)" % (256 * MIB)
    assert entry["long_lines"] == 1
    assert rss < RSS_LIMIT_KIB and rss - baseline_rss < 8 * 1024, (rss, baseline_rss)
    assert seconds < 60, seconds  # about 6 s on an idle machine of this kind; the bound allows for a busy one
    print("gzip bomb %d bytes -> %d inflated: %.2f s, peak RSS %d KiB (baseline %d KiB)"
          % (bomb.stat().st_size, inflated, seconds, rss, baseline_rss))


# -- class 4: forged kills -------------------------------------------------------------------------------
def forged_lines(marker):
    """(tag, message, pid or cgroup the forgery names) for what any user can log."""
    return [
        ("earlyoom", 'sending SIGKILL to process %d uid 0 "postgres": badness 900, VmRSS 512 MiB' % marker, marker),
        ("kernel", "Out of memory: Killed process %d (postgres) total-vm:1kB, anon-rss:1kB, file-rss:0kB, UID:0" % (marker + 1),
         marker + 1),
        ("systemd", "forged-%d.service: A process of this unit has been killed by the OOM killer." % (marker + 2),
         "forged-%d.service" % (marker + 2)),
        ("systemd-oomd", "Killed /system.slice/forged-%d.service due to memory pressure for /system.slice being 99.00%% > "
                         "50.00%% for > 20s with reclaim activity" % (marker + 3), "forged-%d.service" % (marker + 3)),
    ]


def names_in(records):
    seen = set()
    for rec in records:
        seen.update([rec["pid"], rec["unit"]])
        seen.update(part for part in (rec["task_memcg"] or "").split("/") if part)
    return seen


@pytest.fixture
def own_journal():
    """A private journald of this test's own (not the session's): the forged lines stay out of other tests' journal."""
    journal = start_private_journal()
    try:
        yield journal
    finally:
        journal.stop()


def test_forged_journal_lines_are_refused(own_journal, oom_kill, run_module):
    private_journal = own_journal
    marker = 3900000 + secrets.randbelow(90000) * 4
    forged = forged_lines(marker)
    for tag, message, dummy in forged:  # through the syslog socket, as nobody
        subprocess.run(private_journal.wrapper + NOBODY + ["logger", "-u", "/run/systemd/journal/dev-log", "-t", tag, message],
                       check=True, timeout=30)
    # through the native protocol, claiming the trusted fields (journald drops sender-set "_" fields)
    native = ("SYSLOG_IDENTIFIER=earlyoom\n_SYSTEMD_UNIT=earlyoom.service\n_UID=0\n_PID=1\n"
              'MESSAGE=sending SIGKILL to process %d uid 0 "postgres": badness 900, VmRSS 512 MiB\n' % (marker + 4))
    subprocess.run(private_journal.wrapper + NOBODY + ["logger", "--journald"], input=native, text=True, check=True, timeout=30)
    kill = oom_kill(comm="logsec-real")
    private_journal.wait_for("Killed process %d" % kill.victim_pid)
    private_journal.wait_for("process %d" % (marker + 4), args=("-t", "earlyoom"))
    written = private_journal.journalctl("-o", "json", "-t", "earlyoom", "-t", "systemd", "-t", "systemd-oomd", "-t", "kernel")
    numbers = [str(marker + n) for n in range(5)]
    forged_entries = [json.loads(line) for line in written.splitlines() if any(n in line for n in numbers)]
    # all five are in the journal, written by nobody (journald's own _UID, whatever the sender claimed)
    assert len(forged_entries) == 5 and {e["_UID"] for e in forged_entries} == {"65534"}

    def in_journal(argv):
        return run_command(private_journal.wrapper + list(argv))

    # the forgeries are well-formed: the parser alone, without the readers' checks, takes them for kills
    naive = kl.merge_records(kl.parse_lines(in_journal(["journalctl", "--no-pager", "-o", "json"] + kl.USERSPACE_MATCH)[1]
                                            .splitlines(), "journal"))
    assert {marker, marker + 4, "forged-%d.service" % (marker + 2), "forged-%d.service" % (marker + 3)} <= names_in(naive)
    events, status = kl.read_journal(in_journal, since="1h")
    recs = kl.merge_records(events)
    assert status["available"] is True and status["refused"] >= 4, status
    names = names_in(recs)
    assert not names & {name for dummy, dummy2, name in forged} and marker + 4 not in names
    real = [r for r in recs if r["pid"] == kill.victim_pid]
    assert len(real) == 1 and real[0]["trust"] == "kernel" and real[0]["comm"] == "logsec-real"
    # the module itself, through Ansible, in the journal's namespace
    result = run_module("oom_facts", {"sources": ["journal"], "since": "1h", "top": 1}, wrapper=private_journal.wrapper)
    assert not result.get("failed"), result
    facts = result["ansible_facts"]["oom"]
    assert not names_in(facts["kills"]) & ({name for dummy, dummy2, name in forged} | {marker + 4})
    assert [k["trust"] for k in facts["kills"] if k["pid"] == kill.victim_pid] == ["kernel"]
    assert facts["sources"]["journal"]["refused"] >= 4


class MiniSyslog(object):
    """Receives syslog datagrams on a socket any user may write to and appends them to ``log`` as rsyslog's
    traditional file format does: ``Mmm dd hh:mm:ss HOST TAG[PID]: MSG`` (bytes as received)."""

    def __init__(self, log):
        self.dir = tempfile.mkdtemp(prefix="oomguard-syslog-")
        os.chmod(self.dir, 0o755)
        self.path = os.path.join(self.dir, "dev-log")
        self.log = log
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)
        self.sock.settimeout(0.2)
        self.count = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        with open(self.log, "ab", buffering=0) as out:
            while not self.stop.is_set():
                try:
                    data = self.sock.recv(65536)
                except socket.timeout:
                    continue
                body = data[data.index(b">") + 1:] if data.startswith(b"<") else data
                out.write(body[:15] + b" testhost " + body[16:].rstrip(b"\n") + b"\n")
                self.count += 1

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def test_forged_syslog_file_lines_are_unverified(tmp_path, run_module):
    log = tmp_path / "kern.log"
    syslog = MiniSyslog(str(log))
    marker = 3900000 + secrets.randbelow(90000) * 4
    try:
        for tag, message, dummy in forged_lines(marker):
            # the name carries a 0xff byte: the result must still be valid UTF-8
            argv = NOBODY + ["logger", "-u", syslog.path, "-i", "-t", tag, message.replace("postgres", "postgres\udcff")]
            subprocess.run([os.fsencode(a) for a in argv], check=True, timeout=30)
        deadline = time.monotonic() + 10
        while syslog.count < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        syslog.close()
    assert syslog.count == 4 and b"postgres\xff" in log.read_bytes() and b"kernel[" in log.read_bytes()
    result = run_module("oom_facts", {"sources": ["files"], "log_files": [str(log)], "top": 1})
    assert not result.get("failed"), result  # ansible-core accepted the result: valid UTF-8
    kills = result["ansible_facts"]["oom"]["kills"]
    by_name = dict((k["pid"] or k["unit"] or k["task_memcg"], k) for k in kills)
    assert by_name[marker]["killer"] == "earlyoom" and by_name[marker]["comm"] == "postgres\\xff"
    assert by_name[marker + 1]["killer"] == "kernel" and by_name[marker + 1]["comm"] == "postgres\\xff"
    # (systemd's forged unit report lands on the forged kernel kill beside it, or makes a record of its own)
    assert len(kills) in (3, 4) and {k["trust"] for k in kills} == {"unverified"}


# -- class 4 + 1: a real kill of a process named with a newline, 0xff and a tab ---------------------------
NAME = b"nl\nx\xff\ttail"
SPELLED = "nl\\x0ax\\xff\\x09tail"
HOG = r"""
import ctypes, sys
name = bytes.fromhex(sys.argv[1])
if ctypes.CDLL(None, use_errno=True).prctl(15, ctypes.c_char_p(name), 0, 0, 0) != 0:  # PR_SET_NAME
    sys.exit(2)
if open('/proc/self/comm', 'rb').read() != name + b'\n':
    sys.exit(3)
held = []
while True:
    held.append(bytearray(1 << 20))
"""


@pytest.fixture
def newline_kill():
    cgroup = MemoryCgroup(64 * MIB)
    try:
        proc = cgroup.spawn([sys.executable, "-c", HOG, NAME.hex()])
        assert proc.wait(timeout=60) == -signal.SIGKILL
    finally:
        cgroup.remove()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rc, out, dummy = run_command(["dmesg"])
        if "Killed process %d (" % proc.pid in out:
            break
        time.sleep(0.1)
    return proc.pid, out


def test_newline_name_is_one_record_from_dmesg_kmsg_and_the_module(newline_kill, run_module):
    pid, dmesg_out = newline_kill
    # the attack is real: dmesg broke the kill line at the newline
    assert "Killed process %d (nl\n" % pid in dmesg_out
    events, status = kl.read_dmesg(run_command)
    from_dmesg = [r for r in kl.merge_records(events) if r["pid"] == pid]
    assert len(from_dmesg) == 1 and from_dmesg[0]["comm"] == SPELLED and from_dmesg[0]["trust"] == "kernel"
    events_k, dummy = kl.read_kmsg()
    both = [r for r in kl.merge_records(events, events_k) if r["pid"] == pid]
    assert len(both) == 1 and both[0]["sources"] == ["dmesg", "kmsg"] and both[0]["comm"] == SPELLED
    json.dumps(both, ensure_ascii=False).encode("utf-8")
    result = run_module("oom_facts", {"sources": ["dmesg"], "since": "1h", "top": 1})
    assert not result.get("failed"), result
    mine = [k for k in result["ansible_facts"]["oom"]["kills"] if k["pid"] == pid]
    assert len(mine) == 1 and mine[0]["comm"] == SPELLED and mine[0]["trust"] == "kernel"


def test_newline_name_from_the_journal_merges_with_dmesg(newline_kill, private_journal):
    pid, dummy = newline_kill

    def in_journal(argv):
        return run_command(private_journal.wrapper + list(argv))

    # journalctl's text output shows such a MESSAGE as "[blob data]" (not UTF-8): wait through the reader itself
    deadline = time.monotonic() + 20
    while True:
        journal, status = kl.read_journal(in_journal, since="1h")
        from_journal = [r for r in kl.merge_records(journal) if r["pid"] == pid]
        if from_journal or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    dmesg, dummy = kl.read_dmesg(run_command)
    assert len(from_journal) == 1 and from_journal[0]["comm"] == SPELLED and from_journal[0]["trust"] == "kernel"
    merged = [r for r in kl.merge_records(journal, dmesg) if r["pid"] == pid]
    assert len(merged) == 1 and merged[0]["sources"] == ["journal", "dmesg"]


@pytest.mark.parametrize("option", sorted(kl.DEFAULT_LIMITS))
def test_limits_must_be_positive(option, tmp_path):
    log = tmp_path / "kern.log"
    log.write_text("Nov 27 09:00:00 h kernel: Out of memory: Killed process 4444 (x) total-vm:1kB\n")
    result, dummy, dummy2 = module_process({"sources": ["files"], "log_files": [str(log)], option: 0})
    assert result.get("failed") is True
    assert result["msg"] == "Failed to gather OOM facts: %s must be a positive number of bytes, got 0" % option
    result, dummy, dummy2 = module_process({"sources": ["files"], "log_files": [str(log)], option: 1 << 20, "top": 1})
    assert [k["pid"] for k in result["ansible_facts"]["oom"]["kills"]] == [4444]
    assert files_status(result)["limits"][option] == 1 << 20
