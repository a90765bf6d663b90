# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Which container a cgroup path belongs to, decided once for processes, kill records and the report.

A process inside a container shows on the host with a cgroup path that its runtime chose. The path is the only thing
every source shares (``/proc/PID/cgroup`` for a live process, ``task_memcg=`` for a kill), so the container is read from
it, by the shapes each runtime writes:

==================  ==============================================================  ===========
runtime             cgroup path segment (systemd driver / cgroupfs driver)          id
==================  ==============================================================  ===========
docker              ``docker-<id>.scope`` / ``/docker/<id>``                         64 hex
podman              ``libpod-<id>.scope`` / ``/libpod_parent/libpod-<id>``           64 hex
containerd          ``cri-containerd-<id>.scope`` / ``/kubepods/.../pod<uid>/<id>``  64 hex
cri-o               ``crio-<id>.scope``                                              64 hex
lxc                 ``/lxc.payload.<name>`` / ``/lxc/<name>``                        name
systemd-nspawn      ``/machine.slice/machine-<name>.scope``                          name
==================  ==============================================================  ===========

Monitor processes that run on the host beside a container (``libpod-conmon-<id>.scope``, ``/lxc.monitor.<name>``) and
virtual machines registered with machined (``machine-qemu...``) are not inside it and get ``None``. When containers
nest, the innermost one wins: that is the one whose processes they are.
"""
from __future__ import annotations

import re

_HEX = r"[0-9a-f]{64}"
_SEGMENT = (
    ("docker", re.compile(r"\Adocker-(" + _HEX + r")\.scope\Z")),
    ("podman", re.compile(r"\Alibpod-(" + _HEX + r")(?:\.scope)?\Z")),
    ("containerd", re.compile(r"\Acri-containerd-(" + _HEX + r")\.scope\Z")),
    ("cri-o", re.compile(r"\Acrio-(" + _HEX + r")\.scope\Z")),
    ("lxc", re.compile(r"\Alxc\.payload\.(.+)\Z")),
)
_PARENT = {"docker": "docker", "lxc": "lxc"}
_RE_HEX = re.compile(r"\A" + _HEX + r"\Z")
_RE_POD = re.compile(r"\Apod[0-9a-f_-]{8,}(?:\.slice)?\Z")
_RE_MACHINE = re.compile(r"\Amachine-(.+)\.scope\Z")


def _unescape_unit(name: str) -> str:
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), name)


def container_of(path):
    """Return ``{"runtime": ..., "id": ...}`` for the innermost container that cgroup ``path`` lies in, else ``None``."""
    if not path or not isinstance(path, str):
        return None
    found = None
    parts = [p for p in path.split("/") if p]
    for index, part in enumerate(parts):
        parent = parts[index - 1] if index else ""
        for runtime, pattern in _SEGMENT:
            match = pattern.match(part)
            if match:
                found = {"runtime": runtime, "id": match.group(1)}
                break
        else:
            if _PARENT.get(parent) and (parent != "docker" or _RE_HEX.match(part)):
                found = {"runtime": _PARENT[parent], "id": part}
            elif _RE_HEX.match(part) and any(p == "kubepods" or p.startswith("kubepods") for p in parts[:index]) \
                    and _RE_POD.match(parent):
                found = {"runtime": "containerd", "id": part}
            elif parent == "machine.slice" and _RE_MACHINE.match(part):
                name = _unescape_unit(_RE_MACHINE.match(part).group(1))
                if not name.startswith("qemu-"):
                    found = {"runtime": "systemd-nspawn", "id": name}
    return found
