# SPDX-License-Identifier: GPL-3.0-or-later
"""Root conftest: make the collection importable and share fixtures between unit and integration tests."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
ROOT = TESTS_DIR.parent
COLLECTIONS = ROOT / ".collections"

# `ansible_collections.oomguard.linux` resolves through the project-local collections path the Makefile
# creates (.collections/ansible_collections/oomguard/linux -> repository root).
if not (COLLECTIONS / "ansible_collections" / "oomguard" / "linux").exists():
    (COLLECTIONS / "ansible_collections" / "oomguard").mkdir(parents=True, exist_ok=True)
    os.symlink(ROOT, COLLECTIONS / "ansible_collections" / "oomguard" / "linux")
sys.path.insert(0, str(COLLECTIONS))
sys.path.insert(0, str(TESTS_DIR))

# Fixture modules, one per area of the test bench (see docs/testbench.md).
pytest_plugins = ["helpers.bench", "helpers.oomkill", "helpers.journal"]


@pytest.fixture
def run_module():
    """Run a module through ansible-playbook against localhost (or a host of a given inventory)."""
    from helpers.ansible_run import run_module as _run

    return _run
