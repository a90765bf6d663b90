# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Kill parsing against grep, measured in the same run.

Writes a kernel log of LINES lines (default 1,000,000) holding KILLS complete OOM events (default 1,000: header, a few
dump lines, the oom-kill: summary and the Killed process line) between ordinary kernel messages, then times
  baseline: grep -E 'Killed process|oom-kill' FILE   (output read through a pipe, as a user would)
  ours:     merge_records(parse_file(FILE))          (records produced, every kill checked)
and prints the ratio (target <= 3x). Peak memory of the parse is measured in a second pass with tracemalloc to show
that it streams (it must not grow with the file).

Run: .venv/bin/python benchmarks/bench_kernel_log.py [--lines N] [--kills K] [--repeat R]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".collections"))

from ansible_collections.oomguard.linux.plugins.module_utils import _kernel_log  # noqa: E402  pylint: disable=wrong-import-position
from _logs import write_log  # noqa: E402  pylint: disable=wrong-import-position


def run_grep(path):
    start = time.perf_counter()
    proc = subprocess.run(["grep", "-E", "Killed process|oom-kill", path], stdout=subprocess.PIPE, check=True)
    elapsed = time.perf_counter() - start
    return elapsed, proc.stdout.count(b"\n")


def run_ours(path):
    start = time.perf_counter()
    records = _kernel_log.merge_records(_kernel_log.parse_file(path, boot_time=1.7e9))
    return time.perf_counter() - start, records


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000000)
    parser.add_argument("--kills", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    handle, path = tempfile.mkstemp(prefix="oomguard-bench-kernlog-", suffix=".log")
    os.close(handle)
    try:
        made = write_log(path, args.lines, args.kills)
        size = os.path.getsize(path)
        with open(path, "rb") as warm:  # page cache warm for both sides
            while warm.read(1 << 22):
                pass
        grep_times, our_times = [], []
        for dummy in range(args.repeat):
            elapsed, matched = run_grep(path)
            grep_times.append(elapsed)
            elapsed, records = run_ours(path)
            our_times.append(elapsed)
        assert len(records) == made, (len(records), made)
        assert all(r["unit"] and r["task_memcg"] and r["reaped"] and r["invoker"] for r in records)

        tracemalloc.start()
        small = os.path.join(os.path.dirname(path), os.path.basename(path) + ".small")
        write_log(small, args.lines // 10, args.kills // 10)
        _kernel_log.merge_records(_kernel_log.parse_file(small))
        peak_small = tracemalloc.get_traced_memory()[1]
        os.unlink(small)
        tracemalloc.reset_peak()
        # the streaming part alone (records consumed one at a time, not kept)
        for dummy in _kernel_log.parse_file(path):
            pass
        peak_stream = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        kept = _kernel_log.merge_records(_kernel_log.parse_file(path))
        peak_full = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        del kept

        best_grep, best_ours = min(grep_times), min(our_times)
        print("file: %d lines, %.1f MB, %d kills" % (args.lines, size / 1e6, made))
        print("grep -E 'Killed process|oom-kill': %.3f s (best of %d, %d lines matched)" % (best_grep, args.repeat, matched))
        print("parse_file + merge_records:       %.3f s (best of %d, %d records)" % (best_ours, args.repeat, len(records)))
        print("ratio ours/grep: %.2fx (target <= 3x)" % (best_ours / best_grep))
        print("peak traced memory: streaming parse %.2f MB; with %d records kept %.2f MB; a 10x smaller file %.2f MB"
              % (peak_stream / 1e6, made, peak_full / 1e6, peak_small / 1e6))
        try:
            import resource  # pylint: disable=import-outside-toplevel
            print("ru_maxrss of this process: %.1f MB" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0))
        except ImportError:
            pass
        return 0 if best_ours / best_grep <= 3.0 else 1
    finally:
        os.unlink(path)


if __name__ == "__main__":
    sys.exit(main())
