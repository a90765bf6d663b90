# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""oom_facts as Ansible runs it, against the command-line baseline, in one run (issue 20).

The collection is built and installed into a temporary collections path; each case's AnsiballZ wrapper is captured
from one real ``ansible localhost -m oomguard.linux.oom_facts`` run and then timed as ``/usr/bin/python3
AnsiballZ_oom_facts.py`` (unzip, compile, run, exit_json: what a managed host does). Start-up (Python, the wrapper,
AnsibleModule, exit_json of a tiny result) is ``ansible.builtin.ping``'s wrapper, timed in the same rounds and
subtracted. Every case runs ``--rounds`` times, interleaved with its baseline; the best of each is compared.
The verdicts use the CPU time of each process tree (user + system, from the rusage of children): these are
single-threaded programs that never wait, so on a quiet machine CPU time is their wall time, and on a shared machine it
is the part that neighbours disturb least. Wall-time ratios of the same rounds are printed beside them.

Cases and targets:

1. ``top: 0`` (every process, every field) minus start-up  vs  ``ps -eo pid,comm,oom,oomadj,rss``     <= 1.3x
2. default ``top`` minus start-up                            vs  the same ps                         <= 0.5x
   (1 and 2 with ``--count`` (5,000) extra live processes; ``sources: []``: the process table alone)
3. ``sources: [files]`` on a ``--lines`` (1M) line kernel log with ``--kills`` (1,000) kills, minus the same call
   on an empty log  vs  ``grep -E 'Killed process|oom-kill' FILE | wc -l``                              <= 3.0x
4. the fleet audit's call (playbooks/audit.yml's options) on a host with ``--audit-procs`` (500) processes, minus
   start-up: the module's own time on a host                                                           <= 0.150 s

Prints every time, each ratio and the machine's load; exits 1 when a target is missed.

    .venv/bin/python benchmarks/bench_module.py [--rounds 7] [--count 5000] [--lines 1000000] [--kills 1000]
                                               [--only processes,log,audit] [--profile CASE]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from _ansiballz import ROOT, TARGET_PYTHON, Installed, Rounds, capture, load, run_wrapper, wrapper_cmd
from _logs import write_log
from _spawn import Crowd

PS = ["ps", "-eo", "pid,comm,oom,oomadj,rss"]
TARGETS = {"top0": 1.3, "top20": 0.5, "log": 3.0, "audit": 0.150}
# the audit play's default critical services (playbooks/audit.yml, __oomguard_audit_critical)
AUDIT_CRITICAL = ["postgres", "mysqld", "mariadbd", "nginx", "httpd", "apache2", "redis-server", "mongod", "sshd",
                  "systemd-journald", "dockerd", "containerd", "kubelet"]


def audit_args() -> dict:
    """The options playbooks/audit.yml gives oom_facts, with its defaults for the templated ones."""
    play = yaml.safe_load((ROOT / "playbooks" / "audit.yml").read_text(encoding="utf-8"))
    task = [t for t in play[0]["tasks"] if "oomguard.linux.oom_facts" in t][0]["oomguard.linux.oom_facts"]
    args = dict((k, v) for k, v in task.items() if not (isinstance(v, str) and "{{" in v))
    args.update({"top": 5, "watch": AUDIT_CRITICAL, "since": "7d"})
    return args


def report(rounds: Rounds, names):
    for name in names:
        print("  " + rounds.line(name))


def verdict(label, value, target, unit="x"):
    ok = value <= target
    print("%-58s %8.3f%s  target <= %s%s  %s" % (label, value, unit, target, unit, "OK" if ok else "MISSED"))
    return ok


