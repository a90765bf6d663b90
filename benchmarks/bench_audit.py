# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Fleet audit benchmarks (issue: fleet audit).

(a) Report generation alone: build the report and render the five files for 1,000 hosts of facts recorded from a
    real host (tests/unit/plugins/module_utils/fixtures/oom_facts_localhost.json). Target: < 2 s.
(b) The whole audit (playbooks/audit.yml, report included) over 200 inventory hosts (ansible_connection: local,
    forks 50) against a plain ansible.builtin.ping playbook over the same inventory, in the same run. Target: <= 1.5x.

    .venv/bin/python benchmarks/bench_audit.py [--hosts 200] [--forks 50] [--rounds 1] [--report-hosts 1000] [--skip-fleet]
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / ".collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.oomguard.linux.plugins.plugin_utils._report import build_report  # noqa: E402 pylint: disable=wrong-import-position
from ansible_collections.oomguard.linux.plugins.plugin_utils._report_render import render_all  # noqa: E402 pylint: disable=wrong-import-position

RECORDED = ROOT / "tests" / "unit" / "plugins" / "module_utils" / "fixtures" / "oom_facts_localhost.json"


def bench_report(count: int) -> float:
    with open(RECORDED, encoding="utf-8") as fh:
        facts = json.load(fh)
    results = {}
    for i in range(count):
        host = copy.deepcopy(facts)
        for k in host["kills"]:  # make every host's kills its own
            k["pid"] = (k["pid"] or 0) + i
        if i % 50 == 0:
            results[f"host{i:04d}"] = {"unreachable": True, "msg": "ssh: connect to host: Connection timed out"}
        else:
            results[f"host{i:04d}"] = {"changed": False, "ansible_facts": {"oom": host}}
    per_host_kills = len(facts["kills"])
    per_host_procs = len(facts["processes"]) + len(facts["watched"])
    start = time.perf_counter()
    report = build_report(results, intended={"nginx": 0, "postgres": -900})
    built = time.perf_counter()
    files = render_all(report)
    done = time.perf_counter()
    size = sum(len(v) for v in files.values())
    print(f"(a) report for {count} hosts ({per_host_kills} kills and {per_host_procs} process records each): "
          f"build {built - start:.3f} s + render {done - built:.3f} s = {done - start:.3f} s "
          f"({len(report['kills'])} kills, {size / 1e6:.1f} MB of files)  target < 2 s: {'OK' if done - start < 2 else 'MISSED'}")
    return done - start


def _env():
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(COLLECTIONS)
    env["ANSIBLE_CONFIG"] = str(ROOT / "tests" / "ansible.cfg")
    env["ANSIBLE_DEPRECATION_WARNINGS"] = "0"
    env["ANSIBLE_NOCOLOR"] = "1"
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}"
    return env


def _timed(cmd, env) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed rc={proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def bench_fleet(hosts: int, forks: int, rounds: int) -> float:
    work = Path(tempfile.mkdtemp(prefix="oomguard-bench-audit-"))
    try:
        inventory = work / "inventory.yml"
        lines = ["all:", "  vars:", "    ansible_connection: local", "    ansible_python_interpreter: /usr/bin/python3", "  hosts:"]
        lines += [f"    fleet{i:04d}:" for i in range(hosts)]
        inventory.write_text("\n".join(lines) + "\n", encoding="utf-8")
        ping = work / "ping.yml"
        ping.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n", encoding="utf-8")
        env = _env()
        base = ["ansible-playbook", "-i", str(inventory), "-f", str(forks)]
        ping_times, audit_times = [], []
        for _round in range(rounds):
            ping_times.append(_timed(base + [str(ping)], env))
            audit_times.append(_timed(base + ["oomguard.linux.audit", "-e", f"oomguard_audit_report_dir={work / 'report'}"], env))
        report = json.loads((work / "report" / "report.json").read_text(encoding="utf-8"))
        assert report["totals"]["hosts"] == hosts and report["totals"]["reachable"] == hosts, report["totals"]
        p, a = min(ping_times), min(audit_times)
        print(f"(b) {hosts} hosts, forks {forks}, best of {rounds}: ping playbook {p:.1f} s, audit (report included) {a:.1f} s "
              f"-> ratio {a / p:.2f}x  target <= 1.5x: {'OK' if a / p <= 1.5 else 'MISSED'}")
        print(f"    all runs: ping {', '.join(f'{t:.1f}' for t in ping_times)}; audit {', '.join(f'{t:.1f}' for t in audit_times)}")
        return a / p
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report-hosts", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--forks", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--skip-fleet", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, {sum(1 for p in os.listdir('/proc') if p.isdigit())} processes")
    bench_report(args.report_hosts)
    if not args.skip_fleet:
        bench_fleet(args.hosts, args.forks, args.rounds)


if __name__ == "__main__":
    main()
