# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The drill's leaking batch job: allocates and touches 1 MiB at a time, slowly, and never frees it.

Usage: batch_leak.py [MAX_MIB [DELAY_S]]  (defaults 512 MiB, 0.02 s per MiB).
It names itself ``batch-leak`` (the kernel's comm), so the kill lines say who died. It exits 0 when it
reached MAX_MIB without being killed; a kernel OOM kill ends it with SIGKILL. Python 3.5+, standard library only.
"""
import sys
import time

MIB = 1 << 20
PAGE = 4096


def main(argv):
    max_mib = int(argv[1]) if len(argv) > 1 else 512
    delay = float(argv[2]) if len(argv) > 2 else 0.02
    with open("/proc/self/comm", "w") as fh:
        fh.write("batch-leak")
    held = []
    for count in range(1, max_mib + 1):
        chunk = bytearray(MIB)
        chunk[::PAGE] = b"\x01" * (MIB // PAGE)  # touch every page: resident, not just reserved
        held.append(chunk)
        if count % 16 == 0:
            print("batch-leak: holding %d MiB" % count, flush=True)
        time.sleep(delay)
    print("batch-leak: reached %d MiB without an OOM kill" % max_mib, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
