# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""systemd knowledge shared by the modules, the kill parser and the report: unit names in cgroup paths,
whether systemd runs, and ``systemctl show``."""
from __future__ import annotations

import os
import re

from ansible_collections.oomguard.linux.plugins.module_utils._swap import parse_meminfo
from ansible_collections.oomguard.linux.plugins.module_utils._text import safe_text

# Unit types whose units own a cgroup of their own (a process can sit in it).
CGROUP_UNIT_SUFFIXES = (".service", ".scope", ".socket", ".mount", ".swap")
SLICE_SUFFIX = ".slice"

# Container runtimes name their cgroups after the container id: docker-<id>.scope, libpod-<id>, crio-<id>.scope,
# cri-containerd-<id>.scope, or a bare 64-hex directory (cgroupfs driver, kubepods).
_CONTAINER_RE = re.compile(r"^(?:(?:docker|libpod|crio|cri-containerd|containerd)-)?(?P<id>[0-9a-f]{64})(?:\.scope)?$")
_CONTAINER_CONMON_RE = re.compile(r"^(?:libpod-conmon|crio-conmon)-[0-9a-f]{64}(?:\.scope)?$")


def unit_from_cgroup_path(path) -> dict:
    """Split a cgroup path into the systemd unit, its slice and a container id.

    The innermost unit wins, so ``/libpod_parent/libpod-<id>/system.slice/nginx.service`` (a systemd inside a podman
    container, as the kernel prints it in ``task_memcg``) names ``nginx.service`` with the container id, and a
    delegated sub-cgroup such as ``/system.slice/foo.service/worker`` still names ``foo.service``.
    Returns ``{'unit': str|None, 'slice': str|None, 'container_id': str|None}``; paths outside systemd's tree
    (``/oomtest``) give ``unit`` None.
    """
    result = {"unit": None, "slice": None, "container_id": None}
    if not path:
        return result
    for part in str(path).strip().split("/"):
        if not part:
            continue
        container = _CONTAINER_RE.match(part)
        if container:
            result["container_id"] = container.group("id")
            # A container's own scope is the host's unit until a unit inside the container is found.
            if part.endswith(".scope"):
                result["unit"] = part
            result["slice"] = result["slice"] if part.endswith(".scope") else None
            if not part.endswith(".scope"):
                result["unit"] = None
            continue
        if _CONTAINER_CONMON_RE.match(part):
            result["unit"] = part
            continue
        if part.endswith(SLICE_SUFFIX):
            if result["unit"] and not result["container_id"]:
                # a slice below a unit is not systemd's layout; keep the unit found so far
                continue
            result["slice"] = part
            if result["container_id"]:
                result["unit"] = None
            continue
        if part.endswith(CGROUP_UNIT_SUFFIXES):
            if result["unit"] and not result["unit"].endswith(".scope") and not result["container_id"]:
                continue  # delegated sub-cgroup named like a unit inside a unit
            result["unit"] = part
    return result


def systemd_running(root: str = "/") -> bool:
    """True when systemd is the running init system (the test sd_booted() makes)."""
    return os.path.isdir(os.path.join(root, "run/systemd/system"))


def parse_show(text: str) -> dict:
    """Parse ``systemctl show`` output (``Key=Value`` lines) into a dict; keys and values are valid UTF-8."""
    props = {}
    for line in safe_text(text).splitlines():
        key, sep, value = line.partition("=")
        if sep:
            props[key] = value
    return props


def show_properties(module, unit: str, props) -> dict:
    """Return ``systemctl show -p ...`` for one unit as a dict, or {} when systemctl fails.

    ``module`` is an AnsibleModule (or anything with ``run_command`` and ``get_bin_path``).
    """
    systemctl = module.get_bin_path("systemctl")
    if not systemctl:
        return {}
    cmd = [systemctl, "show", "--no-pager"]
    for prop in props:
        cmd.extend(["-p", prop])
    cmd.extend(["--", unit])
    rc, out, dummy = module.run_command(cmd, environ_update={"LC_ALL": "C"})
    if rc != 0:
        return {}
    return parse_show(out)


# ==============================================================================================================
# Unit names, unit-type settings, drop-in files (the systemd_override module and its tests)
# ==============================================================================================================
# Sources: systemd's unit_name_is_valid() (src/basic/unit-name.c), systemd.unit(5) "Unit File Load Path" and the
# drop-in rules, systemd.resource-control(5) / systemd.exec(5) / systemd.service(5), and NEWS for the versions.

UNIT_TYPES = ("service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer", "slice", "scope")
UNIT_NAME_MAX = 255  # UNIT_NAME_MAX is 256 including the terminating NUL
_UNIT_PREFIX_CHARS = re.compile(r"^[A-Za-z0-9:_.\\@-]+$")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_DROPIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_.@+-]*$")
_KEY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")

# The unit search path of the system manager, highest priority first (systemd.unit(5), Table 1), with both
# spellings of the distribution directory (/usr/lib on merged-/usr systems, /lib on older Debian).
SYSTEM_UNIT_PATH = (
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/run/systemd/generator.early",
    "/etc/systemd/system",
    "/etc/systemd/system.attached",
    "/run/systemd/system",
    "/run/systemd/system.attached",
    "/run/systemd/generator",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
    "/run/systemd/generator.late",
)

# Section of a unit file that carries the type-specific settings (and the resource-control ones).
SECTION_BY_TYPE = {
    "service": "Service",
    "socket": "Socket",
    "mount": "Mount",
    "swap": "Swap",
    "slice": "Slice",
    "scope": "Scope",
}

# Unit types whose units run processes (systemd.exec(5)) and whose units own a cgroup (systemd.resource-control(5)).
EXEC_UNIT_TYPES = ("service", "socket", "mount", "swap")
CGROUP_UNIT_TYPES = ("service", "slice", "scope", "socket", "mount", "swap")

UINT64_MAX = (1 << 64) - 1


class SystemdError(ValueError):
    """Invalid unit name, drop-in name, key or value; the message says what systemd expects."""


class SettingSpec(object):
    """What systemd accepts for one key: the unit types, the first systemd version and the value kind."""

    def __init__(self, key, types, since, kind, choices=None, zero_ok=True, percent_base=None):
        self.key = key
        self.types = types
        self.since = since
        self.kind = kind            # 'oom_score_adjust', 'choice', 'memory', 'percent'
        self.choices = choices
        self.zero_ok = zero_ok      # systemd refuses 0 (and 0%) for MemoryHigh=/MemoryMax= ("out of range")
        self.percent_base = percent_base


# Versions: OOMScoreAdjust= predates the versions we can meet; MemoryLow/High/Max= came with the cgroup v2 memory
# controller in 231, MemorySwapMax= in 232, MemoryMin= in 240, OOMPolicy= in 243 (NEWS: "PID 1 will now listen to
# OOM events ... optionally kill or stop the whole unit"), ManagedOOMSwap=/ManagedOOMMemoryPressure= in 247.
# ManagedOOMMemoryPressureLimit= is documented "v247", but systemd 247's NEWS spells it
# ManagedOOMMemoryPressureLimitPercent=; 248 is the first release where the name we write is certain, and the one
# that made systemd-oomd stable together with ManagedOOMPreference=.
SETTINGS = {
    "OOMScoreAdjust": SettingSpec("OOMScoreAdjust", EXEC_UNIT_TYPES, 0, "oom_score_adjust"),
    "OOMPolicy": SettingSpec("OOMPolicy", ("service",), 243, "choice", choices=("continue", "stop", "kill")),
    "MemoryMin": SettingSpec("MemoryMin", CGROUP_UNIT_TYPES, 240, "memory"),
    "MemoryLow": SettingSpec("MemoryLow", CGROUP_UNIT_TYPES, 231, "memory"),
    "MemoryHigh": SettingSpec("MemoryHigh", CGROUP_UNIT_TYPES, 231, "memory", zero_ok=False),
    "MemoryMax": SettingSpec("MemoryMax", CGROUP_UNIT_TYPES, 231, "memory", zero_ok=False),
    "MemorySwapMax": SettingSpec("MemorySwapMax", CGROUP_UNIT_TYPES, 232, "memory"),
    "ManagedOOMSwap": SettingSpec("ManagedOOMSwap", CGROUP_UNIT_TYPES, 247, "choice", choices=("auto", "kill")),
    "ManagedOOMMemoryPressure": SettingSpec("ManagedOOMMemoryPressure", CGROUP_UNIT_TYPES, 247, "choice",
                                            choices=("auto", "kill")),
    "ManagedOOMMemoryPressureLimit": SettingSpec("ManagedOOMMemoryPressureLimit", CGROUP_UNIT_TYPES, 248, "percent"),
    "ManagedOOMPreference": SettingSpec("ManagedOOMPreference", CGROUP_UNIT_TYPES, 248, "choice",
                                        choices=("none", "avoid", "omit")),
}

# Module option -> key, in the order the renderer writes them.
OPTION_KEYS = (
    ("oom_score_adjust", "OOMScoreAdjust"),
    ("oom_policy", "OOMPolicy"),
    ("memory_min", "MemoryMin"),
    ("memory_low", "MemoryLow"),
    ("memory_high", "MemoryHigh"),
    ("memory_max", "MemoryMax"),
    ("memory_swap_max", "MemorySwapMax"),
    ("managed_oom_swap", "ManagedOOMSwap"),
    ("managed_oom_memory_pressure", "ManagedOOMMemoryPressure"),
    ("managed_oom_memory_pressure_limit", "ManagedOOMMemoryPressureLimit"),
    ("managed_oom_preference", "ManagedOOMPreference"),
)
_KEY_ORDER = dict((key, index) for index, (dummy, key) in enumerate(OPTION_KEYS))

# Percentages: systemd 231 takes whole percents, 240 one decimal (parse_permille), 248 two (parse_permyriad).
_PERCENT = re.compile(r"^(?P<whole>[0-9]+)(?:\.(?P<frac>[0-9]{1,2}))?%$")
_INT = re.compile(r"^[+-]?[0-9]+$")


def _printable(text, what):
    """Refuse control characters (newlines above all: they would start a new line of the unit file)."""
    match = _CONTROL_CHARS.search(text)
    if match:
        raise SystemdError("%s %r contains a control character (%r): refused, it could inject other settings"
                           % (what, text, match.group(0)))


# -- unit names -------------------------------------------------------------------------------------------------
def normalize_unit_name(name) -> str:
    """Validate a unit name by systemd's rules and return it, with ``.service`` appended when no type suffix is given.

    Accepts plain (``foo.service``), template (``foo@.service``) and instance (``foo@bar.service``) names.
    Stricter than systemd in two points that matter for paths: no ``..`` and no leading dot.
    """
    if not isinstance(name, str) or not name:
        raise SystemdError("unit name must be a non-empty string")
    _printable(name, "unit name")
    if "/" in name:
        raise SystemdError("invalid unit name %r: a unit name is not a path and must not contain '/'" % name)
    if ".." in name:
        raise SystemdError("invalid unit name %r: '..' is not allowed" % name)
    if name.startswith("."):
        raise SystemdError("invalid unit name %r: must not start with '.'" % name)
    suffix = name.rsplit(".", 1)[1] if "." in name else ""
    if suffix not in UNIT_TYPES:
        name = name + ".service"
        suffix = "service"
    prefix = name[:-(len(suffix) + 1)]
    if len(name) > UNIT_NAME_MAX:
        raise SystemdError("invalid unit name %r: longer than %d characters" % (name, UNIT_NAME_MAX))
    if not prefix:
        raise SystemdError("invalid unit name %r: empty name before the type suffix" % name)
    if not _UNIT_PREFIX_CHARS.match(prefix):
        bad = sorted(set(c for c in prefix if not re.match(r"[A-Za-z0-9:_.\\@-]", c)))
        raise SystemdError("invalid unit name %r: characters %s are not allowed (only A-Z a-z 0-9 : _ . - \\ and one @)"
                           % (name, ", ".join(repr(c) for c in bad)))
    if prefix.startswith("@"):
        raise SystemdError("invalid unit name %r: must not start with '@'" % name)
    return name


def unit_type(name) -> str:
    """The type suffix of a (valid) unit name: 'service', 'slice', ..."""
    return name.rsplit(".", 1)[1]


def split_unit_name(name) -> dict:
    """``{'prefix', 'instance', 'type', 'template'}`` of a valid unit name; ``instance`` None for plain names,
    '' for templates; ``template`` the template's name (``foo@.service``) for instances and templates."""
    utype = unit_type(name)
    stem = name[:-(len(utype) + 1)]
    if "@" not in stem:
        return {"prefix": stem, "instance": None, "type": utype, "template": None}
    prefix, instance = stem.split("@", 1)
    return {"prefix": prefix, "instance": instance, "type": utype, "template": "%s@.%s" % (prefix, utype)}


