# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Process scan of the oom_facts module against ``ps -eo pid,comm,oom,oomadj,rss``, in the same run.

Starts ``--count`` (default 5000) extra sleeping processes, then times, best of ``--repeat``:

* ps:      ``ps -eo pid,comm,oom,oomadj,rss`` (output discarded) - the baseline;
* top=0:   ``_oom_facts.process_facts(top=0)``: every process, every field (user, unit, memcg, cgroup_rank included);
* top=20:  the module's default: rank from the cheap files, expensive ones for the 20 returned rows only.

Module start-up (Ansible's wrapper, imports) is excluded: this is the module_utils call the module makes.
Targets (issue 6): top=0 <= 1.3x ps, top=20 <= 0.5x ps. Prints the ratios; exit 1 when a target is missed.
Run as root from the repository root: ``.venv/bin/python benchmarks/bench_oom_facts.py``.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import subprocess
import sys

from _spawn import Crowd, best_of

from ansible_collections.oomguard.linux.plugins.module_utils import _memory as mem
from ansible_collections.oomguard.linux.plugins.module_utils import _oom_facts as facts

PS = ["ps", "-eo", "pid,comm,oom,oomadj,rss"]


def run_ps():
    subprocess.run(PS, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="print where top=0 spends its time")
    args = parser.parse_args()

    reader = mem.MemoryCgroups.from_layout(mem.read_cgroup_layout())

    def scan(top):
        return facts.process_facts(top=top, reader=reader, total_swap_pages=0, vm_swappiness=60)

    with Crowd(args.count):
        total = scan(0)["process_count"]
        ps_time = best_of(run_ps, args.repeat)
        all_time = best_of(lambda: scan(0), args.repeat)
        top_time = best_of(lambda: scan(20), args.repeat)
        ps_again = best_of(run_ps, args.repeat)  # the baseline before and after: the machine did not change under us
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(scan, 0)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(15)
    ps_time = min(ps_time, ps_again)
    ratio_all = all_time / ps_time
    ratio_top = top_time / ps_time
    print("processes: %d (%d extra)" % (total, args.count))
    print("ps -eo pid,comm,oom,oomadj,rss : %7.1f ms" % (ps_time * 1000))
    print("process_facts(top=0)           : %7.1f ms  ratio %.2fx  (target <= 1.30x)" % (all_time * 1000, ratio_all))
    print("process_facts(top=20)          : %7.1f ms  ratio %.2fx  (target <= 0.50x)" % (top_time * 1000, ratio_top))
    return 0 if ratio_all <= 1.3 and ratio_top <= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
