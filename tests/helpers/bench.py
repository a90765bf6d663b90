# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Test bench fixtures: systemd test hosts in podman containers (see docs/testbench.md).

``bench_image`` builds (or reuses) the cached image through ``scripts/testbench``; ``make_systemd_host``
starts fresh hosts for a test and removes them afterwards, ``systemd_host`` is one host shared by the
whole session for read-mostly tests. A host runs systemd as PID 1 with a writable v1 memory cgroup, so
``MemoryMax=`` is really enforced, and Debian's PostgreSQL 15 and nginx run in it.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTBENCH = ROOT / "scripts" / "testbench"
CONTAINERS_CONF = ROOT / "tests" / "bench" / "containers.conf"
MEMORY_ROOT = Path("/sys/fs/cgroup/memory")


class BenchError(RuntimeError):
    """The bench could not be built or a host could not be started."""


def testbench(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run scripts/testbench; raise BenchError with its output when it fails."""
    proc = subprocess.run([str(TESTBENCH), *args], capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise BenchError(f"scripts/testbench {' '.join(args)} failed (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def _podman(*args: str, timeout: int = 60) -> str:
    proc = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise BenchError(f"podman {' '.join(args)} failed (rc={proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


class SystemdHost:
    """One running test host. Other fixtures and tests code against this API; keep it stable."""

    def __init__(self, name: str, workdir: Path, boot_seconds: float = 0.0):
        self.name = name
        self.boot_seconds = boot_seconds
        info = json.loads(_podman("inspect", "--type", "container", name))[0]
        self.id = info["Id"]
        self.init_pid = int(info["State"]["Pid"])  # the host's pid of the container's systemd
        self.runtime = info.get("OCIRuntime", "")
        # podman with cgroupfs: /libpod_parent/libpod-<id>; the kernel prints this prefix in
        # task_memcg for every task of the host (the container has no cgroup namespace on v1).
        self.cgroup_prefix = info["State"].get("CgroupPath") or f"/libpod_parent/libpod-{self.id}"
        self.inventory = workdir / f"{name}.yml"
        self.inventory.write_text(
            "---\n"
            "all:\n"
            "  hosts:\n"
            f"    {name}:\n"
            "      ansible_connection: containers.podman.podman\n"
            "      ansible_python_interpreter: /usr/bin/python3\n"
            # the audit runs its facts task with become; the image has no sudo and root may su without a password
            "      ansible_become_method: ansible.builtin.su\n",
            encoding="utf-8",
        )

    def __repr__(self) -> str:
        return f"SystemdHost({self.name!r})"

    @property
    def memory_cgroup_dir(self) -> Path:
        """The container's v1 memory cgroup directory on the host."""
        return MEMORY_ROOT / self.cgroup_prefix.lstrip("/")

    def exec(self, cmd, check: bool = True, input: str | None = None,  # pylint: disable=redefined-builtin
             timeout: int = 120) -> subprocess.CompletedProcess:
        """Run a command in the host: a str through ``sh -c``, a list as is. Text mode."""
        argv = ["sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        interactive = ["-i"] if input is not None else []
        proc = subprocess.run(["podman", "exec", *interactive, self.name, *argv], input=input, capture_output=True,
                              text=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise subprocess.CalledProcessError(proc.returncode, argv, proc.stdout, proc.stderr)
        return proc

    def write_file(self, path: str, content: str, mode: str = "0644") -> None:
        """Write a file in the host (parents created)."""
        self.exec(f"mkdir -p \"$(dirname '{path}')\" && cat > '{path}' && chmod {mode} '{path}'", input=content)

    def systemctl_show(self, unit: str, *props: str) -> dict:
        """``systemctl show`` as a dict; all properties when none are named."""
        args = ["systemctl", "show", unit]
        for prop in props:
            args += ["-p", prop]
        out = self.exec(args).stdout
        result = {}
        for line in out.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                result[key] = value
        return result

    def main_pid(self, unit: str) -> int:
        """The unit's MainPID, as a pid inside the container (0 when it has none)."""
        return int(self.systemctl_show(unit, "MainPID")["MainPID"])

    def unit_cgroup(self, unit: str) -> str:
        """The unit's cgroup path as the kernel prints it (task_memcg), e.g. /libpod_parent/libpod-<id>/system.slice/x.service."""
        return self.systemctl_show(unit, "ControlGroup")["ControlGroup"]

    def host_pid(self, container_pid: int) -> int:
        """Map a pid inside the container to the host's pid (what the kernel log prints)."""
        ns = os.readlink(f"/proc/{self.init_pid}/ns/pid")
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                if os.readlink(f"/proc/{entry.name}/ns/pid") != ns:
                    continue
                with open(f"/proc/{entry.name}/status", encoding="utf-8") as fh:
                    for line in fh:
                        if line.startswith("NSpid:"):
                            if int(line.split()[-1]) == container_pid:
                                return int(entry.name)
                            break
            except OSError:
                continue
        raise LookupError(f"no process with pid {container_pid} in {self.name}")

    def is_system_running(self) -> str:
        return self.exec(["systemctl", "is-system-running"], check=False).stdout.strip()


def start_hosts(names: list, workdir: Path) -> list:
    """Start hosts and wait until their systemd reports running; remove them if that fails."""
    start = time.monotonic()
    try:
        testbench("up", *names, timeout=300)
    except BaseException:
        subprocess.run([str(TESTBENCH), "down", *names], capture_output=True, check=False, timeout=120)
        raise
    elapsed = time.monotonic() - start
    return [SystemdHost(name, workdir, boot_seconds=elapsed) for name in names]


NAME_PREFIX = "oomguard-bench-"


def _new_name() -> str:
    # The pytest pid in the name lets a later session remove hosts a killed session left behind.
    return f"{NAME_PREFIX}{os.getpid()}-{secrets.token_hex(3)}"


def remove_orphans() -> list:
    """Remove bench hosts whose pytest process is gone (a session killed before its teardown ran)."""
    out = subprocess.run(["podman", "ps", "-a", "--filter", "label=org.oomguard.testbench=1", "--format", "{{.Names}}"],
                         capture_output=True, text=True, check=False, timeout=60).stdout
    orphans = []
    for name in out.split():
        owner, sep, suffix = name[len(NAME_PREFIX):].partition("-")
        if not (name.startswith(NAME_PREFIX) and sep and owner.isdigit() and len(suffix) == 6):
            continue
        if not os.path.exists(f"/proc/{owner}"):
            orphans.append(name)
    if orphans:
        subprocess.run([str(TESTBENCH), "down", *orphans], capture_output=True, check=False, timeout=300)
    return orphans


@pytest.fixture(scope="session")
def bench_image() -> str:
    """Install podman/runc/debootstrap and build (or reuse) the image; FAIL loudly when that is not possible."""
    os.environ["CONTAINERS_CONF"] = str(CONTAINERS_CONF)  # also for ansible's podman connection
    if os.geteuid() != 0:
        pytest.fail("the test bench needs root (podman --privileged, debootstrap, memory cgroups)", pytrace=False)
    try:
        testbench("install", timeout=900)
        image = testbench("image", timeout=1800).stdout.strip().splitlines()[-1]
    except (BenchError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"cannot build the test bench: {exc}", pytrace=False)
    remove_orphans()
    return image


@pytest.fixture
def make_systemd_host(bench_image, tmp_path):  # pylint: disable=redefined-outer-name,unused-argument
    """Factory: ``h = make_systemd_host()`` starts a fresh host (``make_systemd_host(count=2)`` returns a list).

    Every host is removed at teardown, also when the test fails.
    """
    names: list = []

    def factory(count: int | None = None):
        batch = [_new_name() for _index in range(count or 1)]
        names.extend(batch)
        hosts = start_hosts(batch, tmp_path)
        return hosts if count is not None else hosts[0]

    try:
        yield factory
    finally:
        if names:
            subprocess.run([str(TESTBENCH), "down", *names], capture_output=True, check=False, timeout=300)


@pytest.fixture(scope="session")
def systemd_host(bench_image, tmp_path_factory):  # pylint: disable=redefined-outer-name,unused-argument
    """One host shared by the session: do not change it in ways other tests would notice."""
    name = _new_name()
    try:
        yield start_hosts([name], tmp_path_factory.mktemp("bench"))[0]
    finally:
        subprocess.run([str(TESTBENCH), "down", name], capture_output=True, check=False, timeout=300)


def molecule_env(bench_image: str) -> dict:
    """Environment for running `molecule test -s SCENARIO` from the repository root against the bench image."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["OOMGUARD_BENCH_IMAGE"] = bench_image
    env["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / ".collections")
    env["NO_COLOR"] = "1"
    env["ANSIBLE_NOCOLOR"] = "1"
    env.pop("ANSIBLE_CONFIG", None)  # molecule writes its own
    return env