def is_template(name) -> bool:
    return split_unit_name(name)["instance"] == ""


def section_for(name) -> str:
    """The section a drop-in of this unit writes its settings in; SystemdError for types without one."""
    utype = unit_type(name)
    if utype not in SECTION_BY_TYPE:
        raise SystemdError("unit %r: %s units take no OOM or memory settings (they run no processes and own no cgroup); "
                           "use the .service, .slice, .scope, .socket, .mount or .swap unit" % (name, utype))
    return SECTION_BY_TYPE[utype]


def validate_dropin_name(name) -> str:
    """Validate a drop-in base name and return it with ``.conf`` appended when missing."""
    if not isinstance(name, str) or not name:
        raise SystemdError("drop-in name must be a non-empty string")
    _printable(name, "drop-in name")
    if not name.endswith(".conf"):
        name = name + ".conf"
    if "/" in name or ".." in name or not _DROPIN_NAME.match(name):
        raise SystemdError("invalid drop-in name %r: use letters, digits and . _ - @ : + only, no '/' or '..', "
                           "not starting with a dot" % name)
    if name == "override.conf":
        raise SystemdError("drop-in name 'override' is reserved for 'systemctl edit'; choose another name "
                           "(the default is 50-oomguard)")
    return name


# -- values -----------------------------------------------------------------------------------------------------
def parse_percent(text):
    """Return the percentage as a float and the systemd version that first parses that spelling."""
    match = _PERCENT.match(text)
    if not match:
        return None, None
    frac = match.group("frac") or ""
    value = float(match.group("whole") + ("." + frac if frac else ""))
    since = 231 if not frac else (240 if len(frac) == 1 else 248)
    return value, since


