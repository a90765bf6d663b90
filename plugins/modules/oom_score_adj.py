#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: oom_score_adj
short_description: Protect or expose running processes from the OOM killer now
version_added: 0.1.0
description:
  - Sets C(/proc/PID/oom_score_adj) of running processes selected by pid, pidfile, name, command-line pattern or
    systemd unit. It is the safe form of C(echo -1000 | tee /proc/PID/oom_score_adj) after a C(pgrep).
  - Race-free. Each process's C(/proc/PID) directory is opened once; its start time is checked through that handle
    and every read and write goes through it, so a pid reused by another program is never written.
  - Idempotent. A process already at O(value) is not written.
  - The value lasts as long as the process. A restart of the process (or of its systemd unit) starts again from the
    unit's C(OOMScoreAdjust=) or the parent's value. To make it permanent for a systemd service, use
    M(oomguard.linux.systemd_override); the module warns when the process's unit is configured with another value.
  - Some daemons reset the value of their children on purpose. PostgreSQL backends set themselves back to 0
    (C(PG_OOM_ADJUST_VALUE)), so protect the postmaster only (O(match=oldest), no O(include_children)).
  - Lowering a process below its minimum (0 unless a privileged writer set a lower one) needs C(CAP_SYS_RESOURCE).
    Without it the module fails with a message that says so. This is common in containers. systemd's
    C(OOMScoreAdjust=) cannot help there either, because systemd silently skips it without the capability.
author: oomguard.linux contributors (@oomguard)
options:
  pid:
    description:
      - Process id or list of process ids.
      - A thread id that is not its process's id does not match.
    type: list
    elements: int
  pidfile:
    description:
      - Path of a file that holds the pid in its first line, as daemons write to C(/run/NAME.pid).
      - A missing file fails unless O(missing=ignore). A file that does not hold a pid always fails.
    type: path
  name:
    description:
      - Exact process name, or a list of names, like C(pgrep -x).
      - Matches the kernel's 15-character C(comm) and also the basename of the process's executable, so
        C(systemd-journald), whose C(comm) is C(systemd-journal), is found.
    type: list
    elements: str
  pattern:
    description:
      - Python regular expression searched in the full command line (arguments joined by spaces), like C(pgrep -f).
      - The module's own process and its ancestors (the Ansible processes that run it, whose command line may
        contain the pattern) never match.
    type: str
  unit:
    description:
      - A systemd unit name (C(nginx.service), C(session-1.scope)). Every process whose systemd cgroup names this unit
        is selected (cgroup v1, v2 and hybrid hosts).
    type: str
  value:
    description:
      - The oom_score_adj to set, from V(-1000) (never kill) to V(1000) (kill first).
    type: int
    required: true
  match:
    description:
      - Which of the selected processes to set, by start time like C(pgrep -o) and C(pgrep -n).
      - The master of a master/worker daemon is the O(match=oldest) one. The lowest pid is not always the oldest process.
    type: str
    choices: [all, oldest, newest]
    default: all
  include_children:
    description:
      - Also set every descendant of the matched processes.
      - Some daemons reset their children on purpose (PostgreSQL backends go back to 0); for those, protect the master only.
    type: bool
    default: false
  missing:
    description:
      - What to do when no process matches (or a listed pid or the pidfile does not exist).
      - V(fail) fails naming the selector. V(ignore) returns C(changed=false) and an empty result.
    type: str
    choices: [fail, ignore]
    default: fail
  user:
    description:
      - Only processes whose real uid is this user (name or uid).
    type: str
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Computes every change and writes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: "Shows C(pid comm: before -> after) for each process that changes."
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: linux
notes:
  - Processes only, never threads or kernel threads.
  - A process that exits between listing and writing is reported in RV(vanished), not as an error.
  - If a write fails part-way through a list, the processes already written are set back to their previous value and
    the failure names each process.
seealso:
  - module: oomguard.linux.systemd_override
    description: Persist C(OOMScoreAdjust=) for a systemd service so that it survives restarts.
  - name: proc(5)
    description: C(/proc/PID/oom_score_adj) and C(/proc/PID/oom_score).
    link: https://man7.org/linux/man-pages/man5/proc.5.html
"""

EXAMPLES = r"""
- name: Protect the PostgreSQL postmaster (not its backends, which reset themselves to 0)
  oomguard.linux.oom_score_adj:
    name: postgres
    match: oldest
    value: -900

- name: Make the nightly backup the first victim, with its helpers
  oomguard.linux.oom_score_adj:
    name: backup-script
    value: 500
    include_children: true

- name: Protect every process of a service, if it runs at all
  oomguard.linux.oom_score_adj:
    unit: nginx.service
    value: -500
    missing: ignore

- name: Expose the workers started from a given command line, for one user
  oomguard.linux.oom_score_adj:
    pattern: 'celery .*worker'
    user: app
    value: 800

- name: Use the pidfile of a daemon
  oomguard.linux.oom_score_adj:
    pidfile: /run/sshd.pid
    value: -1000
"""

RETURN = r"""
processes:
  description: Each selected process, after the run (in check mode, what it would be).
  returned: always
  type: list
  elements: dict
  contains:
    pid:
      description: Process id.
      type: int
      sample: 1234
    comm:
      description: Kernel process name (up to 15 characters).
      type: str
      sample: postgres
    unit:
      description: systemd unit of the process, from its cgroup; null outside systemd's tree.
      type: str
      sample: postgresql@15-main.service
    before:
      description: oom_score_adj before the run.
      type: int
      sample: 0
    after:
      description: oom_score_adj after the run (the requested value in check mode when it would change).
      type: int
      sample: -900
    oom_score:
      description: The kernel's C(oom_score), read after the write.
      type: int
      sample: 12
    changed:
      description: Whether this process's value was (or would be) changed.
      type: bool
      sample: true
  sample:
    - {pid: 1234, comm: postgres, unit: postgresql@15-main.service, before: 0, after: -900, oom_score: 12, changed: true}
