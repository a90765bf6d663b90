# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Where the swap tests may put swap files, and how they clean up after themselves (swap is machine-wide)."""
from __future__ import annotations

import os
import stat
import subprocess

# The swapfile module refuses a path under a directory that anyone but root can write (so /tmp and /var/tmp, sticky
# or not): every test directory lives under this root-owned, mode 0755 base.
TEST_BASE = "/var/lib/oomguard-swaptest"


def swap_test_base():
    os.makedirs(TEST_BASE, mode=0o755, exist_ok=True)
    st = os.lstat(TEST_BASE)
    assert stat.S_ISDIR(st.st_mode) and st.st_uid == 0 and stat.S_IMODE(st.st_mode) & 0o022 == 0, TEST_BASE
    return TEST_BASE


def proc_swaps():
    """{path: (size_kib, used_kib, priority)} straight from /proc/swaps."""
    with open("/proc/swaps", encoding="utf-8") as fh:
        lines = fh.read().splitlines()[1:]
    out = {}
    for line in lines:
        name, _type, size, used, prio = line.split()
        out[name] = (int(size), int(used), int(prio))
    return out


def swapoff_under(prefix):
    for name in proc_swaps():
        if name.startswith(prefix.rstrip("/") + "/"):
            subprocess.run(["swapoff", name], check=False)