def validate_value(key, value, utype=None, version=None):
    """Check one setting and return its text for the drop-in.

    ``utype``: the unit type, to refuse keys systemd would ignore in that type. ``version``: the host's systemd
    version (int) or None when unknown, to refuse keys and spellings newer than the host.
    Raises SystemdError with what systemd accepts.
    """
    spec = SETTINGS.get(key)
    if isinstance(value, bool):
        if spec is not None:
            raise SystemdError("%s=: boolean %r is not a valid value" % (key, value))
        text = "yes" if value else "no"
    elif isinstance(value, (int, float)):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise SystemdError("%s=: value must be a string or a number, got %s" % (key, type(value).__name__))
    _printable(text, "value of %s=" % key)
    if text.endswith("\\"):
        raise SystemdError("value of %s= %r ends in a backslash, which continues the line in a unit file: refused"
                           % (key, text))
    if text != text.strip():
        raise SystemdError("value of %s= %r has leading or trailing blanks" % (key, text))
    if spec is None:
        return text
    if utype is not None and utype not in spec.types:
        raise SystemdError("%s= does not belong in a .%s unit: systemd only honours it in %s units (it would ignore it "
                           "with a log line)" % (key, utype, ", ".join("." + t for t in spec.types)))
    since = spec.since
    if spec.kind == "oom_score_adjust":
        if not _INT.match(text) or not -1000 <= int(text) <= 1000:
            raise SystemdError("OOMScoreAdjust= must be an integer between -1000 and 1000, got %r" % text)
        text = str(int(text))
    elif spec.kind == "choice":
        if text not in spec.choices:
            raise SystemdError("%s= must be one of %s, got %r" % (key, ", ".join(spec.choices), text))
    elif spec.kind == "percent":
        pct, pct_since = parse_percent(text)
        if pct is None or pct > 100:
            raise SystemdError("%s= must be a percentage between 0%% and 100%% (up to two decimals), got %r" % (key, text))
        since = max(since, pct_since)
    elif spec.kind == "memory":
        since = max(since, _check_memory(key, text, spec))
    if version is not None and since and version < since:
        raise SystemdError("systemd %d on this host does not understand %s=%s (needs systemd %d or later); it would "
                           "ignore the setting" % (version, key, text, since))
    return text


