#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: systemd_override
short_description: Validated OOM and memory drop-ins for systemd units, applied without a restart
version_added: 0.1.0
description:
  - Writes one drop-in file, C(<unit_dir>/<unit>.d/<name>.conf), with the unit's OOM and memory settings
    (C(OOMScoreAdjust=), C(OOMPolicy=), C(MemoryMax=), C(MemoryHigh=), C(ManagedOOM*=) and others), the persistent
    form of C(systemctl edit postgresql@15-main.service).
  - The module owns that one file. It never edits or deletes C(override.conf) or any other drop-in.
  - Everything is checked before anything is written. The unit name follows systemd's rules. Each key must belong to
    the unit's type and be known to the host's systemd version. Values must be in the form and range systemd
    accepts. Control characters and newlines are refused everywhere, so a value cannot inject other settings.
    systemd itself ignores a bad line with only a log message; this module fails with a clear error instead.
  - When the file changes, systemd is reloaded. C(daemon-reload) re-applies the cgroup settings (C(Memory*=)) of
    running units, so new memory limits take effect without a restart. C(OOMScoreAdjust=) only applies when a
    process starts. O(apply=live) writes the new value to the running processes instead, and O(apply=restart)
    restarts the unit.
  - Configured is not enforced. Without C(CAP_SYS_RESOURCE) (containers), systemd silently skips a negative
    C(OOMScoreAdjust=). On cgroup v1, C(MemoryHigh=) has no effect. The module compares what C(systemctl show)
    reports with what the kernel has (the main process's C(oom_score_adj), the cgroup's limit file) and warns
    where they differ.
  - Never uses C(systemctl set-property). It would leave drop-ins under C(/run/systemd/system.control/) that silently
    win over files in C(/etc/systemd/system/).
  - On Debian the PostgreSQL postmaster runs in C(postgresql@VERSION-CLUSTER.service). C(postgresql.service) is a
    oneshot umbrella unit with no main process, so target the instance (C(postgresql@15-main.service)) or the
    template (C(postgresql@.service), whose drop-in applies to every cluster).
