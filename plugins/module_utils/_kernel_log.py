# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The collection's one kernel-log parser: OOM kills as records, from every format kernels 2.6 to 6.x print.

Used by the ``oom_facts`` module, the fleet report filter and the tests. Standard library only, Python 3.8.
Everything streams: the parsers take iterators of lines (or read files in chunks) and keep only a bounded
window of pending kills, so memory stays flat on a log of a million lines. Regular expressions are compiled on
first use (``_RX``), not at import.

Record schema (one dict per kill; every key is always present, ``None`` when unknown)
------------------------------------------------------------------------------------
``time``            ISO 8601 wall-clock time with the local UTC offset (``2026-11-27T12:42:22.123456+00:00``).
                    Taken from the line's wall-clock stamp, or computed as boot time + ``monotonic`` when only the
                    kernel's monotonic stamp is known (``boot_time`` parameter of the parsers/readers).
``timestamp``       The same instant as seconds since the epoch (float); what ``since`` filters on.
``monotonic``       Kernel printk stamp, seconds since boot (float). Restarts at each boot.
``boot_id``         systemd boot id (journal ``_BOOT_ID``; the current boot for dmesg and /dev/kmsg).
``basis``           What the record rests on (see ``BASES``): ``kill_line`` (the kernel's ``Killed process`` line),
                    ``summary_only`` (only the ``oom-kill:`` summary of the kill survived), ``selection_only`` (only
                    ``Kill process N (comm) score S or sacrifice child``), ``reaper_only`` (only ``oom_reaper: reaped
                    process``), ``unit_report`` (only systemd's "killed by the OOM killer" report of a unit),
                    ``killer_line`` (a user-space killer's own line: systemd-oomd, earlyoom).
``pid``, ``comm``   The killed process (comm: up to 15 characters, may contain blanks and parentheses).
``uid``             Its user id (5.3+ ``UID:``, RHEL 6/7 backports' ``UID N``, the ``oom-kill:`` summary, earlyoom).
``total_vm_kb``, ``anon_rss_kb``, ``file_rss_kb``, ``shmem_rss_kb``, ``pgtables_kb``
                    Memory of the victim at the kill, in kB, as far as the kernel printed them.
``vm_rss_kb``       earlyoom only: the VmRSS it reported (MiB * 1024).
``oom_score_adj``   The victim's oom_score_adj (5.4+ kill line, or earlyoom 1.9's line).
``score``           Old kernels' ``score N`` from ``Kill process N (comm) score S or sacrifice child``
                    (earlyoom: its ``badness``, 1.8+: its ``oom_score``).
``cmdline``         earlyoom 1.8+: the victim's command line as earlyoom printed it.
``constraint``      ``global``, ``memcg``, ``cpuset``, ``mempolicy`` (from the summary's CONSTRAINT_*; without a
                    summary ``memcg`` when the kill line says "Memory cgroup out of memory" or a v1 "Task in" line
                    was seen, otherwise None).
``oom_memcg``       The cgroup whose limit was hit (``oom_memcg=``, v1 "limit of /b").
``task_memcg``      The victim's memory cgroup (``task_memcg=``, v1 "Task in /a"; systemd-oomd: the killed cgroup).
``unit``, ``slice``, ``slice_path``, ``user_manager``, ``container_id``
                    From ``task_memcg`` (or the oom.group cgroup, or systemd's unit report): the innermost unit the
                    way systemd names it (under a user's manager ``user@UID.service`` that is the user unit, e.g.
                    ``app-firefox-1234.scope``, and ``user_manager`` names the manager), the innermost slice, the
                    cgroup path above the unit (``slice_path``) and a container id.
``invoker``         ``{comm, gfp_mask, gfp_flags, order, oom_score_adj}`` from the ``invoked oom-killer`` header
                    (rate-limited by the kernel, so often missing; ``order`` -1 is a manual sysrq-f kill).
``killer``          ``kernel``, ``systemd-oomd`` or ``earlyoom``.
``signal``          earlyoom: the last signal it sent (SIGTERM, then SIGKILL); None otherwise.
``reason``          systemd-oomd: ``memory pressure`` or ``swap``.
``processes_killed`` systemd-oomd: "killed N process(es) in this unit" when systemd reported it.
``group_kill``      True for every kill of an OOM event where ``memory.oom.group`` was set (``Tasks in /x are going
                    to be killed due to memory.oom.group set``), the chosen victim included.
``reaped``          True when ``oom_reaper: reaped process N`` was seen for it.
``unit_reported``   True when systemd's "A process of this unit has been killed by the OOM killer" (or "Failed with
                    result 'oom-kill'") for the unit was merged into this kill. Such reports never count as a kill
                    of their own unless no kernel line for them exists in any source (then pid and comm are None).
``trust``           How far the evidence can be trusted, set by the readers (strongest source wins in a merge):
                    ``kernel`` (dmesg, /dev/kmsg, journal with _TRANSPORT=kernel), ``killer`` (a user-space line the
                    journal vouches for: the killer's own unit, or systemd as PID 1), ``unverified`` (a plain text
                    log: anyone who can write to syslog could have written it); None from the parsers alone.
``sources``         Where the kill was seen: ``journal``, ``dmesg``, ``kmsg``, ``file:/var/log/kern.log``...
``raw``             Up to 6 log lines (message part, 400 characters each) that made the record; [] when disabled.

Line prefixes read: none, ``[12345.678901]`` (with an optional ``[T123]`` caller id), ``dmesg -T``
``[Fri Nov 27 12:42:22 2026]`` in any locale (see ``month_number``), raw /dev/kmsg ``6,1234,5678901,-;msg``,
``<4>`` / ``<kern.warning>`` priority tokens, syslog ``Nov 27 12:42:22 host kernel: [123.456] msg`` (also without the
host, with ``host:`` and no tag, ``kernel:`` without a space, ``kernel:`` repeated), RFC 3339
``2026-11-27T12:42:22.123456+00:00 host kernel:``, epoch seconds ``1500316299 host [123.4] msg``, journal ``short``,
``short-iso``, ``short-iso-precise``, ``short-monotonic`` (with or without the host) and ``-o json`` lines.
Lines a terminal wrapped (the head padded with blanks, the rest on the next line) are joined again.

The canary: a line the prefilter let through that carries an OOM marker (``_is_evidence``) but became no record
(and an OOM header whose kill never came) is counted; each parse hands out one ``{"_event": "unparsed", "count",
"lines"}`` event (``unparsed_of`` sums them), so a new format shows the day it lands.

Order: lines are attached to a kill by what they say (pid and comm of the summary, the selection line and the
reaper line) before their position; output listed newest first (``journalctl -r``, merged files) is recognised from
its falling stamps and from lines that name an earlier kill, and then headers attach to the kill printed before them.

Dedup key (``merge_records``): two records are one kill when the killer, pid and comm are equal and
  1. neither names a different boot (``boot_id``), and
  2. both monotonic stamps are within 1 s when both are from the same known boot (printk stamps are exact in
     dmesg, /dev/kmsg, syslog's bracketed stamp and the journal's _SOURCE_MONOTONIC_TIMESTAMP), otherwise
  3. both wall-clock times are within ``tolerance`` (default 3 s: syslog stamps have one-second resolution and
     dmesg's wall clock is derived from the boot time), otherwise
  4. both monotonic stamps within 1 s when no boot or wall time is known, or no time to compare at all.
systemd-oomd kills (no pid) match on the killed cgroup and wall time.
"""
from __future__ import annotations

import calendar
import datetime
import errno
import glob
import gzip
import io
import json
import os
import re
import stat
import time
import zlib

from ansible_collections.oomguard.linux.plugins.module_utils._systemd import unit_from_cgroup_path
from ansible_collections.oomguard.linux.plugins.module_utils._text import safe_text

KILLERS = ("kernel", "systemd-oomd", "earlyoom")
# What a record rests on, strongest first (a merged record keeps the strongest basis of its parts).
BASES = ("kill_line", "killer_line", "summary_only", "selection_only", "reaper_only", "unit_report")

RECORD_KEYS = (
    "time", "timestamp", "monotonic", "boot_id", "basis", "pid", "comm", "uid",
    "total_vm_kb", "anon_rss_kb", "file_rss_kb", "shmem_rss_kb", "pgtables_kb", "vm_rss_kb",
    "oom_score_adj", "score", "cmdline", "constraint", "oom_memcg", "task_memcg", "unit", "slice", "slice_path",
    "user_manager", "container_id", "invoker", "killer", "signal", "reason", "processes_killed",
    "group_kill", "reaped", "unit_reported", "trust", "sources", "raw",
)

MAX_RAW_LINES = 6
MAX_RAW_CHARS = 400
# A kernel record's text is at most 1024 bytes (printk's LOG_LINE_MAX), 4 characters a byte where it is spelled \xNN;
# the killers' and systemd's lines are shorter still. A longer message (after its prefix) is no OOM line anyone wrote
# for real: it is counted as unparsed and never given to the regular expressions, whose cost grows with the length.
MAX_MESSAGE_CHARS = 4096
# The canary keeps this many unparsed lines (the count is exact).
UNPARSED_LINES = 5
# Kills wait this long (seconds of log time) for a late oom_reaper line or summary continuation before they are
# handed out, and at most this many wait at once: the parser's memory is bounded by it.
SETTLE_SECONDS = 60.0
MAX_PENDING = 64
CHUNK_SIZE = 1 << 20

_CONSTRAINTS = {
    "CONSTRAINT_NONE": "global",
    "CONSTRAINT_CPUSET": "cpuset",
    "CONSTRAINT_MEMORY_POLICY": "mempolicy",
    "CONSTRAINT_MEMCG": "memcg",
}

# Month abbreviations as strftime("%b") prints them in common locales (lower case, trailing dot removed).
# dmesg -T prints "%a %b %e %H:%M:%S %Y": the fields are read by position, the day of week is ignored, the
# month is taken from digits inside the token when there are any (ja/zh/ko "11月", "11월") or from this table.
_MONTHS = {}
for _num, _names in enumerate((
    "jan janv january ene gen sty led tammi oca янв ιαν",
    "feb febr févr fev fév lut úno helmi şub фев φεβ",
    "mar mär mrz mars mrt bře maalis мар μάρ",
    "apr avr abr kwi dub huhti nis апр απρ",
    "may mai mei maj mag kvě touko мая май μάι",
    "jun juin giu cze čvn kesä haz июн ιούν",
    "jul juil lug lip čvc heinä tem июл ιούλ",
    "aug août ago sie srp elo ağu авг αύγ",
    "sep sept set wrz zář syys eyl сен σεπ",
    "oct okt ott out paź říj loka eki окт οκτ",
    "nov lis marras kas ноя νοέ",
    "dec dez déc dic gru pro joulu ara дек δεκ",
), start=1):
    for _name in _names.split():
        _MONTHS[_name] = _num


class _Patterns(object):
    """The module's regular expressions, compiled on first use (an attribute read), never at import."""

    SOURCES = {
        # line prefixes
        "KMSG": r"^(\d+),(\d+),(\d+),[^;]*;(.*)$",
        "MONO": r"^\[\s*(\d+\.\d+)\](?:\[\s*[TC]\d+\])?\s?(.*)$",
        "CTIME": r"^\[\s*(\S+)\s+(\S+)\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+(\d{4})\]\s?(.*)$",
        "ISO": r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2})?\s(.*)$",
        "RFC3164": r"^(\S+)\s+(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (.*)$",
        "EPOCH": r"^(\d{9,11})(?:\.(\d+))? (\S+) (.*)$",
        "HOSTTAG": r"^(\S+) ([^\s:\[\]]+)(\[\d+\])?: ?(.*)$",
        "TAGTOK": r"^([^\s:\[\]<>]+)(\[\d+\])?:(.*)$",
        "INNER_MONO": r"^\[\s*(\d+\.\d+)\](?:\[\s*[TC]\d+\])?\s?",
        "PRIO": r"^<[\w.]{1,24}>\s?",
        # kernel messages (mm/oom_kill.c, mm/memcontrol.c)
        # comm is at most 15 bytes (TASK_COMM_LEN), 60 characters once spelled \xNN: bounding it keeps the match linear
        "KILLED": r"^(?:(?P<prefix>.*?):\s+)?Killed process (?P<pid>\d+)(?:, UID (?P<uid6>\d+),)? \((?P<comm>.{0,64}?)\)"
                  r"(?P<rest>(?= total-vm:| vsz:| anon-rss:|, UID|, total|\.?\s*$).*)$",
        "SELECT": r"^(?:(?P<prefix>.*?):\s+)?[Kk]ill process (?P<pid>\d+) \((?P<comm>.{0,64}?)\) score (?P<score>-?\d+)"
                  r"(?P<tail>\s+(?:or|and)\b.*|\s*)$",
        "FIELDS": r"([A-Za-z_-]+):(-?\d+)",
        "UID_WORD": r"^, UID (\d+)",
        "HEADER": r"^(?P<comm>.*?) invoked oom-killer: (?P<rest>.*)$",
        "CPU": r"^CPU: \d+ (?:UID: (?P<uid>\d+) )?PID: (?P<pid>\d+) Comm: (?P<comm>.*?)(?: Not tainted| Tainted:|$)",
        "GFP": r"gfp_mask=(0x[0-9a-fA-F]+)(?:\(([^)]*)\))?",
        "ORDER": r"\border=(-?\d+)",
        "ADJ_NEW": r"\boom_score_adj=(-?\d+)",
        "ADJ": r"\b(?:oom_score_adj|oomkilladj|oom_adj)=(-?\d+)",
        "SUMMARY_TAIL": r",task=(?P<comm>.*),pid=(?P<pid>-?\d+),uid=(?P<uid>-?\d+)\s*$",
        "SUMMARY_KEYS": r"(?:^|,)(constraint|nodemask|cpuset|mems_allowed|oom_memcg|task_memcg)=|,(global_oom)",
        "TASK_IN": r"^Task in (?P<task>.*) killed as a result of limit of (?P<limit>.*)$",
        "GROUP": r"^Tasks in (?P<path>.*) are going to be killed due to memory\.oom\.group set",
        "REAPER": r"^oom_reaper: reaped process (?P<pid>\d+) \((?P<comm>.*?)\), now anon-rss:",
        # systemd (src/core/unit.c, src/oom/oomd-manager.c) and earlyoom (kill.c)
        "UNIT_REPORT": r"^(?:(?P<unit>\S+): )?A process(?: of this unit)? has been killed by the OOM killer",
        "UNIT_RESULT": r"^(?P<unit>\S+): Failed with result 'oom-kill'",
        "OOMD": r"^(?:Killed|Marked) (?P<path>/\S*) (?:for killing )?due to (?P<reason>.*)$",
        "OOMD_COUNT": r"^(?P<unit>\S+): systemd-oomd killed (?P<n>\d+) process\(es\) in this unit",
        "EARLYOOM": r"sending (?P<sig>SIG[A-Z0-9]+) to process (?P<pid>\d+)(?: uid (?P<uid>-?\d+))? \"(?P<name>.*?)\": "
                    r"(?P<kind>badness|oom_score) (?P<score>-?\d+)(?:, oom_score_adj (?P<adj>-?\d+))?, VmRSS (?P<rss>-?\d+) MiB"
                    r"(?:, cmdline \"(?P<cmdline>.*)\")?\s*$",
        # names
        "USER_MANAGER": r"^user@\d+\.service$",
        "SINCE_REL": r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)?\s*(?:ago)?\s*$",
        "ROTATED": r"\.\d+(?:\.gz)?$|\.gz$",
        "DMESG_STAMP": r"^\[[ \d.]+\] ",
        "SYSLOG_CONTROL": rb"#(0[0-3][0-7]|177)",
        "ESCAPE_HIGH": rb"\\x([89a-fA-F][0-9a-fA-F])",
        "ESCAPE_ANY": rb"\\x([0-9a-fA-F]{2})",
    }
    FLAGS = {"SINCE_REL": re.IGNORECASE}

    def __getattr__(self, name):
        try:
            pattern = self.SOURCES[name]
        except KeyError:
            raise AttributeError(name)
        compiled = re.compile(pattern, self.FLAGS.get(name, 0))
        setattr(self, name, compiled)
        return compiled


_RX = _Patterns()

_USERSPACE_TAGS = ("systemd", "systemd-oomd", "earlyoom", "init")
_KNOWN_TAGS = ("kernel",) + _USERSPACE_TAGS
# Markers of OOM evidence: a candidate line holding one of them that becomes no record is counted (the canary).
_EVIDENCE = ("Killed process", "ill process ", "oom-kill", "invoked oom-killer", "Out of memory", "out of memory",
             "oom_reaper", "memory.oom.group", "by the OOM killer", "for killing due to", "systemd-oomd killed",
             "Invoking oom killer")


def month_number(token):
    """Month 1-12 from a locale's abbreviated month name (or a token with the month's digits), else None."""
    digits = "".join(c for c in token if c.isdigit())
    if digits:
        num = int(digits)
        return num if 1 <= num <= 12 else None
    name = token.lower().rstrip(".")
    if name in _MONTHS:
        return _MONTHS[name]
    for size in (4, 3):
        if name[:size] in _MONTHS:
            return _MONTHS[name[:size]]
    return None


def boot_time():
    """Wall-clock time of the kernel's monotonic zero: now minus CLOCK_MONOTONIC (what printk stamps count).

    Exact while the machine has not been suspended since boot; after a suspend printk stamps lag behind."""
    return time.time() - time.monotonic()


def current_boot_id(path="/proc/sys/kernel/random/boot_id"):
    """The running boot's id in the journal's spelling (32 hex digits, no dashes), or None."""
    try:
        with open(path) as handle:
            return handle.read().strip().replace("-", "") or None
    except (IOError, OSError):
        return None


_SINCE_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(value, now=None):
    """Turn ``since`` into seconds since the epoch (float); None stays None.

    Accepts a relative age (``7d``, ``24h``, ``30m``, ``90s``, ``2w``; a bare number is seconds), an ISO date
    (``2026-11-27``, local midnight) or datetime (``2026-11-27T12:00``, ``2026-11-27 12:00:00+01:00``; without an
    offset it is local time), ``@EPOCH``, or a number (int/float) of epoch seconds. Raises ValueError otherwise.
    """
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if now is None:
        now = time.time()
    if text.startswith("@"):
        return float(text[1:])
    rel = _RX.SINCE_REL.match(text)
    if rel:
        return now - float(rel.group(1)) * _SINCE_UNITS[(rel.group(2) or "s").lower()]
    iso = text.replace(" ", "T", 1) if len(text) > 10 else text
    if iso.endswith("Z"):
        iso = iso[:-1] + "+00:00"
    try:
        if len(iso) == 10:
            parsed = datetime.datetime.strptime(iso, "%Y-%m-%d")
        else:
            parsed = datetime.datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError("cannot read since=%r: use an age such as 7d, 24h, 30m or an ISO date/datetime" % (value,))
    if parsed.tzinfo is None:
        return time.mktime(parsed.timetuple()) + parsed.microsecond / 1e6
    return parsed.timestamp()


def iso_time(timestamp):
    """ISO 8601 with the local UTC offset for an epoch float (None -> None)."""
    if timestamp is None:
        return None
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc).astimezone().isoformat()


def new_record(**values):
    """A record with every schema key; ``values`` fill some."""
    rec = dict.fromkeys(RECORD_KEYS)
    rec.update(group_kill=False, reaped=False, unit_reported=False, sources=[], raw=[])
    rec.update(values)
    return rec


def _local_epoch(year, month, day, hour, minute, sec):
    return time.mktime((year, month, day, hour, minute, sec, 0, 0, -1))


def _tz_offset(text):
    if not text or text == "Z":
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:4]) * 60)


