# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The process table scan of the facts module among many live processes, against ps in the same run.

Spawns COUNT (default 5000) sleeping processes, then times `_procfs.scan_processes` against
`ps -eo pid,comm,oom,oomadj,rss` (procps 4 column names). Best of REPEAT runs each.
Targets (issue 6): top=0 with every field (uid and user name, rss, swap, page tables, unit) <= 1.3x ps;
the default top=20 <= 0.5x ps. Every spawned process is killed at the end.

    .venv/bin/python benchmarks/bench_proc_scan.py [--count 5000] [--repeat 7]
"""
from __future__ import annotations

import argparse
import subprocess
import sys

from _spawn import Crowd, best_of, run_quiet

from ansible_collections.oomguard.linux.plugins.module_utils._procfs import scan_processes  # noqa: E402

PS = ["ps", "-eo", "pid,comm,oom,oomadj,rss"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    with Crowd(args.count, name="oombench-scan") as crowd:
        check = subprocess.run(PS, capture_output=True, text=True, check=True).stdout
        assert check.count("oombench-scan") >= args.count, "ps does not see the spawned processes"
        rows = scan_processes(top=0)
        assert sum(1 for r in rows if r["comm"] == "oombench-scan") >= args.count
        assert all("unit" in r and "user" in r and "swap_kb" in r for r in rows)
        print(f"{len(crowd.procs)} live processes spawned, {len(rows)} rows in the table; best of {args.repeat}")

        ps_s = best_of(lambda: run_quiet(PS), args.repeat)
        results = []
        for label, func, target in (
            ("top=0, every field", lambda: scan_processes(top=0), 1.3),
            ("top=0, + cmdline", lambda: scan_processes(top=0, include_cmdline=True), None),
            ("top=20 (default)", lambda: scan_processes(top=20), 0.5),
        ):
            ours_s = best_of(func, args.repeat)
            ratio = ours_s / ps_s
            verdict = "" if target is None else (f"(target <= {target}x) " + ("PASS" if ratio <= target else "FAIL"))
            results.append(target is None or ratio <= target)
            print(f"scan {label:20s} ours {ours_s * 1000:7.1f} ms   {' '.join(PS)} {ps_s * 1000:7.1f} ms   "
                  f"ratio {ratio:.2f}x {verdict}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
