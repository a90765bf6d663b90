# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Selection speed of the oom_score_adj module among many live processes, against pgrep in the same run.

Spawns COUNT (default 5000) sleeping processes plus 10 targets, then times the module_utils selection
(find_processes: the whole /proc walk, the matching and the opening of each matched process's directory; Ansible's
and the module's start-up excluded) against `pgrep -x NAME` and `pgrep -f PATTERN`. Best of REPEAT runs each.
Target (issue 4): ratio <= 2.0. Every spawned process is killed at the end.

    .venv/bin/python benchmarks/bench_oom_score_adj.py [--count 5000] [--repeat 7]
"""
from __future__ import annotations

import argparse
import subprocess
import sys

from _spawn import Crowd, best_of

from ansible_collections.oomguard.linux.plugins.module_utils._procfs import find_processes  # noqa: E402

TARGET = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    with Crowd(args.count, name="oombench-sleep") as crowd, Crowd(10, name="oombench-target", args=("3599",)) as targets:
        expected = sorted(p.pid for p in targets.procs)
        pattern = r"oombench-tar[g]et 3599"

        def by(**selector):
            def run():
                handles, dummy = find_processes(**selector)
                pids = [h.pid for h in handles]
                for handle in handles:
                    handle.close()
                assert pids == expected, (selector, pids)
            return run

        def pgrep(*argv):
            def run():
                out = subprocess.run(["pgrep", *argv], capture_output=True, text=True, check=False).stdout
                assert sorted(int(p) for p in out.split()) == expected, argv
            return run

        print(f"{len(crowd.procs)} + {len(targets.procs)} live processes spawned; best of {args.repeat}")
        worst = 0.0
        for label, ours, base, base_cmd in (
            ("name", by(names=["oombench-target"]), pgrep("-x", "oombench-target"), "pgrep -x oombench-target"),
            ("pattern", by(pattern=pattern), pgrep("-f", pattern), f"pgrep -f '{pattern}'"),
        ):
            ours_s = best_of(ours, args.repeat)
            base_s = best_of(base, args.repeat)
            ratio = ours_s / base_s
            worst = max(worst, ratio)
            print(f"select by {label:8s} ours {ours_s * 1000:7.1f} ms   {base_cmd:35s} {base_s * 1000:7.1f} ms   "
                  f"ratio {ratio:.2f}x (target <= {TARGET}x)")
    print(f"worst ratio {worst:.2f}x: {'PASS' if worst <= TARGET else 'FAIL'}")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