class _Line(object):
    """One log line split into its stamp and message."""
    __slots__ = ("msg", "wall", "mono", "tag", "boot_id", "unit")

    def __init__(self, msg, wall=None, mono=None, tag=None, boot_id=None, unit=None):
        self.msg = msg
        self.wall = wall
        self.mono = mono
        self.tag = tag
        self.boot_id = boot_id
        self.unit = unit


def _strip_host_tag(rest, always=False):
    """``host tag[pid]: msg`` -> (tag, msg). Without ``always`` only for known tags or a ``[pid]``."""
    m = _RX.HOSTTAG.match(rest)
    if m and (always or m.group(3) or m.group(2) in _KNOWN_TAGS):
        return m.group(2), m.group(4)
    return None, rest


def _tag_token(token):
    """``kernel:``, ``kernel:msg`` (no blank), ``earlyoom[12]:`` -> (name, has_pid, text after the colon), else None."""
    if ":" not in token:
        return None
    m = _RX.TAGTOK.match(token)
    if m:
        return m.group(1), bool(m.group(2)), m.group(3)
    return None


def _syslog_rest(rest):
    """What follows a syslog stamp: ``[host] [<prio>] tag[pid]: msg`` -> (tag, msg).

    The host may be missing (``kernel: msg``), followed by a colon and no tag (``host: msg``), or followed by an rsyslog
    priority token (``host <kern.warning> kernel: msg``); ``kernel:`` may lack its blank (``kernel:msg``)."""
    token, _sep, remain = rest.partition(" ")
    if token[:1] == "<" and token[-1:] == ">":
        token, _sep, remain = remain.partition(" ")
    tag = _tag_token(token)
    if tag is not None:
        name, has_pid, tail = tag
        if name in _KNOWN_TAGS or has_pid:
            return name, (tail + " " + remain if tail else remain)
        if not tail:
            return None, remain  # "host: msg": a host name with a colon and no tag
    # token is the host
    token, _sep, remain2 = remain.partition(" ")
    if token[:1] == "<" and token[-1:] == ">":
        token, _sep, remain2 = remain2.partition(" ")
    tag = _tag_token(token)
    if tag is not None:
        name, has_pid, tail = tag
        return name, (tail + " " + remain2 if tail else remain2)
    return None, rest


def _clean(msg, tag, mono):
    """Strip what prefixes left inside the message: ``kernel:`` (repeated, with or without a blank), priority tokens,
    a bracketed printk stamp and caller id. Returns (tag, msg, mono)."""
    while msg:
        first = msg[0]
        if first == "k" and msg.startswith("kernel:"):
            msg = msg[7:].lstrip(" ")
            tag = tag or "kernel"
        elif first == "<":
            m = _RX.PRIO.match(msg)
            if not m:
                break
            msg = msg[m.end():]
        elif first == "[" and mono is None:
            m = _RX.INNER_MONO.match(msg)
            if not m:
                break
            mono = float(m.group(1))
            msg = msg[m.end():]
        else:
            break
    return tag, msg, mono


def _json_line(line):
    """One journal entry (a ``-o json`` line, or the entry already decoded) as a ``_Line``, or None."""
    try:
        entry = line if isinstance(line, dict) else json.loads(line)
    except ValueError:
        return None
    if not isinstance(entry, dict):
        return None
    msg = _journal_message(entry.get("MESSAGE"))  # one line of valid UTF-8, as the readers decode every source
    if msg is None:
        return None
    wall = mono = None
    try:
        if entry.get("__REALTIME_TIMESTAMP"):
            wall = int(entry["__REALTIME_TIMESTAMP"]) / 1e6
        received = int(entry["__MONOTONIC_TIMESTAMP"]) / 1e6 if entry.get("__MONOTONIC_TIMESTAMP") else None
        mono = received
        if entry.get("_SOURCE_MONOTONIC_TIMESTAMP"):
            mono = int(entry["_SOURCE_MONOTONIC_TIMESTAMP"]) / 1e6
            # __REALTIME_TIMESTAMP is when journald received the line; a kernel line replayed from /dev/kmsg
            # (journald started late) arrives long after the kill: move the wall clock back by the delay.
            if wall is not None and received is not None and received >= mono:
                wall -= received - mono
    except (TypeError, ValueError):
        pass
    tag = entry.get("SYSLOG_IDENTIFIER")
    if entry.get("_TRANSPORT") == "kernel":
        tag = "kernel"
    unit = entry.get("UNIT") or entry.get("USER_UNIT")
    if msg[:7] == "kernel:" or msg[:1] == "<":
        tag, msg, dummy = _clean(msg, tag, 0.0)
    return _Line(msg, wall, mono, tag, entry.get("_BOOT_ID"), unit)


