# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The molecule platform of the bench (extensions/molecule/bench_smoke) works end to end.

The scenario's verify step asserts on the kernel's memory.limit_in_bytes of nginx's cgroup, so a
platform without a writable memory cgroup (no --privileged, the whole /sys/fs/cgroup bound) fails here.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from helpers.bench import molecule_env

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.bench, pytest.mark.root, pytest.mark.slow]


def test_molecule_bench_smoke_scenario(bench_image):
    env = molecule_env(bench_image)
    proc = subprocess.run(["molecule", "test", "-s", "bench_smoke"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    for step in ("create", "prepare", "converge", "idempotence", "verify", "destroy"):
        assert f"{step}: Executed: Successful" in output, f"{step} did not run:\n{output[-6000:]}"
    left = subprocess.run(["podman", "ps", "-a", "-q", "--filter", "name=^oomguard-molecule-bench-smoke$"],
                          capture_output=True, text=True, check=True).stdout
    assert not left.strip(), "molecule left its instance behind"