def _check_memory(key, text, spec) -> int:
    """Validate a memory value; return the systemd version its spelling needs."""
    from ansible_collections.oomguard.linux.plugins.module_utils._units import SizeError, parse_systemd_size
    if text == "infinity":
        return 0
    if text.endswith("%"):
        pct, since = parse_percent(text)
        if pct is None or pct > 100:
            raise SystemdError("%s= percentage %r is invalid: systemd takes 0%% to 100%% with up to two decimals" % (key, text))
        if pct == 0 and not spec.zero_ok:
            raise SystemdError("%s=0%% is out of range for systemd (it ignores it); use a positive limit or infinity" % key)
        return since
    try:
        size = parse_systemd_size(text)
    except SizeError as exc:
        raise SystemdError("%s=: %s, a percentage such as 50%%, or infinity" % (key, exc))
    if size >= UINT64_MAX:
        raise SystemdError("%s=%s is out of range (must be below 16E)" % (key, text))
    if size == 0 and not spec.zero_ok:
        raise SystemdError("%s=0 is out of range for systemd (it ignores it); use a positive limit or infinity" % key)
    return 0


def memory_bytes(text, total_memory=None):
    """Bytes of a validated memory value; None for ``infinity``, and for a percentage when ``total_memory`` is None."""
    from ansible_collections.oomguard.linux.plugins.module_utils._units import parse_systemd_size
    if text == "infinity":
        return None
    if text.endswith("%"):
        pct, dummy = parse_percent(text)
        if total_memory is None or pct is None:
            return None
        return int(total_memory * pct / 100)
    return parse_systemd_size(text)


