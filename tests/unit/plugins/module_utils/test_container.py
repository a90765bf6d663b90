# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Unit tests for the one place that tells a container from a cgroup path."""
from __future__ import annotations

import pytest

from ansible_collections.oomguard.linux.plugins.module_utils._container import container_of

ID = "0123456789abcdef" * 4
ID2 = "fedcba9876543210" * 4


@pytest.mark.parametrize("path, expected", [
    ("/system.slice/docker-%s.scope" % ID, ("docker", ID)),
    ("/docker/%s" % ID, ("docker", ID)),
    ("/machine.slice/libpod-%s.scope/container" % ID, ("podman", ID)),
    ("/libpod_parent/libpod-%s/system.slice/postgresql@15-main.service" % ID, ("podman", ID)),
    ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234abcd_5678.slice/cri-containerd-%s.scope" % ID,
     ("containerd", ID)),
    ("/kubepods/besteffort/pod0f1e2d3c-aaaa-bbbb-cccc-000011112222/%s" % ID, ("containerd", ID)),
    ("/kubepods.slice/kubepods-pod1.slice/crio-%s.scope" % ID, ("cri-o", ID)),
    ("/lxc.payload.web1/system.slice/nginx.service", ("lxc", "web1")),
    ("/lxc/web1", ("lxc", "web1")),
    ("/machine.slice/machine-build\\x2d1.scope/payload", ("systemd-nspawn", "build-1")),
    # nested: the innermost container is the one whose process it is
    ("/system.slice/docker-%s.scope/docker/%s" % (ID, ID2), ("docker", ID2)),
])
def test_container_found(path, expected):
    assert container_of(path) == {"runtime": expected[0], "id": expected[1]}


@pytest.mark.parametrize("path", [
    "/", "", None, "/system.slice/postgresql@15-main.service",
    "/user.slice/user-1000.slice/user@1000.service/app.slice/vte-spawn-1.scope",
    "/machine.slice/libpod-conmon-%s.scope" % ID,     # conmon runs on the host beside the container
    "/lxc.monitor.web1",
    "/machine.slice/machine-qemu\\x2d1\\x2dvm1.scope",  # a VM's qemu process is a host process
    "/docker/not-an-id",
    "/system.slice/docker.service",
])
def test_not_a_container(path):
    assert container_of(path) is None