def split_line(line, year=None, now=None):
    """Split one log line of any supported format into a ``_Line`` (message, wall/monotonic stamp, tag, boot id).

    ``year``/``now`` resolve syslog stamps that carry no year: the year of ``now`` (default: the current time),
    or the year before when the stamp would otherwise lie more than a day in the future."""
    line = line.rstrip("\r\n")
    if not line:
        return _Line("")
    first = line[0]
    if first == "{":
        return _json_line(line) or _Line(line)
    if first == "[":
        m = _RX.MONO.match(line)
        if m:
            rest = m.group(2)
            if rest[:7] == "kernel:":
                tag, msg = "kernel", rest
            else:
                tag, msg = _strip_host_tag(rest)
            if msg[:7] == "kernel:" or msg[:1] == "<":
                tag, msg, dummy = _clean(msg, tag, 0.0)
            return _Line(msg, mono=float(m.group(1)), tag=tag)
        m = _RX.CTIME.match(line)
        if m:
            month = month_number(m.group(2))
            wall = None
            if month:
                wall = _local_epoch(int(m.group(7)), month, int(m.group(3)), int(m.group(4)), int(m.group(5)),
                                    int(m.group(6)))
            tag, msg, dummy = _clean(m.group(8), None, 0.0)
            return _Line(msg, wall=wall, tag=tag)
        return _Line(line)
    if first.isdigit():
        m = _RX.KMSG.match(line)
        if m:
            return _Line(m.group(4), mono=int(m.group(3)) / 1e6)
        m = _RX.ISO.match(line)
        if m:
            wall = calendar.timegm(tuple(int(m.group(i)) for i in range(1, 7)) + (0, 0, 0))
            if m.group(7):
                wall += float("0." + m.group(7))
            if m.group(8):
                wall -= _tz_offset(m.group(8))
            else:
                wall = _local_epoch(*(int(m.group(i)) for i in range(1, 7))) + (float("0." + m.group(7)) if m.group(7) else 0)
            tag, msg = _syslog_rest(m.group(9))
            tag, msg, mono = _clean(msg, tag, None)
            return _Line(msg, wall=wall, mono=mono, tag=tag)
        m = _RX.EPOCH.match(line)
        if m:
            # "1500316299 host [123.4] msg": epoch seconds and a host (log shippers)
            wall = float(m.group(1) + ("." + m.group(2) if m.group(2) else ""))
            tag, msg = None, m.group(4)
            head, _sep, remain = msg.partition(" ")
            found = _tag_token(head)
            if found is not None and (found[0] in _KNOWN_TAGS or found[1]):
                tag, msg = found[0], (found[2] + " " + remain if found[2] else remain)
            tag, msg, mono = _clean(msg, tag, None)
            return _Line(msg, wall=wall, mono=mono, tag=tag)
        return _Line(line)
    if first == " ":
        # /dev/kmsg dictionary continuation (" SUBSYSTEM=...") or an indented stack line
        return _Line(line.strip())
    if first == "<" or first == "k":
        # "<4>[  12.3] msg" (dmesg -r), "<kern.warning> msg", "kernel: msg" / "kernel:msg" (no stamp at all)
        tag, msg, mono = _clean(line, None, None)
        if msg is not line:
            if msg[:1] == "[" or msg[:1].isdigit():
                inner = split_line(msg, year, now)
                inner.tag = inner.tag or tag
                return inner
            return _Line(msg, mono=mono, tag=tag)
    m = _RX.RFC3164.match(line)
    if m:
        month = month_number(m.group(1))
        if month:
            ref = now if now is not None else time.time()
            yr = year or time.localtime(ref).tm_year
            parts = (month, int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)))
            wall = _local_epoch(yr, *parts)
            if year is None and wall > ref + 86400:
                wall = _local_epoch(yr - 1, *parts)
            tag, msg = _syslog_rest(m.group(6))
            tag, msg, mono = _clean(msg, tag, None)
            return _Line(msg, wall=wall, mono=mono, tag=tag)
    return _Line(line)


def is_candidate(line):
    """Cheap substring test: could this line matter to the parser? (False for the vast majority of lines.)"""
    return ("kill" in line or "Kill" in line or "oom" in line or "task_memcg" in line or ",task=" in line
            or "sending SIG" in line or 'MESSAGE":[' in line or 'MESSAGE" : [' in line)


def _is_evidence(msg):
    """Does an unrecognised message carry an OOM marker (the canary counts it)? Stack frames and the task table
    spell the kernel's function names with underscores and never match."""
    for marker in _EVIDENCE:
        if marker in msg:
            return True
    return "sending SIG" in msg and " to process " in msg


def _add_raw(rec, msg, keep_raw):
    if keep_raw and len(rec["raw"]) < MAX_RAW_LINES:
        rec["raw"].append(msg[:MAX_RAW_CHARS])


def unit_names(path):
    """``unit_from_cgroup_path`` that also sees inside a user's systemd manager, the way systemd names the units.

    ``/user.slice/user-1001.slice/user@1001.service/app.slice/vte-spawn-1.scope`` -> unit ``vte-spawn-1.scope``
    (systemd's user unit; the system manager calls the cgroup ``user@1001.service``), slice ``app.slice``,
    user_manager ``user@1001.service``, slice_path ``/user.slice/user-1001.slice/user@1001.service/app.slice``.
    Returns ``{'unit', 'slice', 'slice_path', 'user_manager', 'container_id'}`` (None when unknown)."""
    info = {"unit": None, "slice": None, "slice_path": None, "user_manager": None, "container_id": None}
    if not path:
        return info
    parts = [p for p in str(path).strip().split("/") if p]
    manager = None
    # the leftmost user@N.service is the system manager's: any deeper one is a cgroup its user made and named
    for idx in range(len(parts)):
        if parts[idx].startswith("user@") and _RX.USER_MANAGER.match(parts[idx]):
            manager = idx
            break
    outer = unit_from_cgroup_path("/" + "/".join(parts if manager is None else parts[:manager + 1]))
    info.update((key, outer.get(key)) for key in ("unit", "slice", "container_id"))
    if manager is not None:
        info["user_manager"] = parts[manager]
        if manager < len(parts) - 1:
            inner = unit_from_cgroup_path("/" + "/".join(parts[manager + 1:]))
            info["unit"] = inner.get("unit") or info["unit"]
            info["slice"] = inner.get("slice") or info["slice"]
    unit = info["unit"]
    if unit and unit in parts:
        where = len(parts) - 1 - parts[::-1].index(unit)
        info["slice_path"] = "/" + "/".join(parts[:where]) if where else "/"
    return info


_UNIT_CACHE = {}


def _apply_unit(rec, path):
    if not path:
        return
    info = _UNIT_CACHE.get(path)
    if info is None:
        if len(_UNIT_CACHE) >= 512:
            _UNIT_CACHE.clear()
        info = _UNIT_CACHE[path] = unit_names(path)
    for key in ("unit", "slice", "slice_path", "user_manager", "container_id"):
        if rec.get(key) is None and info.get(key):
            rec[key] = info[key]


def _parse_summary(text):
    """Parse the ``oom-kill:`` summary (possibly incomplete) into a dict."""
    out = {}
    body = text[len("oom-kill:"):] if text.startswith("oom-kill:") else text
    tail = _RX.SUMMARY_TAIL.search(body)
    if tail:
        out["comm"] = tail.group("comm")
        out["pid"] = int(tail.group("pid"))
        out["uid"] = int(tail.group("uid"))
        body = body[:tail.start()]
    elif ",task=" in body:
        body = body[:body.rfind(",task=")]  # cut short before its pid: the cgroups before it still hold
    keys = list(_RX.SUMMARY_KEYS.finditer(body))
    for idx, m in enumerate(keys):
        if m.group(2):
            out["global_oom"] = True
            continue
        end = keys[idx + 1].start() if idx + 1 < len(keys) else len(body)
        out[m.group(1)] = body[m.end():end]
    if "constraint" in out:
        out["constraint"] = _CONSTRAINTS.get(out["constraint"], out["constraint"].replace("CONSTRAINT_", "").lower())
    return out


def _whole_kill(msg):
    """Does a kill line end the way the kernel ends it (``...kB``, ``oom_score_adj:N``, or the bare ``(comm)``)? A line
    cut inside its fields (a terminal's width) does not."""
    tail = msg.rstrip()[-24:]
    return tail[-2:] == "kB" or tail[-1:] == ")" or "oom_score_adj:" in tail


def _complete(msg):
    """A wrapped head joined with its rest: does it now read as a whole kill or selection line?"""
    if len(msg) > MAX_MESSAGE_CHARS:
        return False
    if "Killed process " in msg:
        return _RX.KILLED.match(msg) is not None and _whole_kill(msg)
    if msg.startswith("oom-kill:"):
        return _RX.SUMMARY_TAIL.search(msg) is not None
    m = _RX.SELECT.match(msg)
    return m is not None and "child" in m.group("tail")


_KILL_FIELDS = {"total-vm": "total_vm_kb", "vsz": "total_vm_kb", "anon-rss": "anon_rss_kb", "file-rss": "file_rss_kb",
                "shmem-rss": "shmem_rss_kb", "UID": "uid", "pgtables": "pgtables_kb", "oom_score_adj": "oom_score_adj"}