def check_settings(settings, utype, version=None, total_memory=None) -> dict:
    """Validate a ``{key: value}`` mapping for a unit type; return ``{key: text}``.

    Collects every problem and raises one SystemdError listing them all. Also checks MemoryHigh= <= MemoryMax=
    and MemoryLow=/MemoryMin= <= MemoryMax= when both sides are byte sizes (or percentages of the same total).
    """
    errors = []
    result = {}
    for key in sorted(settings, key=lambda k: (_KEY_ORDER.get(k, len(_KEY_ORDER)), k)):
        if not isinstance(key, str) or not _KEY_NAME.match(key):
            errors.append("invalid key %r: a systemd setting name is letters and digits only" % (key,))
            continue
        values = settings[key]
        if isinstance(values, (list, tuple)) and key not in SETTINGS:
            try:
                result[key] = [validate_value(key, v, utype, version) for v in values]
            except SystemdError as exc:
                errors.append(str(exc))
            continue
        try:
            result[key] = validate_value(key, values, utype, version)
        except SystemdError as exc:
            errors.append(str(exc))
    if not errors and "MemoryMax" in result:
        limit = _comparable(result["MemoryMax"], total_memory)
        for lower in ("MemoryHigh", "MemoryLow", "MemoryMin"):
            if lower in result and limit is not None:
                value = _comparable(result[lower], total_memory)
                if value is not None and value[0] == limit[0] and value[1] > limit[1]:
                    errors.append("%s=%s is above MemoryMax=%s: the hard limit would be reached first"
                                  % (lower, result[lower], result["MemoryMax"]))
    if errors:
        raise SystemdError("; ".join(errors))
    return result


