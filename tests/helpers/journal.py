# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Test bench fixtures: a private systemd-journald on the host (see docs/testbench.md).

The host's ``journalctl -k`` is empty (no journald runs there). ``private_journal`` starts one in its own
mount namespace: tmpfs over /run/systemd, /run/log and (when it exists) /var/log/journal, so nothing
of the host's is touched (without /var/log/journal it keeps a volatile journal in /run/log/journal),
then ``exec /lib/systemd/systemd-journald``. It reads /dev/kmsg from the start of the ring
buffer, so kills that happened before it started are in it too. Commands run inside the namespace
through ``.wrapper`` (``nsenter -t PID -m --``) see that journal, ``ansible-playbook`` included.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import pytest

JOURNALD = "/lib/systemd/systemd-journald"

# Runs in the new mount namespace (propagation private: none of these mounts reach the host).
SETUP = r"""
set -e
mount -t tmpfs -o mode=755 oomguard-journal /run/systemd
mkdir -p /run/systemd/journal
mount -t tmpfs -o mode=755 oomguard-journal /run/log
mkdir -p /run/log/journal
if [ -d /var/log/journal ]; then mount -t tmpfs -o mode=2755 oomguard-journal /var/log/journal; fi
exec "$0"
"""


class PrivateJournal:
    """A running private journald; ``journalctl`` runs in its namespace."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.pid = proc.pid
        self.wrapper = ["nsenter", "-t", str(self.pid), "-m", "--"]

    def __repr__(self) -> str:
        return f"PrivateJournal(pid={self.pid})"

    def journalctl(self, *args: str, check: bool = True) -> str:
        """``journalctl --no-pager ARGS`` in the journal's namespace; its stdout."""
        proc = subprocess.run(self.wrapper + ["journalctl", "--no-pager", *args], capture_output=True, text=True,
                              timeout=60, check=False)
        if check and proc.returncode != 0:
            raise RuntimeError(f"journalctl {' '.join(args)} failed (rc={proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout

    def wait_for(self, text: str, timeout: float = 15.0, args: tuple = ("-k", "-o", "short-monotonic")) -> str:
        """Wait until a journal line contains ``text``; return that line (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.journalctl(*args).splitlines():
                if text in line:
                    return line
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not in the private journal after {timeout}s")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_private_journal(timeout: float = 15.0) -> PrivateJournal:
    for tool in ("unshare", "nsenter", "journalctl"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is missing (util-linux / systemd)")
    if not os.access(JOURNALD, os.X_OK):
        raise RuntimeError(f"{JOURNALD} is missing (apt-get install systemd)")
    # Mount points only; left in place (empty) because another session's journal may be mounted on them.
    for path in ("/run/systemd", "/run/log"):
        os.makedirs(path, exist_ok=True)
    # setpriv --pdeathsig: journald (pytest's direct child after the execs) dies with a killed session.
    reaper = ["setpriv", "--pdeathsig", "TERM"] if shutil.which("setpriv") else []
    proc = subprocess.Popen(reaper + ["unshare", "-m", "--propagation", "private", "sh", "-c", SETUP, JOURNALD],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    journal = PrivateJournal(proc)
    deadline = time.monotonic() + timeout
    try:
        # Ready when its socket exists in its namespace and journalctl reads kernel records.
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"systemd-journald exited with {proc.returncode}: {proc.stderr.read()}")
            probe = subprocess.run(journal.wrapper + ["journalctl", "--no-pager", "-k", "-n", "1", "-q"],
                                   capture_output=True, text=True, timeout=30, check=False)
            if probe.returncode == 0 and probe.stdout.strip():
                return journal
            if time.monotonic() > deadline:
                raise RuntimeError(f"private journald not ready after {timeout}s: {probe.stderr.strip()}")
            time.sleep(0.2)
    except BaseException:
        journal.stop()
        raise


@pytest.fixture(scope="session")
def private_journal():
    """A private systemd-journald on the host with the kernel log in it; stopped at session end."""
    if os.geteuid() != 0:
        pytest.fail("the private journal needs root (mount namespaces, /dev/kmsg)", pytrace=False)
    try:
        journal = start_private_journal()
    except RuntimeError as exc:
        pytest.fail(f"cannot start a private journald: {exc}", pytrace=False)
    try:
        yield journal
    finally:
        journal.stop()


# The trusted fields journald adds to the entries of the real daemons (a sender cannot set ``_``-fields itself):
# systemd-oomd runs as the system user systemd-oom, upstream's earlyoom.service as a DynamicUser, systemd as PID 1.
OWNER_FIELDS = {
    "systemd-oomd": {"_SYSTEMD_UNIT": "systemd-oomd.service", "_UID": "994", "_PID": "580", "_TRANSPORT": "journal"},
    "earlyoom": {"_SYSTEMD_UNIT": "earlyoom.service", "_UID": "62011", "_PID": "611", "_TRANSPORT": "stdout"},
    "systemd": {"_SYSTEMD_UNIT": "init.scope", "_UID": "0", "_PID": "1", "_TRANSPORT": "journal"},
}


def as_logged_by_owner(text: str) -> str:
    """journalctl -o json ``text`` (constructed fixture lines without trusted fields) with the trusted fields of the
    daemon each line names (SYSLOG_IDENTIFIER), as journald would have recorded them for the real daemon."""
    import json  # pylint: disable=import-outside-toplevel

    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            entry.update(OWNER_FIELDS.get(entry.get("SYSLOG_IDENTIFIER"), {}))
            line = json.dumps(entry, separators=(",", ":"))  # journalctl's compact spelling
        out.append(line + "\n")
    return "".join(out)
