# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Every supported Debian release boots as a test host, with what the deep suite relies on (make vm-smoke's line)."""
from __future__ import annotations

import re
import subprocess

import pytest

from helpers.vm import VM

LINE = re.compile(r"^vm (?P<suite>\w+): kernel (?P<kernel>\S+), systemd (?P<systemd>\d+), cgroup2 memory (?P<mem>yes|no), "
                  r"cap_sys_resource (?P<cap>yes|no), oom_score_adj -1000 (?P<adj>ok|failed)$")


@pytest.mark.parametrize("suite,kernel_prefix,systemd_min", [("bookworm", "6.1.", 252), ("trixie", "6.12.", 257)])
def test_smoke_line(suite, kernel_prefix, systemd_min):
    proc = subprocess.run([str(VM), "smoke", suite], capture_output=True, text=True, timeout=1800, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = [x for x in proc.stdout.splitlines() if x.startswith("vm ")]
    assert len(lines) == 1, proc.stdout
    match = LINE.match(lines[0])
    assert match, lines[0]
    assert match["suite"] == suite
    assert match["kernel"].startswith(kernel_prefix)
    assert int(match["systemd"]) >= systemd_min
    # what a container on this machine cannot give, and the reason the VM bench exists
    assert (match["mem"], match["cap"], match["adj"]) == ("yes", "yes", "ok"), lines[0]


def test_smoke_fails_for_a_guest_that_cannot_boot():
    proc = subprocess.run([str(VM), "smoke", "no-such-suite"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0
    assert "unknown suite" in proc.stderr