def _comparable(text, total_memory):
    """(kind, number) to compare two memory values: bytes, or percent when the total is unknown."""
    if text == "infinity":
        return None
    if text.endswith("%"):
        pct, dummy = parse_percent(text)
        if total_memory:
            return ("bytes", total_memory * pct / 100)
        return ("percent", pct)
    return ("bytes", memory_bytes(text))


# -- drop-in files ------------------------------------------------------------------------------------------------
MANAGED_HEADER = "# Managed by oomguard.linux (oomguard.linux.systemd_override): local changes are overwritten.\n"


def render_dropin(unit, settings) -> str:
    """The drop-in text for validated ``{key: text or [text, ...]}`` settings of ``unit``: stable byte for byte
    (typed keys in a fixed order, other keys sorted by name)."""
    section = section_for(unit)
    lines = [MANAGED_HEADER.rstrip("\n"), "# Unit: %s" % unit, "[%s]" % section]
    for key in sorted(settings, key=lambda k: (_KEY_ORDER.get(k, len(_KEY_ORDER)), k)):
        values = settings[key]
        for value in (values if isinstance(values, list) else [values]):
            lines.append("%s=%s" % (key, value))
    return "\n".join(lines) + "\n"


def parse_dropin(text) -> list:
    """Parse unit-file text into ``[(section, key, value, line_number), ...]`` in file order.

    Follows systemd's syntax: ``#``/``;`` comments, ``[Section]`` headers, ``Key=Value`` with blanks around the
    ``=`` stripped, and a trailing backslash joining the next line (comment lines inside are skipped). An empty
    value (``Key=``) is kept: it resets the setting.
    """
    result = []
    section = None
    pending = None
    pending_line = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if pending is not None:
            if line.startswith(("#", ";")):
                continue
            if line.endswith("\\"):
                pending += " " + line[:-1].strip()
                continue
            line = pending + " " + line
            pending = None
            number = pending_line
        elif line.endswith("\\") and not line.startswith(("#", ";")):
            pending = line[:-1].rstrip()
            pending_line = number
            continue
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        if not sep:
            continue
        result.append((section, key.strip(), value.strip(), number))
    if pending is not None:
        key, sep, value = pending.partition("=")
        if sep:
            result.append((section, key.strip(), value.strip(), pending_line))
    return result


def dropin_dir_names(unit) -> list:
    """Names of the ``.d`` directories systemd reads for ``unit``, most specific first: the unit, its template,
    the dash-truncated prefixes (``foo-bar-.service.d``, ``foo-.service.d``) and the type-level ``service.d``."""
    parts = split_unit_name(unit)
    names = [unit]
    if parts["template"] and parts["template"] != unit:
        names.append(parts["template"])
    stem = parts["prefix"]  # before the '@' of templates and instances
    index = stem.rfind("-", 0, len(stem) - 1 if stem.endswith("-") else len(stem))
    while index > 0:
        names.append("%s-.%s" % (stem[:index], parts["type"]))
        index = stem.rfind("-", 0, index)
    names.append(parts["type"])
    return [n + ".d" for n in names]