class KillParser(object):
    """Line-by-line state machine that pairs headers, summaries and "Task in" lines with the kill lines.

    ``feed(line)`` and ``close()`` return lists of finished event records (kills plus systemd unit reports,
    which ``merge_records`` folds into the kills; ``close()`` adds one ``unparsed`` event, the canary). At most
    ``MAX_PENDING`` kills are held back, each for at most ``SETTLE_SECONDS`` of log time, waiting for a late
    ``oom_reaper`` line, a summary or selection line listed after them, or (newest-first output) their header.
    An OOM event whose kill line is missing still gives a record when its summary or selection line names the
    victim (``basis`` ``summary_only`` / ``selection_only``); a header alone gives none and is counted as unparsed.
    """

    def __init__(self, source="log", boot_time=None, boot_id=None, year=None, now=None, keep_raw=True):
        self.source = source
        self.boot_time = boot_time
        self.boot_id = boot_id
        self.year = year
        self.now = now
        self.keep_raw = keep_raw
        self.lines = 0
        self.unparsed = 0
        self.unparsed_lines = []
        self._ctx = {}
        self._last = {}
        self._pending = []
        self._held = None  # the head of a terminal-wrapped line, waiting for its rest
        self._prev = [None, None]
        self._up = 0  # stamps that rose / fell from one line to the next: newest-first output falls
        self._down = 0
        self._group_next = None
        # how many lines after the last one fed must reach the parser although they hold no needle (the CPU line
        # after a header, the rest of a wrapped line); parse_lines reads it
        self.follow = 0
        self._want = 0

    # -- helpers ------------------------------------------------------------------------------------
    def _record(self, ln, **values):
        rec = new_record(**values)
        rec["sources"] = [self.source]
        rec["monotonic"] = ln.mono
        rec["boot_id"] = ln.boot_id or self.boot_id
        wall = ln.wall
        if wall is None and ln.mono is not None and self.boot_time is not None:
            if ln.boot_id is None or self.boot_id is None or ln.boot_id == self.boot_id:
                wall = self.boot_time + ln.mono
        rec["timestamp"] = wall
        _add_raw(rec, ln.msg, self.keep_raw)
        return rec

    @staticmethod
    def _when(rec):
        return rec["monotonic"] if rec["monotonic"] is not None else rec["timestamp"]

    def _settle(self, rec_now):
        """Hand out pending kills that are too old (or too many) to still get a reaper line (oldest first)."""
        out = []
        pending = self._pending
        now = self._when(rec_now) if rec_now is not None else None
        while pending:
            when = self._when(pending[0])
            if len(pending) >= MAX_PENDING or (now is not None and when is not None and abs(now - when) > SETTLE_SECONDS):
                out.append(pending.pop(0))
            else:
                break
        return out

    def _keep(self, rec):
        out = self._settle(rec)
        self._pending.append(rec)
        return out

    def _unparsed(self, msg):
        self.unparsed += 1
        if len(self.unparsed_lines) < UNPARSED_LINES:
            self.unparsed_lines.append(msg[:MAX_RAW_CHARS])

    def _descending(self):
        """Is the log listed newest first? Falling stamps, and lines naming a kill listed before them, say so; one
        fall (a reboot inside a file) does not."""
        return self._down > self._up + 1

    def _find(self, pid, comm, when, flag):
        """The pending kernel kill of ``pid`` (and ``comm``) within 30 s that has no ``flag`` yet, or None."""
        for rec in reversed(self._pending[-8:]):  # the lines that name a kill are printed right next to it
            if rec["pid"] == pid and rec["killer"] == "kernel" and (comm is None or rec["comm"] in (None, comm)):
                if rec.get(flag):
                    return None
                seen = self._when(rec)
                if when is None or seen is None or abs(when - seen) <= 30:
                    return rec
                return None
        return None

    # -- the state machine --------------------------------------------------------------------------
    def feed(self, line):
        """Feed one raw line (str). Returns the records that are finished."""
        self.lines += 1
        if self._want:
            self._want -= 1
        elif not is_candidate(line):
            return []
        out = self.feed_line(split_line(line, self.year, self.now))
        if self.follow:
            self._want = self.follow
        return out

    def feed_line(self, ln):
        self.follow = 0
        held = self._held
        if held is None:
            return self._dispatch(ln, True)
        self._held = None
        if ln.msg and ln.wall is None and ln.mono is None and ln.tag is None:
            # a terminal wrapped the line: its head ended in padding, the rest has no prefix of its own
            rest = ln.msg.strip()
            for glue in ("", " "):
                msg = held.msg.rstrip() + glue + rest
                if _complete(msg):
                    return self._dispatch(_Line(msg, held.wall, held.mono, held.tag, held.boot_id, held.unit), False)
        return self._dispatch(held, False) + self._dispatch(ln, True)

    def _dispatch(self, ln, hold):
        msg = ln.msg
        if not msg:
            return []
        if len(msg) > MAX_MESSAGE_CHARS:
            if _is_evidence(msg):
                self._unparsed("%s... [%d characters, longer than any kernel record: not parsed]"
                               % (msg[:MAX_RAW_CHARS - 80], len(msg)))
            return []
        when = ln.mono if ln.mono is not None else ln.wall
        if when is not None:
            # the direction of the stamps: monotonic ones compared with monotonic ones, wall clocks with wall clocks
            clock = 0 if ln.mono is not None else 1
            prev = self._prev[clock]
            if prev is not None:
                if when < prev:
                    self._down += 1
                elif when > prev:
                    self._up += 1
            self._prev[clock] = when
        if ln.tag is None or ln.tag == "kernel":
            if "Killed process " in msg:
                m = _RX.KILLED.match(msg)
                if m and not (hold and not _whole_kill(msg)):
                    return self._kill(ln, m)
                if hold:
                    return self._hold(ln)
            elif msg.startswith("oom-kill:"):
                if hold and ",uid=" not in msg:
                    return self._hold(ln)  # cut short: a terminal's width, or a line split by an interleaved one
                return self._summary(ln, msg, when)
            elif msg[0] == "," and ("memcg=" in msg or "global_oom" in msg or ",task=" in msg or "mems_allowed" in msg):
                return self._continuation(msg)
            elif " invoked oom-killer: " in msg:
                m = _RX.HEADER.match(msg)
                if m:
                    return self._header(m, msg, when)
            elif "ill process " in msg:
                m = _RX.SELECT.match(msg)
                if m and not (hold and "child" not in m.group("tail")):
                    return self._select(ln, m, msg, when)
                if hold:
                    return self._hold(ln)
            elif msg.startswith("CPU: "):
                if "PID: " in msg:
                    self._cpu(msg)
                return []
            elif msg.startswith("Task in "):
                m = _RX.TASK_IN.match(msg)
                if m:
                    return self._task_in(m, msg, when)
            elif msg.startswith("Tasks in "):
                m = _RX.GROUP.match(msg)
                if m:
                    return self._group(m.group("path"), msg, when)
            elif msg.startswith("oom_reaper: reaped"):
                m = _RX.REAPER.match(msg)
                if m:
                    return self._reaped(ln, m)
            if ln.tag == "kernel":
                if _is_evidence(msg):
                    self._unparsed(msg)
                return []
        found = self._userspace(ln)
        if found is None:
            if _is_evidence(msg):
                self._unparsed(msg)
            return []
        return found

    def _listed_after(self, when):
        """Is this line's moment earlier than the kill listed just before it (newest-first output, seen on one event)?
        Counts as a vote for that order."""
        if not self._pending or when is None:
            return False
        seen = self._when(self._pending[-1])
        if seen is not None and 0 < seen - when <= 1.0 and self._pending[-1].get("_ctxless"):
            self._down += 2
            return True
        return False

    def _child_of(self, when, flag):
        """Newest first: the kill listed just before a summary or selection line that names another pid, when it was
        made without context and within a second: the child killed in place of the selected parent."""
        if not self._pending:
            return None
        rec = self._pending[-1]
        seen = self._when(rec)
        if rec["killer"] == "kernel" and rec.get("_ctxless") and not rec.get(flag) and (
                when is None or seen is None or -1.0 <= seen - when <= 1.0):
            return rec
        return None

    def _hold(self, ln):
        """A kill or selection line that stops short (a terminal wrapped it): wait for the next line, its rest."""
        self._held = ln
        self.follow = 1
        return []

    def _header(self, m, msg, when):
        rest = m.group("rest")
        inv = {"comm": m.group("comm"), "pid": None, "uid": None, "gfp_mask": None, "gfp_flags": None, "order": None,
               "oom_score_adj": None}
        g = _RX.GFP.search(rest)
        if g:
            inv["gfp_mask"] = g.group(1)
            inv["gfp_flags"] = g.group(2)
        g = _RX.ORDER.search(rest)
        if g:
            inv["order"] = int(g.group(1))
        adj = _RX.ADJ_NEW.search(rest) or _RX.ADJ.search(rest)
        if adj:
            inv["oom_score_adj"] = int(adj.group(1))
        if self._descending() or self._listed_after(when):
            # newest first: the header belongs to the kill listed just before it (and the members of its group)
            for rec in reversed(self._pending):
                if rec["killer"] == "kernel" and rec["invoker"] is None:
                    seen = self._when(rec)
                    if when is None or seen is None or -1.0 <= seen - when <= 30:
                        rec["invoker"] = inv
                        _add_raw(rec, msg, self.keep_raw)
                        if rec["group_kill"]:
                            for member in self._pending:
                                near = self._when(member)
                                if member["group_kill"] and member["invoker"] is None and (
                                        near is None or seen is None or abs(near - seen) <= 1.0):
                                    member["invoker"] = dict(inv)
                        return []
                break
            self._unparsed(msg)
            return []
        out = self._flush()
        self._ctx = {"invoker": inv, "when": when, "header_text": msg}
        self.follow = 2  # the stack dump's first line names the invoking task: "CPU: 1 UID: 0 PID: 9 Comm: x"
        return out

    def _cpu(self, msg):
        """``CPU: 1 UID: 0 PID: 16143 Comm: python3 Not tainted ...`` (lib/dump_stack.c; ``UID:`` since 6.11) right after
        the header: the invoker's pid and uid."""
        inv = self._ctx.get("invoker")
        if inv is None or inv["pid"] is not None:
            return
        m = _RX.CPU.match(msg)
        if m and inv["comm"][:15] == m.group("comm")[:15]:
            inv["pid"] = int(m.group("pid"))
            if m.group("uid") is not None:
                inv["uid"] = int(m.group("uid"))

    def _summary(self, ln, msg, when):
        summary = _parse_summary(msg)
        pid = summary.get("pid")
        if pid is not None:
            rec = self._find(pid, summary.get("comm"), when, "_summary")
            if rec is not None:
                # it names a kill already made: listed after it (newest-first output, merged files)
                if rec.get("_ctxless"):
                    self._down += 2
                self._apply_summary(rec, summary)
                _add_raw(rec, msg, self.keep_raw)
                return []
            if self._descending() or self._listed_after(when):
                rec = self._child_of(when, "_summary")
                if rec is not None:
                    # the summary named the selected parent; the kill listed before it is the child sacrificed for it
                    rec["_summary"] = True
                    for key in ("constraint", "oom_memcg"):
                        if rec[key] is None and summary.get(key) is not None:
                            rec[key] = summary[key]
                    _apply_unit(rec, summary.get("task_memcg"))
                    _add_raw(rec, msg, self.keep_raw)
                    return []
                rec = self._record(ln, killer="kernel", basis="summary_only", pid=pid, comm=summary.get("comm"))
                self._apply_summary(rec, summary)
                return self._keep(rec)
        out = []
        if "summary" in self._ctx:
            out = self._flush()  # the summary of an earlier event whose kill line is missing
        ctx = self._ctx
        ctx["summary_text"] = msg
        ctx["summary"] = summary
        ctx["summary_ln"] = ln
        ctx.setdefault("when", when)
        return out

    def _select(self, ln, m, msg, when):
        pid, comm = int(m.group("pid")), m.group("comm")
        select = {"pid": pid, "comm": comm, "score": int(m.group("score")), "prefix": m.group("prefix") or ""}
        rec = self._find(pid, comm, when, "_selected")
        if rec is not None:
            if rec.get("_ctxless"):
                self._down += 2
            self._apply_select(rec, select)
            _add_raw(rec, msg, self.keep_raw)
            return []
        if self._descending() or self._listed_after(when):
            rec = self._child_of(when, "_selected")
            if rec is not None:
                # the selected parent of the child killed (listed before it): "... or sacrifice child"
                self._apply_select(rec, select)
                _add_raw(rec, msg, self.keep_raw)
                return []
            rec = self._record(ln, killer="kernel", basis="selection_only", pid=pid, comm=comm)
            self._apply_select(rec, select)
            return self._keep(rec)
        ctx = self._ctx
        out = []
        if "select" in ctx or ctx.get("summary", {}).get("pid") not in (None, pid):
            out = self._flush()
            ctx = self._ctx
        ctx["select"] = select
        ctx["select_ln"] = ln
        ctx["select_text"] = msg
        ctx.setdefault("when", when)
        return out

    def _task_in(self, m, msg, when):
        task, limit = m.group("task"), m.group("limit").rstrip()
        if self._descending():
            for rec in reversed(self._pending):
                if rec["killer"] == "kernel" and rec["task_memcg"] is None:
                    seen = self._when(rec)
                    if when is None or seen is None or -1.0 <= seen - when <= 30:
                        self._apply_task_in(rec, (task, limit))
                        _add_raw(rec, msg, self.keep_raw)
                        return []
                break
            self._unparsed(msg)
            return []
        self._ctx["task_in"] = (task, limit)
        self._ctx["task_in_text"] = msg
        self._ctx.setdefault("when", when)
        return []

    @staticmethod
    def _apply_select(rec, select):
        rec["_selected"] = True
        if rec["pid"] == select["pid"] and rec["score"] is None:
            rec["score"] = select["score"]
        if rec["constraint"] is None and select["prefix"].startswith("Memory cgroup out of memory"):
            rec["constraint"] = "memcg"

    @staticmethod
    def _apply_task_in(rec, task_in):
        task, limit = task_in
        rec["task_memcg"] = rec["task_memcg"] or task
        rec["oom_memcg"] = rec["oom_memcg"] or limit
        rec["constraint"] = rec["constraint"] or "memcg"
        _apply_unit(rec, rec["task_memcg"])

    def _flush(self):
        """End the OOM event in the context without a kill line: a record from its summary or selection line when
        one names the victim, else its header and "Task in" lines are counted as unparsed."""
        ctx, self._ctx = self._ctx, {}
        if not ctx:
            return []
        summary = ctx.get("summary") or {}
        select = ctx.get("select")
        if summary.get("pid") is not None:
            rec = self._record(ctx["summary_ln"], killer="kernel", basis="summary_only", pid=summary["pid"],
                               comm=summary.get("comm"), raw=[])
            self._apply_summary(rec, summary)
            if select and select["pid"] == summary["pid"]:
                self._apply_select(rec, select)
        elif select:
            rec = self._record(ctx["select_ln"], killer="kernel", basis="selection_only", pid=select["pid"],
                               comm=select["comm"], raw=[])
            self._apply_select(rec, select)
        else:
            for key in ("header_text", "task_in_text", "summary_text"):
                if key in ctx:
                    self._unparsed(ctx[key])
            return []
        rec["raw"] = []
        for key in ("header_text", "summary_text", "select_text"):
            if key in ctx:
                _add_raw(rec, ctx[key], self.keep_raw)
        if ctx.get("invoker"):
            rec["invoker"] = dict(ctx["invoker"])
        if ctx.get("task_in"):
            self._apply_task_in(rec, ctx["task_in"])
        return self._keep(rec)

    def _continuation(self, msg):
        if "summary_text" in self._ctx:
            self._ctx["summary_text"] += msg
            self._ctx["summary"] = _parse_summary(self._ctx["summary_text"])
            return []
        last = self._last.get("record")
        if last is not None and self._last.get("summary_text") is not None:
            # the continuation came after the kill line: complete the kill already made
            self._last["summary_text"] += msg
            summary = _parse_summary(self._last["summary_text"])
            if summary.get("pid") in (None, last["pid"]):
                self._apply_summary(last, summary)
        return []

    @staticmethod
    def _apply_summary(rec, summary):
        rec["_summary"] = summary.get("pid") is not None
        for key in ("constraint", "oom_memcg", "task_memcg", "uid"):
            if summary.get(key) is not None and rec.get(key) is None:
                rec[key] = summary[key]
        if summary.get("global_oom") and rec["constraint"] is None:
            rec["constraint"] = "global"
        _apply_unit(rec, rec["task_memcg"])

    def _kill(self, ln, m):
        out = []
        pid = int(m.group("pid"))
        rec = self._record(ln, killer="kernel", basis="kill_line", pid=pid, comm=m.group("comm"))
        if m.group("uid6") is not None:
            rec["uid"] = int(m.group("uid6"))  # RHEL 6: "Killed process N, UID U, (comm)"
        rest = m.group("rest")
        if rest.startswith(", UID "):
            word = _RX.UID_WORD.match(rest)  # RHEL 7: "Killed process N (comm), UID U, total-vm:"
            if word:
                rec["uid"] = int(word.group(1))
        for key, value in _RX.FIELDS.findall(rest):
            field = _KILL_FIELDS.get(key)
            if field:
                rec[field] = int(value)
        prefix = m.group("prefix") or ""
        rec_when = self._when(rec)
        if self._ctx and self._ctx.get("when") is not None and rec_when is not None and abs(rec_when - self._ctx["when"]) > 30:
            out.extend(self._flush())  # a header/summary from an earlier OOM event whose kill line is missing
        ctx = self._ctx
        group, self._group_next = self._group_next, None
        if group is not None and not (rec_when is None or group[1] is None or abs(rec_when - group[1]) <= 1.0):
            group = None
        if ctx and not self._descending():
            summary = ctx.get("summary")
            if ctx.get("invoker"):
                rec["invoker"] = dict(ctx["invoker"])
            select = ctx.get("select")
            if select:
                self._apply_select(rec, select)
                if not prefix:
                    prefix = select["prefix"]
            if summary:
                matches = summary.get("pid") in (None, pid) or (select and summary.get("pid") == select["pid"])
                if matches:
                    self._apply_summary(rec, summary)
                    if summary.get("pid") not in (None, pid):
                        rec["task_memcg"] = None  # the summary named the parent; a child was killed
                        rec["unit"] = rec["slice"] = rec["slice_path"] = rec["user_manager"] = rec["container_id"] = None
                        _apply_unit(rec, summary.get("task_memcg"))
                else:
                    # the summary names another victim, whose kill line is missing
                    lost = dict(ctx, select=None, header_text=None)
                    self._ctx = {key: value for key, value in lost.items() if value is not None}
                    out.extend(self._flush())
            if ctx.get("task_in"):
                self._apply_task_in(rec, ctx["task_in"])
            for key in ("header_text", "summary_text"):
                if key in ctx:
                    _add_raw(rec, ctx[key], self.keep_raw)
            self._last = {"record": rec, "invoker": rec["invoker"], "constraint": rec["constraint"],
                          "oom_memcg": rec["oom_memcg"], "group": None, "when": self._when(rec),
                          "summary_text": ctx.get("summary_text") if summary and summary.get("pid") is None else None}
            self._ctx = {}
        elif self._last.get("group") and self._near_last(rec):
            # a member of a memory.oom.group kill: same event as the victim before it
            rec["group_kill"] = True
            rec["invoker"] = dict(self._last["invoker"]) if self._last.get("invoker") else None
            rec["constraint"] = self._last.get("constraint")
            rec["oom_memcg"] = self._last.get("oom_memcg")
            _apply_unit(rec, self._last["group"])
        else:
            rec["_ctxless"] = True
            self._last = {"record": rec, "invoker": None, "constraint": None, "oom_memcg": None, "group": None,
                          "when": self._when(rec), "summary_text": None}
        if group is not None:
            # newest first: the victim listed after the "Tasks in" line of its group
            rec["group_kill"] = True
            if rec["task_memcg"] is None:
                _apply_unit(rec, group[0])
        if rec["constraint"] is None and prefix.startswith("Memory cgroup out of memory"):
            rec["constraint"] = "memcg"
        out.extend(self._keep(rec))
        return out

    def _near_last(self, rec):
        when, last = self._when(rec), self._last.get("when")
        return when is None or last is None or abs(when - last) <= 5.0

    def _group(self, path, msg, when):
        if self._descending():
            # newest first: the members were listed before this line, the victim comes next
            for rec in reversed(self._pending):
                seen = self._when(rec)
                if rec["killer"] != "kernel" or rec["group_kill"] or (
                        when is not None and seen is not None and abs(seen - when) > 1.0):
                    break
                rec["group_kill"] = True
                if rec["task_memcg"] is None:
                    _apply_unit(rec, path)
                _add_raw(rec, msg, self.keep_raw)
            self._group_next = (path, when)
            return []
        self._last["group"] = path
        victim = self._last.get("record")
        if victim is not None:
            victim["group_kill"] = True
            _add_raw(victim, msg, self.keep_raw)
            if victim["task_memcg"] is None:
                _apply_unit(victim, path)
        else:
            self._unparsed(msg)
        return []

    def _reaped(self, ln, m):
        pid, comm = int(m.group("pid")), m.group("comm")
        for rec in reversed(self._pending):
            if rec["pid"] == pid and rec["comm"] == comm:
                rec["reaped"] = True
                _add_raw(rec, ln.msg, self.keep_raw)
                return []
        rec = self._record(ln, killer="kernel", basis="reaper_only", pid=pid, comm=comm, reaped=True)
        rec["_event"] = "reaped"
        return [rec]

    def _userspace(self, ln):
        """Records from systemd's and the user-space killers' lines; [] for a line read as context, None when the
        line was not understood."""
        msg = ln.msg
        if "killed by the OOM killer" in msg:
            m = _RX.UNIT_REPORT.match(msg)
            if m:
                rec = self._record(ln, killer="kernel", basis="unit_report", unit=ln.unit or m.group("unit"),
                                   unit_reported=True)
                rec["_event"] = "unit_report"
                return [rec]
        if "Failed with result 'oom-kill'" in msg:
            m = _RX.UNIT_RESULT.match(msg)
            if m:
                rec = self._record(ln, killer="kernel", basis="unit_report", unit=ln.unit or m.group("unit"),
                                   unit_reported=True)
                rec["_event"] = "unit_result"
                return [rec]
        if " due to " in msg and (msg.startswith("Killed /") or msg.startswith("Marked /")):
            m = _RX.OOMD.match(msg)
            if m:
                reason = m.group("reason")
                rec = self._record(ln, killer="systemd-oomd", basis="killer_line", task_memcg=m.group("path"),
                                   reason="swap" if "swap" in reason.split(" being ")[0] else "memory pressure")
                _apply_unit(rec, rec["task_memcg"])
                rec["_event"] = "kill"
                return [rec]
        if "systemd-oomd killed" in msg:
            m = _RX.OOMD_COUNT.match(msg)
            if m:
                rec = self._record(ln, killer="systemd-oomd", basis="unit_report", unit=ln.unit or m.group("unit"),
                                   processes_killed=int(m.group("n")))
                rec["_event"] = "oomd_count"
                return [rec]
        if "sending SIG" in msg:
            m = _RX.EARLYOOM.search(msg)
            if m:
                rec = self._record(ln, killer="earlyoom", basis="killer_line", pid=int(m.group("pid")),
                                   comm=m.group("name"), signal=m.group("sig"), cmdline=m.group("cmdline"))
                if m.group("uid") is not None:
                    rec["uid"] = int(m.group("uid"))
                rec["score"] = int(m.group("score"))  # "badness" (<= 1.7) or "oom_score" (1.8+)
                rec["vm_rss_kb"] = int(m.group("rss")) * 1024
                if m.group("adj") is not None:
                    rec["oom_score_adj"] = int(m.group("adj"))
                rec["_event"] = "kill"
                return [rec]
        if msg.startswith("Considered ") and " for killing" in msg:
            return []  # systemd-oomd's list of candidates before a "Marked" line
        if msg.startswith("Invoking oom killer"):
            return []  # earlyoom <= 1.1 with -k: the kernel's own kill lines follow (sysrq f, order=-1)
        return None

    def close(self):
        """Return every kill still held back, and the canary (one ``unparsed`` event, when a line went unparsed)."""
        out = []
        if self._held is not None:
            held, self._held = self._held, None
            out.extend(self._dispatch(held, False))
        out.extend(self._flush())
        out.extend(self._pending)
        self._pending = []
        if self.unparsed:
            out.append({"_event": "unparsed", "count": self.unparsed, "lines": list(self.unparsed_lines),
                        "sources": [self.source]})
        return out