matched:
  description: Number of processes selected.
  returned: always
  type: int
  sample: 1
changed_count:
  description: Number of processes whose value was (or would be) changed.
  returned: always
  type: int
  sample: 1
unchanged_count:
  description: Number of processes already at O(value).
  returned: always
  type: int
  sample: 0
vanished:
  description: Processes that exited (or whose pid was reused) between listing and writing, as C({pid, comm}).
  returned: always
  type: list
  elements: dict
  sample: [{pid: 4321, comm: sleep}]
vanished_count:
  description: Length of RV(vanished).
  returned: always
  type: int
  sample: 0
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.oomguard.linux.plugins.module_utils._procfs import (
    BatchWriteError,
    SelectorError,
    apply_oom_score_adj,
    find_processes,
    has_cap_sys_resource,
)
from ansible_collections.oomguard.linux.plugins.module_utils._systemd import show_properties, systemd_running

SELECTORS = ("pid", "pidfile", "name", "pattern", "unit")
PERSIST_MODULE = "oomguard.linux.systemd_override"


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            pid=dict(type="list", elements="int"),
            pidfile=dict(type="path"),
            name=dict(type="list", elements="str"),
            pattern=dict(type="str"),
            unit=dict(type="str"),
            value=dict(type="int", required=True),
            match=dict(type="str", default="all", choices=["all", "oldest", "newest"]),
            include_children=dict(type="bool", default=False),
            missing=dict(type="str", default="fail", choices=["fail", "ignore"]),
            user=dict(type="str"),
        ),
        required_one_of=[SELECTORS],
        mutually_exclusive=[SELECTORS],
        supports_check_mode=True,
    )


def describe_selector(params):
    for key in SELECTORS:
        if params[key] not in (None, []):
            value = params[key]
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            return "%s=%s" % (key, value)
    return "no selector"


def label(proc):
    return "%s (%s)" % (proc["pid"], proc["comm"])


def warn_unit_overrides(module, procs, value):
    """Warn when a process's systemd unit is configured with another OOMScoreAdjust= (a restart undoes this)."""
    units = sorted(set(p["unit"] for p in procs if p["unit"] and p["unit"].endswith(".service")))
    if not units or not systemd_running():
        return
    for unit in units:
        configured = show_properties(module, unit, ["OOMScoreAdjust"]).get("OOMScoreAdjust")
        try:
            configured = int(configured)
        except (TypeError, ValueError):
            continue
        if configured != value:
            module.warn("%s is configured with OOMScoreAdjust=%s: a restart of the unit will undo oom_score_adj=%s. "
                        "Use %s to persist it." % (unit, configured, value, PERSIST_MODULE))


def empty_result():
    return dict(changed=False, processes=[], matched=0, changed_count=0, unchanged_count=0, vanished=[], vanished_count=0)


def main():
    module = build_module()
    params = module.params
    value = params["value"]
    if not -1000 <= value <= 1000:
        module.fail_json(msg="value must be between -1000 and 1000, got %s" % value)

    try:
        handles, missing = find_processes(
            pids=params["pid"], pidfile=params["pidfile"], names=params["name"], pattern=params["pattern"],
            unit=params["unit"], user=params["user"], match=params["match"], include_children=params["include_children"])
    except SelectorError as exc:
        if getattr(exc, "missing", False) and params["missing"] == "ignore":
            module.exit_json(**empty_result())
        module.fail_json(msg="Failed to select processes: %s" % exc)

    try:
        if missing and params["missing"] == "fail":
            module.fail_json(msg="Failed to select processes: no such process for pid %s (%s)" % (
                ", ".join(str(p) for p in missing), describe_selector(params)), missing_pids=missing)
        if not handles:
            if params["missing"] == "ignore":
                module.exit_json(**empty_result())
            module.fail_json(msg="Failed to select processes: no process matches %s%s" % (
                describe_selector(params), " for user %s" % params["user"] if params["user"] else ""))
        try:
            procs, vanished = apply_oom_score_adj(handles, value, check_mode=module.check_mode)
        except BatchWriteError as exc:
            module.fail_json(msg="Failed to set oom_score_adj: %s" % exc, failed_process=exc.failed,
                             rolled_back=exc.rolled_back, missing_capability=getattr(exc.cause, "missing_capability", None))
    finally:
        for handle in handles:
            handle.close()

    if module.check_mode and value < 0 and not has_cap_sys_resource():
        lowering = [p for p in procs if p["changed"] and value < p["before"]]
        if lowering:
            module.warn("CAP_SYS_RESOURCE is missing: lowering %s to %s will fail unless a privileged writer has already "
                        "allowed that minimum" % (", ".join(label(p) for p in lowering), value))

    warn_unit_overrides(module, procs, value)
    changed = [p for p in procs if p["changed"]]
    result = dict(
        changed=bool(changed),
        processes=procs,
        matched=len(procs) + len(vanished),
        changed_count=len(changed),
        unchanged_count=len(procs) - len(changed),
        vanished=vanished,
        vanished_count=len(vanished),
    )
    if module._diff:
        result["diff"] = {"prepared": "".join("%s %s: %s -> %s\n" % (p["pid"], p["comm"], p["before"], value) for p in changed)}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
