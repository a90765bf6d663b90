#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Run in a guest by `scripts/vm smoke`: prints the smoke line's facts (after "vm SUITE: ").
kernel=$(uname -r)
systemd=$(systemctl --version | sed -n '1s/^systemd \([0-9][0-9]*\).*/\1/p')
mem=no
[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers && mem=yes
capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
cap=no
[ $(( (0x$capeff >> 24) & 1 )) -eq 1 ] && cap=yes
adj=failed
sh -c 'echo -1000 > /proc/self/oom_score_adj && [ "$(cat /proc/self/oom_score_adj)" = -1000 ]' 2>/dev/null && adj=ok
echo "kernel $kernel, systemd $systemd, cgroup2 memory $mem, cap_sys_resource $cap, oom_score_adj -1000 $adj"
