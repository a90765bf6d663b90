# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The next step of each audit finding: a role variable or a module call the user can copy, and whether this host can
enforce it.

Controller-side code (plugins/plugin_utils). Every function returns ``(next_step, blocked)``: ``next_step`` is YAML or a
shell command that works as printed; ``blocked`` is ``None`` when the direct fix works on this host, else the reason it
cannot (no CAP_SYS_RESOURCE for a negative oom_score_adj, cgroup v1 for MemoryHigh=), and ``next_step`` is then an
alternative the host CAN enforce. The rules and their steps are documented in docs/audit.md.
"""
from __future__ import annotations

import json
import shlex

NO_CAP = ("this host cannot lower oom_score_adj below 0: its processes lack CAP_SYS_RESOURCE (a container or a "
          "restricted VM), so the kernel refuses the write and systemd skips a negative OOMScoreAdjust= silently")
V1_HIGH = ("MemoryHigh= needs the cgroup v2 memory controller and this host's memory controller is cgroup v1: "
           "systemd accepts the setting and the kernel ignores it")
PROTECT_VALUE = -900  # what the steps suggest for a critical service without an intended value


def _flow(value):
    """A value as YAML flow text (JSON is valid YAML flow), so a step reads ``{unit: x}`` like the docs."""
    if isinstance(value, dict):
        return "{" + ", ".join("%s: %s" % (k, _flow(v)) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, str) and (not value or not all(c.isalnum() or c in "._-@/:" for c in value)
                                   or value[0] in "-@:" or value.lower() in ("yes", "no", "true", "false", "null", "on", "off")):
        return json.dumps(value)
    return str(value)


def role_var(name, item):
    """``oom_protect_<name>: [item]``: one role variable with one item."""
    return "oom_protect_%s: [%s]" % (name, _flow(item))


def module_call(module, args):
    """A task with one module call: ``oomguard.linux.<module>: {...}``."""
    return "oomguard.linux.%s: %s" % (module, _flow(args))


def mib_size(kb, factor=1.5, step=64):
    """A memory size (``512M``) a bit above ``kb``, rounded up to ``step`` MiB; None when unknown."""
    if not kb:
        return None
    mib = int(kb * factor / 1024.0)
    return "%dM" % (max(step, (mib + step - 1) // step * step))


def swap_size(mem_total_kb):
    """The swapfile size the steps suggest: a quarter of RAM, between 1G and 8G."""
    gib = int(round((mem_total_kb or 0) / 4.0 / 1024 / 1024))
    return "%dG" % min(8, max(1, gib))


def selector(svc):
    """The selector an impostor cannot satisfy: the unit, else name and user, else the name (docs/security.md)."""
    if svc.get("unit"):
        return {"unit": svc["unit"]}
    sel = {"name": [svc.get("comm") or svc.get("service")]}
    if svc.get("user"):
        sel["user"] = svc["user"]
    return sel


# never suggested as what should die first: init, shells and the tools that run the audit itself (its module runs as
# python3 under ansible; on a test host it is the top victim for the moment of the audit)
_NOT_A_SACRIFICE = ("sh", "bash", "dash", "su", "sudo", "ssh", "sshd", "systemd", "pytest", "init")


def _sacrifice(victims):
    """The first host process in the kernel's order that is not a watched service, init, a session scope or the audit's
    own tooling: what should die first."""
    for v in victims:
        if v.get("container_id") is not None or v.get("service") or v.get("pid") == 1:
            continue
        unit = v.get("unit") or ""
        comm = v.get("comm") or ""
        if unit.endswith(".scope") or comm in _NOT_A_SACRIFICE or comm.startswith(("ansible", "python")):
            continue
        return v
    return None


def raise_others(victims, host):
    """An enforceable alternative to lowering: raise what should die first, or add headroom."""
    victim = _sacrifice(victims)
    if victim is not None and victim.get("unit"):
        return role_var("services", {"unit": victim["unit"], "oom_score_adjust": 500}) + \
            "   # raising works without CAP_SYS_RESOURCE: %s dies first" % victim["unit"]
    if victim is not None and victim.get("comm"):
        args = {"name": [victim["comm"]], "value": 500}
        if victim.get("user"):
            args["user"] = victim["user"]
        return module_call("oom_score_adj", args) + "   # raising works without CAP_SYS_RESOURCE"
    return role_var("swapfiles", {"path": "/swapfile", "size": swap_size(host.get("mem_total_kb"))})


def protect(svc, host, victims, value=None):
    """Lower a critical service's oom_score_adj (the role keeps it across restarts), or say why the host cannot."""
    value = PROTECT_VALUE if value is None else value
    if value < 0 and host.get("cap_sys_resource") is False:
        return raise_others(victims, host), NO_CAP
    if svc.get("unit"):
        return role_var("services", {"unit": svc["unit"], "oom_score_adjust": value}), None
    args = dict(selector(svc), value=value)
    return role_var("processes", args) + "   # not a service: set live, again after each restart", None