def bench_processes(installed, args, ping) -> list:
    oks = []
    with Crowd(args.count):
        count = sum(1 for p in os.listdir("/proc") if p.isdigit())
        top0 = capture(installed, "oomguard.linux.oom_facts", {"top": 0, "sources": []}, "top0")
        top20 = capture(installed, "oomguard.linux.oom_facts", {"sources": []}, "top20")
        rows = len(run_wrapper(top0)["ansible_facts"]["oom"]["processes"])
        assert rows >= args.count, rows
        print("\n[processes] %d live processes (%d spawned), %d rows with top: 0; %s" % (count, args.count, rows, load()))
        r = Rounds({"ps": PS, "start-up (ping)": wrapper_cmd(ping), "oom_facts top=0": wrapper_cmd(top0),
                    "oom_facts top=20 (default)": wrapper_cmd(top20)}, args.rounds).run()
        report(r, r.commands)
        start, ps = r.best("start-up (ping)"), r.best("ps")
        cstart, cps = r.best_cpu("start-up (ping)"), r.best_cpu("ps")
        oks.append(verdict("top: 0 minus start-up vs ps (CPU)", (r.best_cpu("oom_facts top=0") - cstart) / cps, TARGETS["top0"]))
        oks.append(verdict("default top minus start-up vs ps (CPU)",
                           (r.best_cpu("oom_facts top=20 (default)") - cstart) / cps, TARGETS["top20"]))
        print("  (wall time, same rounds: top 0 %.2fx, default top %.2fx)" % (
            (r.best("oom_facts top=0") - start) / ps, (r.best("oom_facts top=20 (default)") - start) / ps))
        print("  %s" % load())
    return oks


def bench_log(installed, args) -> list:
    work = Path(tempfile.mkdtemp(prefix="oomguard-bench-log-", dir=str(installed.work)))
    big, empty = str(work / "kern.log"), str(work / "empty.log")
    made = write_log(big, args.lines, args.kills, style="syslog")
    Path(empty).write_text("", encoding="utf-8")
    base = {"sources": ["files"], "since": "7d"}
    on_big = capture(installed, "oomguard.linux.oom_facts", dict(base, log_files=[big]), "log_big")
    on_empty = capture(installed, "oomguard.linux.oom_facts", dict(base, log_files=[empty]), "log_empty")
    facts = run_wrapper(on_big)["ansible_facts"]["oom"]
    assert facts["kill_count"] == made, (facts["kill_count"], made, facts["sources"]["files"])
    grep = "grep -E 'Killed process|oom-kill' %s | wc -l" % big
    print("\n[kernel log] %d lines, %.1f MB, %d kills (all %d found by the module); %s"
          % (args.lines, os.path.getsize(big) / 1e6, made, facts["kill_count"], load()))
    r = Rounds({"grep | wc -l": grep, "oom_facts empty log": wrapper_cmd(on_empty),
                "oom_facts 1M-line log": wrapper_cmd(on_big)}, args.rounds).run()
    report(r, r.commands)
    ours = r.best_cpu("oom_facts 1M-line log") - r.best_cpu("oom_facts empty log")
    ok = verdict("1M-line log minus empty log vs grep (CPU)", ours / r.best_cpu("grep | wc -l"), TARGETS["log"])
    print("  (wall time, same rounds: %.2fx)  %s" % (
        (r.best("oom_facts 1M-line log") - r.best("oom_facts empty log")) / r.best("grep | wc -l"), load()))
    return [ok]


def bench_audit(installed, args, ping) -> list:
    have = sum(1 for p in os.listdir("/proc") if p.isdigit())
    with Crowd(max(0, args.audit_procs - have)):
        count = sum(1 for p in os.listdir("/proc") if p.isdigit())
        call = audit_args()
        wrapper = capture(installed, "oomguard.linux.oom_facts", call, "audit")
        run_wrapper(wrapper)
        print("\n[audit call] %d /proc entries; options %s; %s" % (count, call, load()))
        r = Rounds({"start-up (ping)": wrapper_cmd(ping), "oom_facts audit call": wrapper_cmd(wrapper)}, args.rounds).run()
        report(r, r.commands)
        own = r.best_cpu("oom_facts audit call") - r.best_cpu("start-up (ping)")
        ok = verdict("the audit call minus start-up (module's own CPU time)", own, TARGETS["audit"], " s")
        print("  (wall time: %.3f s; start-up alone %.3f s wall, %.3f s CPU)  %s" % (
            r.best("oom_facts audit call") - r.best("start-up (ping)"), r.best("start-up (ping)"),
            r.best_cpu("start-up (ping)"), load()))
    return [ok]