author: oomguard.linux contributors (@oomguard)
options:
  unit:
    description:
      - The unit name, for example V(postgresql@15-main.service), the template V(postgresql@.service) (its drop-in
        applies to every instance), V(nginx) or V(batch.slice).
      - V(.service) is appended when the name has no unit type suffix.
      - Checked against systemd's unit-name rules (letters, digits, C(:_.-\\) and one C(@), at most 255
        characters, one valid type suffix). C(/), C(..) and control characters are refused.
    type: str
    required: true
  name:
    description:
      - Base name of the drop-in file. V(.conf) is appended when missing.
      - systemd applies drop-ins sorted by file name, and the last one wins. A file that sorts later (such as
        V(90-local.conf)) overrides this one, and the module warns when it does.
      - V(override) is refused because it is the file of C(systemctl edit).
    type: str
    default: 50-oomguard
  unit_dir:
    description:
      - Directory that holds the C(<unit>.d) directory.
      - Defaults to C(/etc/systemd/system), or to C(/run/systemd/system) with O(runtime=true).
    type: path
  runtime:
    description:
      - Write under C(/run/systemd/system), so the drop-in is gone after a reboot.
      - Ignored when O(unit_dir) is given.
    type: bool
    default: false
  state:
    description:
      - V(present) writes the drop-in. V(absent) removes it, and removes the C(.d) directory if that leaves it empty.
    type: str
    choices: [present, absent]
    default: present
  oom_score_adjust:
    description:
      - C(OOMScoreAdjust=), from V(-1000) (never kill) to V(1000) (kill first).
      - Only for units that run processes (service, socket, mount, swap).
      - A negative value needs C(CAP_SYS_RESOURCE) in systemd. Without it (in containers), systemd skips the value,
        and the module warns about the configured/enforced mismatch.
    type: int
  oom_policy:
    description:
      - C(OOMPolicy=), what systemd does when the kernel OOM-kills a process of the service. Services only,
        systemd 243 or later.
    type: str
    choices: [continue, stop, kill]
  memory_max:
    description:
      - C(MemoryMax=), the hard limit. Takes bytes with an optional C(K), C(M), C(G), C(T), C(P) or C(E) suffix
        (base 1024, upper case, a fraction such as V(1.5G) allowed), a percentage of physical memory (V(50%),
        V(12.5%)), or V(infinity).
      - V(0) and V(0%) are refused because systemd rejects them as out of range.
      - Lowering the limit below the unit's current memory use makes the kernel kill the unit at the next reload.
        The module refuses that unless O(force=true).
    type: str
  memory_high:
    description:
      - C(MemoryHigh=), the throttling limit, in the same syntax as O(memory_max). It must not be above
        O(memory_max).
      - Not enforced on cgroup v1. The module warns there.
    type: str
  memory_low:
    description:
      - C(MemoryLow=), best-effort memory protection, in the same syntax as O(memory_max) (V(0) allowed).
    type: str
  memory_min:
    description:
      - C(MemoryMin=), hard memory protection, in the same syntax as O(memory_max) (V(0) allowed). systemd 240 or
        later.
    type: str
  memory_swap_max:
    description:
      - C(MemorySwapMax=), the swap limit, in the same syntax as O(memory_max) (V(0) allowed). systemd 232 or later.
    type: str
  managed_oom_swap:
    description:
      - C(ManagedOOMSwap=) for systemd-oomd. systemd 247 or later.
    type: str
    choices: [auto, kill]
  managed_oom_memory_pressure:
    description:
      - C(ManagedOOMMemoryPressure=) for systemd-oomd. systemd 247 or later.
    type: str
    choices: [auto, kill]
  managed_oom_memory_pressure_limit:
    description:
      - C(ManagedOOMMemoryPressureLimit=), a percentage from V(0%) to V(100%) with up to two decimals. systemd 248
        or later.
    type: str
  managed_oom_preference:
    description:
      - C(ManagedOOMPreference=) for systemd-oomd. systemd 248 or later.
    type: str
    choices: [none, avoid, omit]
  extra:
    description:
      - Other settings for the same section, as a dict from key to value. A list value writes the key once per
        element.
      - Keys are letters and digits only. Values must not contain control characters or newlines, must not end in
        a backslash (which continues the line), and must have no leading or trailing blanks.
      - A key the module knows (such as V(MemoryMax)) is checked like its typed option. Setting it both ways fails.
    type: dict
    default: {}
  daemon_reload:
    description:
      - Run C(systemctl daemon-reload) when the file changed.
      - Defaults to V(true) when systemd is running. Without a running systemd it is skipped with a warning.
    type: bool
  apply:
    description:
      - V(none) only writes the file (and reloads). Memory settings of running units take effect at the reload.
      - V(live) also writes the new C(OOMScoreAdjust=) value to the unit's main process, and to the unit's processes
        that still carry the value they inherited from it. Processes that chose their own value are left alone.
        The main process keeps running (same pid). For a template, this applies to every running instance.
        It runs whenever the main process's value differs, even if the file is unchanged.
      - V(restart) runs C(systemctl try-restart) on the unit (on every running instance for a template) when the
        file changed. A stopped unit stays stopped.
    type: str
    choices: [none, live, restart]
    default: none
  force:
    description:
      - Write a O(memory_max) below the unit's current memory use anyway. The kernel will reclaim memory or
        OOM-kill processes of the unit when systemd applies the limit.
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Nothing is written, reloaded, restarted or applied. The result says what would change.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The drop-in file's content before and after.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
    details: Linux hosts with systemd. Without a running systemd the file is still written, and reload and apply are skipped.
