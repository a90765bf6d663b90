# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The role oomguard.linux.oom_protect.

- the molecule scenario extensions/molecule/oom_protect on two systemd test hosts (real PostgreSQL and nginx):
  syntax, create, converge, idempotence, check, verify, destroy; it must leave no host, mount or swap behind;
- bad variables are rejected by meta/argument_specs.yml (types, choices, required, exclusive options) or by the
  role's first task (ranges and names argument_specs cannot express) before any other task runs;
- with no variables the role changes nothing and says so;
- on a host whose init is not systemd (this VM) the drop-ins are skipped with a message while process settings
  are applied live: the value is asserted in /proc.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.bench import molecule_env

from helpers.ansible_run import run_playbook

ROOT = Path(__file__).resolve().parents[2]
SCENARIO_VOLUMES = Path("/var/tmp/oomguard-molecule-oom_protect")
ARG_SPEC_TASK = "Validating arguments against arg spec 'main'"
RANGE_TASK = "Check ranges and names that argument_specs cannot express"
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3"}


def _role_play(hosts: str = "all") -> dict:
    return {"hosts": hosts, "gather_facts": False, "roles": [{"role": "oomguard.linux.oom_protect"}]}


def _inventory(tmp_path: Path, host_vars: dict) -> Path:
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps({"all": {"hosts": {name: {**LOCAL, **hv} for name, hv in host_vars.items()}}}), encoding="utf-8")
    return path


def _host_tasks(doc: dict, host: str) -> list:
    """(task name without the role prefix, result) for every task that ran on ``host``, in order."""
    return [(t["task"]["name"].split(" : ", 1)[-1], t["hosts"][host])
            for play in doc["plays"] for t in play["tasks"] if host in t["hosts"]]


