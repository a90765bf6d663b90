# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Controller CPU of the fleet audit against a plain ping play, with the managed hosts' work taken out (issue 20).

With a local-connection inventory the managed hosts' module processes run on the controller's machine, and a wall-clock
ratio mixes the two. Here every managed-side process is accounted for: ``ansible_python_interpreter`` is a small
wrapper that runs ``/usr/bin/python3`` (the module) as its child and appends the CPU time of itself and that child
(``wait4`` rusage) to a file. The whole ``ansible-playbook`` process tree's CPU comes from this process's
``RUSAGE_CHILDREN``. Controller CPU = tree CPU - managed-side CPU.

Both plays run over the same ``--hosts`` (200) inventory hosts (``ansible_connection: local``, ``--forks``), the audit
from the built and installed collection (``ansible-playbook oomguard.linux.audit``, report included), the baseline
``ansible.builtin.ping``. Target: the audit's controller CPU per host <= 1.2x ping's. Exits 1 when missed.

    .venv/bin/python benchmarks/bench_fleet.py [--hosts 200] [--forks 50] [--rounds 1] [--facts-play]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import yaml

from _ansiballz import TARGET_PYTHON, VENV_BIN, Installed, load
from bench_module import audit_args

TARGET = 1.2

# The managed side's interpreter: runs the real one as its child and records both processes' CPU seconds.
WRAPPER = r"""#!/usr/bin/python3 -S
import os, resource, sys
pid = os.fork()
if pid == 0:
    os.execv(%(python)r, [%(python)r] + sys.argv[1:])
dummy, status, child = os.wait4(pid, 0)
own = resource.getrusage(resource.RUSAGE_SELF)
fd = os.open(%(log)r, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
os.write(fd, ("%%.6f\n" %% (child.ru_utime + child.ru_stime + own.ru_utime + own.ru_stime)).encode())
os.close(fd)
sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8)
"""


def run_play(argv, env, log: Path):
    """``(wall, tree CPU, managed-side CPU, managed-side processes)`` of one ansible-playbook run."""
    log.write_text("", encoding="utf-8")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit("%s failed rc=%d\n%s\n%s" % (" ".join(argv), proc.returncode, proc.stdout[-3000:], proc.stderr[-2000:]))
    managed = [float(x) for x in log.read_text(encoding="utf-8").split()]
    tree = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, tree, sum(managed), len(managed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--forks", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--facts-play", action="store_true",
                        help="also run a play of one literal oom_facts task with the audit's options (no templating, no "
                             "report): splits the audit's controller cost into the module's and the play's")
    args = parser.parse_args()
    print("fleet audit vs ping, %d local-connection hosts, forks %d; %s" % (args.hosts, args.forks, load()))
    with Installed() as installed:
        work = installed.work
        log = work / "managed-cpu.log"
        wrapper = work / "python3-accounted"
        wrapper.write_text(WRAPPER % {"python": TARGET_PYTHON, "log": str(log)}, encoding="utf-8")
        wrapper.chmod(0o755)
        inventory = work / "inventory.yml"
        lines = ["all:", "  vars:", "    ansible_connection: local", "    ansible_python_interpreter: %s" % wrapper, "  hosts:"]
        lines += ["    fleet%04d:" % i for i in range(args.hosts)]
        inventory.write_text("\n".join(lines) + "\n", encoding="utf-8")
        ping = work / "ping.yml"
        ping.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n", encoding="utf-8")
        facts_play = work / "facts.yml"
        facts_tasks = [{"oomguard.linux.oom_facts": audit_args()}]
        facts_play.write_text(yaml.safe_dump([{"hosts": "all", "gather_facts": False, "tasks": facts_tasks}]),
                              encoding="utf-8")
        env = installed.env()
        base = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), "-f", str(args.forks)]
        audit = base + ["oomguard.linux.audit", "-e", "oomguard_audit_report_dir=%s" % (work / "report"),
                        "-e", "oomguard_audit_become=false"]
        runs = {"ping": [], "audit": []}
        if args.facts_play:
            runs["facts"] = []
        for _round in range(args.rounds):
            runs["ping"].append(run_play(base + [str(ping)], env, log))
            if args.facts_play:
                runs["facts"].append(run_play(base + [str(facts_play)], env, log))
            runs["audit"].append(run_play(audit, env, log))
            print("  round %d done; %s" % (_round + 1, load()))
        report = json.loads((work / "report" / "report.json").read_text(encoding="utf-8"))
        assert report["totals"]["hosts"] == args.hosts, report["totals"]
    per_host = {}
    for name, results in runs.items():
        for wall, tree, managed, count in results:
            print("  %-5s wall %6.1f s  tree CPU %7.2f s  managed-side CPU %7.2f s (%d processes, %.3f s each)  "
                  "controller CPU %7.2f s = %.3f s/host" % (name, wall, tree, managed, count, managed / max(1, count),
                                                            tree - managed, (tree - managed) / args.hosts))
        per_host[name] = min((tree - managed) / args.hosts for wall, tree, managed, count in results)
    if "facts" in per_host:
        print("  the oom_facts task alone (literal options, no report): %.3f s/host = %.2fx ping"
              % (per_host["facts"], per_host["facts"] / per_host["ping"]))
    ratio = per_host["audit"] / per_host["ping"]
    ok = ratio <= TARGET
    print("controller CPU per host: audit %.3f s, ping %.3f s -> ratio %.2fx  target <= %.1fx  %s; %s"
          % (per_host["audit"], per_host["ping"], ratio, TARGET, "OK" if ok else "MISSED", load()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