def profile(installed, case, args):
    """cProfile of one case inside the AnsiballZ run (the wrapper runs the module in its own process)."""
    cases = {"top0": {"top": 0, "sources": []}, "top20": {"sources": []}, "audit": audit_args()}
    with Crowd(args.count if case != "audit" else max(0, args.audit_procs - len(os.listdir("/proc")))):
        wrapper = capture(installed, "oomguard.linux.oom_facts", cases[case], "profile_" + case)
        out = installed.work / "profile.out"
        # run_path gives the wrapper a __main__ of its own (python -m cProfile would make cProfile.py __main__, and
        # the wrapper would then drop the standard library's directory from sys.path as "the script's directory")
        driver = ("import cProfile, runpy, sys\nsys.argv = [%r]\nprof = cProfile.Profile()\ntry:\n"
                  "    prof.runcall(runpy.run_path, %r, run_name='__main__')\nexcept SystemExit:\n    pass\n"
                  "prof.dump_stats(%r)\n" % (str(wrapper), str(wrapper), str(out)))
        subprocess.run([TARGET_PYTHON, "-c", driver], stdout=subprocess.DEVNULL, check=True)
        import pstats  # pylint: disable=import-outside-toplevel
        stats = pstats.Stats(str(out))
        print("profile of %s (%s):" % (case, cases[case]))
        stats.sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(20)
        summarize(stats)


# (label, file suffix, function name, "cum" or "tot"): the parts of a run docs/performance.md reports
PARTS = (
    ("whole run (profiled)", "runpy>", "run_path", "cum"),
    ("compile of every module from the zip", "~", "<built-in method builtins.compile>", "tot"),
    ("import of ansible's basic.py", "module_utils/basic.py", "<module>", "cum"),
    ("the oom_facts module: its imports and main()", "plugins/modules/oom_facts.py", "<module>", "cum"),
    ("oom_facts main()", "plugins/modules/oom_facts.py", "main", "cum"),
    ("  collect()", "module_utils/_oom_facts.py", "collect", "cum"),
    ("    scan_process_table()", "module_utils/_procfs.py", "scan_process_table", "cum"),
    ("    kill_facts()", "module_utils/_oom_facts.py", "kill_facts", "cum"),
    ("  exit_json()", "module_utils/basic.py", "exit_json", "cum"),
    ("    remove_values() (no_log scrubbing)", "common/parameters.py", "remove_values", "cum"),
    ("    json.dumps() of the result", "json/__init__.py", "dumps", "cum"),
)


def summarize(stats):
    """One line per part of the run (seconds, share of the whole), from a pstats.Stats."""
    found = {}
    for (filename, dummy, name), (cc, nc, tot, cum, dummy2) in stats.stats.items():
        for label, suffix, func, kind in PARTS:
            if name == func and (filename.endswith(suffix) or suffix in filename):
                found[label] = found.get(label, 0.0) + (cum if kind == "cum" else tot)
    whole = found.get(PARTS[0][0]) or 1.0
    print("\nwhere the time goes (profiled, so slower than the real run; shares are what matter):")
    for label, dummy, dummy2, dummy3 in PARTS:
        if label in found:
            print("  %-58s %7.3f s  %5.1f%%" % (label, found[label], 100.0 * found[label] / whole))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--lines", type=int, default=1000000)
    parser.add_argument("--kills", type=int, default=1000)
    parser.add_argument("--audit-procs", type=int, default=500)
    parser.add_argument("--only", default="processes,log,audit")
    parser.add_argument("--profile", choices=["top0", "top20", "audit"])
    parser.add_argument("--source", default=str(ROOT),
                        help="checkout to build the collection from (default: this one; another one, e.g. the main branch's "
                             "worktree, gives a before/after under the same conditions)")
    args = parser.parse_args()
    print("oom_facts through AnsiballZ (%s), collection built from %s; %s" % (TARGET_PYTHON, args.source, load()))
    with Installed(Path(args.source)) as installed:
        if args.profile:
            profile(installed, args.profile, args)
            return 0
        ping = capture(installed, "ansible.builtin.ping", {}, "ping")
        oks = []
        only = args.only.split(",")
        if "processes" in only:
            oks += bench_processes(installed, args, ping)
        if "log" in only:
            oks += bench_log(installed, args)
        if "audit" in only:
            oks += bench_audit(installed, args, ping)
    print("\n%s: %d of %d targets met; %s" % ("PASS" if all(oks) else "FAIL", sum(oks), len(oks), load()))
    return 0 if all(oks) else 1


if __name__ == "__main__":
    sys.exit(main())