@pytest.mark.bench
@pytest.mark.root
@pytest.mark.slow
@pytest.mark.serial
def test_molecule_oom_protect_scenario(bench_image):
    """The whole scenario passes, and destroy leaves no host, loop mount or swap behind (swap is machine-wide)."""
    env = molecule_env(bench_image)
    swappiness_before = Path("/proc/sys/vm/swappiness").read_text(encoding="ascii").strip()
    start = time.monotonic()
    proc = subprocess.run(["molecule", "test", "-s", "oom_protect"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=1800, check=False)
    elapsed = time.monotonic() - start
    output = proc.stdout + proc.stderr
    print(f"molecule test -s oom_protect: {elapsed:.0f} s")
    assert proc.returncode == 0, output[-8000:]
    for step in ("syntax", "create", "converge", "idempotence", "check", "verify", "destroy"):
        # "oom_protect > step" without colours, "oom_protect ➜ step" with them.
        assert re.search(rf"oom_protect (?:>|➜) {step}: Executed: Successful", output), f"{step} did not run:\n{output[-8000:]}"
    left = subprocess.run(["podman", "ps", "-a", "-q", "--filter", "label=org.oomguard.molecule=oom_protect"],
                          capture_output=True, text=True, check=True).stdout
    assert not left.strip(), "molecule left its hosts behind"
    assert "/srv/swap/" not in Path("/proc/swaps").read_text(encoding="ascii"), "the scenario's swap is still on"
    assert str(SCENARIO_VOLUMES) not in Path("/proc/mounts").read_text(encoding="ascii"), "a volume is still mounted"
    assert not SCENARIO_VOLUMES.exists()
    assert Path("/proc/sys/vm/swappiness").read_text(encoding="ascii").strip() == swappiness_before


# (host vars, task that must reject them, text the message must contain)
BAD_VARS = {
    "services_not_a_list": ({"oom_protect_services": {"unit": "nginx"}}, ARG_SPEC_TASK, "oom_protect_services"),
    "adjust_not_an_int": ({"oom_protect_services": [{"unit": "nginx", "oom_score_adjust": "high"}]}, ARG_SPEC_TASK,
                          "oom_score_adjust"),
    "unit_missing": ({"oom_protect_services": [{"oom_score_adjust": -500}]}, ARG_SPEC_TASK, "unit"),
    "unknown_item_key": ({"oom_protect_services": [{"unit": "nginx", "memory_maxx": "1G"}]}, ARG_SPEC_TASK, "memory_maxx"),
    "bad_oom_policy": ({"oom_protect_services": [{"unit": "nginx", "oom_policy": "sometimes"}]}, ARG_SPEC_TASK, "oom_policy"),
    "bad_apply": ({"oom_protect_apply": "reboot"}, ARG_SPEC_TASK, "oom_protect_apply"),
    "verify_not_bool": ({"oom_protect_verify": "perhaps"}, ARG_SPEC_TASK, "oom_protect_verify"),
    "sysctl_not_a_dict": ({"oom_protect_sysctl": ["vm.swappiness=10"]}, ARG_SPEC_TASK, "oom_protect_sysctl"),
    "two_selectors": ({"oom_protect_processes": [{"name": ["a"], "pattern": "b", "value": 1}]}, ARG_SPEC_TASK,
                      "mutually exclusive"),
    "no_selector": ({"oom_protect_processes": [{"value": 1}]}, ARG_SPEC_TASK, "one of the following is required"),
    "swap_without_path": ({"oom_protect_swapfiles": [{"size": "1G"}]}, ARG_SPEC_TASK, "path"),
    "adjust_1001": ({"oom_protect_services": [{"unit": "nginx", "oom_score_adjust": 1001}]}, RANGE_TASK,
                    "oom_score_adjust must be between -1000 and 1000, got 1001"),
    "value_minus_1001": ({"oom_protect_processes": [{"name": ["x"], "value": -1001}]}, RANGE_TASK,
                         "value must be between -1000 and 1000, got -1001"),
    "swap_priority_40000": ({"oom_protect_swapfiles": [{"path": "/swapfile", "size": "1G", "priority": 40000}]}, RANGE_TASK,
                            "priority must be between 0 and 32767, got 40000"),
    "swap_without_size": ({"oom_protect_swapfiles": [{"path": "/swapfile"}]}, RANGE_TASK, "size is required"),
    "sysctl_key_injection": ({"oom_protect_sysctl": {"vm.swappiness = 1\nkernel.panic": 1}}, RANGE_TASK, "is not a sysctl name"),
    "sysctl_value_newline": ({"oom_protect_sysctl": {"vm.swappiness": "10\nkernel.panic = 1"}}, RANGE_TASK, "must be one line"),
    "sysctl_file_path": ({"oom_protect_sysctl_file": "../../etc/passwd"}, RANGE_TASK, "oom_protect_sysctl_file must be a file name"),
    "dropin_name_path": ({"oom_protect_dropin_name": "../override"}, RANGE_TASK, "oom_protect_dropin_name must be a file name"),
}


@pytest.fixture(scope="module")
def bad_vars_run(tmp_path_factory):
    """One ansible-playbook run, one inventory host per case (each fails on its own), against this machine."""
    tmp_path = tmp_path_factory.mktemp("bad-vars")
    inventory = _inventory(tmp_path, {case: hv for case, (hv, _task, _text) in BAD_VARS.items()})
    return run_playbook([_role_play()], inventory=inventory)


@pytest.mark.parametrize("case", sorted(BAD_VARS))
def test_bad_variables_are_rejected_before_any_task_runs(bad_vars_run, case):
    _hv, rejecting_task, text = BAD_VARS[case]
    tasks = _host_tasks(bad_vars_run, case)
    names = [name for name, _result in tasks]
    assert bad_vars_run["stats"][case]["failures"] == 1
    assert bad_vars_run["stats"][case]["changed"] == 0
    # The rejecting task is the last one that ran for this host, and only the argument check ran before it.
    assert names[-1].startswith(rejecting_task), names
    assert tasks[-1][1].get("failed") is True
    allowed_before = [] if rejecting_task == ARG_SPEC_TASK else [ARG_SPEC_TASK]
    assert [n for n in names[:-1] if not any(n.startswith(a) for a in allowed_before)] == [], names
    assert text in json.dumps(tasks[-1][1]["msg"]).replace("\\n", "\n") or text in str(tasks[-1][1]), tasks[-1][1]


@pytest.mark.root
def test_no_variables_change_nothing_and_say_so(tmp_path):
    doc = run_playbook([_role_play()], inventory=_inventory(tmp_path, {"bare": {}}))
    assert doc["stats"]["bare"]["changed"] == 0 and doc["stats"]["bare"]["failures"] == 0
    said = [r.get("msg", "") for name, r in _host_tasks(doc, "bare") if name == "Say that there is nothing to do"]
    assert said and "nothing to protect, nothing changed" in said[0]
    ran = [name for name, r in _host_tasks(doc, "bare") if not r.get("skipped")]
    assert len(ran) == 3 and ran[0].startswith(ARG_SPEC_TASK) and ran[1:] == [RANGE_TASK, "Say that there is nothing to do"], ran


@pytest.fixture
def marked_process():
    """A real process whose command line carries a unique marker; killed at teardown."""
    marker = f"oomguard-role-test-{secrets.token_hex(4)}"
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", marker])  # pylint: disable=consider-using-with
    try:
        yield proc, marker
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.root
def test_host_without_systemd_skips_dropins_and_applies_processes(tmp_path, marked_process):
    """This VM's PID 1 is not systemd: no drop-in is written, the process gets its value live, twice idempotent."""
    proc, marker = marked_process
    assert Path("/proc/1/comm").read_text(encoding="ascii").strip() != "systemd", "this test needs a host without systemd"
    dropin = Path("/etc/systemd/system/oomguard-role-test.service.d/50-oomguard.conf")
    host_vars = {
        "oom_protect_services": [{"unit": "oomguard-role-test.service", "oom_score_adjust": 300}],
        "oom_protect_processes": [{"pattern": marker, "value": 700}],
    }
    inventory = _inventory(tmp_path, {"nosystemd": host_vars})
    first = run_playbook([_role_play()], inventory=inventory)
    tasks = dict(_host_tasks(first, "nosystemd"))
    assert first["stats"]["nosystemd"]["failures"] == 0, json.dumps(tasks, indent=1)[-4000:]
    assert "systemd is not the init system" in tasks["Skip the drop-ins on a host where systemd is not the init system"]["msg"]
    assert tasks["Write the drop-in of each service"].get("skipped")
    assert not dropin.exists() and not dropin.parent.exists()
    assert "is set live only" in tasks["Warn that process settings do not survive a restart"]["msg"]
    assert tasks["Set the oom_score_adj of each process"]["changed"] is True
    assert Path(f"/proc/{proc.pid}/oom_score_adj").read_text(encoding="ascii").strip() == "700"
    assert first["stats"]["nosystemd"]["changed"] == 1
    shown = tasks["Show what is enforced"]["msg"]
    assert any("systemd is not the init system: the drop-ins were skipped" in line for line in shown), shown

    second = run_playbook([_role_play()], inventory=inventory)
    assert second["stats"]["nosystemd"]["changed"] == 0 and second["stats"]["nosystemd"]["failures"] == 0
    assert Path(f"/proc/{proc.pid}/oom_score_adj").read_text(encoding="ascii").strip() == "700"


def test_ansible_doc_shows_the_role_variables():
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), ANSIBLE_NOCOLOR="1")
    out = subprocess.run([str(Path(sys.executable).parent / "ansible-doc"), "-t", "role", "oomguard.linux.oom_protect"],
                         env=env, capture_output=True, text=True, check=True, timeout=120).stdout
    for name in ("oom_protect_services", "oom_protect_processes", "oom_protect_swapfiles", "oom_protect_sysctl",
                 "oom_protect_apply", "oom_protect_verify", "oom_protect_verify_strict", "oom_score_adjust", "memory_max"):
        assert name in out, name