def parse_lines(lines, source="log", boot_time=None, boot_id=None, year=None, now=None, keep_raw=True):
    """Yield event records from an iterable of lines (str). Pass the result to ``merge_records``."""
    parser = KillParser(source, boot_time, boot_id, year, now, keep_raw)
    feed_line = parser.feed_line
    follow = 0
    for line in lines:
        # the substring prefilter, inlined: most lines stop here
        if ("kill" in line or "Kill" in line or "oom" in line or "task_memcg" in line or ",task=" in line
                or "sending SIG" in line or 'MESSAGE":[' in line or 'MESSAGE" : [' in line):
            yield from feed_line(split_line(line, year, now))
            follow = parser.follow
        elif follow:
            follow -= 1  # the CPU line after a header, the rest of a wrapped line: no needle of their own
            if "PID: " in line or parser._held is not None:  # pylint: disable=protected-access
                yield from feed_line(split_line(line, year, now))
    yield from parser.close()


# -- reading files and command output without trusting them -------------------------------------------
# Every byte a reader hands to the parser went through these: a line is at most MAX_LINE_LENGTH bytes (longer ones
# are cut there and counted, the rest of them is skipped, never collected), a file is read for at most
# MAX_BYTES_PER_FILE bytes (the newest ones) and a rotated .gz for at most MAX_INFLATED_BYTES once inflated
# (a small gzip bomb that inflates to gigabytes stops there), and only regular files are opened at all.
MAX_LINE_LENGTH = 64 << 10
MAX_BYTES_PER_FILE = 256 << 20
MAX_INFLATED_BYTES = 256 << 20
DEFAULT_LIMITS = {"max_line_length": MAX_LINE_LENGTH, "max_bytes_per_file": MAX_BYTES_PER_FILE,
                  "max_inflated_bytes": MAX_INFLATED_BYTES}

# C0 controls and DEL spelled as the kernel spells them in /dev/kmsg (``\x0a``): a name with a newline stays one line.
_CONTROLS = dict((code, u"\\x%02x" % code) for code in list(range(32)) + [127])


def _hex_byte(match):
    return bytes((int(match.group(1), 16),))


def _octal_byte(match):
    return bytes((int(match.group(1), 8),))


