# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Virtual-machine test hosts: qemu guests built and booted by ``scripts/vm`` (see docs/testbench.md).

A guest is a Debian system of its own (kernel and systemd from its suite's archive), cgroup v2 with the memory
controller, root with every capability, reachable only over SSH on one port forwarded to 127.0.0.1. It boots
from a qcow2 overlay (a clean disk per session) by restoring the saved booted state; ``down`` ends qemu and
removes the overlay, also when a test failed.
"""
from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VM = ROOT / "scripts" / "vm"


class VMError(RuntimeError):
    """A guest could not be built, booted or reached."""


def vm(*args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    """Run scripts/vm; its progress lines go to stderr, passed through so a slow build shows what it does."""
    proc = subprocess.run([str(VM), *args], stdout=subprocess.PIPE, stderr=None, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise VMError(f"scripts/vm {' '.join(args)} failed (rc={proc.returncode}); its messages are above")
    return proc


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the only address a guest is ever reached on)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Guest:
    """One running guest. ``ssh`` runs shell commands as root; ``inventory`` is an Ansible inventory for it."""

    def __init__(self, name: str, suite: str, port: int, workdir: Path, boot_seconds: float):
        self.name = name
        self.suite = suite
        self.port = port
        self.boot_seconds = boot_seconds
        self.key = vm("key").stdout.strip()
        self.inventory = workdir / f"{name}.ini"
        # an alias per guest: several guests on 127.0.0.1 would otherwise collapse into one host
        self.inventory.write_text(
            "[vm]\n"
            f"{name} ansible_host=127.0.0.1 ansible_port={port} ansible_user=root "
            f"ansible_ssh_private_key_file={self.key} ansible_python_interpreter=/usr/bin/python3\n"
            "[vm:vars]\n"
            "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=60 "
            "-o ControlMaster=auto -o ControlPersist=600s'\n"
            "ansible_ssh_pipelining=true\n",
            encoding="utf-8",
        )

    def __repr__(self) -> str:
        return f"Guest({self.name!r}, {self.suite!r}, port={self.port})"

    def ssh(self, cmd: str, check: bool = True, timeout: int = 300, input: str | None = None  # pylint: disable=redefined-builtin
            ) -> subprocess.CompletedProcess:
        argv = ["ssh", "-i", self.key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "ConnectTimeout=60", "-p", str(self.port),
                "root@127.0.0.1", cmd]
        proc = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise subprocess.CalledProcessError(proc.returncode, cmd, proc.stdout, proc.stderr)
        return proc

    def read(self, path: str) -> str:
        return self.ssh(f"cat {path}").stdout

    def show(self, unit: str, *props: str) -> dict:
        out = self.ssh(f"systemctl show {unit} " + " ".join(f"-p {p}" for p in props)).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def write_file(self, path: str, content: str) -> None:
        self.ssh(f"mkdir -p \"$(dirname '{path}')\" && cat > '{path}'", input=content)


def boot(name: str, suite: str, workdir: Path) -> Guest:
    """Build the image if needed, boot a guest (restore of the booted state) and return it."""
    port = free_port()
    start = time.monotonic()
    vm("up", name, suite, str(port))
    return Guest(name, suite, port, workdir, time.monotonic() - start)


def shutdown(name: str) -> None:
    subprocess.run([str(VM), "down", name], capture_output=True, text=True, timeout=120, check=False)


def play(guest: Guest, tasks: list, timeout: int = 900) -> dict:
    """Run one playbook of ``tasks`` on the guest (one SSH connection reused); return {task name: result}.

    Fails the test when a task failed or the guest was unreachable, with the messages."""
    from helpers.ansible_run import run_playbook  # pylint: disable=import-outside-toplevel

    doc = run_playbook([{"hosts": guest.name, "gather_facts": False, "tasks": tasks}], inventory=guest.inventory,
                       extra_env={"ANSIBLE_PIPELINING": "True", "ANSIBLE_TIMEOUT": "60"}, timeout=timeout)
    res = {task["task"]["name"]: task["hosts"].get(guest.name, {}) for task in doc["plays"][0]["tasks"]}
    failed = {k: v.get("msg") for k, v in res.items() if v.get("failed") or v.get("unreachable")}
    if failed or doc["_rc"] != 0:
        raise AssertionError(f"playbook on {guest.name} failed: {failed}\n{doc['_stderr']}")
    return res
