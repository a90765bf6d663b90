# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""systemd knowledge shared by the modules, the kill parser and the report: unit names in cgroup paths,
whether systemd runs, and ``systemctl show``."""
from __future__ import annotations

import os
import re

# Unit types whose units own a cgroup of their own (a process can sit in it).
CGROUP_UNIT_SUFFIXES = (".service", ".scope", ".socket", ".mount", ".swap")
SLICE_SUFFIX = ".slice"

# Container runtimes name their cgroups after the container id: docker-<id>.scope, libpod-<id>, crio-<id>.scope,
# cri-containerd-<id>.scope, or a bare 64-hex directory (cgroupfs driver, kubepods).
_CONTAINER_RE = re.compile(r"^(?:(?:docker|libpod|crio|cri-containerd|containerd)-)?(?P<id>[0-9a-f]{64})(?:\.scope)?$")
_CONTAINER_CONMON_RE = re.compile(r"^(?:libpod-conmon|crio-conmon)-[0-9a-f]{64}(?:\.scope)?$")


def unit_from_cgroup_path(path) -> dict:
    """Split a cgroup path into the systemd unit, its slice and a container id.

    The innermost unit wins, so ``/libpod_parent/libpod-<id>/system.slice/nginx.service`` (a systemd inside a podman
    container, as the kernel prints it in ``task_memcg``) names ``nginx.service`` with the container id, and a
    delegated sub-cgroup such as ``/system.slice/foo.service/worker`` still names ``foo.service``.
    Returns ``{'unit': str|None, 'slice': str|None, 'container_id': str|None}``; paths outside systemd's tree
    (``/oomtest``) give ``unit`` None.
    """
    result = {"unit": None, "slice": None, "container_id": None}
    if not path:
        return result
    for part in str(path).strip().split("/"):
        if not part:
            continue
        container = _CONTAINER_RE.match(part)
        if container:
            result["container_id"] = container.group("id")
            # A container's own scope is the host's unit until a unit inside the container is found.
            if part.endswith(".scope"):
                result["unit"] = part
            result["slice"] = result["slice"] if part.endswith(".scope") else None
            if not part.endswith(".scope"):
                result["unit"] = None
            continue
        if _CONTAINER_CONMON_RE.match(part):
            result["unit"] = part
            continue
        if part.endswith(SLICE_SUFFIX):
            if result["unit"] and not result["container_id"]:
                # a slice below a unit is not systemd's layout; keep the unit found so far
                continue
            result["slice"] = part
            if result["container_id"]:
                result["unit"] = None
            continue
        if part.endswith(CGROUP_UNIT_SUFFIXES):
            if result["unit"] and not result["unit"].endswith(".scope") and not result["container_id"]:
                continue  # delegated sub-cgroup named like a unit inside a unit
            result["unit"] = part
    return result


def systemd_running(root: str = "/") -> bool:
    """True when systemd is the running init system (the test sd_booted() makes)."""
    return os.path.isdir(os.path.join(root, "run/systemd/system"))


def parse_show(text: str) -> dict:
    """Parse ``systemctl show`` output (``Key=Value`` lines) into a dict."""
    props = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            props[key] = value
    return props


def show_properties(module, unit: str, props) -> dict:
    """Return ``systemctl show -p ...`` for one unit as a dict, or {} when systemctl fails.

    ``module`` is an AnsibleModule (or anything with ``run_command`` and ``get_bin_path``).
    """
    systemctl = module.get_bin_path("systemctl")
    if not systemctl:
        return {}
    cmd = [systemctl, "show", "--no-pager"]
    for prop in props:
        cmd.extend(["-p", prop])
    cmd.extend(["--", unit])
    rc, out, dummy = module.run_command(cmd, environ_update={"LC_ALL": "C"})
    if rc != 0:
        return {}
    return parse_show(out)
