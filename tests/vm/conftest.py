# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Session-scoped qemu guests for the VM suite (see docs/testbench.md, "Virtual machines").

``vm_guest`` is one guest of the deep suite's Debian release (OOMGUARD_VM_SUITE, default trixie), booted once per
session and shut down (overlay removed) at the end even when tests fail. Ansible reaches it over SSH on its
forwarded 127.0.0.1 port with pipelining and ControlPersist: under TCG each call costs seconds, so tests batch
their module runs into one playbook per scenario.
"""
from __future__ import annotations

import os
import sys

import pytest

from helpers import vm as vmh

DEEP_SUITE = os.environ.get("OOMGUARD_VM_SUITE", "trixie")


def pytest_collection_modifyitems(items):
    for item in items:
        if "/vm/" in str(item.fspath):
            item.add_marker(pytest.mark.vm)


@pytest.fixture(scope="session")
def vm_workdir(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.fail("the VM suite needs root (debootstrap, chroot, the image cache in /var/cache)")
    return tmp_path_factory.mktemp("vm")


@pytest.fixture(scope="session")
def vm_guest(vm_workdir):
    name = f"pt{os.getpid()}-{DEEP_SUITE}"
    try:
        guest = vmh.boot(name, DEEP_SUITE, vm_workdir)
    except BaseException:
        vmh.shutdown(name)
        raise
    sys.stderr.write(f"\nvm: {guest!r} up in {guest.boot_seconds:.1f} s\n")
    try:
        yield guest
    finally:
        vmh.shutdown(name)
