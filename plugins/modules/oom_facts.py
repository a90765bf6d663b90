#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: oom_facts
short_description: Who the OOM killer kills next, who it killed, and how close the host is
version_added: 0.1.0
description:
  - Returns C(ansible_facts.oom) with the processes in the order the kernel would kill them, the kills found in the
    kernel log (journal, C(dmesg), C(/dev/kmsg), log files), the OOM counters, memory pressure and the settings that
    steer the OOM killer, and a systemd view that compares configured with enforced values.
  - Replaces C(dmesg -T | grep -i killed), C(journalctl -k | grep -i "out of memory") and
    C(ps -eo pid,comm,oom_score,oom_score_adj --sort=-oom_score) (whose column names procps 4 no longer accepts).
  - Two ranks per process. C(rank) is the kill order of a machine-wide OOM (the kernel's C(oom_score), ties broken by
    rss). C(cgroup_rank) is the order within the process's nearest memory-limited cgroup, computed like the kernel's
    the C(oom_badness) function for a cgroup OOM (rss + swap + page tables, with C(oom_score_adj) scaled by the cgroup's limit).
  - Read-only. It never fails because a log source is unavailable; C(sources) says what was read and why not.
  - Can run inside fact gathering. Set C(facts_modules = ansible.builtin.setup, oomguard.linux.oom_facts) in
    C(ansible.cfg) (or C(ANSIBLE_FACTS_MODULES)) and C(gather_facts) brings C(ansible_facts.oom) along.
author: oomguard.linux contributors (@oomguard)
options:
  top:
    description:
      - How many processes to return in RV(ansible_facts.oom.processes), in kill order. V(0) returns every process.
      - Ranking reads only cheap C(/proc) files for every process; the other files are read for the returned rows only.
    type: int
    default: 20
  include_cmdline:
    description:
      - Add each returned process's command line (arguments joined by spaces) as C(cmdline).
    type: bool
    default: false
  name:
    description:
      - Only return processes with one of these names (the 15-character C(comm), or the executable's basename).
      - Ranks stay those of the whole table.
    type: list
    elements: str
    default: []
  unit:
    description:
      - Only return processes of these systemd units (C(nginx.service), C(session-3.scope)).
    type: list
    elements: str
    default: []
  watch:
    description:
      - Process names or unit names (with their C(.service), C(.scope), C(.slice) suffix) whose processes are always
        returned in RV(ansible_facts.oom.watched) with their ranks, whatever O(top) is. For critical services.
    type: list
    elements: str
    default: []
  since:
    description:
      - Oldest kill to return. An age (V(7d), V(24h), V(30m)), an ISO date or date-time (V(2026-11-27),
        V(2026-11-27T12:00:00+00:00)), or V(@EPOCH).
      - Kills of earlier boots come from the journal and log files only.
    type: str
    default: 7d
  sources:
    description:
      - Kernel log sources to read. A kill seen by several sources is returned once.
      - V(journal) is the kernel messages of every boot the journal keeps (C(journalctl _TRANSPORT=kernel); C(-k) would
        mean this boot only) plus the lines of systemd-oomd, earlyoom and systemd's own per-unit reports.
        journalctl itself keeps only lines that can belong to a kill (C(--grep)); a journalctl without C(--grep)
        (older than systemd 237, or built without PCRE2) is asked again without it.
        V(dmesg) and V(kmsg) read the kernel ring buffer (current boot); V(kmsg) is read only when V(dmesg) is not
        asked for or could not be read (the same records twice would cost time and add nothing). V(files) reads
        O(log_files).
      - An empty list reads no kernel log at all (C(kills) is then empty; every source reports V(skipped)).
    type: list
    elements: str
    choices: [journal, dmesg, kmsg, files]
    default: [journal, dmesg, kmsg, files]
  log_files:
    description:
      - Syslog files to read for V(files), with their rotated siblings (C(.1), C(.2.gz)).
      - Only regular files are read. A FIFO, a device (C(/dev/zero)), a directory, a socket or a symbolic link is
        not opened and is reported as C(skipped) with why. What is read is bounded by O(max_line_length),
        O(max_bytes_per_file) and O(max_inflated_bytes).
      - Kills found only in these files have C(trust=unverified) (any local user can write such lines with C(logger)).
    type: list
    elements: path
    default: [/var/log/kern.log, /var/log/messages]
  max_line_length:
    description:
      - Longest line (bytes) read from a log file in O(log_files). A longer line is cut there and counted in
        C(sources.files.files[].long_lines); the rest of it is skipped, never kept in memory (a file of NUL bytes
        without a newline, what a crash can leave in a syslog, is read in bounded memory).
    type: int
    default: 65536
  max_bytes_per_file:
    description:
      - Most bytes read from each file in O(log_files). A larger plain file is read from that many bytes before its
        end (the newest lines); of a rotated C(.gz) file at most that many compressed bytes are read.
        C(sources.files.files[].truncated) says so.
    type: int
    default: 268435456
  max_inflated_bytes:
    description:
      - Most bytes a rotated C(.gz) file in O(log_files) may inflate to; reading stops there (a small gzip bomb that
        inflates to gigabytes costs at most this much reading, never memory). C(sources.files.files[].truncated) says so.
    type: int
    default: 268435456
  units:
    description:
      - Units to add to RV(ansible_facts.oom.units), the systemd view, beside the units of the returned processes.
    type: list
    elements: str
    default: []
  raw_lines:
    description:
      - How many of the log lines that made a kill record it keeps in C(raw) (V(0) to V(6); V(0) keeps none and
        skips collecting them). The fleet audit uses V(0) because these lines are the bulk of a kill record.
    type: int
    default: 6
  process_fields:
    description:
      - Return only these columns of RV(ansible_facts.oom.processes) and RV(ansible_facts.oom.watched)
        (for example V(rank), V(pid), V(comm), V(oom_score_adj)), in the order of the choices below; RV(ansible_facts.oom.process_columns)
        names them. By default every column (C(cmdline) only with O(include_cmdline=true)).
      - Ranks and the systemd view are computed from the whole rows all the same. For large fleets, where what travels
        back to the controller sets the pace.
    type: list
    elements: str
    choices: [rank, cgroup_rank, pid, ppid, comm, uid, user, rss_kb, swap_kb, pgtables_kb, oom_score, oom_score_adj,
              unit, slice, container_id, container_runtime, memcg, limit_memcg, memcg_limit_bytes, cmdline]
    default: []
  kill_fields:
    description:
      - Return only these columns of RV(ansible_facts.oom.kills) (for example V(time), V(pid), V(comm),
        V(unit), V(killer)), in the order of the choices below; RV(ansible_facts.oom.kill_columns) names them. By default every column.
      - Kills are found, merged and filtered with the whole records all the same.
    type: list
    elements: str
    choices: [time, timestamp, monotonic, boot_id, basis, pid, comm, uid, total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb,
              pgtables_kb, vm_rss_kb, oom_score_adj, score, cmdline, constraint, oom_memcg, task_memcg, unit, slice, slice_path,
              user_manager, container_id, container_runtime, invoker, killer, signal, reason, processes_killed, group_kill,
              reaped, unit_reported, trust, sources, raw]
    default: []
  row_format:
    description:
      - How the rows of RV(ansible_facts.oom.processes), RV(ansible_facts.oom.watched) and RV(ansible_facts.oom.kills)
        are returned.
      - V(dicts) (the default) returns each row as a dictionary whose keys are RV(ansible_facts.oom.process_columns)
        (processes and watched) or RV(ansible_facts.oom.kill_columns) (kills).
      - V(lists) returns each row as a list of values in the order of those columns. The result is about 2.4 times
        smaller and half as costly to serialise, which matters for what travels back to the controller of a large fleet
        (the audit playbook asks for it); C(dict(ansible_facts.oom.process_columns | zip(row))) names one row in a
        template. Measured end to end on one host the difference is within noise (see docs/performance.md).
    type: str
    choices: [lists, dicts]
    default: dicts
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The module only reads; check mode returns the same facts.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
    details: Nothing is ever changed.
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: linux
notes:
  - Kernel threads are never listed. A process that exits during the scan drops out.
  - O(since) does not apply to the process table, the counters or pressure.
  - Inside a container that sees the host's kernel log (a privileged container), only kills whose memory cgroup lies
    under the container's own are returned; RV(ansible_facts.oom.sources) then carries C(container_cgroup).
  - systemd-oomd ignores C(oom_score_adj) and kills whole cgroups (it honours C(ManagedOOMPreference=)); RV(ansible_facts.oom.killers)
    says whether it or earlyoom run.
  - C(rank) uses the kernel's C(oom_score). It is scaled to 0..2000, so many small processes tie; they are ordered by rss.
seealso:
  - module: oomguard.linux.oom_score_adj
    description: Change a running process's oom_score_adj.
  - name: The kernel's OOM killer (mm/oom_kill.c)
    description: the C(oom_badness) function is the arithmetic behind both ranks.
    link: https://www.kernel.org/doc/gorman/html/understand/understand016.html
"""

EXAMPLES = r"""
# Ad hoc, from the command line:
#   ansible all -m oomguard.linux.oom_facts
#   ansible all -m oomguard.linux.oom_facts -a 'top=5 since=24h'
#   ansible web -m oomguard.linux.oom_facts -a 'watch=postgres,nginx.service top=0 include_cmdline=true'

- name: Gather OOM facts
  oomguard.linux.oom_facts:

- name: Show who dies first
  ansible.builtin.debug:
    msg: "{{ ansible_facts.oom.processes[0].comm }} ({{ ansible_facts.oom.processes[0].pid }}) dies first"

- name: Fail when the database is among the first five victims
  oomguard.linux.oom_facts:
    watch: [postgres]
    top: 5
- name: Check the watched process
  ansible.builtin.assert:
    that: ansible_facts.oom.watched | selectattr('rank', 'le', 5) | list | length == 0
    fail_msg: postgres would be killed among the first five

- name: Kills of the last day, kernel ring buffer only
  oomguard.linux.oom_facts:
    since: 24h
    sources: [dmesg]
    top: 0

- name: A fleet-wide call that carries back as little as it can (what the audit playbook does)
  oomguard.linux.oom_facts:
    row_format: lists          # each row a list in the order of process_columns / kill_columns
    raw_lines: 0
    process_fields: [rank, pid, comm, unit, oom_score, oom_score_adj, rss_kb]

- name: Units whose configured OOM settings are not what the kernel enforces
  ansible.builtin.debug:
    msg: "{{ ansible_facts.oom.units | selectattr('mismatches') | map(attribute='unit') | list }}"

# As part of fact gathering, in ansible.cfg:
#   [defaults]
#   facts_modules = ansible.builtin.setup, oomguard.linux.oom_facts
# or in the environment:
#   ANSIBLE_FACTS_MODULES=ansible.builtin.setup,oomguard.linux.oom_facts ansible-playbook site.yml
# or per play:
- name: Gather standard facts and OOM facts together
  hosts: all
  gather_facts: true
  vars:
    ansible_facts_modules: [ansible.builtin.setup, oomguard.linux.oom_facts]
  tasks:
    - name: OOM kills seen on the host
      ansible.builtin.debug:
        var: ansible_facts.oom.kill_count
"""

RETURN = r"""
ansible_facts:
  description: Facts added to C(ansible_facts).
  returned: always
  type: dict
  contains:
    oom:
      description: Everything the module found, under one key.
      returned: always
      type: dict
      contains:
        schema:
          description: Version of this structure. V(2) added RV(ansible_facts.oom.process_columns), RV(ansible_facts.oom.kill_columns) and O(row_format=lists).
          type: int
          returned: always
          sample: 2
        collected_at:
          description: When the facts were collected (ISO 8601, host clock, with its UTC offset).
          type: str
          returned: always
          sample: "2026-11-27T14:07:28+00:00"
        kernel:
          description: Running kernel release.
          type: str
          returned: always
          sample: 6.1.0-27-amd64
        boot_id:
          description:
            - The running boot's id (C(/proc/sys/kernel/random/boot_id)) in the journal's spelling (no dashes),
              the same as the C(boot_id) of the kill records.
          type: str
          returned: always
          sample: 04646ba2beef4b29b3c63f936401c08e
        boot_time:
          description: Boot time (ISO 8601).
          type: str
          returned: always
          sample: "2026-11-27T08:00:01+00:00"
        uptime_s:
          description: Seconds since boot.
          type: float
          returned: always
          sample: 22047.5
        cgroup:
          description: Cgroup layout of the host.
          type: dict
          returned: always
          contains:
            layout:
              description: V(v1), V(v2), V(hybrid) (v1 hierarchies plus a cgroup2 mount), or null without cgroups.
              type: str
              returned: always
              sample: hybrid
            memory:
              description: Which hierarchy carries the memory controller (V(v1), V(v2)), null when none does.
              type: str
              returned: always
              sample: v1
        memory:
          description: Memory and swap of the host (C(/proc/meminfo), C(/proc/swaps)).
          type: dict
          returned: always
          contains:
            mem_total_kb:
              description: MemTotal in kB.
              type: int
              returned: always
              sample: 24598372
            mem_available_kb:
              description: MemAvailable in kB.
              type: int
              returned: always
              sample: 20123456
            available_pct:
              description: MemAvailable as a percentage of MemTotal.
              type: float
              returned: always
              sample: 81.8
            swap_total_kb:
              description: SwapTotal in kB.
              type: int
              returned: always
              sample: 0
            swap_free_kb:
              description: SwapFree in kB.
              type: int
              returned: always
              sample: 0
            swap_devices:
              description: Active swap areas.
              type: list
              elements: dict
              returned: always
              contains:
                path:
                  description: Swap file or device.
                  type: str
                  returned: always
                  sample: /swapfile
                type:
                  description: V(file) or V(partition).
                  type: str
                  returned: always
                  sample: file
                size_kb:
                  description: Size in kB.
                  type: int
                  returned: always
                  sample: 2097148
                used_kb:
                  description: Used in kB.
                  type: int
                  returned: always
                  sample: 1024
                priority:
                  description: Swap priority.
                  type: int
                  returned: always
                  sample: -2
        sysctl:
          description: The vm.* settings that steer the OOM killer (null when unreadable).
          type: dict
          returned: always
          sample: {"vm.swappiness": 60, "vm.overcommit_memory": 0, "vm.panic_on_oom": 0, "vm.oom_kill_allocating_task": 0}
        pressure:
          description:
            - Memory pressure (PSI, C(/proc/pressure/memory)) with C(some) and C(full), each with C(avg10), C(avg60),
              C(avg300) (percent of time stalled) and C(total) (microseconds). Null when the kernel has no PSI.
          type: dict
          returned: always
          sample: {"some": {"avg10": 0.0, "avg60": 0.12, "avg300": 0.05, "total": 3278}, "full": {"avg10": 0.0, "avg60": 0.0, "avg300": 0.0, "total": 1351}}
        counters:
          description: OOM kill counters.
          type: dict
          returned: always
          contains:
            oom_kill:
              description: Kills since boot (C(/proc/vmstat) C(oom_kill)), null on kernels before 4.13.
              type: int
              returned: always
              sample: 4
            cgroups:
              description:
                - Memory cgroups that saw an OOM (non-zero counts only). v2 C(memory.events) counts are hierarchical
                  (a slice counts its units' kills too); v1 C(memory.oom_control) counts only the cgroup itself.
              type: list
              elements: dict
              returned: always
              contains:
                path:
                  description: Cgroup path in the memory hierarchy.
                  type: str
                  returned: always
                  sample: /system.slice/web.service
                unit:
                  description: systemd unit or slice named by the path.
                  type: str
                  returned: always
                  sample: web.service
                oom_kill:
                  description: Processes killed by the OOM killer in this cgroup.
                  type: int
                  returned: always
                  sample: 2
                oom:
                  description: Times the cgroup hit its limit and the OOM killer ran (v2 only; null on v1).
                  type: int
                  returned: always
                  sample: 3
                source:
                  description: V(memory.events) or V(memory.oom_control).
                  type: str
                  returned: always
                  sample: memory.events
        killers:
          description: Whether user-space OOM killers run (by process name, or their systemd unit being active).
          type: dict
          returned: always
          sample: {"systemd_oomd": false, "earlyoom": false}
        cap_sys_resource:
          description: Whether the module ran with C(CAP_SYS_RESOURCE) (needed to set negative oom_score_adj).
          type: bool
          returned: always
          sample: true
        systemd:
          description: Whether systemd is the running init system.
          type: bool
          returned: always
          sample: true
        process_count:
          description: User-space processes seen (kernel threads excluded).
          type: int
          returned: always
          sample: 212
        process_columns:
          description:
            - The names of the values of each row of RV(ansible_facts.oom.processes) and RV(ansible_facts.oom.watched), in order
              (O(process_fields), or every column; C(cmdline) only with O(include_cmdline=true)).
          type: list
          elements: str
          returned: always
          sample: [rank, cgroup_rank, pid, ppid, comm, uid, user, rss_kb, swap_kb, pgtables_kb, oom_score, oom_score_adj, unit,
                   slice, container_id, container_runtime, memcg, limit_memcg, memcg_limit_bytes]
        processes:
          description:
            - The first O(top) processes in kill order (after the O(name) and O(unit) filters).
            - A dictionary with the keys of RV(ansible_facts.oom.process_columns) (O(row_format=dicts), the default), or a
              list of values in that order (O(row_format=lists)). The columns are listed below.
          type: list
          elements: raw
          returned: always
          sample: [[1, null, 4212, 1, "python3", 0, "root", 48212, 0, 180, 668, 0, "batch.service", "system.slice", null, null,
                    "/system.slice/batch.service", null, null]]
          contains:
            rank:
              description: Position in the kill order of a machine-wide OOM among all processes (1 dies first).
              type: int
              returned: always
              sample: 1
            cgroup_rank:
              description:
                - Position in the kill order of an OOM of the nearest memory-limited cgroup (RV(ansible_facts.oom.processes[].limit_memcg)),
                  as the kernel computes it. Null outside a limited cgroup or for C(oom_score_adj) -1000.
              type: int
              returned: always
              sample: 1
            pid:
              description: Process id.
              type: int
              returned: always
              sample: 1234
            ppid:
              description: Parent process id.
              type: int
              returned: always
              sample: 1
            comm:
              description: Process name (at most 15 characters).
              type: str
              returned: always
              sample: postgres
            uid:
              description: Real user id (from C(status), not the owner of C(/proc/PID)).
              type: int
              returned: always
              sample: 105
            user:
              description: User name of RV(ansible_facts.oom.processes[].uid), null without one.
              type: str
              returned: always
              sample: postgres
            rss_kb:
              description: Resident memory in kB (VmRSS).
              type: int
              returned: always
              sample: 48212
            swap_kb:
              description: Swapped-out memory in kB (VmSwap).
              type: int
              returned: always
              sample: 0
            pgtables_kb:
              description: Page tables in kB (VmPTE); part of the kernel's badness.
              type: int
              returned: always
              sample: 180
            oom_score:
              description: The kernel's C(/proc/PID/oom_score) (0..2000 since 5.9, 0..1000 before).
              type: int
              returned: always
              sample: 668
            oom_score_adj:
              description: C(/proc/PID/oom_score_adj) (-1000..1000).
              type: int
              returned: always
              sample: -900
            unit:
              description: systemd unit (service, scope) of the process, from its cgroup; null outside systemd's tree.
              type: str
              returned: always
              sample: postgresql@15-main.service
            slice:
              description: systemd slice of the process.
              type: str
              returned: always
              sample: system.slice
            container_id:
              description:
                - Id of the container the process runs in (64 hex digits for docker, podman, containerd and cri-o; the name for
                  lxc and systemd-nspawn), from its cgroup path; null on the host.
              type: str
              returned: always
              sample: 4a23b606900e52804c29ecda56a0cdfeed269d438b144786a641a65d3ffae818
            container_runtime:
              description: V(docker), V(podman), V(containerd), V(cri-o), V(lxc) or V(systemd-nspawn) when the process is in a container, else null.
              type: str
              returned: always
              sample: podman
            memcg:
              description: The process's memory cgroup path.
              type: str
              returned: always
              sample: /system.slice/postgresql@15-main.service
            limit_memcg:
              description: The nearest memory cgroup at or above RV(ansible_facts.oom.processes[].memcg) with a memory limit.
              type: str
              returned: always
              sample: /system.slice/postgresql@15-main.service
            memcg_limit_bytes:
              description: That cgroup's memory limit in bytes (v1 C(memory.limit_in_bytes), v2 C(memory.max)).
              type: int
              returned: always
              sample: 1073741824
            cmdline:
              description: Command line, arguments joined by spaces.
              type: str
              returned: when O(include_cmdline=true)
              sample: "/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main"
        watched:
          description: Every process matching O(watch), rows as in RV(ansible_facts.oom.processes) (same columns).
          type: list
          elements: raw
          returned: always
          sample: []
        kill_columns:
          description: The names of the values of each row of RV(ansible_facts.oom.kills), in order (O(kill_fields), or every column).
          type: list
          elements: str
          returned: always
          sample: [time, timestamp, monotonic, boot_id, basis, pid, comm, uid, total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb,
                   pgtables_kb, vm_rss_kb, oom_score_adj, score, cmdline, constraint, oom_memcg, task_memcg, unit, slice,
                   slice_path, user_manager, container_id, container_runtime, invoker, killer, signal, reason, processes_killed,
                   group_kill, reaped, unit_reported, trust, sources, raw]
        kills:
          description:
            - One record per OOM kill, oldest first, merged across sources. The full field list is in C(docs/oom_facts.md);
              every field is present, null when the log did not say.
            - A dictionary with the keys of RV(ansible_facts.oom.kill_columns) (O(row_format=dicts), the default), or a list
              of values in that order (O(row_format=lists)).
          type: list
          elements: raw
          returned: always
          contains:
            time:
              description: Wall-clock time of the kill (ISO 8601), from the line or boot time + monotonic stamp.
              type: str
              returned: always
              sample: "2026-11-27T12:42:22.123456+00:00"
            timestamp:
              description: The same as seconds since the epoch.
              type: float
              returned: always
              sample: 1795783342.123456
            monotonic:
              description: Kernel timestamp (seconds since that boot).
              type: float
              returned: always
              sample: 4702.318845
            boot_id:
              description: Boot the kill happened in (journal), or the current boot (ring buffer).
              type: str
              returned: always
              sample: 04646ba2beef4b29b3c63f936401c08e
            basis:
              description:
                - What the record rests on. V(kill_line), the kernel's C(Killed process) line; V(killer_line), systemd-oomd's
                  or earlyoom's own line; V(summary_only), only the kernel's C(oom-kill) summary line survived; V(selection_only),
                  only its C(Kill process N (comm\) score S or sacrifice child) line; V(reaper_only), only its C(oom_reaper)
                  line; V(unit_report), only systemd's report that a unit's process was killed. See C(docs/kill-report.md).
              type: str
              returned: always
              sample: kill_line
            pid:
              description: Killed process.
              type: int
              returned: always
              sample: 4956
            comm:
              description: Its name.
              type: str
              returned: always
              sample: python3
            uid:
              description: Its user id.
              type: int
              returned: always
              sample: 0
            total_vm_kb:
              description: Virtual memory at the kill (kB).
              type: int
              returned: always
              sample: 114932
            anon_rss_kb:
              description: Anonymous resident memory at the kill (kB).
              type: int
              returned: always
              sample: 97920
            file_rss_kb:
              description: File-backed resident memory (kB).
              type: int
              returned: always
              sample: 6620
            shmem_rss_kb:
              description: Shared memory resident (kB).
              type: int
              returned: always
              sample: 0
            pgtables_kb:
              description: Page tables (kB, kernels 5.4 and later).
              type: int
              returned: always
              sample: 252
            oom_score_adj:
              description: The victim's oom_score_adj (kernels 5.4 and later).
              type: int
              returned: always
              sample: 0
            container_id:
              description: Id of the container the victim ran in, from C(task_memcg) (as for processes); null on the host.
              type: str
              returned: always
              sample: 4a23b606900e52804c29ecda56a0cdfeed269d438b144786a641a65d3ffae818
            container_runtime:
              description: The container's runtime (as for processes), null on the host or without C(task_memcg).
              type: str
              returned: always
              sample: podman
            constraint:
              description: V(global), V(memcg), V(cpuset) or V(mempolicy).
              type: str
              returned: always
              sample: memcg
            oom_memcg:
              description: The memory cgroup whose limit was hit.
              type: str
              returned: always
              sample: /system.slice/web.service
            task_memcg:
              description: The victim's memory cgroup.
              type: str
              returned: always
              sample: /system.slice/web.service
            unit:
              description:
                - systemd unit from C(task_memcg) or from systemd's own report; under a user's manager (C(user@UID.service))
                  the innermost unit, as systemd names it (the user unit, for example C(vte-spawn-....scope)).
              type: str
              returned: always
              sample: web.service
            slice_path:
              description: The cgroup path above the unit (its slices, and the user manager when there is one).
              type: str
              returned: always
              sample: /system.slice
            user_manager:
              description: The user's systemd manager unit the kill happened under (C(user@1001.service)), else null.
              type: str
              returned: always
              sample: null
            cmdline:
              description: earlyoom 1.8 and later only, the victim's command line as earlyoom logged it.
              type: str
              returned: always
              sample: null
            invoker:
              description: The process whose allocation invoked the OOM killer, with C(gfp_mask) and C(order), when logged.
              type: dict
              returned: always
              sample: {"comm": "python3", "pid": 4956, "uid": 0, "gfp_mask": "0xcc0", "gfp_flags": "GFP_KERNEL", "order": 0,
                       "oom_score_adj": 0}
            killer:
              description: V(kernel), V(systemd-oomd) or V(earlyoom).
              type: str
              returned: always
              sample: kernel
            trust:
              description:
                - How far the evidence can be trusted; when sources are merged the strongest wins.
                - V(kernel) - written by the kernel (C(dmesg), C(/dev/kmsg), journal entries with C(_TRANSPORT=kernel)).
                - V(killer) - a user-space line the journal vouches for, by journald's trusted fields - systemd-oomd's or
                  earlyoom's line from the killer's own unit (C(_SYSTEMD_UNIT)) under a system uid (C(_UID)), or
                  systemd's unit report from PID 1 as root. Journal lines that fail these checks are not used at all
                  (C(sources.journal.refused) counts them).
                - V(unverified) - only seen in a plain text log file (O(log_files)); anyone who can log to syslog could
                  have written it.
              type: str
              returned: always
              sample: kernel
            sources:
              description: Where the kill was seen (V(journal), V(dmesg), V(kmsg), V(file:/var/log/kern.log)).
              type: list
              elements: str
              returned: always
              sample: [journal, dmesg]
            raw:
              description: Up to O(raw_lines) of the log lines (message part, 400 characters each) that made the record.
              type: list
              elements: str
              returned: always
              sample: ["Memory cgroup out of memory: Killed process 4956 (python3) total-vm:114932kB, anon-rss:97920kB, file-rss:6620kB"]
        kill_count:
          description: Number of RV(ansible_facts.oom.kills).
          type: int
          returned: always
          sample: 1
        unparsed:
          description:
            - The canary. Log lines the parser's prefilter let through that carry an OOM marker (C(Killed process),
              C(oom-kill), C(invoked oom-killer), C(Out of memory), ...) but became no kill record, and OOM headers whose
              kill never came. A count above 0 means a format the parser does not know, or a log that lost lines.
            - C(count) is the most any one source saw (sources overlap), C(by_source) each source's count (sources with
              none are left out), C(lines) the first 5 distinct lines.
          type: dict
          returned: always
          sample: {"count": 0, "lines": [], "by_source": {}}
        unaccounted_kills:
          description:
            - Kernel kills the kernel counted but the log does not show. C(count) is C(counter) (C(/proc/vmstat)
              C(oom_kill), kills since boot) minus C(parsed) (the kernel kills of this boot found in the log with C(trust)
              V(kernel)), never below 0 (C(reason) then says the log shows more), or null with C(reason) when that cannot
              be known (no counter, no kernel log read, or O(since) starts after the boot and neither dmesg nor kmsg was read).
            - C(cgroups) does the same per memory cgroup that has a kill counter (v1 C(memory.oom_control) counts a
              cgroup's own kills, v2 C(memory.events) its subtree's).
          type: dict
          returned: always
          sample: {"count": 0, "compared_with": "/proc/vmstat oom_kill (kernel kills since boot)", "counter": 2, "parsed": 2,
                   "reason": null, "cgroups": [{"path": "/system.slice/web.service", "oom_kill": 1, "parsed": 1, "unaccounted": 0}]}
        sources:
          description:
            - For each source (C(journal), C(dmesg), C(kmsg), C(files)) C(status) (V(read), V(unavailable), V(error),
              V(skipped)), C(lines) read, C(kills) found and C(reason) when not read.
            - C(journal) also has C(filtered), true when journalctl filtered the lines itself (C(--grep)); C(lines)
              then counts the lines that passed the filter.
            - Inside a container, C(container_cgroup) and C(dropped_outside_container) say kills were filtered.
            - C(journal) has C(refused), the number of entries not trusted (a killer's line not from its own unit and a
              system uid, a systemd report not from PID 1, a "kernel" line not from the kernel); C(reason) names why.
            - C(files) has C(files), one entry per file with C(path), C(read), C(skipped) (true for what is not a
              regular file, with C(reason)), C(size), C(bytes_read), C(lines), C(long_lines) (cut at
              O(max_line_length)) and C(truncated) (null, or what a cap left unread); and C(limits), the caps used.
          type: dict
          returned: always
          sample: {"journal": {"status": "unavailable", "lines": 0, "kills": 0, "reason": "journal unavailable: No journal files were found"},
                   "dmesg": {"status": "read", "lines": 1830, "kills": 1, "reason": null}}
        units:
          description: systemd view of the units of the returned and watched processes and of O(units) (empty without systemd).
          type: list
          elements: dict
          returned: always
          contains:
            unit:
              description: Unit name.
              type: str
              returned: always
              sample: postgresql@15-main.service
            main_pid:
              description: Its MainPID, null without one.
              type: int
              returned: always
              sample: 812
            configured:
              description: C(OOMScoreAdjust), C(MemoryMax), C(MemoryHigh), C(OOMPolicy) as C(systemctl show) reports them.
              type: dict
              returned: always
              sample: {"OOMScoreAdjust": -900, "MemoryMax": "1073741824", "MemoryHigh": "infinity", "OOMPolicy": "stop"}
            enforced:
              description:
                - What the kernel applies - C(oom_score_adj) of the MainPID, C(memory_limit_bytes) of the unit's cgroup,
                  C(memory_high_enforced) (false on cgroup v1, which has no memory.high).
              type: dict
              returned: always
              sample: {"oom_score_adj": 0, "memory_limit_bytes": 1073741824, "memory_high_enforced": false}
            mismatches:
              description: Where configured and enforced differ, in words.
              type: list
              elements: str
              returned: always
              sample: ["OOMScoreAdjust=-900 configured, but MainPID 812 runs with oom_score_adj 0"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oomguard.linux.plugins.module_utils._oom_facts import KILL_FIELDS, PROCESS_FIELDS, SOURCES, collect
from ansible_collections.oomguard.linux.plugins.module_utils._oom_facts import DEFAULT_LIMITS, DEFAULT_LOG_FILES, DEFAULT_SINCE, MAX_RAW_LINES
from ansible_collections.oomguard.linux.plugins.module_utils._oom_facts import ROW_FORMATS
from ansible_collections.oomguard.linux.plugins.module_utils._systemd import show_properties
from ansible_collections.oomguard.linux.plugins.module_utils._args import refuse_loose_ints


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            top=dict(type="int", default=20),
            include_cmdline=dict(type="bool", default=False),
            name=dict(type="list", elements="str", default=[]),
            unit=dict(type="list", elements="str", default=[]),
            watch=dict(type="list", elements="str", default=[]),
            since=dict(type="str", default=DEFAULT_SINCE),
            sources=dict(type="list", elements="str", choices=list(SOURCES), default=list(SOURCES)),
            log_files=dict(type="list", elements="path", default=list(DEFAULT_LOG_FILES)),
            units=dict(type="list", elements="str", default=[]),
            raw_lines=dict(type="int", default=MAX_RAW_LINES),
            max_line_length=dict(type="int", default=DEFAULT_LIMITS["max_line_length"]),
            max_bytes_per_file=dict(type="int", default=DEFAULT_LIMITS["max_bytes_per_file"]),
            max_inflated_bytes=dict(type="int", default=DEFAULT_LIMITS["max_inflated_bytes"]),
            process_fields=dict(type="list", elements="str", choices=list(PROCESS_FIELDS), default=[]),
            kill_fields=dict(type="list", elements="str", choices=list(KILL_FIELDS), default=[]),
            row_format=dict(type="str", choices=list(ROW_FORMATS), default="dicts"),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    refuse_loose_ints(module)
    params = module.params
    if params["top"] < 0:
        module.fail_json(msg="Failed to gather OOM facts: top must be 0 (all processes) or a positive number, got %d" % params["top"])
    if not 0 <= params["raw_lines"] <= MAX_RAW_LINES:
        module.fail_json(msg="Failed to gather OOM facts: raw_lines must be between 0 and %d, got %d" % (MAX_RAW_LINES, params["raw_lines"]))
    for key in DEFAULT_LIMITS:
        if params[key] < 1:
            module.fail_json(msg="Failed to gather OOM facts: %s must be a positive number of bytes, got %d" % (key, params[key]))
    if params["sources"] or params["since"] != DEFAULT_SINCE:
        # the kernel-log code is imported only by a call that uses it (it is large and compiled from the zip each run)
        from ansible_collections.oomguard.linux.plugins.module_utils._kernel_log import parse_since  # pylint: disable=import-outside-toplevel
        try:
            parse_since(params["since"])
        except ValueError as exc:
            module.fail_json(msg="Failed to gather OOM facts: %s" % exc)

    def run_command(argv):
        return module.run_command(argv, environ_update={"LC_ALL": "C"})

    def show(unit, props):
        return show_properties(module, unit, props)

    facts = collect(params, run_command, module.get_bin_path, show)
    module.exit_json(changed=False, ansible_facts={"oom": facts})


if __name__ == "__main__":
    main()