notes:
  - The precedence check reads the drop-in directories of systemd's system unit search path. These are the unit's
    own C(.d), its template's, the dash-prefix ones such as C(foo-.service.d), and the type-level C(service.d).
  - A same-named drop-in in a higher-priority directory (for example C(/etc/systemd/system.control) written by
    C(systemctl set-property)) masks this one. The module warns.
seealso:
  - module: oomguard.linux.oom_score_adj
  - name: systemd.resource-control(5)
    description: The memory settings.
    link: https://www.freedesktop.org/software/systemd/man/latest/systemd.resource-control.html
  - name: systemd.exec(5)
    description: OOMScoreAdjust=.
    link: https://www.freedesktop.org/software/systemd/man/latest/systemd.exec.html
"""

EXAMPLES = r"""
- name: Protect the PostgreSQL postmaster of every cluster (Debian runs it in postgresql@VERSION-CLUSTER)
  oomguard.linux.systemd_override:
    unit: postgresql@.service
    oom_score_adjust: -900
    oom_policy: continue
    apply: live

- name: Cap a batch service at 2 GiB and throttle it from 1500 MiB, effective at the reload
  oomguard.linux.systemd_override:
    unit: batch-import.service
    memory_max: 2G
    memory_high: 1500M

- name: Make a leaky worker the OOM killer's first choice, with a setting the module has no option for
  oomguard.linux.systemd_override:
    unit: worker
    oom_score_adjust: 800
    extra:
      MemoryAccounting: true
    apply: restart

- name: Limit a whole slice to 40% of RAM until the next boot
  oomguard.linux.systemd_override:
    unit: batch.slice
    memory_max: 40%
    runtime: true

- name: Remove our drop-in (override.conf and other drop-ins stay)
  oomguard.linux.systemd_override:
    unit: postgresql@.service
    state: absent
"""

RETURN = r"""
path:
  description: The drop-in file the module manages.
  returned: always
  type: str
  sample: /etc/systemd/system/postgresql@.service.d/50-oomguard.conf
content:
  description: The file's content after the run (null when absent).
  returned: always
  type: str
  sample: "# Managed by oomguard.linux ...\n# Unit: postgresql@.service\n[Service]\nOOMScoreAdjust=-900\n"
unit:
  description: The normalized unit name.
  returned: always
  type: str
  sample: postgresql@.service
units:
  description: The units the settings reach and that were inspected. This is the unit itself, or the loaded
    instances of a template.
  returned: always
  type: list
  elements: str
  sample: [postgresql@15-main.service]
systemd_running:
  description: Whether systemd runs on the host. Without it, reload and apply are skipped.
  returned: always
  type: bool
  sample: true
systemd_version:
  description: The host's systemd version (from C(systemctl --version)), null when unknown.
  returned: always
  type: int
  sample: 252
reloaded:
  description: Whether C(systemctl daemon-reload) ran (or would run in check mode).
  returned: always
  type: bool
  sample: true
applied:
  description:
    - What was applied to running units. There is one entry per process written (O(apply=live)), per unit
      restarted (O(apply=restart)), and per memory property that the reload re-applied.
    - C(status) is C(set), C(would set), C(would fail) (check mode, lowering without CAP_SYS_RESOURCE), C(failed),
      C(skipped) (a process that chose its own value), C(restarted), C(would restart) or C(reloaded).
  returned: always
  type: list
  elements: dict
  sample:
    - {unit: postgresql@15-main.service, pid: 4242, comm: postgres, property: oom_score_adj, before: 0, after: 300, status: set}
    - {unit: batch.service, property: MemoryMax, value: "2G", status: reloaded}
effective:
  description:
    - Per unit, what C(systemctl show) reports for the keys of the drop-in, plus C(MainPID) and C(ControlGroup),
      after the run. The dict is empty without a running systemd.
  returned: always
  type: dict
  sample: {"postgresql@15-main.service": {"OOMScoreAdjust": "-900", "MainPID": "61", "ControlGroup": "/system.slice/..."}}
