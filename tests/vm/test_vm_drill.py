# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The seed's scenario for real: a machine-wide OOM in a guest (512 MiB, no swap, no per-service limits).

Before the role the kernel picks its victim alone; after the role oom_protect (PostgreSQL's postmaster -900, nginx -500,
the batch job +500) the leak is repeated and only the batch job may die: PostgreSQL keeps its MainPID and answers
``SELECT 1``, nginx serves, the guest stays up, and oom_facts lists every kill with killer kernel and constraint global.
The outcome is documented in docs/drill.md. The OOM happens inside the guest only (qemu's -m caps its RAM).
"""
from __future__ import annotations

import os
import time

import pytest

from helpers import vm as vmh
from helpers.ansible_run import run_playbook

RUNS = int(os.environ.get("OOMGUARD_VM_DRILL_RUNS", "10"))

BATCH = """[Unit]
Description=oomguard drill: a leaking batch job
[Service]
Type=exec
# waits for the go file, so it is running (with its MainPID to verify) when the role is applied; exec keeps the pid
ExecStart=/bin/sh -c 'while [ ! -e /run/vmt-go ]; do sleep 1; done; exec /usr/bin/python3 -c "b=[]\\nwhile True: b.append(bytearray(1<<20))"'
"""

STATUS = r"""
pg=$(systemctl list-units 'postgresql@*' --plain --no-legend --state=running | awk '{print $1; exit}')
echo "pg_unit=$pg"
echo "pg_pid=$(systemctl show -p MainPID --value "$pg")"
echo "pg_adj=$(cat /proc/$(systemctl show -p MainPID --value "$pg")/oom_score_adj)"
echo "pg_select=$(su postgres -c 'psql -XAtqc "select 1"' 2>&1 | tr -d '\n')"
echo "nginx_pid=$(systemctl show -p MainPID --value nginx.service)"
echo "nginx_adj=$(cat /proc/$(systemctl show -p MainPID --value nginx.service)/oom_score_adj)"
echo "nginx_http=$(python3 -c 'import urllib.request as u; print(u.urlopen("http://127.0.0.1/", timeout=60).status)' 2>&1 | tail -n1)"
echo "state=$(systemctl is-system-running)"
echo "oom_kill=$(awk '$1 == "oom_kill" {print $2}' /proc/vmstat)"
"""


def _status(guest):
    return dict(line.split("=", 1) for line in guest.ssh(STATUS, timeout=600).stdout.splitlines() if "=" in line)


def _leak_once(guest):
    """Start the batch job and wait until it is gone; return its Result and the kernel's oom_kill count."""
    guest.ssh("systemctl reset-failed vmt-batch.service 2>/dev/null; systemctl start vmt-batch.service; touch /run/vmt-go")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        show = guest.show("vmt-batch.service", "ActiveState", "Result")
        if show["ActiveState"] in ("failed", "inactive"):
            guest.ssh("rm -f /run/vmt-go")
            return show["Result"]
        time.sleep(3)
    pytest.fail("the leak did not end within 300 s")
    return None


@pytest.fixture(scope="module")
def drill_guest(vm_workdir):
    name = f"pt{os.getpid()}-drill"
    try:
        guest = vmh.boot(name, os.environ.get("OOMGUARD_VM_SUITE", "trixie"), vm_workdir)
        guest.write_file("/etc/systemd/system/vmt-batch.service", BATCH)
        guest.ssh("swapoff -a; systemctl daemon-reload")
        yield guest
    finally:
        vmh.shutdown(name)


@pytest.fixture(scope="module")
def drill(drill_guest):
    g = drill_guest
    before_status = _status(g)
    before_result = _leak_once(g)
    before_after = _status(g)
    victims_before = g.ssh("journalctl -k -o cat --no-pager | grep -E 'Out of memory: Killed process|oom-kill:'").stdout
    g.ssh("systemctl reset-failed vmt-batch.service; systemctl start vmt-batch.service")  # waiting, not leaking yet
    play = {"hosts": g.name, "gather_facts": False, "roles": [{"role": "oomguard.linux.oom_protect", "vars": {
        "oom_protect_apply": "restart",
        "oom_protect_services": [
            {"unit": before_status["pg_unit"], "oom_score_adjust": -900},
            {"unit": "nginx.service", "oom_score_adjust": -500},
            {"unit": "vmt-batch.service", "oom_score_adjust": 500},
        ]}}],
        "post_tasks": [{"name": "report", "ansible.builtin.debug": {"var": "oom_protect_report"}}]}
    doc = run_playbook([play], inventory=g.inventory, extra_env={"ANSIBLE_PIPELINING": "True"}, timeout=1200)
    failed = [(t["task"]["name"], r.get("msg")) for t in doc["plays"][0]["tasks"] for r in t["hosts"].values() if r.get("failed")]
    assert doc["_rc"] == 0 and not failed, f"{failed}\nbefore the role: {before_status} / {before_after}\n{victims_before}"
    report = [t for t in doc["plays"][0]["tasks"] if t["task"]["name"] == "report"][0]["hosts"][g.name]["oom_protect_report"]
    protected = _status(g)
    runs = []
    for dummy in range(RUNS):
        result = _leak_once(g)
        runs.append((result, _status(g)))
    facts = run_playbook([{"hosts": g.name, "gather_facts": False, "tasks": [
        {"name": "facts", "oomguard.linux.oom_facts": {"since": "1h"}}]}], inventory=g.inventory,
        extra_env={"ANSIBLE_PIPELINING": "True"}, timeout=600)
    oom = facts["plays"][0]["tasks"][0]["hosts"][g.name]["ansible_facts"]["oom"]
    return {"before": before_status, "before_result": before_result, "before_after": before_after,
            "victims_before": victims_before, "report": report, "protected": protected, "runs": runs, "oom": oom}


def test_before_the_role_the_kernel_chooses(drill, capsys):
    with capsys.disabled():
        print(f"\ndrill before: batch Result={drill['before_result']}; kernel lines:\n{drill['victims_before']}")
        print(f"before: {drill['before']}\nafter the first leak: {drill['before_after']}")
    assert int(drill["before_after"]["oom_kill"]) > int(drill["before"]["oom_kill"])  # a real machine-wide kill happened
    assert "constraint=CONSTRAINT_NONE" in drill["victims_before"]


def test_h_role_converged_and_verified(drill):
    report = drill["report"]
    assert report["not_enforceable"] == [], report
    assert report["failed"] == [], report
    assert len(report["verified"]) >= 3, report
    prot = drill["protected"]
    assert (prot["pg_adj"], prot["nginx_adj"]) == ("-900", "-500")


def test_after_the_role_only_the_batch_job_dies(drill):
    prot = drill["protected"]
    for result, status in drill["runs"]:
        assert result == "oom-kill"
        assert status["pg_pid"] == prot["pg_pid"] and status["pg_select"] == "1", status
        assert status["nginx_pid"] == prot["nginx_pid"] and status["nginx_http"] == "200", status
        assert status["state"] in ("running", "degraded"), status
    last = int(drill["runs"][-1][1]["oom_kill"])
    assert last - int(prot["oom_kill"]) == RUNS, (prot["oom_kill"], last)


def test_oom_facts_lists_each_drill_kill_as_global(drill):
    kills = [k for k in drill["oom"]["kills"] if k["unit"] == "vmt-batch.service" and k["oom_score_adj"] == 500]
    assert len(kills) == RUNS, drill["oom"]["kills"]
    assert {(k["killer"], k["constraint"], k["comm"]) for k in kills} == {("kernel", "global", "python3")}
    kernel_records = [k for k in drill["oom"]["kills"] if k["basis"] != "unit_report"]
    # the one kill before the role (adj 0) and the RUNS after it, all of the batch job: nobody else was killed
    assert [k["unit"] for k in kernel_records] == ["vmt-batch.service"] * (RUNS + 1), kernel_records


@pytest.mark.xfail(strict=True, reason="systemd also reports the kill for the parent slice on cgroup v2 ('system.slice: A "
                                       "process of this unit has been killed by the OOM killer.'); oom_facts turns that "
                                       "report into a kill record of its own (basis unit_report, unit system.slice) instead "
                                       "of merging it into the batch job's kernel kill")
def test_oom_facts_has_no_extra_record_for_the_parent_slice(drill):
    others = [k for k in drill["oom"]["kills"] if k["unit"] != "vmt-batch.service"]
    assert others == [], [(k["unit"], k["basis"], k["comm"], k["killer"], k["raw"]) for k in others]