def dropin_files(unit, search_path=SYSTEM_UNIT_PATH) -> list:
    """The drop-in files systemd applies to ``unit``, in the order it applies them: ``[(basename, path), ...]``.

    A file name seen in a higher-priority directory masks the same name further down (first directory in
    ``search_path`` wins, and for one directory the unit's own ``.d`` wins over the template's and the prefixes');
    the survivors are applied sorted by file name, whatever their directory.
    """
    chosen = {}
    dir_names = dropin_dir_names(unit)
    ordered_dirs = []
    for base in search_path:
        for dname in dir_names[:-1]:
            ordered_dirs.append(os.path.join(base, dname))
    for base in search_path:
        ordered_dirs.append(os.path.join(base, dir_names[-1]))
    for directory in ordered_dirs:
        try:
            entries = sorted(os.listdir(directory))
        except OSError:
            continue
        for entry in entries:
            if not entry.endswith(".conf") or entry.startswith(".") or entry in chosen:
                continue
            chosen[entry] = os.path.join(directory, entry)
    return [(name, chosen[name]) for name in sorted(chosen)]


def _read_text(path):
    try:
        if os.path.realpath(path) == "/dev/null":
            return ""
        with open(path, "r", errors="replace") as fh:
            return fh.read()
    except (OSError, IOError):
        return ""


def precedence(unit, our_path, keys, search_path=SYSTEM_UNIT_PATH, our_content=None) -> dict:
    """Who wins for each of ``keys`` among the drop-ins of ``unit``, with our file at ``our_path``.

    Returns ``{'masked_by': path or None, 'overrides': {key: [{'path', 'value'}, ...]}, 'effective': {key: value}}``:
    ``overrides`` lists the drop-ins applied after ours that assign the key (an empty value resets it), and
    ``effective`` the value the last assignment leaves (from the drop-ins only; the unit file itself comes first).
    ``our_content`` is used instead of reading ``our_path`` (check mode, or before the file is written).
    """
    section = section_for(unit)
    ours = os.path.basename(our_path)
    files = dropin_files(unit, search_path)
    names = [n for n, dummy in files]
    masked_by = None
    if ours in names:
        winner = dict(files)[ours]
        if os.path.normpath(winner) != os.path.normpath(our_path):
            masked_by = safe_text(winner)
    else:
        files = sorted(files + [(ours, our_path)])
    overrides = dict((key, []) for key in keys)
    effective = {}
    passed_ours = False
    for name, path in files:
        is_ours = name == ours and masked_by is None
        text = our_content if (is_ours and our_content is not None) else _read_text(path)
        for sect, key, value, dummy in parse_dropin(text):
            if sect != section or key not in overrides:
                continue
            effective[key] = value
            if passed_ours and not is_ours:
                overrides[key].append({"path": safe_text(path), "value": value})
        if is_ours:
            passed_ours = True
    return {"masked_by": masked_by, "overrides": dict((k, v) for k, v in overrides.items() if v), "effective": effective}


# -- the host's systemd and cgroups -------------------------------------------------------------------------------
def systemd_version(module):
    """The running systemctl's version as an int (``systemd 252 (252.38-1~deb12u1)`` -> 252), None if unknown."""
    systemctl = module.get_bin_path("systemctl")
    if not systemctl:
        return None
    rc, out, dummy = module.run_command([systemctl, "--version"], environ_update={"LC_ALL": "C"})
    match = re.match(r"^systemd\s+([0-9]+)", out or "")
    return int(match.group(1)) if rc == 0 and match else None


def cgroup_layout(cgroup_root="/sys/fs/cgroup") -> str:
    """'v2' (unified only), 'v1' (a memory controller hierarchy of its own; hybrid hosts too) or 'none'."""
    if os.path.exists(os.path.join(cgroup_root, "cgroup.controllers")):
        return "v2"
    if os.path.isdir(os.path.join(cgroup_root, "memory")):
        return "v1"
    return "none"