configured:
  description: Per unit, the configured values of the OOM and memory keys of the drop-in, as C(systemctl show)
    reports them.
  returned: always
  type: dict
  sample: {"batch.service": {"MemoryMax": 2147483648, "OOMScoreAdjust": 500}}
enforced:
  description:
    - Per unit, what the kernel has. C(OOMScoreAdjust) is read from C(/proc/MAINPID/oom_score_adj). Memory keys
      are read from the cgroup's limit file (C(memory.limit_in_bytes) on cgroup v1, C(memory.max) and
      C(memory.high) on v2), in bytes or C(infinity).
    - A key that the kernel does not enforce on this host (C(MemoryHigh) on cgroup v1) is missing here and
      listed in the warnings.
  returned: always
  type: dict
  sample: {"batch.service": {"MemoryMax": 2147483648, "OOMScoreAdjust": 0, "cgroup_layout": "v1"}}
overridden_by:
  description: Keys of this drop-in that a drop-in applied later sets again, with that file and its value.
  returned: always
  type: dict
  sample: {"OOMScoreAdjust": [{"path": "/etc/systemd/system/postgresql@.service.d/90-later.conf", "value": "100"}]}
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.oomguard.linux.plugins.module_utils import _systemd as sd
from ansible_collections.oomguard.linux.plugins.module_utils._args import refuse_loose_ints
from ansible_collections.oomguard.linux.plugins.module_utils._text import safe_text
from ansible_collections.oomguard.linux.plugins.module_utils._swap import read_proc_swaps
from ansible_collections.oomguard.linux.plugins.module_utils._procfs import (
    ProcError,
    ProcessHandle,
    find_processes,
    has_cap_sys_resource,
)

DEFAULT_UNIT_DIR = "/etc/systemd/system"
RUNTIME_UNIT_DIR = "/run/systemd/system"
MEMORY_KEYS = ("MemoryMin", "MemoryLow", "MemoryHigh", "MemoryMax", "MemorySwapMax")


def build_module():
    spec = dict(
        unit=dict(type="str", required=True),
        name=dict(type="str", default="50-oomguard"),
        unit_dir=dict(type="path"),
        runtime=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        oom_score_adjust=dict(type="int"),
        oom_policy=dict(type="str", choices=["continue", "stop", "kill"]),
        memory_max=dict(type="str"),
        memory_high=dict(type="str"),
        memory_low=dict(type="str"),
        memory_min=dict(type="str"),
        memory_swap_max=dict(type="str"),
        managed_oom_swap=dict(type="str", choices=["auto", "kill"]),
        managed_oom_memory_pressure=dict(type="str", choices=["auto", "kill"]),
        managed_oom_memory_pressure_limit=dict(type="str"),
        managed_oom_preference=dict(type="str", choices=["none", "avoid", "omit"]),
        extra=dict(type="dict", default={}),
        daemon_reload=dict(type="bool"),
        apply=dict(type="str", choices=["none", "live", "restart"], default="none"),
        force=dict(type="bool", default=False),
    )
    return AnsibleModule(argument_spec=spec, supports_check_mode=True)


