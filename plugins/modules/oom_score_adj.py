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
      - The pidfile must be owned by root or by the owner (real or effective uid) of the process it names; otherwise
        the module refuses, says why and changes nothing, because any user who can write the file could point it at
        another user's process.
      - Read as a file anyone may have written. A symbolic link as the last path component is refused (links in the
        directories above, such as C(/var/run), are followed). A FIFO, device, socket or directory is refused
        without blocking, and so is a file larger than 4096 bytes or one that holds anything but a pid.
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
      - Bytes of a command line that are not UTF-8 are matched as their C(\xNN) spelling.
      - Matching the whole process table may take at most O(pattern_timeout) seconds. Any user chooses their own
        command line, and a pattern with nested repetition such as V((a+\)+$) takes exponential time on a crafted one;
        past the bound the module fails and changes nothing.
    type: str
  pattern_timeout:
    description:
      - Bound, in seconds, on the total time O(pattern) may spend matching the command lines of all processes.
      - The matching runs in a child process that is killed when the bound is exceeded.
    type: int
    default: 5
  unit:
    description:
      - A systemd unit name (C(nginx.service), C(session-1.scope)). Every process whose systemd cgroup names this unit
        is selected (cgroup v1, v2 and hybrid hosts).
      - A unit of this host. Processes of a container never match it, whatever O(containers) says, even when a
        systemd inside the container runs a unit of the same name.
      - The selector an impostor cannot satisfy; prefer it to O(name) for a systemd service.
    type: str
  containers:
    description:
      - Whether O(name) and O(pattern) (and O(include_children)) also select processes that run inside a container
        (docker, podman, containerd, cri-o, lxc, systemd-nspawn, as their cgroup path tells).
      - V(false) leaves them out and lists them in RV(skipped_containers), so a O(name=postgres) on the host never
        changes the PostgreSQL of a container. V(true) includes them; their entries carry RV(processes[].container_id).
      - Processes of the container the module itself runs in are this host's processes and are never skipped.
      - An explicit O(pid) or O(pidfile) selects its process wherever it runs.
    type: bool
    default: false
  value:
    description:
      - The oom_score_adj to set, from V(-1000) (never kill) to V(1000) (kill first).
    type: int
    required: true
  match:
    description:
      - Which of the selected processes to set, by start time like C(pgrep -o) and C(pgrep -n).
      - The master of a master/worker daemon is the O(match=oldest) one. The lowest pid is not always the oldest process.
      - With O(name) alone, O(match=oldest) picks the oldest process of that name of ANY user, and any user can start
        a process with any name (a copy of a binary, or C(prctl(PR_SET_NAME))). One started before the daemon (for
        example before a restart of the daemon) wins. Add O(user) (or select by O(unit)) so that an impostor cannot
        be picked.
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
      - Only processes whose real uid is this user (name or uid). Works with every selector, including O(pidfile).
      - Together with O(name), it is what keeps another user's process of the same name out.
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
  - Every string in the result is valid UTF-8. Process names, command lines, executable and user names, cgroup paths
    and the messages that quote them come from local users; bytes that are not UTF-8 are spelled C(\xNN) as the
    kernel does (a C(comm) of the bytes C(6f 6f ff) is returned as C(oo\xff)).
  - Integer options refuse booleans and floats (O(value=true) is an error, not 1).
  - See C(docs/security.md) for the threat model.
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
    user: postgres  # without it, an older process named postgres of any user would be picked
    match: oldest
    value: -900

- name: Protect every process of a service (the selector an impostor cannot satisfy)
  oomguard.linux.oom_score_adj:
    unit: postgresql@15-main.service
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

