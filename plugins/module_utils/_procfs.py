# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The one place that reads /proc for the whole collection.

Two ways in:

* :class:`ProcessHandle` opens ``/proc/PID`` once as a directory file descriptor and does every later read and
  write through it, so a process that exits (and whose pid gets reused) can never be confused with its successor:
  reads through a stale handle fail with ESRCH/ENOENT, and :meth:`ProcessHandle.set_oom_score_adj` re-checks the
  start time before it writes.
* :func:`find_processes` (selectors of the ``oom_score_adj`` module, pgrep semantics) and
  :func:`scan_process_table` (the process table of the facts module, ranked from the cheap files first) walk the
  whole table with plain path reads, which is what keeps them near ``pgrep``/``ps`` speed.

Everything takes a ``proc_root`` (default ``/proc``) so tests can point it at a recorded tree. No psutil:
managed hosts only need Python 3.8.
"""
from __future__ import annotations

import errno
import os
import pwd
import re
import select
import signal
import stat as stat_mod
import time

from ansible_collections.oomguard.linux.plugins.module_utils._container import container_of
from ansible_collections.oomguard.linux.plugins.module_utils._systemd import unit_from_cgroup_path
from ansible_collections.oomguard.linux.plugins.module_utils._text import safe_text

PROC_ROOT = "/proc"
PF_KTHREAD = 0x00200000
CAP_SYS_RESOURCE = 24
OOM_SCORE_ADJ_MIN = -1000
OOM_SCORE_ADJ_MAX = 1000
COMM_LEN = 15  # TASK_COMM_LEN - 1

_VANISHED_ERRNOS = (errno.ENOENT, errno.ESRCH)
_DENIED_ERRNOS = (errno.EACCES, errno.EPERM)
_O_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
_O_DIR = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
try:
    _PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
except (ValueError, OSError, AttributeError):  # pragma: no cover - every Linux has it
    _PAGE_KB = 4

MATCH_CHOICES = ("all", "oldest", "newest")

# A pidfile holds a pid and a newline; anything larger than this is not a pidfile (and is never read whole).
PIDFILE_MAX_BYTES = 4096
# Default bound, in seconds, on the total time a ``pattern`` may spend matching the whole process table.
PATTERN_TIMEOUT = 5


# --------------------------------------------------------------------------------------------------------------
# Exceptions
# --------------------------------------------------------------------------------------------------------------
class ProcError(Exception):
    """Base class of the errors of this module."""


class ProcessVanished(ProcError):
    """The process exited (ENOENT/ESRCH on its /proc directory or a file in it)."""

    def __init__(self, pid, msg=None):
        self.pid = pid
        super().__init__(msg or "process %s has exited" % pid)


class PidReused(ProcError):
    """The pid now belongs to another process: its start time is not the one first seen."""

    def __init__(self, pid, expected, actual):
        self.pid = pid
        self.expected = expected
        self.actual = actual
        super().__init__("pid %s was reused by another process (start time %s, expected %s)" % (pid, actual, expected))


class OomAdjPermissionError(ProcError):
    """Writing oom_score_adj was refused (EACCES/EPERM).

    ``missing_capability`` is True when the write lowered the value and this process lacks CAP_SYS_RESOURCE, which
    the kernel requires to go below the process's ``oom_score_adj_min`` (0 unless a privileged writer set a lower
    one). Otherwise the refusal has another cause (another user's process, a security module).
    """

    def __init__(self, pid, comm, value, before, err, missing_capability):
        self.pid = pid
        self.comm = comm
        self.value = value
        self.before = before
        self.errno = err
        self.missing_capability = missing_capability
        if missing_capability:
            why = ("lowering oom_score_adj below the process's minimum (0 unless a privileged writer set a lower one) "
                   "needs CAP_SYS_RESOURCE, which this process does not have (common in containers)")
        else:
            why = "%s (this process runs as uid %d)" % (os.strerror(err), os.geteuid())
        super().__init__("cannot set oom_score_adj of %s (%s) from %s to %s: %s" % (pid, comm, before, value, why))


class BatchWriteError(ProcError):
    """A write failed part-way through a list; the processes already written were set back.

    ``failed``: the row of the process that failed; ``cause``: its exception; ``rolled_back``: rows set back;
    ``notes``: one text per rolled-back process.
    """

    def __init__(self, failed, cause, rolled_back, notes):
        self.failed = failed
        self.cause = cause
        self.rolled_back = rolled_back
        self.notes = notes
        if isinstance(cause, OomAdjPermissionError):
            msg = str(cause)
        else:
            msg = "cannot set oom_score_adj of %s (%s): %s" % (failed["pid"], failed["comm"], cause)
        if getattr(cause, "missing_capability", False):
            msg += (". systemd's OOMScoreAdjust= cannot help either: systemd silently skips it without"
                    " CAP_SYS_RESOURCE")
        if notes:
            msg += ". Rolled back: " + "; ".join(notes)
        else:
            msg += ". No process was changed"
        super().__init__(msg)


class SelectorError(ProcError, ValueError):
    """A selector is unusable: bad pidfile, invalid regex, unknown user."""


# --------------------------------------------------------------------------------------------------------------
# Parsers (pure functions of the file text)
# --------------------------------------------------------------------------------------------------------------
class StatInfo(object):
    """The fields of ``/proc/PID/stat`` the collection uses."""

    __slots__ = ("pid", "comm", "state", "ppid", "flags", "num_threads", "starttime", "vsize", "rss_pages")

    def __init__(self, pid, comm, state, ppid, flags, num_threads, starttime, vsize, rss_pages):
        self.pid = pid
        self.comm = comm
        self.state = state
        self.ppid = ppid
        self.flags = flags
        self.num_threads = num_threads
        self.starttime = starttime
        self.vsize = vsize
        self.rss_pages = rss_pages

    @property
    def is_kernel_thread(self) -> bool:
        return bool(self.flags & PF_KTHREAD)

    def __repr__(self):
        return "StatInfo(pid=%r, comm=%r, state=%r, ppid=%r, starttime=%r)" % (self.pid, self.comm, self.state, self.ppid, self.starttime)


def parse_stat(text) -> StatInfo:
    """Parse ``/proc/PID/stat``.

    The comm (field 2) is in parentheses and may itself contain spaces and parentheses (``(a) b (c)``), so the
    line is split at the FIRST ``(`` and the LAST ``)``. Field numbers follow proc(5): ppid 4, flags 9,
    num_threads 20, starttime 22 (clock ticks since boot), vsize 23 (bytes), rss 24 (pages).
    Accepts str or bytes. Raises ValueError on a malformed line.
    """
    text = safe_text(text)
    open_paren = text.index("(")
    close_paren = text.rindex(")")
    pid = int(text[:open_paren])
    comm = text[open_paren + 1:close_paren]
    rest = text[close_paren + 2:].split()
    return StatInfo(pid, comm, rest[0], int(rest[1]), int(rest[6]), int(rest[17]), int(rest[19]), int(rest[20]), int(rest[21]))


def parse_status(text) -> dict:
    """Parse ``/proc/PID/status`` into ``{key: raw value string}`` (``Uid`` -> ``"0\\t0\\t0\\t0"``).

    Values are valid UTF-8 (undecodable bytes of ``Name:`` are spelled ``\\xff``)."""
    text = safe_text(text)
    result = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            result[key] = value.strip()
    return result


def status_kb(status: dict, key: str):
    """An ``NNN kB`` value of a parsed status (``VmRSS``, ``VmSwap``, ``VmPTE``) as int, None when absent."""
    value = status.get(key)
    if not value:
        return None
    try:
        return int(value.split()[0])
    except (ValueError, IndexError):
        return None


def status_uid(status: dict):
    """The real uid from a parsed status (first field of ``Uid:``), None when absent."""
    value = status.get("Uid")
    if not value:
        return None
    try:
        return int(value.split()[0])
    except (ValueError, IndexError):
        return None


class CgroupEntry(object):
    """One line of ``/proc/PID/cgroup``: ``hierarchy_id:controllers:path``.

    ``controllers`` is a tuple (``('cpu', 'cpuacct')``, ``('name=systemd',)``, or ``()`` for the v2 line ``0::/``).
    """

    __slots__ = ("hierarchy_id", "controllers", "path")

    def __init__(self, hierarchy_id, controllers, path):
        self.hierarchy_id = hierarchy_id
        self.controllers = controllers
        self.path = path

    @property
    def is_unified(self) -> bool:
        return self.hierarchy_id == 0 and not self.controllers

    def __eq__(self, other):
        return isinstance(other, CgroupEntry) and (self.hierarchy_id, self.controllers, self.path) == (
            other.hierarchy_id, other.controllers, other.path)

    def __hash__(self):
        return hash((self.hierarchy_id, self.controllers, self.path))

    def __repr__(self):
        return "CgroupEntry(%r, %r, %r)" % (self.hierarchy_id, self.controllers, self.path)

    def as_dict(self) -> dict:
        return {"hierarchy_id": self.hierarchy_id, "controllers": list(self.controllers), "path": self.path}


def parse_cgroup(text) -> list:
    """Parse ``/proc/PID/cgroup`` (v1, v2 or hybrid) into a list of :class:`CgroupEntry`.

    v1: ``4:memory:/a``, ``2:cpu,cpuacct:/``, named ``1:name=systemd:/system.slice/x.service``;
    v2: ``0::/system.slice/x.service``; hybrid hosts have both. The path may contain ``:`` (split at the first two).
    """
    text = safe_text(text)
    entries = []
    for line in text.splitlines():
        if not line:
            continue
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        try:
            hid = int(parts[0])
        except ValueError:
            continue
        controllers = tuple(c for c in parts[1].split(",") if c)
        entries.append(CgroupEntry(hid, controllers, parts[2]))
    return entries


def systemd_cgroup_path(entries):
    """The cgroup path systemd manages: v1 ``name=systemd`` when present (legacy and hybrid hosts, where the
    unified line is only systemd's mirror), else the v2 unified ``0::`` path; None when neither is there."""
    unified = None
    for entry in entries:
        if "name=systemd" in entry.controllers:
            return entry.path
        if entry.is_unified:
            unified = entry.path
    return unified


def memory_cgroup_path(entries):
    """The memory controller's cgroup path: v1 ``memory`` line, else the v2 unified path; None if neither."""
    unified = None
    for entry in entries:
        if "memory" in entry.controllers:
            return entry.path
        if entry.is_unified:
            unified = entry.path
    return unified


def process_unit(entries) -> dict:
    """``{'unit', 'slice', 'container_id'}`` of a process from its parsed cgroup entries (systemd path)."""
    return unit_from_cgroup_path(systemd_cgroup_path(entries) or "")


# --------------------------------------------------------------------------------------------------------------
# Small readers
# --------------------------------------------------------------------------------------------------------------
def _read_fd(fd) -> bytes:
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _read_path(path) -> bytes:
    """Read a whole /proc file by path (ENOENT/ESRCH propagate as OSError)."""
    fd = os.open(path, _O_READ)
    try:
        return _read_fd(fd)
    finally:
        os.close(fd)


def list_pids(proc_root=PROC_ROOT) -> list:
    """The thread-group ids (processes, not threads) listed in ``proc_root``, ascending."""
    pids = [int(name) for name in os.listdir(proc_root) if name.isdigit()]
    pids.sort()
    return pids


def has_cap_sys_resource(proc_root=PROC_ROOT) -> bool:
    """True when this process's effective capabilities (``CapEff`` of ``/proc/self/status``) include
    CAP_SYS_RESOURCE (bit 24)."""
    try:
        status = parse_status(_read_path(os.path.join(proc_root, "self", "status")))
        return bool(int(status.get("CapEff", "0"), 16) & (1 << CAP_SYS_RESOURCE))
    except (OSError, ValueError):
        return False


def resolve_user(user):
    """A user name or uid (int or digit string) -> uid. Raises SelectorError for an unknown name."""
    if user is None:
        return None
    if isinstance(user, int):
        return user
    text = str(user).strip()
    if text.isdigit():
        return int(text)
    try:
        return pwd.getpwnam(text).pw_uid
    except KeyError:
        raise SelectorError("unknown user %r" % text)


def user_name(uid):
    """The login name of ``uid``, None when it has none."""
    if uid is None:
        return None
    try:
        return safe_text(pwd.getpwuid(uid).pw_name)
    except KeyError:
        return None


_FILE_KINDS = (
    (stat_mod.S_ISDIR, "a directory"), (stat_mod.S_ISFIFO, "a FIFO"), (stat_mod.S_ISSOCK, "a socket"),
    (stat_mod.S_ISCHR, "a character device"), (stat_mod.S_ISBLK, "a block device"),
)


def _pidfile_error(msg, missing=False):
    err = SelectorError(msg)
    err.missing = missing
    return err


def _kind_of(mode) -> str:
    for test, kind in _FILE_KINDS:
        if test(mode):
            return kind
    return "not a regular file"


def read_pidfile_checked(path):
    """Read a pidfile the way a root process reads a file that someone else may have written.

    Returns ``(pid, owner_uid)``. The file is opened with ``O_NOFOLLOW | O_NONBLOCK``, so a symbolic link as the last
    component is refused (links in the directories above, such as ``/var/run -> /run``, are followed as usual) and
    a FIFO never blocks the open; it is then checked with ``fstat`` on the opened descriptor: it must be a regular
    file of at most :data:`PIDFILE_MAX_BYTES` bytes, and at most that many bytes are read. The content must be one
    positive integer on its first line (surrounding blanks allowed). Raises :class:`SelectorError` with why, and
    ``err.missing`` True only when the file does not exist. Every message is valid UTF-8.
    """
    shown = safe_text(path)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _pidfile_error("pidfile %s is a symbolic link: refused (a link can point at a file someone else "
                                 "controls); give the path of the file itself" % shown)
        raise _pidfile_error("cannot read pidfile %s: %s" % (shown, exc.strerror or exc), exc.errno == errno.ENOENT)
    try:
        info = os.fstat(fd)
        if not stat_mod.S_ISREG(info.st_mode):
            raise _pidfile_error("pidfile %s is %s, not a regular file: refused" % (shown, _kind_of(info.st_mode)))
        if info.st_size > PIDFILE_MAX_BYTES:
            raise _pidfile_error("pidfile %s is %d bytes, more than the %d a pidfile can need: refused"
                                 % (shown, info.st_size, PIDFILE_MAX_BYTES))
        data = os.read(fd, PIDFILE_MAX_BYTES + 1)
    except OSError as exc:
        raise _pidfile_error("cannot read pidfile %s: %s" % (shown, exc.strerror or exc))
    finally:
        os.close(fd)
    if len(data) > PIDFILE_MAX_BYTES:  # grew after the fstat
        raise _pidfile_error("pidfile %s holds more than %d bytes: refused" % (shown, PIDFILE_MAX_BYTES))
    tokens = data.split(b"\n", 1)[0].split()
    if len(tokens) != 1 or not tokens[0].isdigit() or int(tokens[0]) <= 0 or b"\0" in data:
        raise _pidfile_error("pidfile %s does not contain a pid: %r" % (shown, safe_text(data[:60])))
    return int(tokens[0]), info.st_uid


def read_pidfile(path) -> int:
    """The pid in a pidfile (see :func:`read_pidfile_checked`, whose rules apply). Raises SelectorError."""
    return read_pidfile_checked(path)[0]


def _process_uids(proc_root, pid):
    """The real and effective uid of a process (from ``status``), an empty tuple when unreadable."""
    try:
        value = parse_status(_read_path("%s/%d/status" % (proc_root, pid))).get("Uid", "")
        return tuple(int(v) for v in value.split()[:2])
    except (OSError, ValueError):
        return ()


def check_pidfile_owner(path, owner_uid, pid, proc_root=PROC_ROOT):
    """Refuse a pidfile that an unprivileged user could have written to point us at someone else's process.

    The file must be owned by root or by the real or effective uid of the process it names. Raises SelectorError.
    """
    if owner_uid == 0:
        return
    uids = _process_uids(proc_root, pid)
    if not uids:
        return  # the process is gone: reported as missing by the caller
    if owner_uid in uids:
        return
    raise _pidfile_error(
        "pidfile %s is owned by uid %d (%s), but names pid %d, which runs as uid %d (%s): refused, a pidfile must be "
        "owned by root or by the owner of the process it names (otherwise any user who can write it could make us "
        "change another user's process); nothing was changed"
        % (safe_text(path), owner_uid, user_name(owner_uid) or "no name", pid, uids[0], user_name(uids[0]) or "no name"))


# --------------------------------------------------------------------------------------------------------------
# One process, through one directory fd
# --------------------------------------------------------------------------------------------------------------
class ProcessHandle(object):
    """A process opened once as ``/proc/PID`` (directory fd); every read and write goes through that fd.

    ``expected_starttime``: when given, the handle raises :class:`PidReused` right away if the process found at
    ``pid`` started at another time (the pid was reused since it was listed).
    Raises :class:`ProcessVanished` when the process does not exist (any more).
    Use as a context manager or call :meth:`close`.
    """

    def __init__(self, pid, proc_root=PROC_ROOT, expected_starttime=None):
        self.pid = int(pid)
        self.proc_root = proc_root
        self._fd = None
        self._status = None
        self._cgroup = None
        try:
            self._fd = os.open(os.path.join(proc_root, str(self.pid)), _O_DIR)
        except OSError as exc:
            if exc.errno in _VANISHED_ERRNOS or exc.errno == errno.ENOTDIR:
                raise ProcessVanished(self.pid)
            raise
        try:
            self._stat = self._read_stat()
            if expected_starttime is not None and self._stat.starttime != expected_starttime:
                raise PidReused(self.pid, expected_starttime, self._stat.starttime)
        except BaseException:
            self.close()
            raise

    # -- plumbing -----------------------------------------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __del__(self):
        self.close()

    def __repr__(self):
        return "ProcessHandle(pid=%r, comm=%r, starttime=%r)" % (self.pid, self.comm, self.starttime)

    def close(self):
        """Close the directory fd (idempotent)."""
        fd = getattr(self, "_fd", None)
        if fd is not None:
            self._fd = None
            os.close(fd)

    @property
    def closed(self) -> bool:
        return self._fd is None

    def read(self, name) -> bytes:
        """Read the file ``name`` of this process through the directory fd.

        Raises :class:`ProcessVanished` when the process has exited, OSError for anything else.
        """
        if self._fd is None:
            raise ValueError("ProcessHandle for %s is closed" % self.pid)
        try:
            fd = os.open(name, _O_READ, dir_fd=self._fd)
            try:
                return _read_fd(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            if exc.errno in _VANISHED_ERRNOS:
                raise ProcessVanished(self.pid)
            raise

    def _read_stat(self) -> StatInfo:
        data = self.read("stat")
        if not data:
            raise ProcessVanished(self.pid)
        return parse_stat(data)

    def _read_int(self, name) -> int:
        return int(self.read(name).strip())

    # -- identity -----------------------------------------------------------------------------------------------
    @property
    def stat(self) -> StatInfo:
        """The stat read when the handle was opened (or by the last :meth:`refresh`)."""
        return self._stat

    def refresh(self) -> StatInfo:
        """Re-read ``stat`` through the fd; raises PidReused if the start time changed, ProcessVanished if gone."""
        stat = self._read_stat()
        if stat.starttime != self._stat.starttime:
            raise PidReused(self.pid, self._stat.starttime, stat.starttime)
        self._stat = stat
        return stat

    def check_same_process(self):
        """Raise ProcessVanished/PidReused unless the fd still shows the process first opened."""
        self.refresh()

    @property
    def comm(self) -> str:
        return self._stat.comm

    @property
    def ppid(self) -> int:
        return self._stat.ppid

    @property
    def starttime(self) -> int:
        """Start time in clock ticks since boot (stat field 22)."""
        return self._stat.starttime

    @property
    def state(self) -> str:
        return self._stat.state

    @property
    def flags(self) -> int:
        return self._stat.flags

    @property
    def is_kernel_thread(self) -> bool:
        return self._stat.is_kernel_thread

    # -- details ------------------------------------------------------------------------------------------------
    @property
    def status(self) -> dict:
        """Parsed ``status`` (read once, cached)."""
        if self._status is None:
            self._status = parse_status(self.read("status"))
        return self._status

    @property
    def uid(self):
        """The real uid from ``status`` (not the owner of /proc/PID, which is root for non-dumpable processes)."""
        return status_uid(self.status)

    @property
    def tgid(self):
        value = self.status.get("Tgid")
        return int(value) if value and value.isdigit() else self.pid

    @property
    def owner_uid(self) -> int:
        """The owner of /proc/PID (fstat of the fd): the cheap guess of the uid, wrong for non-dumpable processes."""
        return os.fstat(self._fd).st_uid

    @property
    def exe_name(self):
        """Basename of the ``exe`` link (``' (deleted)'`` dropped), None when unreadable (kernel thread, no permission)."""
        try:
            target = safe_text(os.readlink("exe", dir_fd=self._fd))
        except OSError:
            return None
        if target.endswith(" (deleted)"):
            target = target[:-10]
        return os.path.basename(target)

    @property
    def cmdline(self) -> list:
        """argv as a list of str (empty for kernel threads and zombies)."""
        data = self.read("cmdline")
        if not data:
            return []
        if data.endswith(b"\0"):
            data = data[:-1]
        return [safe_text(arg) for arg in data.split(b"\0")]

    @property
    def oom_score(self) -> int:
        return self._read_int("oom_score")

    @property
    def oom_score_adj(self) -> int:
        return self._read_int("oom_score_adj")

    @property
    def cgroup(self) -> list:
        """Parsed ``cgroup`` entries (cached)."""
        if self._cgroup is None:
            self._cgroup = parse_cgroup(self.read("cgroup"))
        return self._cgroup

    @property
    def unit(self) -> dict:
        """``{'unit', 'slice', 'container_id'}`` from the systemd cgroup path."""
        return process_unit(self.cgroup)

    def placement(self, own=None) -> dict:
        """:func:`placement` of this process relative to ``own`` (the container this code runs in)."""
        return placement(self.cgroup, own)

    @property
    def rss_kb(self):
        value = status_kb(self.status, "VmRSS")
        if value is None:  # kernel threads and zombies have no Vm* lines
            value = self._stat.rss_pages * _PAGE_KB
        return value

    @property
    def swap_kb(self):
        value = status_kb(self.status, "VmSwap")
        return 0 if value is None else value

    # -- the one write -------------------------------------------------------------------------------------------
    def set_oom_score_adj(self, value, before=None):
        """Write ``value`` to oom_score_adj through the fd, after re-checking the start time.

        Raises ProcessVanished, PidReused, OomAdjPermissionError (EACCES/EPERM), ValueError for an out-of-range value.
        ``before`` is only used in the error message (read here when not given).
        """
        value = int(value)
        if not OOM_SCORE_ADJ_MIN <= value <= OOM_SCORE_ADJ_MAX:
            raise ValueError("oom_score_adj must be between %d and %d, got %d" % (OOM_SCORE_ADJ_MIN, OOM_SCORE_ADJ_MAX, value))
        self.refresh()
        try:
            fd = os.open("oom_score_adj", os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), dir_fd=self._fd)
            try:
                os.write(fd, str(value).encode("ascii"))
            finally:
                os.close(fd)
        except OSError as exc:
            if exc.errno in _VANISHED_ERRNOS:
                raise ProcessVanished(self.pid)
            if exc.errno in _DENIED_ERRNOS:
                if before is None:
                    try:
                        before = self.oom_score_adj
                    except (ProcError, OSError, ValueError):
                        before = None
                lowering = before is None or value < before
                raise OomAdjPermissionError(self.pid, self.comm, value, before, exc.errno,
                                            lowering and not has_cap_sys_resource(self.proc_root))
            raise


# --------------------------------------------------------------------------------------------------------------
# Selection (pgrep semantics)
# --------------------------------------------------------------------------------------------------------------
def _stat_of(proc_root, pid):
    """StatInfo of a pid by path, None when it vanished or is unreadable."""
    try:
        data = _read_path("%s/%d/stat" % (proc_root, pid))
    except OSError:
        return None
    if not data:
        return None
    try:
        return parse_stat(data)
    except (ValueError, IndexError):
        return None


def _exe_name_of(proc_root, pid):
    try:
        target = safe_text(os.readlink("%s/%d/exe" % (proc_root, pid)))
    except OSError:
        return None
    if target.endswith(" (deleted)"):
        target = target[:-10]
    return target[target.rfind("/") + 1:]


def _argv0_name_of(proc_root, pid):
    try:
        data = _read_path("%s/%d/cmdline" % (proc_root, pid))
    except OSError:
        return None
    arg0 = safe_text(data.split(b"\0", 1)[0])
    return arg0[arg0.rfind("/") + 1:] if arg0 else None


def name_matches(proc_root, pid, comm, names, short_names):
    """True when a process matches one of ``names`` (exact): its comm equals the name, or the basename of its
    executable does. A name longer than 15 characters (``systemd-journald``, comm ``systemd-journal``) is thus
    found through the exe; when the comm is such a truncation and the exe does not match (started through a
    symlink, or the exe link is unreadable), argv[0]'s basename decides.

    ``short_names``: the set of names cut to 15 characters, precomputed by the caller.
    """
    if comm in names:
        return True
    exe = _exe_name_of(proc_root, pid)
    if exe is not None and exe in names:
        return True
    if comm in short_names:
        return _argv0_name_of(proc_root, pid) in names
    return False


def _cmdline_text(data, comm):
    if not data:
        return comm  # zombies: pgrep -f falls back to the process name
    if data.endswith(b"\0"):
        data = data[:-1]
    return safe_text(data.replace(b"\0", b" "))


def compile_pattern(pattern):
    """Compile a pgrep -f style regex; raises SelectorError with the regex error."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise SelectorError("invalid regular expression %r: %s" % (pattern, exc))


def _unit_of_pid(proc_root, pid):
    try:
        data = _read_path("%s/%d/cgroup" % (proc_root, pid))
    except OSError:
        return None
    return process_unit(parse_cgroup(data)).get("unit")


def container_of_entries(entries):
    """``{"runtime", "id"}`` of the container a process's parsed cgroup entries put it in, else None.

    systemd's path decides when it names a container; otherwise any hierarchy that does (hosts without systemd).
    """
    found = container_of(systemd_cgroup_path(entries))
    if found is None:
        for entry in entries:
            found = container_of(entry.path)
            if found is not None:
                break
    return found


def own_container(proc_root=PROC_ROOT):
    """The container this very process runs in (None on the host itself).

    A module run inside a container (the systemd bench hosts: podman on cgroup v1 shows the host's full paths there)
    sees its own processes under its own container's cgroup; they are its host's processes, not "container" ones.
    """
    try:
        return container_of_entries(parse_cgroup(_read_path(os.path.join(proc_root, "self", "cgroup"))))
    except OSError:
        return None


def placement(entries, own=None) -> dict:
    """Where a process runs, for the result rows: ``{"unit", "slice", "container_id", "container_runtime",
    "container_unit", "foreign"}``.

    ``foreign`` is True for a process in a container other than ``own`` (the one this module runs in). Such a
    process never carries a unit name of the host: ``unit`` and ``slice`` are None and the unit its cgroup path
    names inside the container is ``container_unit``.
    """
    where = process_unit(entries)
    container = container_of_entries(entries)
    result = {"unit": where.get("unit"), "slice": where.get("slice"), "container_id": None,
              "container_runtime": None, "container_unit": None, "foreign": False}
    if container is not None:
        result["container_id"] = container["id"]
        result["container_runtime"] = container["runtime"]
        if own is None or own.get("id") != container["id"]:
            result.update(foreign=True, container_unit=result["unit"], unit=None, slice=None)
    return result


def _placement_of_pid(proc_root, pid, own):
    try:
        data = _read_path("%s/%d/cgroup" % (proc_root, pid))
    except OSError:
        return None
    return placement(parse_cgroup(data), own)


class PatternTimeout(SelectorError):
    """A ``pattern`` took longer than its bound to match the process table."""


def _match_bounded(regex, texts, timeout):
    """Indexes of ``texts`` that ``regex`` searches successfully, computed in a forked child killed after ``timeout``
    seconds in total.

    A regex with nested repetition (``(a+)+$``) takes exponential time on a crafted command line, and CPython's
    regex engine cannot be interrupted from inside on every version we support; a child process can always be
    killed. Raises :class:`PatternTimeout` when the bound is exceeded.
    """
    if not texts:
        return []
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which only reports through the pipe
        code = 1
        try:
            os.close(read_fd)
            out = []
            for index, text in enumerate(texts):
                if regex.search(text):
                    out.append(str(index))
            payload = ("\n".join(out) + "\n.\n").encode("ascii")
            while payload:
                payload = payload[os.write(write_fd, payload):]
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks = []
    deadline = time.monotonic() + timeout
    finished = timed_out = False
    poller = select.poll()  # not select(): it cannot watch a descriptor numbered 1024 or more
    poller.register(read_fd, select.POLLIN)
    try:
        while True:
            left = deadline - time.monotonic()
            ready = poller.poll(max(1, int(left * 1000))) if left > 0 else []
            if not ready:
                timed_out = True
                break
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        data = b"".join(chunks)
        finished = data.endswith(b".\n")
    finally:
        os.close(read_fd)
        if not finished:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        os.waitpid(pid, 0)
    if not finished and not timed_out:
        raise SelectorError("pattern %r could not be matched: the matching process failed" % regex.pattern)
    if not finished:
        raise PatternTimeout(
            "pattern %r did not finish matching the command lines of %d processes within %s s: refused, nothing was "
            "changed. A pattern with nested repetition (such as (a+)+$) can take exponential time on a command line "
            "any user can choose; simplify the pattern (anchor it, avoid nested quantifiers) or raise pattern_timeout"
            % (regex.pattern, len(texts), timeout))
    return [int(line) for line in data.decode("ascii").splitlines()[:-1] if line]


def find_processes(pids=None, pidfile=None, names=None, pattern=None, unit=None, user=None, match="all",
                   include_children=False, proc_root=PROC_ROOT, exclude_self=True, containers=False,
                   skipped=None, pattern_timeout=PATTERN_TIMEOUT):
    """Select processes like pgrep and return ``(handles, missing)``.

    Exactly one selector: ``pids`` (int or list), ``pidfile`` (path), ``names`` (str or list, see
    :func:`name_matches`), ``pattern`` (regex searched in the command line joined by spaces, like ``pgrep -f``),
    ``unit`` (systemd unit name: processes whose systemd cgroup path names that unit on this host).
    ``user`` (name or uid) keeps processes whose real uid matches. ``match``: ``all``, ``oldest`` or ``newest``
    by start time (ties broken by pid). ``include_children`` adds every descendant of the selected processes.

    Threads never match (only /proc/PID directories of thread-group leaders are walked; an explicit pid that is a
    thread's id is reported in ``missing``); kernel threads never match; this process is never matched by
    name/pattern/unit when ``exclude_self``, nor, by ``pattern``, its ancestors (the Ansible or shell processes that
    started it carry the pattern in their own command line, the classic ``pgrep -f`` self-match).

    Hostile input: a pidfile is read by :func:`read_pidfile_checked` and must be owned by root or by the owner of
    the process it names (:func:`check_pidfile_owner`); a ``pattern`` gets ``pattern_timeout`` seconds in total to
    match the whole table (:func:`_match_bounded`, :class:`PatternTimeout`).

    Containers: a process in a container other than the one this code runs in (:func:`placement`) is matched by
    ``names``/``pattern`` (and kept by ``include_children``) only with ``containers=True``; otherwise it is left out
    and, when ``skipped`` is a list, appended to it as ``{pid, comm, container_id, container_runtime}``. ``unit``
    names a unit of this host and never matches such a process. Explicit ``pids``/``pidfile`` select it whatever
    ``containers`` says.

    Returns ``handles``: opened :class:`ProcessHandle` objects (start time verified against the scan, so a pid
    reused in between is dropped), sorted by pid with the selected processes before their descendants; and
    ``missing``: explicit pids that did not name a live process (for ``pids``/``pidfile``).
    Raises SelectorError for bad selectors. The caller closes the handles.
    """
    selectors = [s for s in (pids, pidfile, names, pattern, unit) if s not in (None, [], "")]
    if len(selectors) != 1:
        raise SelectorError("exactly one selector of pid, pidfile, name, pattern, unit is required (%d given)" % len(selectors))
    if match not in MATCH_CHOICES:
        raise SelectorError("match must be one of %s" % ", ".join(MATCH_CHOICES))
    uid = resolve_user(user)
    self_pid = os.getpid() if exclude_self else None
    skip = set([self_pid]) if exclude_self else set()
    regex = compile_pattern(pattern) if pattern not in (None, "") else None
    if regex is not None and exclude_self:
        skip.update(_ancestors(proc_root, self_pid))
    own = own_container(proc_root)
    places = {}

    def place(pid):
        if pid not in places:
            places[pid] = _placement_of_pid(proc_root, pid, own)
        return places[pid]

    def leave_out_container(stat):
        """True (and noted in ``skipped``) for a process of a foreign container when containers are not wanted."""
        if containers:
            return False
        where = place(stat.pid)
        if where is None or not where["foreign"]:
            return False
        if skipped is not None:
            skipped.append({"pid": stat.pid, "comm": stat.comm, "container_id": where["container_id"],
                            "container_runtime": where["container_runtime"]})
        return True

    missing = []
    found = []  # StatInfo of selected processes
    if pids not in (None, []) or pidfile not in (None, ""):
        pinned = {}  # pid -> the start time the pidfile's owner was checked against
        if pidfile not in (None, ""):
            pid, owner = read_pidfile_checked(pidfile)
            before = _stat_of(proc_root, pid) if pid > 0 else None
            check_pidfile_owner(pidfile, owner, pid, proc_root)
            if before is not None:
                pinned[pid] = before.starttime
            wanted = [pid]
        else:
            wanted = [int(p) for p in (pids if isinstance(pids, (list, tuple)) else [pids])]
        for pid in wanted:
            stat = _stat_of(proc_root, pid) if pid > 0 else None
            if pid in pinned and (stat is None or stat.starttime != pinned[pid]):
                # the process the owner was checked against is gone, its pid perhaps reused by another user's process
                raise _pidfile_error("pid %d of pidfile %s changed while its owner was checked: refused; nothing was changed"
                                     % (pid, safe_text(pidfile)))
            if stat is None or stat.is_kernel_thread or not _is_thread_group_leader(proc_root, pid):
                missing.append(pid)
                continue
            found.append(stat)
    else:
        if names not in (None, [], ""):
            name_set = set([names] if isinstance(names, str) else names)
            short = set(n[:COMM_LEN] for n in name_set)
        candidates = []  # (pid, text) for the pattern, matched in one bounded pass
        for pid in list_pids(proc_root):
            if pid in skip:
                continue
            if regex is not None:
                try:
                    data = _read_path("%s/%d/cmdline" % (proc_root, pid))
                except OSError:
                    continue
                if data:
                    candidates.append((pid, _cmdline_text(data, "")))
                else:
                    stat = _stat_of(proc_root, pid)
                    if stat is not None and not stat.is_kernel_thread:
                        candidates.append((pid, stat.comm))  # zombies: pgrep -f falls back to the process name
                continue
            stat = _stat_of(proc_root, pid)
            if stat is None or stat.is_kernel_thread:
                continue
            if unit is not None:
                where = place(pid)
                if where is None or where["unit"] != unit:
                    continue
            elif not name_matches(proc_root, pid, stat.comm, name_set, short):
                continue
            found.append(stat)
        if regex is not None:
            for index in _match_bounded(regex, [text for dummy, text in candidates], pattern_timeout):
                stat = _stat_of(proc_root, candidates[index][0])
                if stat is not None and not stat.is_kernel_thread:
                    found.append(stat)
        if unit is None:
            found = [s for s in found if not leave_out_container(s)]

    if uid is not None:
        found = [s for s in found if _uid_of(proc_root, s.pid) == uid]
    if match != "all" and found:
        key = (lambda s: (s.starttime, s.pid)) if match == "oldest" else (lambda s: (-s.starttime, -s.pid))
        found = [min(found, key=key)]
    found.sort(key=lambda s: s.pid)

    if include_children and found:
        found = found + [s for s in _descendants(proc_root, found, self_pid) if not leave_out_container(s)]

    handles = []
    seen = set()
    try:
        for stat in found:
            if stat.pid in seen:
                continue
            seen.add(stat.pid)
            try:
                handles.append(ProcessHandle(stat.pid, proc_root, expected_starttime=stat.starttime))
            except (ProcessVanished, PidReused):
                continue
    except BaseException:
        for handle in handles:
            handle.close()
        raise
    return handles, missing


def _ancestors(proc_root, pid):
    """Pids of the ancestors of ``pid`` (parent first), up to and excluding pid 0."""
    result = []
    seen = set()
    while True:
        stat = _stat_of(proc_root, pid)
        if stat is None or stat.ppid <= 0 or stat.ppid in seen:
            return result
        pid = stat.ppid
        seen.add(pid)
        result.append(pid)


def _is_thread_group_leader(proc_root, pid):
    try:
        status = parse_status(_read_path("%s/%d/status" % (proc_root, pid)))
    except OSError:
        return False
    tgid = status.get("Tgid")
    return tgid is None or tgid == str(pid)


def _uid_of(proc_root, pid):
    try:
        return status_uid(parse_status(_read_path("%s/%d/status" % (proc_root, pid))))
    except OSError:
        return None


def _descendants(proc_root, roots, self_pid=None):
    """StatInfo of every live descendant of ``roots`` (kernel threads and ``self_pid`` excluded), sorted by pid."""
    children = {}
    for pid in list_pids(proc_root):
        stat = _stat_of(proc_root, pid)
        if stat is None or stat.is_kernel_thread or pid == self_pid:
            continue
        children.setdefault(stat.ppid, []).append(stat)
    result = []
    todo = [s.pid for s in roots]
    seen = set(todo)
    while todo:
        parent = todo.pop()
        for child in children.get(parent, ()):
            if child.pid not in seen:
                seen.add(child.pid)
                result.append(child)
                todo.append(child.pid)
    result.sort(key=lambda s: s.pid)
    return result


def apply_oom_score_adj(handles, value, check_mode=False):
    """Set ``value`` on every handle that is not already at it (the core of the ``oom_score_adj`` module).

    Returns ``(processes, vanished)``: ``processes`` rows ``{pid, comm, unit, container_id, container_runtime,
    before, after, oom_score, changed}`` (plus ``container_unit`` for a process of a container other than ours, whose
    ``unit`` is then None: see :func:`placement`)
    (oom_score read after the write; in check mode ``after`` is what the write would give) and ``vanished`` rows
    ``{pid, comm}`` of processes that exited, or whose pid was reused, before they were read or written.
    If a write fails, the processes already written are set back to their ``before`` value and
    :class:`BatchWriteError` is raised naming each one. The handles are left open.
    """
    value = int(value)
    if not OOM_SCORE_ADJ_MIN <= value <= OOM_SCORE_ADJ_MAX:
        raise ValueError("oom_score_adj must be between %d and %d, got %d" % (OOM_SCORE_ADJ_MIN, OOM_SCORE_ADJ_MAX, value))
    vanished = []
    live = []
    own = own_container(handles[0].proc_root) if handles else None
    for handle in handles:
        try:
            before = handle.oom_score_adj
            where = handle.placement(own)
        except (ProcessVanished, PidReused):
            vanished.append({"pid": handle.pid, "comm": handle.comm})
            continue
        row = {"pid": handle.pid, "comm": handle.comm, "unit": where["unit"], "container_id": where["container_id"],
               "container_runtime": where["container_runtime"], "before": before, "after": before,
               "oom_score": None, "changed": before != value}
        if where["foreign"]:
            row["container_unit"] = where["container_unit"]
        live.append((handle, row))

    written = []
    gone = set()
    for handle, row in live:
        if not row["changed"]:
            continue
        if check_mode:
            row["after"] = value
            continue
        try:
            handle.set_oom_score_adj(value, before=row["before"])
        except (ProcessVanished, PidReused):
            gone.add(row["pid"])
            continue
        except (ProcError, OSError) as exc:
            notes = _rollback(written)
            raise BatchWriteError(dict(row), exc, [dict(r) for dummy, r in written], notes)
        written.append((handle, row))

    processes = []
    for handle, row in live:
        if row["pid"] not in gone:
            try:
                if not check_mode:
                    row["after"] = handle.oom_score_adj
                row["oom_score"] = handle.oom_score
            except (ProcessVanished, PidReused):
                gone.add(row["pid"])
        if row["pid"] in gone:
            vanished.append({"pid": row["pid"], "comm": row["comm"]})
            continue
        processes.append(row)
    return processes, vanished


def _rollback(written):
    """Set already-written processes back to their ``before`` value; one text note per process."""
    notes = []
    for handle, row in reversed(written):
        name = "%s (%s)" % (row["pid"], row["comm"])
        try:
            handle.set_oom_score_adj(row["before"])
            notes.append("%s set back to %s" % (name, row["before"]))
        except (ProcessVanished, PidReused):
            notes.append("%s exited before it could be set back" % name)
        except (ProcError, OSError) as exc:
            notes.append("%s could NOT be set back to %s: %s" % (name, row["before"], exc))
    return notes


# --------------------------------------------------------------------------------------------------------------
# The process table (facts module)
# --------------------------------------------------------------------------------------------------------------
def _read_small(path):
    fd = os.open(path, _O_READ)
    try:
        return os.read(fd, 65536)
    finally:
        os.close(fd)


def _status_token(data, key):
    """First token after ``key`` (bytes such as ``b"\\nUid:"``) in raw status bytes, as int; None when absent."""
    start = data.find(key)
    if start < 0:
        return None
    start += len(key)
    end = data.find(b"\n", start)
    try:
        return int(data[start:end if end >= 0 else None].split(None, 1)[0])
    except (ValueError, IndexError):
        return None


def _stat_row(pid, stat, score, adj):
    return {
        "pid": pid, "ppid": stat.ppid, "comm": stat.comm, "state": stat.state, "starttime": stat.starttime,
        "uid": None, "rss_kb": stat.rss_pages * _PAGE_KB, "vsize_kb": stat.vsize // 1024,
        "oom_score": score, "oom_score_adj": adj,
    }


def _cheap_row(proc_root, pid):
    """One row from the two cheapest files, which are all the ranking needs: stat and oom_score."""
    base = "%s/%d/" % (proc_root, pid)
    try:
        stat = parse_stat(_read_small(base + "stat"))
        if stat.flags & PF_KTHREAD:
            return None
        return _stat_row(pid, stat, int(_read_small(base + "oom_score")), None)
    except (OSError, ValueError, IndexError):
        return None


def _add_expensive(proc_root, row, include_cmdline, with_unit, unit_cache):
    """Add status (real uid, VmRSS, VmSwap, VmPTE), cgroup (unit, slice, container id, memory cgroup) and
    optionally cmdline to a row. Raises OSError/ValueError when the process is gone."""
    base = "%s/%d/" % (proc_root, row["pid"])
    status = _read_small(base + "status")
    uid = _status_token(status, b"\nUid:")
    if uid is not None:
        row["uid"] = uid
    rss = _status_token(status, b"\nVmRSS:")
    if rss is not None:
        row["rss_kb"] = rss
    row["swap_kb"] = _status_token(status, b"\nVmSwap:") or 0
    row["pgtables_kb"] = _status_token(status, b"\nVmPTE:") or 0
    if with_unit:
        raw = _read_small(base + "cgroup")
        cached = unit_cache.get(raw)
        if cached is None:
            entries = parse_cgroup(raw)
            cached = process_unit(entries)
            cached["cgroup_path"] = systemd_cgroup_path(entries)
            cached["memory_cgroup"] = memory_cgroup_path(entries)
            unit_cache[raw] = cached
        row.update(cached)
    if include_cmdline:
        cmdline = _read_path(base + "cmdline")
        if cmdline.endswith(b"\0"):
            cmdline = cmdline[:-1]
        row["cmdline"] = [safe_text(a) for a in cmdline.split(b"\0")] if cmdline else []


def rank_key(row):
    """Kill order for a machine-wide OOM: highest oom_score first, then largest rss, then lowest pid."""
    return (-row["oom_score"], -row["rss_kb"], row["pid"])


# --------------------------------------------------------------------------------------------------------------
# the process table: the whole table with GLOBAL kill ranks, the process count, every comm, and watched rows
# --------------------------------------------------------------------------------------------------------------
def _watch_sets(watch):
    """Split ``watch`` entries into process names and systemd unit names (anything with a unit suffix)."""
    names, units = set(), set()
    for item in watch or ():
        item = str(item)
        if item.endswith((".service", ".scope", ".slice", ".socket", ".mount", ".swap")):
            units.add(item)
        else:
            names.add(item)
    return names, units


def scan_process_table(top=20, names=None, units=None, watch=None, include_cmdline=False, with_user_name=True,
                       proc_root=PROC_ROOT):
    """The process table ranked by kill order (a pure function of ``proc_root``): the facts module's table.

    With ``top`` > 0, pass 1 reads only the two cheap files every process needs for the ranking (stat and
    oom_score) and ranks by :func:`rank_key`; oom_score_adj, status (real uid, rss, swap, page tables), cgroup (unit,
    slice, container id, memory cgroup) and, with ``include_cmdline``, cmdline are read for the returned rows only,
    re-checking each one's start time. With ``top=0`` every process gets every field in a single pass.
    ``rank`` is the process's position in the kill order of the WHOLE table (1 = killed first), so a filtered or
    watched row keeps the rank the kernel would give it. Returns
    ``{"rows": [...], "watched": [...], "count": int, "comms": set}``.

    ``rows``: the first ``top`` processes (0 = all) that pass the ``names`` / ``units`` filters, in kill order. Each
    row: pid, ppid, comm, state, starttime, uid, user (with ``with_user_name``), rss_kb, vsize_kb, swap_kb,
    pgtables_kb, oom_score, oom_score_adj, rank, unit, slice, container_id, cgroup_path (systemd's), memory_cgroup;
    with ``include_cmdline``: cmdline (list of str); ``watched``: every process matching ``watch`` (process names, or
    unit names ending in .service/.scope/.slice/...), whatever its rank; ``count``: user-space processes seen;
    ``comms``: the set of their names (to spot systemd-oomd, earlyoom). Kernel threads are excluded.
    """
    name_set = short = None
    if names:
        name_set = set([names] if isinstance(names, str) else names)
        short = set(n[:COMM_LEN] for n in name_set)
    unit_set = set([units] if isinstance(units, str) else units) if units else None
    watch_names, watch_units = _watch_sets([watch] if isinstance(watch, str) else watch)
    watch_short = set(n[:COMM_LEN] for n in watch_names)
    unit_cache = {}
    rows = []
    full = not top
    for pid in list_pids(proc_root):
        base = "%s/%d/" % (proc_root, pid)
        try:
            stat = parse_stat(_read_small(base + "stat"))
            if stat.flags & PF_KTHREAD:
                continue
            if full:
                row = _stat_row(pid, stat, int(_read_small(base + "oom_score")), int(_read_small(base + "oom_score_adj")))
                _add_expensive(proc_root, row, include_cmdline, True, unit_cache)
                row["_done"] = True
            else:
                row = _stat_row(pid, stat, int(_read_small(base + "oom_score")), None)
        except (OSError, ValueError, IndexError):
            continue
        rows.append(row)
    rows.sort(key=rank_key)
    comms = set()
    for position, row in enumerate(rows, 1):
        row["rank"] = position
        comms.add(row["comm"])

    def complete(row):
        if row.get("_done"):
            return True
        try:
            row["oom_score_adj"] = int(_read_small("%s/%d/oom_score_adj" % (proc_root, row["pid"])))
            _add_expensive(proc_root, row, include_cmdline, True, unit_cache)
            if parse_stat(_read_small("%s/%d/stat" % (proc_root, row["pid"]))).starttime != row["starttime"]:
                return False  # pid reused since the first pass
        except (OSError, ValueError, IndexError):
            return False
        row["_done"] = True
        return True

    def unit_of(row):
        if row.get("_done"):
            return row.get("unit")
        try:
            raw = _read_small("%s/%d/cgroup" % (proc_root, row["pid"]))
        except OSError:
            return None
        cached = unit_cache.get(raw)
        if cached is None:
            entries = parse_cgroup(raw)
            cached = process_unit(entries)
            cached["cgroup_path"] = systemd_cgroup_path(entries)
            cached["memory_cgroup"] = memory_cgroup_path(entries)
            unit_cache[raw] = cached
        return cached.get("unit")

    selected = []
    for row in rows:
        if top and len(selected) >= top:
            break
        if name_set is not None and not name_matches(proc_root, row["pid"], row["comm"], name_set, short):
            continue
        if unit_set is not None and unit_of(row) not in unit_set:
            continue
        if complete(row):
            selected.append(row)
    watched = []
    if watch_names or watch_units:
        for row in rows:
            hit = bool(watch_names) and name_matches(proc_root, row["pid"], row["comm"], watch_names, watch_short)
            if not hit and watch_units:
                hit = unit_of(row) in watch_units
            if hit and complete(row):
                watched.append(row)
    names_cache = {}
    for row in selected + watched:
        row.pop("_done", None)
        if with_user_name and "user" not in row:
            if row["uid"] not in names_cache:
                names_cache[row["uid"]] = user_name(row["uid"])
            row["user"] = names_cache[row["uid"]]
    return {"rows": selected, "watched": watched, "count": len(rows), "comms": comms}
