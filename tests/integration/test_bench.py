# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Smoke tests of the test bench itself: systemd hosts, real OOM kills, the private journal.

Every other integration test trusts these pieces; each test here would fail if its piece silently
did nothing (a limit not enforced, a kill that never happened, an empty journal).
"""
from __future__ import annotations

import re
import subprocess
import time

import pytest

from helpers.oomkill import swap_active

pytestmark = [pytest.mark.root]

LEAK_UNIT = "oomguard-leak.service"
# Waits for /run/oomguard-leak-go, then leaks 1 MiB at a time until the kernel kills it.
LEAK_SCRIPT = """\
import os, time
with open('/proc/self/comm', 'w') as fh:
    fh.write('oomguard-leak')
while not os.path.exists('/run/oomguard-leak-go'):
    time.sleep(0.05)
held = []
for _ in range(4096):
    held.append(bytearray(1 << 20))
"""
LEAK_UNIT_FILE = """\
[Unit]
Description=oomguard test: leaks memory once /run/oomguard-leak-go exists

[Service]
ExecStart=/usr/bin/python3 /usr/local/bin/oomguard-leak.py
"""


def dmesg() -> str:
    return subprocess.run(["dmesg"], capture_output=True, text=True, check=True).stdout


@pytest.mark.bench
def test_host_boots_and_runs_postgresql_and_nginx(systemd_host, run_module):
    h = systemd_host
    state = h.is_system_running()
    assert state == "running", f"{h.name} is {state}: " + h.exec("systemctl --failed --no-pager", check=False).stdout
    assert h.runtime == "runc"  # tests/bench/containers.conf: crun fails on hybrid cgroups
    # The services users protect run from Debian's packages.
    assert h.exec(["runuser", "-u", "postgres", "--", "psql", "-tAc", "SELECT 1"]).stdout.strip() == "1"
    assert h.systemctl_show("postgresql@15-main.service", "ActiveState")["ActiveState"] == "active"
    assert h.main_pid("postgresql@15-main.service") > 0
    page = h.exec(["python3", "-c", "import urllib.request as u; r = u.urlopen('http://127.0.0.1:80/'); print(r.status, r.read().decode())"])
    assert page.stdout.startswith("200 ") and "nginx" in page.stdout
    # pid mapping: nginx's main pid inside the container is a real host process named nginx.
    host_pid = h.host_pid(h.main_pid("nginx.service"))
    with open(f"/proc/{host_pid}/comm", encoding="utf-8") as fh:
        assert fh.read().strip() == "nginx"
    assert h.unit_cgroup("nginx.service") == f"{h.cgroup_prefix}/system.slice/nginx.service"
    assert (h.memory_cgroup_dir / "system.slice" / "nginx.service" / "cgroup.procs").read_text(encoding="ascii").split()
    # Ansible reaches it through containers.podman.
    res = run_module("ansible.builtin.command", {"cmd": "cat /etc/hostname"}, host=h.name, inventory=h.inventory)
    assert not res.get("failed"), res
    assert res["stdout"].strip() == h.name


@pytest.mark.bench
@pytest.mark.slow
def test_memory_max_dropin_is_enforced_by_a_real_kill(make_systemd_host):
    h = make_systemd_host()
    h.write_file("/usr/local/bin/oomguard-leak.py", LEAK_SCRIPT)
    h.write_file(f"/etc/systemd/system/{LEAK_UNIT}", LEAK_UNIT_FILE)
    h.write_file(f"/etc/systemd/system/{LEAK_UNIT}.d/50-memory.conf", "[Service]\nMemoryMax=64M\n")
    h.exec("systemctl daemon-reload && systemctl start " + LEAK_UNIT)
    unit_cgroup = h.unit_cgroup(LEAK_UNIT)
    assert unit_cgroup == f"{h.cgroup_prefix}/system.slice/{LEAK_UNIT}"
    cgroup_dir = h.memory_cgroup_dir / "system.slice" / LEAK_UNIT
    # The limit is really in the kernel, not only in `systemctl show`.
    assert int((cgroup_dir / "memory.limit_in_bytes").read_text(encoding="ascii")) == 64 << 20
    if swap_active():
        # systemd sets no memsw limit on v1: with swap on, the unit would swap instead of being killed.
        (cgroup_dir / "memory.memsw.limit_in_bytes").write_text(str(64 << 20), encoding="ascii")
    pid = h.host_pid(h.main_pid(LEAK_UNIT))
    h.exec("touch /run/oomguard-leak-go")
    deadline = time.monotonic() + 60
    while h.systemctl_show(LEAK_UNIT, "ActiveState")["ActiveState"] not in ("failed", "inactive"):
        assert time.monotonic() < deadline, "the leaking unit was not killed within 60 s"
        time.sleep(0.2)
    props = h.systemctl_show(LEAK_UNIT, "Result", "ExecMainStatus")
    # On cgroup v1 systemd cannot tell an OOM kill from any SIGKILL: the result is "signal".
    assert props["Result"] in ("signal", "oom-kill"), props
    assert props["ExecMainStatus"] == "9", props
    log = dmesg()
    assert f"Memory cgroup out of memory: Killed process {pid} (oomguard-leak)" in log
    memcg = re.findall(rf"oom_memcg=(\S+?),task_memcg=(\S+?),task=oomguard-leak,pid={pid},", log)
    assert memcg == [(unit_cgroup, unit_cgroup)], memcg
    assert memcg[0][1].endswith(f"/system.slice/{LEAK_UNIT}")
    # The container's own journal has the kernel's record too (it reads the VM's /dev/kmsg).
    journal = h.exec(["journalctl", "-k", "--no-pager", "-o", "short-monotonic"]).stdout
    assert f"Killed process {pid} (oomguard-leak)" in journal


def test_oom_kill_in_a_cgroup_appears_in_dmesg(oom_kill):
    rec = oom_kill(comm="oomguard-smoke")
    assert rec.returncode == -9 and rec.exit_status == 137
    assert rec.vmstat_after > rec.vmstat_before
    assert rec.cgroup_oom_kills == 1
    assert not rec.cgroup_dir.exists(), "the helper must remove its cgroup"
    log = dmesg()
    for expected in rec.expected_lines:
        assert expected in log, expected
    assert rec.killed_line in log
    assert rec.kernel_lines[-1].message.startswith(rec.killed_line)
    assert f"task_memcg={rec.cgroup},task=oomguard-smoke,pid={rec.victim_pid}," in log


@pytest.mark.parametrize("bystander_adj, victim", [(0, "oomguard-leak"), (500, "bystander")])
def test_oom_score_adj_steers_the_kill(oom_kill, bystander_adj, victim):
    # The bystander holds a third of the limit, the leaker grows: at equal adj the bigger leaker dies,
    # at +500 the kernel takes the bystander instead. Both cases together prove the adj decided it.
    rec = oom_kill(comm="oomguard-leak", adj=0, others=[{"comm": "bystander", "adj": bystander_adj, "mib": 32}], limit_mib=96)
    assert rec.victim_comm == victim
    killed = [m.comm for m in rec.members if m.oom_killed]
    assert killed == [victim]
    assert f"oom_score_adj:{bystander_adj if victim == 'bystander' else 0}" in rec.kernel_lines[-1].message


def test_private_journal_returns_the_kill(oom_kill, private_journal):
    rec = oom_kill(comm="oomguard-jrnl")
    line = private_journal.wait_for(rec.killed_line, timeout=15)
    assert re.match(r"^\[\s*\d+\.\d+\] ", line), line  # monotonic stamp
    kernel = private_journal.journalctl("-k", "-o", "short-monotonic")
    assert f"task_memcg={rec.cgroup},task=oomguard-jrnl,pid={rec.victim_pid}," in kernel
    # The host's own journal stays empty: the private one lives only in its mount namespace.
    host = subprocess.run(["journalctl", "-k", "--no-pager"], capture_output=True, text=True, check=False)
    assert rec.killed_line not in host.stdout