def set_live(svc, host, victims, value):
    """Set a running service back to ``value`` now (drift), or say why the host cannot."""
    if value < 0 and host.get("cap_sys_resource") is False:
        return raise_others(victims, host), NO_CAP
    args = dict(selector(svc), value=value)
    if svc.get("unit"):
        return (module_call("oom_score_adj", args) + "   # now; to keep it: "
                + role_var("services", {"unit": svc["unit"], "oom_score_adjust": value})), None
    return module_call("oom_score_adj", args), None


def not_enforced(unit, configured, host, victims):
    """A unit configures a negative OOMScoreAdjust= that its process does not run with."""
    if host.get("cap_sys_resource") is False:
        return raise_others(victims, host), NO_CAP
    return module_call("systemd_override", {"unit": unit, "oom_score_adjust": configured, "apply": "live"}), None


def memory_high(unit, value, host):
    """MemoryHigh= is not enforced: on cgroup v1 suggest the hard limit that is."""
    if host.get("cgroup_memory") == "v1":
        return (role_var("services", {"unit": unit, "memory_max": str(value)})
                + "   # a hard limit, enforced on cgroup v1: the kernel kills in the unit instead of throttling it"), V1_HIGH
    return module_call("systemd_override", {"unit": unit, "memory_high": str(value), "daemon_reload": True}), None


def contain_kills(kills, host_name):
    """After kills: limit the unit (or the container) that was killed most, or look at the kernel's own lines."""
    by_unit = {}
    for k in kills:
        key = ("container", k.get("container_runtime"), k.get("container_id")) if k.get("container_id") else ("unit", k.get("unit"))
        by_unit.setdefault(key, []).append(k)
    key, rows = max(by_unit.items(), key=lambda item: len(item[1]))
    biggest = max((k.get("anon_rss_kb") or 0) for k in rows)
    size = mib_size(biggest, 2.0) or "512M"
    if key[0] == "container":
        runtime = "podman" if key[1] in (None, "podman") else "docker" if key[1] == "docker" else None
        if runtime:
            return "%s update --memory %s %s   # on %s: limit the container whose process was killed" % (
                runtime, size.lower(), key[2][:12], host_name)
        return "limit the memory of %s container %s (its runtime's memory option)" % (key[1], key[2][:12])
    if key[1]:
        return role_var("services", {"unit": key[1], "memory_max": size}) + \
            "   # contain the unit killed most (sized from its RSS: check it fits)"
    return "ansible %s -b -m oomguard.linux.oom_facts -a 'since=7d raw_lines=6'   # the kernel's own lines of each kill" % (
        shlex.quote(host_name))


def keep_kernel_log(host_name):
    """Kills the kernel counted and no log shows: the ring buffer wrapped or the journal dropped or rotated them out."""
    return ("ansible %s -b -m ansible.builtin.lineinfile -a 'path=/etc/systemd/journald.conf regexp=^#?Storage= "
            "line=Storage=persistent'   # keep the kernel's lines of the next kills (then restart "
            "systemd-journald; a larger log_buf_len= on the kernel command line keeps more in the ring buffer)"
            % shlex.quote(host_name)), None


def add_swap(host):
    return role_var("swapfiles", {"path": "/swapfile", "size": swap_size(host.get("mem_total_kb"))}), None


def become(host_name):
    return ("ansible-playbook oomguard.linux.audit -i INVENTORY --limit %s -e oomguard_audit_become=true --ask-become-pass"
            "   # as root, or with become (the audit's default)" % shlex.quote(host_name)), None


def diagnose(host_name, status):
    if status in ("unreachable", "missing"):
        return "ansible %s -m ansible.builtin.ping -vvv" % shlex.quote(host_name), None
    return ("ansible %s -b -m oomguard.linux.oom_facts -a 'top=5' -e ansible_python_interpreter=/usr/bin/python3"
            % shlex.quote(host_name)), None