class Override(object):
    """One run of the module: validate, write, reload, apply, report."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.warnings = []
        self.applied = []
        self.running = sd.systemd_running()
        self.version = sd.systemd_version(module)
        self.systemctl = module.get_bin_path("systemctl")

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    # -- validation --------------------------------------------------------------------------------------------
    def validate(self):
        params = self.params
        try:
            self.unit = sd.normalize_unit_name(params["unit"])
            self.section = sd.section_for(self.unit)
            self.filename = sd.validate_dropin_name(params["name"])
        except sd.SystemdError as exc:
            self.fail("Failed to validate the unit: %s" % exc)
        unit_dir = params["unit_dir"] or (RUNTIME_UNIT_DIR if params["runtime"] else DEFAULT_UNIT_DIR)
        if not os.path.isabs(unit_dir):
            self.fail("Failed to validate unit_dir: %r is not an absolute path" % unit_dir)
        self.unit_dir = os.path.normpath(unit_dir)
        self.dropin_dir = os.path.join(self.unit_dir, self.unit + ".d")
        self.path = os.path.join(self.dropin_dir, self.filename)
        self.utype = sd.unit_type(self.unit)

        settings = {}
        for option, key in sd.OPTION_KEYS:
            if params[option] is not None:
                settings[key] = params[option]
        errors = []
        for key, value in (params["extra"] or {}).items():
            if key in settings:
                errors.append("%s is given both as a typed option and in extra" % key)
            settings[key] = value
        if errors:
            self.fail("Failed to validate the settings: %s" % "; ".join(errors))
        if params["state"] == "present" and not settings:
            self.fail("Failed to validate the settings: state=present needs at least one setting "
                      "(oom_score_adjust, memory_max, ... or extra)")
        self.total_memory = sd.physical_memory()
        try:
            self.settings = sd.check_settings(settings, self.utype, self.version, self.total_memory)
        except sd.SystemdError as exc:
            self.fail("Failed to validate the settings for %s: %s" % (self.unit, exc))

    # -- systemctl ---------------------------------------------------------------------------------------------
    def systemctl_run(self, *args):
        rc, out, err = self.module.run_command([self.systemctl] + list(args), environ_update={"LC_ALL": "C"})
        return rc, out, err

    def target_units(self):
        """The units the drop-in reaches that systemd knows about: the unit, or the loaded instances of a template."""
        if not (self.running and self.systemctl):
            return []
        parts = sd.split_unit_name(self.unit)
        if parts["instance"] != "":
            return [self.unit]
        pattern = "%s@*.%s" % (parts["prefix"], parts["type"])
        rc, out, dummy = self.systemctl_run("list-units", "--all", "--plain", "--no-legend", "--no-pager", "--", pattern)
        if rc != 0:
            return []
        units = []
        for line in out.splitlines():
            fields = line.split()
            if fields and fields[0].endswith("." + parts["type"]) and "@" in fields[0]:
                units.append(safe_text(fields[0]))
        return sorted(set(units))

    # -- the file ----------------------------------------------------------------------------------------------
    def read_current(self):
        if os.path.islink(self.path) or (os.path.exists(self.path) and not os.path.isfile(self.path)):
            self.fail("Failed to read %s: it is not a regular file (a symlink or directory); the module only manages "
                      "a plain file it wrote" % self.path)
        if not os.path.exists(self.path):
            return None, None
        try:
            with open(self.path, "rb") as fh:
                content = safe_text(fh.read())  # bytes that are not UTF-8 show as \xNN (and differ from ours)
            mode = os.stat(self.path).st_mode & 0o7777
        except (IOError, OSError) as exc:
            self.fail("Failed to read %s: %s" % (self.path, to_native(exc)))
        return content, mode

    def write(self, content):
        try:
            if not os.path.isdir(self.dropin_dir):
                os.makedirs(self.dropin_dir, 0o755)
            fd, tmp = tempfile.mkstemp(prefix="." + self.filename + ".", suffix=".tmp", dir=self.dropin_dir)
            try:
                with os.fdopen(fd, "w") as fh:
                    fh.write(content)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, 0o644)
                self.module.atomic_move(tmp, self.path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            os.chmod(self.path, 0o644)
        except (IOError, OSError) as exc:
            self.fail("Failed to write %s: %s" % (self.path, to_native(exc)))

    def remove(self):
        try:
            os.unlink(self.path)
            if os.path.isdir(self.dropin_dir) and not os.listdir(self.dropin_dir):
                os.rmdir(self.dropin_dir)
        except (IOError, OSError) as exc:
            self.fail("Failed to remove %s: %s" % (self.path, to_native(exc)))

    # -- memory safety -----------------------------------------------------------------------------------------
    def check_memory_max(self, units):
        value = self.settings.get("MemoryMax")
        if value is None or self.params["force"]:
            return
        limit = sd.memory_bytes(value, self.total_memory)
        if limit is None:
            return
        for unit in units:
            props = sd.show_properties(self.module, unit, ["MemoryCurrent", "ControlGroup", "ActiveState"])
            usage = props.get("MemoryCurrent")
            usage = int(usage) if usage and usage.isdigit() and int(usage) < sd.UINT64_MAX else None
            if usage is None and props.get("ControlGroup"):
                usage = sd.memory_usage(props["ControlGroup"])
            if usage is not None and usage > limit:
                self.fail("Refusing to set MemoryMax=%s (%d bytes) for %s: the unit uses %d bytes now, so the kernel would "
                          "reclaim or OOM-kill its processes at the reload; raise the limit or set force=true"
                          % (value, limit, unit, usage), unit=unit, memory_current=usage, memory_max=limit)

    # -- live apply --------------------------------------------------------------------------------------------
    def apply_live(self, units, check_mode):
        if "OOMScoreAdjust" not in self.settings:
            return False
        wanted = int(self.settings["OOMScoreAdjust"])
        changed = False
        for unit in units:
            props = sd.show_properties(self.module, unit, ["MainPID"])
            main_pid = int(props.get("MainPID") or 0)
            if main_pid <= 0:
                self.warnings.append("apply=live: %s has no main process (not running, or a oneshot unit such as Debian's "
                                     "postgresql.service umbrella); nothing to apply" % unit)
                continue
            try:
                main = ProcessHandle(main_pid)
            except ProcError:
                continue
            try:
                inherited = main.oom_score_adj
                if inherited == wanted:
                    continue
                handles, dummy = find_processes(unit=unit)
            except (ProcError, OSError) as exc:
                self.warnings.append("apply=live: cannot read the processes of %s: %s" % (unit, exc))
                main.close()
                continue
            try:
                others = [h for h in handles if h.pid != main_pid]
                for handle in [main] + others:
                    changed = self._apply_one(unit, handle, inherited, wanted, handle is main, check_mode) or changed
            finally:
                main.close()
                for handle in handles:
                    handle.close()
        return changed

    def _apply_one(self, unit, handle, inherited, wanted, is_main, check_mode):
        entry = {"unit": unit, "pid": handle.pid, "property": "oom_score_adj", "after": wanted}
        try:
            entry["comm"] = handle.comm
            before = handle.oom_score_adj
        except (ProcError, OSError):
            return False
        entry["before"] = before
        if before == wanted:
            return False
        if not is_main and before != inherited:
            entry["status"] = "skipped"
            entry["reason"] = "the process set its own value (%d, not the %d it inherited)" % (before, inherited)
            self.applied.append(entry)
            return False
        if check_mode:
            if wanted < 0 and wanted < before and not has_cap_sys_resource():
                # the real run would get EACCES (below oom_score_adj_min without CAP_SYS_RESOURCE) and change nothing
                entry["status"] = "would fail"
                entry["error"] = "lowering to %d needs CAP_SYS_RESOURCE, which this host lacks" % wanted
                self.applied.append(entry)
                self.warnings.append("apply=live: %s %d (%s) cannot be lowered from %d to %d: CAP_SYS_RESOURCE is missing"
                                     % (unit, handle.pid, entry["comm"], before, wanted))
                return False
            entry["status"] = "would set"
            self.applied.append(entry)
            return True
        try:
            handle.set_oom_score_adj(wanted, before=before)
        except ProcError as exc:
            entry["status"] = "failed"
            entry["error"] = str(exc)
            self.applied.append(entry)
            self.warnings.append("apply=live: %s" % exc)
            return False
        entry["status"] = "set"
        self.applied.append(entry)
        return True

    # -- report ------------------------------------------------------------------------------------------------
    def report(self, units):
        effective, configured, enforced = {}, {}, {}
        keys = list(self.settings)
        oom_keys = [k for k in keys if k == "OOMScoreAdjust" or k in MEMORY_KEYS]
        for unit in units:
            props = sd.show_properties(self.module, unit, keys + ["MainPID", "ControlGroup", "ActiveState"])
            effective[unit] = props
            if not props:
                continue
            conf = {}
            for key in oom_keys:
                raw = props.get(key)
                if key == "OOMScoreAdjust":
                    conf[key] = sd.show_value_int(raw)
                else:
                    conf[key] = sd.show_value_bytes(raw)
            configured[unit] = conf
            enforced[unit] = self._enforced(unit, props, conf)
        return effective, configured, enforced

    def _enforced(self, unit, props, conf):
        result = {}
        main_pid = int(props.get("MainPID") or 0)
        if "OOMScoreAdjust" in conf and main_pid > 0:
            try:
                with ProcessHandle(main_pid) as handle:
                    result["OOMScoreAdjust"] = handle.oom_score_adj
            except (ProcError, OSError):
                pass
            want, have = conf["OOMScoreAdjust"], result.get("OOMScoreAdjust")
            if want is not None and have is not None and want != have:
                if want < 0 and not has_cap_sys_resource():
                    why = ("systemd skips a negative OOMScoreAdjust= without CAP_SYS_RESOURCE (containers), so the value is "
                           "configured but not enforced")
                else:
                    why = "OOMScoreAdjust= applies when the process starts: use apply=live or apply=restart"
                self.warnings.append("%s: configured OOMScoreAdjust=%d but the main process %d has oom_score_adj %d; %s"
                                     % (unit, want, main_pid, have, why))
        mem_keys = [k for k in conf if k in MEMORY_KEYS]
        if mem_keys and props.get("ControlGroup") and props.get("ActiveState") in ("active", "reloading", "activating"):
            kernel = sd.enforced_memory(props["ControlGroup"], mem_keys)
            result["cgroup_layout"] = kernel["layout"]
            result["files"] = kernel["files"]
            if ("MemoryMax" in mem_keys and conf.get("MemoryMax") not in (None, "infinity")
                    and kernel.get("memsw_limit") == "infinity" and read_proc_swaps()):
                self.warnings.append(
                    "%s: MemoryMax=%s limits RAM only here: on cgroup v1 with swap active the unit can swap past it, because "
                    "systemd sets no memory+swap limit (memory.memsw.limit_in_bytes is unlimited); when it finally hits the "
                    "limit the OOM kill may land elsewhere in its parent cgroup" % (unit, self.settings.get("MemoryMax")))
            for key in mem_keys:
                if key in kernel["unsupported"]:
                    if conf.get(key) not in (None, "infinity"):
                        self.warnings.append("%s: %s=%s is configured but not enforced: cgroup %s has no %s"
                                             % (unit, key, self.settings.get(key), kernel["layout"],
                                                "memory.high (MemoryHigh= only works on cgroup v2)" if key == "MemoryHigh"
                                                else "file for it"))
                    continue
                if key not in kernel["values"]:
                    continue
                have = kernel["values"][key]
                result[key] = have
                want = conf.get(key)
                if not _same_limit(want, have):
                    self.warnings.append("%s: configured %s=%s but the kernel's %s has %s" % (
                        unit, key, want, kernel["files"].get(key), have))
        return result

    def precedence(self, content, units):
        overridden = {}
        search = list(sd.SYSTEM_UNIT_PATH)
        if self.unit_dir not in search:
            search.insert(search.index(DEFAULT_UNIT_DIR), self.unit_dir)
        for unit in [self.unit] + [u for u in units if u != self.unit]:
            info = sd.precedence(unit, self.path, list(self.settings), search, our_content=content)
            if info["masked_by"]:
                self.warnings.append("%s: %s is masked by %s (same file name in a directory systemd reads first); systemd "
                                     "ignores our file" % (unit, self.path, info["masked_by"]))
            for key, later in info["overrides"].items():
                known = overridden.setdefault(key, [])
                for item in later:
                    if item not in known:
                        known.append(item)
                        self.warnings.append(
                            "%s: %s= of %s is overridden by %s (applied later, %s=%s); effective from drop-ins: %s=%s"
                            % (unit, key, self.path, item["path"], key, item["value"] or "(reset)", key,
                               info["effective"].get(key, "")))
        return overridden

    # -- main --------------------------------------------------------------------------------------------------
    def run(self):
        module = self.module
        check_mode = module.check_mode
        self.validate()
        state = self.params["state"]
        before, mode = self.read_current()
        after = sd.render_dropin(self.unit, self.settings) if state == "present" else None
        file_changed = before != after or (after is not None and mode != 0o644)

        reload_wanted = self.params["daemon_reload"]
        if reload_wanted is None:
            reload_wanted = self.running
        if not self.running:
            skipped = []
            if self.params["daemon_reload"]:
                skipped.append("daemon-reload")
            if self.params["apply"] != "none":
                skipped.append("apply=%s" % self.params["apply"])
            self.warnings.append("systemd is not running on this host: %s the drop-in file%s"
                                 % ("wrote" if not check_mode else "would write",
                                    ", skipped " + " and ".join(skipped) if skipped else "; reload and apply are skipped"))
            reload_wanted = False

        units = self.target_units()
        if file_changed and state == "present":
            self.check_memory_max(units)

        if file_changed and not check_mode:
            if after is None:
                self.remove()
            else:
                self.write(after)

        reloaded = False
        if file_changed and reload_wanted and self.systemctl:
            reloaded = True
            if not check_mode:
                rc, out, err = self.systemctl_run("daemon-reload")
                if rc != 0:
                    self.fail("Failed to reload systemd after writing %s: %s" % (self.path, (err or out).strip()),
                              path=self.path, content=after)
            for key in self.settings:
                if key in MEMORY_KEYS and state == "present":
                    for unit in units:
                        self.applied.append({"unit": unit, "property": key, "value": self.settings[key],
                                             "status": "reloaded" if not check_mode else "would reload"})

        changed = file_changed
        if self.running and self.systemctl and state == "present" and self.params["apply"] == "live":
            changed = self.apply_live(units, check_mode) or changed
        if self.running and self.systemctl and file_changed and self.params["apply"] == "restart":
            for unit in units:
                if check_mode:
                    self.applied.append({"unit": unit, "action": "try-restart", "status": "would restart"})
                    continue
                rc, out, err = self.systemctl_run("try-restart", "--", unit)
                if rc != 0:
                    self.fail("Failed to restart %s after writing %s: %s" % (unit, self.path, (err or out).strip()),
                              path=self.path, content=after)
                self.applied.append({"unit": unit, "action": "try-restart", "status": "restarted"})

        overridden = self.precedence(after, units) if state == "present" else {}
        if self.running and not check_mode:
            effective, configured, enforced = self.report(units)
        else:
            effective, configured, enforced = {}, {}, {}

        result = dict(
            changed=changed, path=self.path, content=after, unit=self.unit, units=units, systemd_running=self.running,
            systemd_version=self.version, reloaded=reloaded, applied=self.applied, effective=effective,
            configured=configured, enforced=enforced, overridden_by=overridden,
        )
        if module._diff:
            result["diff"] = {"before": before or "", "after": after or "",
                              "before_header": self.path if before is not None else "%s (absent)" % self.path,
                              "after_header": self.path if after is not None else "%s (absent)" % self.path}
        for warning in self.warnings:
            module.warn(warning)
        module.exit_json(**result)


def _same_limit(want, have):
    if want is None:
        return True
    if want == "infinity" or have == "infinity":
        return want == have
    page = 4096
    return abs(int(want) - int(have)) < page * 2


def main():
    module = build_module()
    refuse_loose_ints(module)
    Override(module).run()


if __name__ == "__main__":
    main()