# Kernel file per setting on each layout. v1 has one hard limit; MemoryHigh/Low/Min= have no v1 file at all.
_V1_FILES = {"MemoryMax": "memory.limit_in_bytes"}
_V2_FILES = {"MemoryMax": "memory.max", "MemoryHigh": "memory.high", "MemoryLow": "memory.low", "MemoryMin": "memory.min",
             "MemorySwapMax": "memory.swap.max"}
V1_UNLIMITED = 0x7FFFFFFFFFFFF000  # what memory.limit_in_bytes reads when no limit is set (LONG_MAX, page-aligned)


def enforced_memory(control_group, keys, cgroup_root="/sys/fs/cgroup") -> dict:
    """Read what the kernel enforces for ``control_group`` (the unit's ``ControlGroup=`` property).

    Returns ``{'layout', 'files': {key: path}, 'values': {key: bytes or 'infinity'}, 'unsupported': [keys]}``;
    ``unsupported`` lists keys the layout has no file for (MemoryHigh= on cgroup v1). On cgroup v1 ``memsw_limit``
    is the memory+swap limit (bytes, 'infinity', or None when the kernel has no memsw accounting).
    """
    layout = cgroup_layout(cgroup_root)
    result = {"layout": layout, "files": {}, "values": {}, "unsupported": []}
    if layout == "none" or not control_group:
        return result
    table = _V2_FILES if layout == "v2" else _V1_FILES
    base = os.path.join(cgroup_root, control_group.lstrip("/")) if layout == "v2" else \
        os.path.join(cgroup_root, "memory", control_group.lstrip("/"))
    for key in keys:
        name = table.get(key)
        if name is None:
            if key in _V2_FILES:
                result["unsupported"].append(key)
            continue
        path = os.path.join(base, name)
        try:
            with open(path) as fh:
                raw = fh.read().strip()
        except (OSError, IOError):
            continue
        result["files"][key] = path
        if raw == "max" or (layout == "v1" and raw.isdigit() and int(raw) >= V1_UNLIMITED):
            result["values"][key] = "infinity"
        elif raw.isdigit():
            result["values"][key] = int(raw)
    if layout != "v2":
        # cgroup v1 limits RAM and RAM+swap separately, and systemd sets only the first: a unit can swap past
        # MemoryMax= there unless memory.memsw.limit_in_bytes is set too.
        try:
            with open(os.path.join(base, "memory.memsw.limit_in_bytes")) as fh:
                raw = fh.read().strip()
            result["memsw_limit"] = "infinity" if int(raw) >= V1_UNLIMITED else int(raw)
        except (OSError, IOError, ValueError):
            result["memsw_limit"] = None
    return result


def memory_usage(control_group, cgroup_root="/sys/fs/cgroup"):
    """Current memory usage in bytes of a cgroup from the kernel's file, or None."""
    layout = cgroup_layout(cgroup_root)
    if layout == "v2":
        path = os.path.join(cgroup_root, control_group.lstrip("/"), "memory.current")
    elif layout == "v1":
        path = os.path.join(cgroup_root, "memory", control_group.lstrip("/"), "memory.usage_in_bytes")
    else:
        return None
    try:
        with open(path) as fh:
            return int(fh.read().strip())
    except (OSError, IOError, ValueError):
        return None


def show_value_bytes(value):
    """A memory property of ``systemctl show`` as bytes, 'infinity', or None (unset / not a number)."""
    if value in (None, "", "[not set]"):
        return None
    if value == "infinity" or value == str(UINT64_MAX):
        return "infinity"
    return int(value) if value.isdigit() else None


def show_value_int(value):
    """An integer property of ``systemctl show`` (``OOMScoreAdjust``), or None."""
    if value in (None, "") or not _INT.match(value):
        return None
    return int(value)


def physical_memory(meminfo="/proc/meminfo"):
    """The base of systemd's memory percentages: the installed memory (MemTotal) in bytes, None if unreadable."""
    try:
        with open(meminfo) as fh:
            return parse_meminfo(fh.read()).get("MemTotal")
    except (IOError, OSError):
        return None