def _as_bytes(text):
    """A str back to the bytes it was decoded from (surrogate escapes); other lone surrogates as ``\\udxxx`` text."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace")


def log_text(data, unescape=None):
    """One log line (bytes, or str that may hold surrogate escapes) as valid UTF-8 text on one line.

    ``unescape`` undoes a source's own escaping first (``"kmsg"``: the kernel's ``\\xNN`` for controls, bytes >= 0x7f
    and the backslash; ``"dmesg"``: the ``\\xNN`` dmesg prints for bytes >= 0x80 it cannot show; ``"syslog"``:
    rsyslog's ``#012`` for control characters). Then undecodable bytes are spelled ``\\xff`` (``_text.safe_text``)
    and control characters ``\\x0a`` (as /dev/kmsg does), so the same name reads the same from every source."""
    if isinstance(data, str):
        data = _as_bytes(data)
    if unescape == "kmsg":
        data = _RX.ESCAPE_ANY.sub(_hex_byte, data)
    elif unescape == "dmesg":
        if b"\\x" in data:
            data = _RX.ESCAPE_HIGH.sub(_hex_byte, data)
    elif unescape == "syslog":
        if b"#" in data:
            data = _RX.SYSLOG_CONTROL.sub(_octal_byte, data)
    text = safe_text(data)
    return text if text.isprintable() else text.translate(_CONTROLS)


class SkippedFile(Exception):
    """A log file that is not read on purpose (not a regular file, a symbolic link): ``str(exc)`` says why."""


class FileStats(object):
    """What reading one file did: its size, the bytes read, lines, lines cut at the maximum length, and
    ``truncated`` (None, or in words what a cap left unread)."""
    __slots__ = ("size", "bytes_read", "lines", "long_lines", "truncated")

    def __init__(self, size=None):
        self.size = size
        self.bytes_read = 0
        self.lines = 0
        self.long_lines = 0
        self.truncated = None

    def as_dict(self):
        return {"size": self.size, "bytes_read": self.bytes_read, "lines": self.lines, "long_lines": self.long_lines,
                "truncated": self.truncated}


def _kind(mode):
    for test, name in ((stat.S_ISLNK, "symbolic link"), (stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "FIFO"),
                       (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "regular file" if stat.S_ISREG(mode) else "special file"


class _Budget(object):
    """``read(n)`` of ``source`` that stops after ``limit`` bytes; ``hit`` tells whether more was there."""

    def __init__(self, source, limit, counts_eof=None):
        self.source = source
        self.left = limit
        self.used = 0
        self.hit = False
        self._probed = False
        self.counts_eof = counts_eof  # a _Budget whose cap explains an early end of a compressed stream

    def _read(self, size):
        try:
            return self.source.read(size)
        except EOFError:
            # the compressed bytes were cut by their own cap: the inflated stream simply ends there
            if self.counts_eof is not None and self.counts_eof.hit:
                return b""
            raise

    def read(self, size=-1):
        if self.left <= 0:
            if not self._probed:
                self._probed = True
                self.hit = bool(self._read(1))
            return b""
        if size is None or size < 0 or size > self.left:
            size = self.left
        data = self._read(size)
        self.left -= len(data)
        self.used += len(data)
        return data


def open_log(path, max_bytes_per_file=MAX_BYTES_PER_FILE, max_inflated_bytes=MAX_INFLATED_BYTES):
    """Open a log file (plain, or ``.gz``) for bounded reading. Returns ``(reader, close, finish, stats)``: ``reader.read(n)``
    gives the bytes to parse, ``close()`` closes the file, ``finish()`` fills ``stats`` in after reading.

    Only a regular file is opened: anything else (FIFO, device, directory, socket, symbolic link) raises
    ``SkippedFile`` with why, before it is opened (lstat), and again if it changed between the check and the open
    (``O_NOFOLLOW``, then fstat: same device and inode, still a regular file). ``O_NONBLOCK`` keeps even a FIFO swapped
    in at the last moment from blocking the open. A plain file larger than ``max_bytes_per_file`` is read from
    that many bytes before its end (the newest lines; the first, partial line is skipped); a ``.gz`` is read for at
    most ``max_bytes_per_file`` compressed and ``max_inflated_bytes`` inflated bytes."""
    before = os.lstat(path)
    kind = _kind(before.st_mode)
    if kind != "regular file":
        raise SkippedFile("not a regular file: %s%s" % (kind, " (not followed)" if kind == "symbolic link" else ""))
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SkippedFile("not a regular file: symbolic link (not followed)")
        raise
    try:
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino):
            raise SkippedFile("replaced while being opened (now a %s)" % _kind(now.st_mode))
        raw = io.FileIO(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise
    stats = FileStats(now.st_size)
    max_bytes_per_file = max(1, int(max_bytes_per_file))
    if path.endswith(".gz"):
        packed = _Budget(raw, max_bytes_per_file)
        inflated = _Budget(gzip.GzipFile(fileobj=packed, mode="rb"), max(1, int(max_inflated_bytes)), counts_eof=packed)

        def finish():
            stats.bytes_read = inflated.used
            if packed.hit:
                stats.truncated = "stopped after %d compressed bytes (max_bytes_per_file)" % packed.used
            elif inflated.hit:
                stats.truncated = "stopped after %d inflated bytes (max_inflated_bytes)" % inflated.used
        return inflated, raw.close, finish, stats
    start = 0
    if now.st_size > max_bytes_per_file:
        start = now.st_size - max_bytes_per_file
        raw.seek(start)
    reader = _Budget(raw, max_bytes_per_file)
    reader.partial_first_line = start > 0

    def finish_plain():
        stats.bytes_read = reader.used
        if start:
            stats.truncated = "read the last %d of %d bytes (max_bytes_per_file)" % (reader.used, now.st_size)
        elif reader.hit:
            stats.truncated = "stopped after %d bytes (max_bytes_per_file; the file grew while read)" % reader.used
    return reader, raw.close, finish_plain, stats


def _cut_long_lines(block, max_line, stats):
    """``block`` (whole lines, ending in a newline) with every line longer than ``max_line`` bytes cut to that length.

    Steps through the block ``max_line`` bytes at a time with ``rfind`` (C speed), not line by line."""
    size = len(block)
    pos = start = 0
    parts = None
    while size - pos > max_line + 1:
        newline = block.rfind(b"\n", pos, pos + max_line + 1)
        if newline >= 0:
            pos = newline + 1
            continue
        if parts is None:
            parts = []
        parts.append(block[start:pos + max_line])
        parts.append(b"\n")
        stats.long_lines += 1
        pos = start = block.find(b"\n", pos + max_line) + 1
    if parts is None:
        return block
    parts.append(block[start:])
    return b"".join(parts)


def _line_blocks(read, chunk_size, max_line, stats, skip_first=False):
    """Yield blocks of whole lines (each block ends with a newline) read through ``read(n)``.

    Memory stays below ``chunk_size + max_line``: a line longer than ``max_line`` bytes is cut there (counted in
    ``stats.long_lines``) and the rest of it is read past, not kept, however long it is (a file of NUL bytes without
    a newline). ``skip_first`` drops everything up to the first newline (a file read from the middle)."""
    carry = b""
    discarding = skip_first
    while True:
        chunk = read(chunk_size)
        if not chunk:
            if carry:
                yield carry + b"\n"
            return
        if discarding:
            newline = chunk.find(b"\n")
            if newline < 0:
                continue
            chunk = chunk[newline + 1:]
            discarding = False
        data = carry + chunk if carry else chunk
        last = data.rfind(b"\n")
        if last < 0:
            carry = data
        else:
            carry = data[last + 1:]
            yield _cut_long_lines(data[:last + 1], max_line, stats)
        if len(carry) > max_line:
            stats.long_lines += 1
            yield carry[:max_line] + b"\n"
            carry = b""
            discarding = True


def _candidate_lines(handle, chunk_size=CHUNK_SIZE, counter=None, max_line=MAX_LINE_LENGTH, stats=None):
    """Yield the candidate lines (bytes) of a binary file object, reading it in chunks (``_line_blocks``: no line
    longer than ``max_line`` bytes, memory bounded whatever the file holds).

    Each needle is searched with bytes.find over the whole chunk (C speed, one pass per needle): ``ill`` preceded
    by K/k (Killed, Kill, kill, killed, oom-kill, oom-killer, killing: kernel lines, systemd's unit reports, systemd-oomd)
    and ``oom`` (the reaper, summary pieces, and earlyoom's lines through their ``earlyoom[pid]:`` syslog tag; journal
    JSON goes through ``parse_lines``). Only the lines around hits are cut out and decoded. The two
    lines after an ``oom-kill:`` summary that lacks its ``,uid=`` end come along too: they may hold its split
    continuation (``,task_memcg=...``), which contains no needle of its own."""
    needles = (b"ill", b"oom")
    follow = 0
    count_lines = counter is not None or stats is not None  # counting costs a pass over every block: on request only
    if stats is None:
        stats = FileStats()
    for block in _line_blocks(handle.read, chunk_size, max_line, stats, getattr(handle, "partial_first_line", False)):
        size = len(block)
        find = block.find
        if count_lines:
            lines = block.count(b"\n")
            stats.lines += lines
            if counter is not None:
                counter[0] += lines
        done = 0  # everything before this offset has been handed out
        while follow and done < size:
            end = find(b"\n", done)
            end = size if end < 0 else end
            yield block[done:end]
            done = end + 1
            follow -= 1
        positions = []
        for needle in needles:
            pos = find(needle, done)
            positions.append(size if pos < 0 else pos)
        while True:
            hit = min(positions)
            if hit >= size:
                break
            idx = positions.index(hit)
            if idx == 0 and block[hit - 1:hit] not in (b"K", b"k"):
                pos = find(b"ill", hit + 1)  # "still", "will", "fill": not ours
                positions[0] = size if pos < 0 else pos
                continue
            start = block.rfind(b"\n", 0, hit) + 1
            end = find(b"\n", hit)
            if end < 0:
                end = size
            line = block[start:end]
            yield line
            done = end + 1
            if b"oom-kill:" in line and b",uid=" not in line:
                follow = 2
            elif b"lled process " in line or b"ill process " in line:
                follow = 1  # a kill or selection line a terminal wrapped: its rest has no needle
            while follow and done < size:
                nxt = find(b"\n", done)
                nxt = size if nxt < 0 else nxt
                yield block[done:nxt]
                done = nxt + 1
                follow -= 1
            for idx, pos in enumerate(positions):
                if pos < done:
                    pos = find(needles[idx], done)
                    positions[idx] = size if pos < 0 else pos


def parse_file(path_or_handle, source=None, boot_time=None, boot_id=None, year=None, now=None, keep_raw=True,
               chunk_size=CHUNK_SIZE, counter=None, limits=None, stats=None):
    """Yield event records from a log file (path, ``.gz`` path, or binary file object), read in chunks.

    ``limits`` (keys of ``DEFAULT_LIMITS``) bound what is read: a path is opened with ``open_log`` (regular files
    only, else ``SkippedFile``; at most ``max_bytes_per_file``/``max_inflated_bytes``), every line is cut at
    ``max_line_length``. ``stats`` (a ``FileStats``) is filled in with what was read and cut. Lines are decoded with
    ``log_text`` (``\\xff`` for undecodable bytes, rsyslog's ``#012`` turned into the kernel's ``\\x0a``).
    Raises OSError/IOError when the file cannot be opened or read (the readers catch it)."""
    limits = dict(DEFAULT_LIMITS, **(limits or {}))
    if isinstance(path_or_handle, (str, bytes)):
        path = os.fsdecode(path_or_handle)
        reader, close, finish, opened = open_log(path, limits["max_bytes_per_file"], limits["max_inflated_bytes"])
        try:
            yield from parse_file(reader, source or "file:" + path, boot_time, boot_id, year, now, keep_raw,
                                  chunk_size, counter, limits, stats)
        finally:
            close()
            finish()
            if stats is not None:
                stats.size, stats.bytes_read, stats.truncated = opened.size, opened.bytes_read, opened.truncated
        return
    parser = KillParser(source or "file", boot_time, boot_id, year, now, keep_raw)
    feed_line = parser.feed_line
    max_line = max(1, int(limits["max_line_length"]))
    for raw in _candidate_lines(path_or_handle, chunk_size, counter, max_line, stats):
        yield from feed_line(split_line(log_text(raw, "syslog"), year, now))
    yield from parser.close()


# -- merging --------------------------------------------------------------------------------------------
def _same_kill(a, b, tolerance):
    if a["boot_id"] and b["boot_id"] and a["boot_id"] != b["boot_id"]:
        return False
    ma, mb = a["monotonic"], b["monotonic"]
    if ma is not None and mb is not None and a["boot_id"] and a["boot_id"] == b["boot_id"]:
        return abs(ma - mb) <= 1.0
    ta, tb = a["timestamp"], b["timestamp"]
    if ta is not None and tb is not None:
        return abs(ta - tb) <= tolerance
    if ma is not None and mb is not None:
        return abs(ma - mb) <= 1.0
    return True


_BASIS_RANK = dict((name, rank) for rank, name in enumerate(BASES))


def _trust_rank(rec):
    return _TRUST_RANK.get(rec.get("trust"), 0)


def _absorb(into, other, vouch=True):
    """Fold ``other`` into ``into``. Only another record of the kill itself (``vouch``) can raise ``into``'s trust: a
    unit report or a reaper line says something about a kill, never that the kill happened."""
    # evidence weaker than the record's (a text log's line for a kernel kill) fills in none of its fields
    weaker = _trust_rank(other) < _trust_rank(into)
    if vouch:
        into["trust"] = stronger_trust(into.get("trust"), other.get("trust"))
    if not weaker and _BASIS_RANK.get(other.get("basis"), 99) < _BASIS_RANK.get(into.get("basis"), 99):
        into["basis"] = other["basis"]
    for key in RECORD_KEYS:
        if key in ("sources", "raw", "trust", "basis") or weaker:
            continue
        if key in ("group_kill", "reaped", "unit_reported"):
            into[key] = bool(into[key] or other[key])
        elif key == "invoker" and into[key] and other[key]:
            # journalctl --grep drops the stack dump's CPU line: the invoker's pid and uid may come from dmesg
            missing = [k for k, v in into[key].items() if v is None and other[key].get(k) is not None]
            if missing and into[key].get("comm") == other[key].get("comm"):
                into[key] = dict(into[key], **dict((k, other[key][k]) for k in missing))
        elif into[key] is None and other[key] is not None:
            into[key] = other[key]
    for src in other["sources"]:
        if src not in into["sources"]:
            into["sources"].append(src)
    for line in other["raw"]:
        if len(into["raw"]) < MAX_RAW_LINES and line not in into["raw"]:
            into["raw"].append(line)


def _unit_matches(rec, unit):
    if not unit:
        return False
    if rec["unit"] == unit or rec["slice"] == unit:
        return True
    for path in (rec["task_memcg"], rec["oom_memcg"]):
        if path and unit in path.split("/"):
            return True
    return False


def _delta(a, b):
    """b - a in seconds (wall clock, else monotonic within one boot), or None."""
    if a["timestamp"] is not None and b["timestamp"] is not None:
        return b["timestamp"] - a["timestamp"]
    if a["monotonic"] is not None and b["monotonic"] is not None and (not a["boot_id"] or a["boot_id"] == b["boot_id"]):
        return b["monotonic"] - a["monotonic"]
    return None


def _attach_reports(kills, reports, window_before, window_after, tolerance, create):
    """Fold systemd's unit reports into the kill they describe; unmatched ones become one record per burst.

    A report goes only to a kill at least as trusted as itself (a real report never names the unit of a forged kill
    line, nor vouches for it), and never raises the kill's trust."""
    orphans = []
    matched = []
    for rep in reports:
        best = None
        best_score = None
        for rec in kills:
            if rec["killer"] != rep["killer"] or _trust_rank(rec) < _trust_rank(rep):
                continue
            delta = _delta(rec, rep)
            if delta is None or delta < -window_before - tolerance or delta > window_after + tolerance:
                continue
            if _unit_matches(rec, rep["unit"]):
                score = (0, abs(delta))
            elif rec["unit"] is None and rec["task_memcg"] is None:
                score = (1, abs(delta))
            else:
                continue
            if best_score is None or score < best_score:
                best, best_score = rec, score
        if best is not None:
            if rep["_event"] == "oomd_count":
                best["processes_killed"] = rep["processes_killed"]
            else:
                best["unit_reported"] = True
            if best["unit"] is None and rep["unit"] and not rep["unit"].startswith("user@"):
                best["unit"] = rep["unit"]
            _absorb(best, dict(rep, unit=best["unit"]), vouch=False)
            matched.append((rep, best))
        elif create:
            orphans.append(rep)
    made = []
    # the strongest report of a burst makes its record: a weaker one then fills in none of its fields
    orphans.sort(key=lambda rep: -_trust_rank(rep))
    for rep in orphans:
        # a burst of reports at one instant (nested units: user@1000.service and the app's unit) is one kill
        burst = [kill for other, kill in matched if _delta(other, rep) is not None and abs(_delta(other, rep)) <= 1.0
                 and _trust_rank(kill) >= _trust_rank(rep)]
        if burst:
            _absorb(burst[0], dict(rep, unit=burst[0]["unit"]), vouch=False)
            continue
        for rec in made:
            delta = _delta(rec, rep)
            if delta is not None and abs(delta) <= 1.0 and _trust_rank(rec) >= _trust_rank(rep):
                if rec["unit"] and rec["unit"].startswith("user@") and rep["unit"] and _trust_rank(rep) == _trust_rank(rec):
                    rec["unit"] = rep["unit"]
                _absorb(rec, rep)
                break
        else:
            made.append(dict(rep, sources=list(rep["sources"]), raw=list(rep["raw"])))
    kills.extend(made)


def merge_records(*lists, **kwargs):
    """Merge event records from any number of sources into one record per kill (see the dedup key above).

    Pass the most trusted source first (the journal: exact wall-clock times); its values win where sources
    disagree. ``tolerance`` (keyword, seconds, default 3) is the wall-clock window of the dedup key.
    Returns the kills sorted by time, with internal keys removed and ``time`` filled in."""
    tolerance = float(kwargs.get("tolerance", 3.0))
    kills, reaps, reports, results, counts = [], [], [], [], []
    index = {}
    for records in lists:
        for rec in records:
            event = rec.get("_event", "kill")
            if event == "unparsed":
                continue
            if event == "reaped":
                reaps.append(rec)
                continue
            if event == "unit_report":
                reports.append(rec)
                continue
            if event == "unit_result":
                results.append(rec)
                continue
            if event == "oomd_count":
                counts.append(rec)
                continue
            if rec["killer"] == "systemd-oomd":
                key = (rec["killer"], rec["task_memcg"])
            else:
                key = (rec["killer"], rec["pid"], rec["comm"])
            window = 60.0 if rec["killer"] == "earlyoom" else tolerance
            for seen in index.get(key, ()):
                if _same_kill(seen, rec, window):
                    if rec["killer"] == "earlyoom" and rec["signal"] == "SIGKILL":
                        seen["signal"] = "SIGKILL"
                    _absorb(seen, rec)
                    break
            else:
                copy = dict(rec, sources=list(rec["sources"]), raw=list(rec["raw"]))
                copy["_event"] = "kill"
                index.setdefault(key, []).append(copy)
                kills.append(copy)
    for rep in reaps:
        for rec in index.get(("kernel", rep["pid"], rep["comm"]), ()):
            delta = _delta(rec, rep)
            if delta is None or -tolerance <= delta <= 120:
                rec["reaped"] = True
                _absorb(rec, rep, vouch=False)  # the reaper line says the kill's memory went, not who wrote its line
                break
        else:
            rep = dict(rep, _event="kill")
            index.setdefault(("kernel", rep["pid"], rep["comm"]), []).append(rep)
            kills.append(rep)
    _attach_reports(kills, reports, 5.0, 5.0, 0.0, True)
    _attach_reports(kills, counts, 5.0, 5.0, 0.0, True)
    _attach_reports(kills, results, 0.0, 600.0, tolerance, True)
    out = []
    for rec in kills:
        rec = dict(rec)
        for key in [k for k in rec if k.startswith("_")]:
            del rec[key]
        rec["time"] = iso_time(rec["timestamp"])
        out.append(rec)
    out.sort(key=lambda r: (r["timestamp"] is None, r["timestamp"] or 0.0, r["monotonic"] or 0.0))
    return out


def filter_since(records, since):
    """Keep records at or after ``since`` (epoch seconds, or anything ``parse_since`` reads).

    Records whose time is unknown are kept (they cannot be shown to be older)."""
    limit = parse_since(since)
    if limit is None:
        return list(records)
    return [r for r in records if r["timestamp"] is None or r["timestamp"] >= limit]


def filter_cgroup(records, prefix):
    """Keep kills whose memory cgroup lies at or under ``prefix`` (a container's own cgroup path).

    A record without a known cgroup is dropped: inside a container that sees the host's log it cannot be
    attributed to the container."""
    if not prefix or prefix == "/":
        return list(records)
    prefix = "/" + prefix.strip("/")
    kept = []
    for rec in records:
        path = rec["task_memcg"] or rec["oom_memcg"]
        if path and (path == prefix or path.startswith(prefix + "/")):
            kept.append(rec)
    return kept


def unparsed_of(*lists):
    """The canary over the event lists of several sources: ``{"count", "lines", "by_source"}``.

    ``count`` is the most any one source saw (the sources overlap: the journal, dmesg and kern.log hold the same
    kernel lines), ``by_source`` each source's own count, ``lines`` the first few distinct lines (valid UTF-8)."""
    by_source = {}
    lines = []
    for events in lists:
        for event in events:
            if event.get("_event") != "unparsed":
                continue
            for src in event.get("sources") or ["log"]:
                by_source[src] = by_source.get(src, 0) + int(event.get("count") or 0)
            for line in event.get("lines") or ():
                text = safe_text(line)  # never raises: a lone surrogate from JSON is spelled too
                if text not in lines and len(lines) < UNPARSED_LINES:
                    lines.append(text)
    return {"count": max(by_source.values()) if by_source else 0, "lines": lines, "by_source": by_source}


def account_kills(kills, oom_kill, cgroups=None, boot_id=None, boot_time=None, since=None, sources_read=()):
    """Compare the kernel kills parsed for this boot with the kernel's own counters.

    ``oom_kill``: /proc/vmstat ``oom_kill`` (kills since boot, None when unknown); ``cgroups``: the per-cgroup counters
    (``[{"path", "oom_kill", "source"}]``, v1 ``memory.oom_control`` counts a cgroup's own kills, v2 ``memory.events``
    its subtree's); ``since``: where the window starts (epoch; None: everything kept); ``sources_read``: the kernel-log
    sources that could be read. Returns ``{"count", "compared_with", "counter", "parsed", "reason", "cgroups"}``:
    ``count`` is counter minus parsed, or None (with ``reason``) when the window cannot show every kill of the boot.

    ``parsed`` counts only kernel kills whose ``trust`` is ``kernel`` (a text log's line can be forged; a record without
    trust comes from no reader and is not counted either). ``since`` after the boot does not matter when dmesg or
    /dev/kmsg was read: they are read whole. ``count`` is never negative: when the log shows more kernel kills than
    the counter, it is 0 and ``reason`` says so (the same kill unmerged, or a boot told apart wrongly)."""
    result = {"count": None, "compared_with": "/proc/vmstat oom_kill (kernel kills since boot)", "counter": oom_kill,
              "parsed": None, "reason": None, "cgroups": []}
    this_boot = []
    for rec in kills:
        if rec.get("killer") != "kernel" or rec.get("basis") == "unit_report" or rec.get("trust") != "kernel":
            continue
        if rec.get("boot_id") and boot_id:
            if rec["boot_id"] == boot_id:
                this_boot.append(rec)
        elif boot_time is not None and rec.get("timestamp") is not None and rec["timestamp"] >= boot_time - 1:
            this_boot.append(rec)
    result["parsed"] = len(this_boot)
    if oom_kill is None:
        result["reason"] = "/proc/vmstat has no oom_kill counter (kernel before 4.13) or could not be read"
    elif not sources_read:
        result["reason"] = "no kernel log source could be read"
    elif since is not None and (boot_time is None or since > boot_time + 1) and not {"dmesg", "kmsg"} & set(sources_read):
        result["reason"] = "the window (since) starts after the boot: kills before it are not read"
    else:
        result["count"] = max(0, oom_kill - len(this_boot))
        if len(this_boot) > oom_kill:
            result["reason"] = ("the log shows more kernel kills (%d) than the kernel counted (%d) since boot: a kill "
                                "listed twice, or a kill of another boot" % (len(this_boot), oom_kill))
    for entry in cgroups or ():
        path = entry.get("path")
        counter = entry.get("oom_kill")
        if not path or counter is None:
            continue
        subtree = "events" in str(entry.get("source") or "")
        found = sum(1 for rec in this_boot if rec.get("task_memcg") and (
            rec["task_memcg"] == path or (subtree and rec["task_memcg"].startswith(path.rstrip("/") + "/"))))
        result["cgroups"].append({"path": path, "oom_kill": counter, "parsed": found,
                                  "unaccounted": max(0, counter - found) if result["count"] is not None else None})
    return result


# -- source readers: never raise; each returns (events, status) -----------------------------------------
# How far a record's evidence can be trusted (``trust``), strongest first. ``kernel``: the kernel wrote it (dmesg,
# /dev/kmsg, journal entries with _TRANSPORT=kernel, which only the kernel and root can produce). ``killer``: a
# user-space line the journal itself vouches for: from the killer's own unit (systemd-oomd.service,
# earlyoom.service) under a system uid, or from systemd itself (PID 1, uid 0). ``unverified``: a line of a plain
# text log (anyone who can write to syslog could have written it). Merged records keep the strongest.
TRUST_LEVELS = ("kernel", "killer", "unverified")
_TRUST_RANK = {"kernel": 3, "killer": 2, "unverified": 1}
# The user-space killers' own units, by their syslog identifier.
KILLER_UNITS = {"systemd-oomd": "systemd-oomd.service", "earlyoom": "earlyoom.service"}
# The uids a killer's unit may run as: root, a system user (systemd-oomd runs as ``systemd-oom``) or a systemd
# DynamicUser= uid (61184-65519); never an ordinary user's uid, nor nobody (65534) - but the unit is what matters:
# journald sets _SYSTEMD_UNIT from the sender's cgroup, which an unprivileged process cannot join.
SYSTEM_UID_MAX = 999
DYNAMIC_UIDS = (61184, 65519)


def stronger_trust(a, b):
    """The stronger of two ``trust`` values (None is weakest)."""
    return a if _TRUST_RANK.get(a, 0) >= _TRUST_RANK.get(b, 0) else b


def _set_trust(events, trust):
    for event in events:
        event["trust"] = trust
    return events


def _status(name, **values):
    status = {"source": name, "available": False, "lines": 0, "kills": 0, "reason": None}
    status.update(values)
    return status


def _run(run_command, cmd):
    try:
        return run_command(cmd)
    except Exception as exc:  # pylint: disable=broad-except
        return 127, "", str(exc)


def _kills_in(events):
    return sum(1 for e in events if e.get("_event", "kill") == "kill")


_NO_JOURNAL = ("No journal files were found", "-- No entries --")
# The kernel's messages of every boot the journal keeps (``journalctl -k`` would add ``-b``: this boot only).
KERNEL_MATCH = "_TRANSPORT=kernel"

# journalctl's own filter (--grep, systemd 237+ built with PCRE2): the needles of ``is_candidate``, so journalctl hands
# over exactly the lines the parser would look at. Upper-case letters in the pattern make it case sensitive.
JOURNAL_GREP = "kill|Kill|oom|task_memcg|,task=|sending SIG"
# The fields ``_json_line`` reads and the trusted fields (set by journald, never by the sender) the trust check reads
# (journalctl adds __CURSOR, __REALTIME_TIMESTAMP, __MONOTONIC_TIMESTAMP and _BOOT_ID).
JOURNAL_FIELDS = "MESSAGE,_SOURCE_MONOTONIC_TIMESTAMP,SYSLOG_IDENTIFIER,_TRANSPORT,UNIT,USER_UNIT,_SYSTEMD_UNIT,_UID,_PID"
# The user-space query: the killers' lines and systemd's per-unit reports.
USERSPACE_MATCH = ["-t", "systemd-oomd", "-t", "earlyoom", "-t", "systemd"]
# What journalctl prints when it lacks an option: built without PCRE2 ("Compiled without pattern matching support"),
# PCRE2 not loadable at run time, or too old to know --grep / --output-fields (getopt's message).
_UNSUPPORTED = ("pattern matching", "pcre", "unrecognized option", "invalid option", "unknown option")


def _option_unsupported(text):
    text = (text or "").lower()
    return any(marker in text for marker in _UNSUPPORTED)


_JOURNAL_VARIANTS = (["--grep=" + JOURNAL_GREP, "--output-fields=" + JOURNAL_FIELDS], ["--output-fields=" + JOURNAL_FIELDS], [])


def _journal_query(run_command, base, tail, first=0):
    """Run ``base + options + tail`` with the options of ``_JOURNAL_VARIANTS[first]``, and the next variant each time
    journalctl rejects an option. Returns ``(rc, out, err, variant, notes)``: the variant that answered (0: filtered
    with --grep) and which options were dropped and why."""
    notes = []
    variant = first
    while True:
        options = _JOURNAL_VARIANTS[variant]
        rc, out, err = _run(run_command, base + options + tail)
        if rc != 0 and options and _option_unsupported(err or out):
            notes.append("%s not supported (%s)" % (options[0].split("=")[0], ((err or out).strip().splitlines() or [""])[0][:120]))
            variant += 1
            continue
        return rc, out, err, variant, notes


def _journal_unavailable(rc, out, err, what):
    """Why a journalctl answer holds no JSON: it failed, or (exit 0 and a message) there is no journal to read."""
    text = (out or "") + (err or "")
    if rc != 0:
        return "%s failed (rc=%s): %s" % (what, rc, log_text((err or out or "").strip()[:200]))
    found = [marker for marker in _NO_JOURNAL if marker in text]
    return "journal unavailable: %s" % (found[0] if found else (log_text((err or out or "").strip()[:200]) or "%s printed nothing" % what))


def _trusted_uid(value):
    try:
        uid = int(value)
    except (TypeError, ValueError):
        return False
    return 0 <= uid <= SYSTEM_UID_MAX or DYNAMIC_UIDS[0] <= uid <= DYNAMIC_UIDS[1]


def journal_kernel_entry(entry):
    """Why a kernel-query entry is refused (None: accepted). Only what journald itself marks as the kernel's."""
    if entry.get("_TRANSPORT") != "kernel":
        return "not _TRANSPORT=kernel"
    return None


def journal_userspace_entry(entry):
    """Why a user-space entry is refused (None: accepted). A killer's line counts only from its own unit and a system
    uid; systemd's unit reports only from PID 1 as root. These are journald's trusted fields (``_``-prefixed: a sender
    cannot set them), so ``logger -t earlyoom`` run by any user is refused here."""
    ident = entry.get("SYSLOG_IDENTIFIER")
    if entry.get("_TRANSPORT") == "kernel":
        return "kernel entry"  # the kernel query reads those
    if ident in KILLER_UNITS:
        if entry.get("_SYSTEMD_UNIT") != KILLER_UNITS[ident]:
            return "%s line not from %s" % (ident, KILLER_UNITS[ident])
        if not _trusted_uid(entry.get("_UID")):
            return "%s line from uid %s" % (ident, entry.get("_UID"))
        return None
    if ident == "systemd":
        if str(entry.get("_PID")) != "1" or str(entry.get("_UID")) != "0":
            return "systemd line not from PID 1 as root"
        return None
    return "identifier %s" % ident


def _journal_message(value):
    """MESSAGE (a string, or a byte array when it is not valid UTF-8) as one line of valid UTF-8 (``log_text``)."""
    if isinstance(value, list):
        try:
            value = bytes(value)
        except (TypeError, ValueError):
            return None
    if isinstance(value, str):
        value = _as_bytes(value)
    if not isinstance(value, bytes):
        return None
    return log_text(value.rstrip(b"\n"))


def _journal_events(lines, accept, boot_time_value, keep_raw, refused):
    """Parse journalctl ``-o json`` lines, each entry checked by ``accept(entry)`` (None: trusted, else why not;
    ``refused`` counts the reasons)."""
    parser = KillParser("journal", boot_time_value, current_boot_id(), keep_raw=keep_raw)
    events = []
    for line in lines:
        if not is_candidate(line):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        why = accept(entry)
        if why is not None:
            refused[why] = refused.get(why, 0) + 1
            continue
        parsed = _json_line(entry)
        if parsed is not None:
            events.extend(parser.feed_line(parsed))
    events.extend(parser.close())
    return events


def read_journal(run_command, since=None, boot_time=None, journalctl="journalctl", keep_raw=True):
    """Read kills from the journal: the kernel's lines of every boot kept (``journalctl _TRANSPORT=kernel -o json``,
    not ``-k``, which is this boot only) plus the user-space killers' and systemd's lines.

    ``run_command(argv) -> (rc, stdout, stderr)``. journalctl filters the lines itself (``--grep`` with the parser's
    needles, ``--output-fields`` with the fields it reads); a journalctl without them (older than 237, or built
    without PCRE2: "Compiled without pattern matching support") is asked again without them, and the status says
    ``filtered: false``. ``--grep`` exits 1 when nothing matched: a short unfiltered query (``-n 1``) then tells
    "no kill lines" (read, 0 lines) from "no journal". An empty journal ("No journal files were found" /
    "-- No entries --" with exit 0, or no output at all for the kernel) is reported as unavailable.

    Trust follows each entry, not the query: kernel lines only with ``_TRANSPORT=kernel`` (``trust: kernel``), the
    killers' and systemd's lines only as ``journal_userspace_entry`` allows (``trust: killer``). Entries refused are
    counted in the status's ``refused`` (``{reason: count}``)."""
    events = []
    since_epoch = None
    try:
        since_epoch = parse_since(since)
    except ValueError as exc:
        return events, _status("journal", reason=str(exc))
    base = [journalctl, "--no-pager", "-o", "json"]
    if since_epoch is not None:
        base.append("--since=@%d" % int(since_epoch))
    # _TRANSPORT=kernel, not -k: -k also means -b (this boot only), and the kills that matter most are often the ones
    # before the last reboot. Each entry carries its own _BOOT_ID, so records of earlier boots never merge with this one's.
    rc, out, err, variant, notes = _journal_query(run_command, base, [KERNEL_MATCH])
    grep_used = variant == 0
    if notes:
        notes.append("read unfiltered")
    if not (out or "").lstrip().startswith("{"):
        if grep_used and rc == 1:
            # nothing matched, or no journal at all: the unfiltered command, one entry, says which
            rc, out, err = _run(run_command, base + ["-n", "1", KERNEL_MATCH])
            if rc == 0 and (out or "").lstrip().startswith("{"):
                out = ""
            else:
                return events, _status("journal", reason=_journal_unavailable(rc, out, err, "journalctl " + KERNEL_MATCH))
        else:
            return events, _status("journal", reason=_journal_unavailable(rc, out, err, "journalctl " + KERNEL_MATCH))
    refused = {}
    lines = out.splitlines()
    events.extend(_set_trust(_journal_events(lines, journal_kernel_entry, boot_time, keep_raw, refused), "kernel"))
    count = len(lines)
    # user-space killers and systemd's per-unit reports (the system manager's only: a user's own manager, and any
    # process of that user, could write them); starting with the options the first query found this journalctl to accept
    rc2, out2, err2, variant2, notes2 = _journal_query(run_command, base, USERSPACE_MATCH, first=variant)
    notes.extend(notes2)
    grep2 = variant2 == 0
    if rc2 == 0 and (out2 or "").lstrip().startswith("{"):
        lines2 = out2.splitlines()
        count += len(lines2)
        events.extend(_set_trust(_journal_events(lines2, journal_userspace_entry, boot_time, keep_raw, refused), "killer"))
    elif rc2 != 0 and not (grep2 and rc2 == 1 and not (err2 or "").strip()):  # --grep's "nothing matched" is no failure
        notes.append("user-space killers not read: rc=%s %s" % (rc2, log_text((err2 or "").strip()[:120])))
    if refused:
        notes.append("%d entries not trusted (%s)" % (sum(refused.values()),
                                                      ", ".join("%s: %d" % item for item in sorted(refused.items()))))
    return events, _status("journal", available=True, lines=count, kills=_kills_in(events), filtered=grep_used,
                           refused=sum(refused.values()), reason="; ".join(notes) or None)


def _restrict_reason(default):
    try:
        with open("/proc/sys/kernel/dmesg_restrict") as handle:
            if handle.read().strip() == "1":
                return default + " (kernel.dmesg_restrict=1 needs CAP_SYSLOG)"
    except (IOError, OSError):
        pass
    return default


def dmesg_records(lines):
    """dmesg's output lines joined back into one line per kernel record, decoded with ``log_text``.

    dmesg prints a newline inside a message (a process named ``"a\\nb"``) as a line break followed by blanks as wide
    as the ``[ stamp ]`` prefix; such a line is joined to its record again (the newline becomes ``\\x0a``, as
    /dev/kmsg spells it), so the kill is one line and one record. Candidate lines only (the parser's substring
    prefilter) are decoded."""
    record = None
    indent = 0
    for line in lines:
        if record is not None and line[:1] == " " and indent and line[:indent].strip() == "" and line[:indent] == " " * indent:
            record += "\n" + line[indent:]
            continue
        if record is not None and is_candidate(record):
            yield log_text(record, "dmesg")
        record = line
        match = _RX.DMESG_STAMP.match(line)
        indent = match.end() if match else 0
    if record is not None and is_candidate(record):
        yield log_text(record, "dmesg")


def read_dmesg(run_command, boot_time_value=None, dmesg="dmesg", keep_raw=True):
    """Read kills from ``dmesg`` (monotonic stamps, converted with the boot time). Never raises."""
    if boot_time_value is None:
        boot_time_value = boot_time()
    rc, out, err = _run(run_command, [dmesg])
    if rc != 0:
        reason = "dmesg failed (rc=%s): %s" % (rc, log_text((err or out or "").strip()[:200]))
        if "not permitted" in (err or "") or "denied" in (err or ""):
            reason = _restrict_reason(reason)
        return [], _status("dmesg", reason=reason)
    lines = out.splitlines()
    events = _set_trust(list(parse_lines(dmesg_records(lines), "dmesg", boot_time_value, current_boot_id(),
                                         keep_raw=keep_raw)), "kernel")
    return events, _status("dmesg", available=True, lines=len(lines), kills=_kills_in(events))


def kmsg_text(record):
    """One /dev/kmsg record (bytes of one read) as its first line, decoded: the kernel escapes controls, bytes
    >= 0x7f and the backslash as ``\\xNN``; they are undone and the text spelled as from every other source
    (``log_text``), so a name with a newline or a 0xff byte reads as dmesg's and the journal's do."""
    line = record.split(b"\n", 1)[0]
    return log_text(line, "kmsg") if b"\\x" in line else safe_text(line)


def _kmsg_lines(fd, counter):
    while True:
        try:
            data = os.read(fd, 8192)
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # the record was overwritten while we read: skip to the next
                continue
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                return
            raise
        if not data:
            return
        counter[0] += 1
        yield kmsg_text(data)


def read_kmsg(path="/dev/kmsg", boot_time_value=None, keep_raw=True):
    """Read kills from /dev/kmsg without blocking (until EAGAIN). Never raises."""
    if boot_time_value is None:
        boot_time_value = boot_time()
    counter = [0]
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        reason = "cannot open %s: %s" % (path, exc.strerror)
        if exc.errno in (errno.EPERM, errno.EACCES):
            reason = _restrict_reason(reason)
        return [], _status("kmsg", reason=reason)
    try:
        events = _set_trust(list(parse_lines(_kmsg_lines(fd, counter), "kmsg", boot_time_value, current_boot_id(),
                                             keep_raw=keep_raw)), "kernel")
    except OSError as exc:
        return [], _status("kmsg", lines=counter[0], reason="reading %s failed: %s" % (path, exc.strerror))
    finally:
        os.close(fd)
    return events, _status("kmsg", available=True, lines=counter[0], kills=_kills_in(events))


def expand_rotated(paths):
    """Each path followed by its rotated siblings (``.1``, ``.2.gz``...), oldest last, existing names only (a symbolic
    link is listed, so that the reader can say it skipped it)."""
    out = []
    for path in paths:
        found = [path] if os.path.lexists(path) else []
        siblings = [p for p in glob.glob(glob.escape(path) + ".*") if _RX.ROTATED.search(p[len(path):])]

        def order(p, base=path):
            digits = re.match(r"\.(\d+)", p[len(base):])
            return int(digits.group(1)) if digits else 0
        found.extend(sorted(siblings, key=order))
        for p in found:
            if p not in out:
                out.append(p)
    return out


DEFAULT_LOG_FILES = ("/var/log/kern.log", "/var/log/messages")


def read_log_files(paths=DEFAULT_LOG_FILES, since=None, keep_raw=True, rotated=True, limits=None):
    """Read kills from syslog files (plain or .gz, rotated siblings included). Never raises, never blocks.

    ``limits`` (keys of ``DEFAULT_LIMITS``) bound what is read of each file (``open_log``, ``parse_file``). Returns
    (events, status): status lists each file with what was read (``bytes_read``, ``lines``, ``long_lines`` cut at
    ``max_line_length``, ``truncated`` when a cap stopped it) and why others were not (``skipped``: not a regular
    file, a symbolic link). Every record from a file has ``trust: unverified``: any local user can write such lines."""
    events = []
    files = []
    limits = dict(DEFAULT_LIMITS, **(limits or {}))
    try:
        since_epoch = parse_since(since)
    except ValueError as exc:
        return events, _status("files", reason=str(exc), files=files, limits=limits)
    candidates = expand_rotated(paths) if rotated else [p for p in paths if os.path.lexists(p)]
    missing = [p for p in paths if not os.path.lexists(p)]
    lines = long_lines = 0
    truncated = []
    for path in candidates:
        entry = {"path": safe_text(path), "read": False, "skipped": False, "reason": None}
        try:
            info = os.lstat(path)
            if since_epoch is not None and stat.S_ISREG(info.st_mode) and info.st_mtime < since_epoch:
                entry["reason"] = "older than since"
                files.append(entry)
                continue
            # syslog stamps have no year: resolve them against the file's own modification time
            stats = FileStats()
            found = list(parse_file(path, "file:" + safe_text(path), now=info.st_mtime + 86400, keep_raw=keep_raw,
                                    limits=limits, stats=stats))
            entry["read"] = True
            entry.update(stats.as_dict())
            lines += stats.lines
            long_lines += stats.long_lines
            if stats.truncated:
                truncated.append(entry["path"])
            events.extend(_set_trust(found, "unverified"))
        except SkippedFile as exc:
            entry["skipped"] = True
            entry["reason"] = str(exc)
        except (IOError, OSError, EOFError, ValueError, zlib.error) as exc:
            entry["reason"] = log_text(str(exc))
        files.append(entry)
    for path in missing:
        files.append({"path": safe_text(path), "read": False, "skipped": False, "reason": "not found"})
    ok = any(f["read"] for f in files)
    status = _status("files", available=ok, lines=lines, kills=_kills_in(events), files=files, long_lines=long_lines,
                     truncated=truncated, limits=limits,
                     reason=None if ok else "no readable log file among %s" % ", ".join(safe_text(p) for p in paths))
    return events, status