- name: Use the pidfile of a daemon (it must be owned by root or by the daemon's user)
  oomguard.linux.oom_score_adj:
    pidfile: /run/sshd.pid
    user: root
    value: -1000

- name: Expose the nginx workers of the host and of its containers
  oomguard.linux.oom_score_adj:
    name: nginx
    containers: true
    value: 500
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
      description:
        - systemd unit of the process on this host, from its cgroup; null outside systemd's tree.
        - Always null for a process of a container (see RV(processes[].container_unit)).
      type: str
      sample: postgresql@15-main.service
    container_id:
      description: Id (or name, for lxc and systemd-nspawn) of the container the process runs in; null on the host.
      type: str
      sample: 9732d6f1d8dead1af07afecb6374c8fb8b08309413cc69d4f9d9638db1f31056
    container_runtime:
      description: The container's runtime, as its cgroup path tells (docker, podman, containerd, cri-o, lxc, systemd-nspawn).
      type: str
      sample: podman
    container_unit:
      description: For a process of another container, the systemd unit its cgroup path names inside that container.
      type: str
      returned: when the process runs in a container other than the module's own
      sample: nginx.service
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
    - {pid: 1234, comm: postgres, unit: postgresql@15-main.service, container_id: null, container_runtime: null,
       before: 0, after: -900, oom_score: 12, changed: true}
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
skipped_containers:
  description:
    - Processes that O(name) or O(pattern) matched but that run in another container, left out because
      O(containers=false); as C({pid, comm, container_id, container_runtime}).
  returned: always
  type: list
  elements: dict
  sample: [{pid: 5120, comm: postgres, container_id: 9732d6f1d8dead1af07afecb6374c8fb8b08309413cc69d4f9d9638db1f31056,
            container_runtime: podman}]
skipped_containers_count:
  description: Length of RV(skipped_containers).
  returned: always
  type: int
  sample: 0
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.oomguard.linux.plugins.module_utils._args import refuse_loose_ints
from ansible_collections.oomguard.linux.plugins.module_utils._procfs import (
    BatchWriteError,
    SelectorError,
    apply_oom_score_adj,
    find_processes,
    has_cap_sys_resource,
)
from ansible_collections.oomguard.linux.plugins.module_utils._text import safe_text
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
            containers=dict(type="bool", default=False),
            pattern_timeout=dict(type="int", default=5),
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
            return "%s=%s" % (key, safe_text(str(value)))
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


def empty_result(skipped=()):
    return dict(changed=False, processes=[], matched=0, changed_count=0, unchanged_count=0, vanished=[], vanished_count=0,
                skipped_containers=list(skipped), skipped_containers_count=len(skipped))


def main():
    module = build_module()
    refuse_loose_ints(module)
    params = module.params
    value = params["value"]
    if not -1000 <= value <= 1000:
        module.fail_json(msg="value must be between -1000 and 1000, got %s" % value)
    if not 1 <= params["pattern_timeout"] <= 3600:
        module.fail_json(msg="pattern_timeout must be between 1 and 3600 seconds, got %s" % params["pattern_timeout"])

    skipped = []
    try:
        handles, missing = find_processes(
            pids=params["pid"], pidfile=params["pidfile"], names=params["name"], pattern=params["pattern"],
            unit=params["unit"], user=params["user"], match=params["match"], include_children=params["include_children"],
            containers=params["containers"], skipped=skipped, pattern_timeout=params["pattern_timeout"])
    except SelectorError as exc:
        if getattr(exc, "missing", False) and params["missing"] == "ignore":
            module.exit_json(**empty_result())
        module.fail_json(msg="Failed to select processes: %s" % safe_text(str(exc)))

    try:
        if missing and params["missing"] == "fail":
            module.fail_json(msg="Failed to select processes: no such process for pid %s (%s)" % (
                ", ".join(str(p) for p in missing), describe_selector(params)), missing_pids=missing)
        if not handles:
            if params["missing"] == "ignore":
                module.exit_json(**empty_result(skipped))
            hint = ""
            if skipped:
                hint = (" (%d matching process(es) in containers were left out: set containers=true to include them)"
                        % len(skipped))
            module.fail_json(msg="Failed to select processes: no process matches %s%s%s" % (
                describe_selector(params), " for user %s" % params["user"] if params["user"] else "", hint),
                skipped_containers=skipped, skipped_containers_count=len(skipped))
        try:
            procs, vanished = apply_oom_score_adj(handles, value, check_mode=module.check_mode)
        except BatchWriteError as exc:
            module.fail_json(msg="Failed to set oom_score_adj: %s" % safe_text(str(exc)), failed_process=exc.failed,
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
        skipped_containers=skipped,
        skipped_containers_count=len(skipped),
    )
    if module._diff:
        result["diff"] = {"prepared": "".join("%s %s: %s -> %s\n" % (p["pid"], p["comm"], p["before"], value) for p in changed)}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
