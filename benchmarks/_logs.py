# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The benchmarks' kernel log: LINES lines holding KILLS whole OOM events (header, dump lines, the oom-kill: summary,
the Killed process line, the reaper line) between ordinary kernel messages, written once for every benchmark.

``style="dmesg"`` stamps each line as dmesg does (``[  100.000700] msg``); ``style="syslog"`` as rsyslog writes
kern.log on Debian 12 (RFC 3339 wall clock over the last 12 hours, then ``host kernel: [mono]``), so a ``since``
window of the module holds every line.
"""
from __future__ import annotations

import datetime
import random

FILLER = (
    "EXT4-fs (sda1): mounted filesystem with ordered data mode. Quota mode: none.",
    "e1000: eth0 NIC Link is Up 1000 Mbps Full Duplex, Flow Control: RX",
    "audit: type=1400 audit(1700000000.123:42): apparmor=\"STATUS\" operation=\"profile_load\" name=\"/usr/bin/man\"",
    "usb 1-1: new high-speed USB device number 2 using xhci_hcd",
    "IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready",
    "systemd[1]: Started Daily apt download activities.",
    "nf_conntrack: default automatic helper assignment has been turned off for security reasons",
    "TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.",
    "perf: interrupt took too long (2503 > 2500), lowering kernel.perf_event_max_sample_rate to 79750",
    "br-1a2b3c: port 1(veth1234) entered forwarding state",
    "device veth1234 entered promiscuous mode",
    "blk_update_request: I/O error, dev sr0, sector 0 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0",
    "NFS: server nfs1 not responding, still trying",
    "xfs filesystem being remounted at /srv supports timestamps until 2038",
    "Buffer I/O error on dev loop0, logical block 0, async page read",
)


def _event(made):
    pid, cg = 10000 + made, "/system.slice/app%d.service" % (made % 50)
    return (
        "worker invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
        "memory: usage 102400kB, limit 102400kB, failcnt 17",
        "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name",
        "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=%s,task_memcg=%s,"
        "task=worker%d,pid=%d,uid=0" % (cg, cg, made, pid),
        "Memory cgroup out of memory: Killed process %d (worker%d) total-vm:114932kB, anon-rss:97920kB, "
        "file-rss:6620kB, shmem-rss:0kB, UID:0 pgtables:252kB oom_score_adj:0" % (pid, made),
        "oom_reaper: reaped process %d (worker%d), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB" % (pid, made),
    )


def write_log(path, lines, kills, style="dmesg") -> int:
    """Write the log to ``path``; returns how many kills it holds."""
    rng = random.Random(42)
    every = max(7, lines // max(1, kills))
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=12)
    step = datetime.timedelta(seconds=11 * 3600 / max(1, lines))
    written = made = 0
    mono = 100.0
    with open(path, "w", encoding="utf-8") as out:
        while written < lines:
            mono += 0.0007
            if style == "syslog":
                prefix = "%s bench kernel: [%12.6f] " % ((start + step * written).isoformat(timespec="microseconds"), mono)
            else:
                prefix = "[%12.6f] " % mono
            if made < kills and written % every == every - 7:
                out.writelines(prefix + line + "\n" for line in _event(made))
                written += 6
                made += 1
                continue
            out.write(prefix + FILLER[rng.randrange(len(FILLER))] + "\n")
            written += 1
    return made
