#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
#
# ExecStartPre of batch.service: on cgroup v1 with swap active, a memory cgroup at its limit swaps instead of
# OOM-killing, and MemorySwapMax= does not exist there. Cap memory+swap at this unit's memory limit so MemoryMax=
# means what it says. Does nothing on cgroup v2 or without swap accounting.
cg=$(sed -n 's/^[0-9]*:memory:\(.*\)$/\1/p' /proc/self/cgroup)
dir="/sys/fs/cgroup/memory$cg"
[ -n "$cg" ] && [ -w "$dir/memory.memsw.limit_in_bytes" ] || exit 0
cat "$dir/memory.limit_in_bytes" > "$dir/memory.memsw.limit_in_bytes"
