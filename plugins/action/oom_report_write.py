# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Action plugin of oomguard.linux.oom_report_write: build (or take) the fleet audit report, render it and write its
files on the controller.

Everything happens in the controller's worker process: no module is sent to any host, so writing the five files costs
milliseconds instead of a stat and a copy module per file. Built here from ``hosts``, the report never passes through a
variable (set_fact), so Ansible never copies or templates its thousands of rows. Documentation:
plugins/modules/oom_report_write.py.
"""
from __future__ import annotations

import os
import stat

from ansible import constants as C
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action import ActionBase

from ansible_collections.oomguard.linux.plugins.plugin_utils._report import build_report, read_host_results, to_plain
from ansible_collections.oomguard.linux.plugins.plugin_utils._report_render import FILES, render_all

ARGUMENT_SPEC = dict(
    report=dict(type="dict"),
    hosts=dict(type="list", elements="str"),
    result_var=dict(type="str", default="oomguard_audit_result"),
    critical=dict(type="list", elements="str"),
    intended=dict(type="dict", default={}),
    since=dict(type="str", default="7d"),
    thresholds=dict(type="dict", default={}),
    fail_on=dict(type="list", elements="str", default=[]),
    include_containers=dict(type="bool", default=False),
    dest=dict(type="path", required=True),
    files=dict(type="list", elements="str", choices=list(FILES)),
    mode=dict(type="raw", default="0644"),
)
MUTUALLY_EXCLUSIVE = [("report", "hosts")]
REQUIRED_ONE_OF = [("report", "hosts")]


def _parse_mode(value):
    """Octal string ("0644", "644") or int to an int permission mode; ValueError when it is not one."""
    if isinstance(value, int) and not isinstance(value, bool):
        mode = value
    else:
        text = str(value).strip()
        if not text or any(c not in "01234567" for c in text):
            raise ValueError("mode must be an octal number such as '0644', got %r" % (value,))
        mode = int(text, 8)
    if not 0 <= mode <= 0o7777:
        raise ValueError("mode must lie between 0000 and 7777, got %r" % (value,))
    return mode


_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class LinkRefused(OSError):
    """The report directory is a symbolic link: report files are never written through a link."""


def _open_dir(dest):
    """A file descriptor of directory ``dest``, whose last component must not be a link; None when it does not exist."""
    try:
        info = os.lstat(dest)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        raise LinkRefused("%s is a symbolic link (to %s): report files are never written through a link; give the "
                          "directory itself as dest" % (dest, os.readlink(dest)))
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError("%s exists and is not a directory" % dest)
    fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    opened = os.fstat(fd)
    if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
        os.close(fd)
        raise LinkRefused("%s changed while it was opened" % dest)
    return fd


def _current(dir_fd, name, limit):
    """What is at ``name`` in the report directory, never following a link: ``(kind, data, mode, size)``.

    ``kind`` is ``absent``, ``link`` (``data`` is the link's target, never its content) or ``file`` (``data``: at most
    ``limit`` bytes of it). Anything else (a directory, a FIFO, a device) raises."""
    if dir_fd is None:
        return "absent", None, None, None
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return "absent", None, None, None
    if stat.S_ISLNK(info.st_mode):
        return "link", os.readlink(name, dir_fd=dir_fd), None, None
    if not stat.S_ISREG(info.st_mode):
        raise IsADirectoryError("%s exists in the report directory and is not a regular file" % name)
    fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
            raise IsADirectoryError("%s changed while it was read" % name)
        chunks = []
        left = limit
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return "file", b"".join(chunks), stat.S_IMODE(opened.st_mode), opened.st_size
    finally:
        os.close(fd)


def _diff_entry(path, kind, before, size, after):
    entry = {"after_header": path}
    limit = C.MAX_FILE_SIZE_FOR_DIFF
    if kind == "link":
        entry["before_header"] = "%s (symbolic link)" % path
        entry["before"] = ("symbolic link to %s: replaced by a regular file (its target is neither read nor changed)\n"
                           % to_text(before, errors="surrogate_or_replace"))
    else:
        entry["before_header"] = path if kind == "file" else "%s (absent)" % path
        if kind == "file" and (size > limit or len(before) < size):
            entry["before"] = "(%d bytes, too large to diff)\n" % size
        else:
            entry["before"] = "" if kind == "absent" else to_text(before, errors="surrogate_or_replace")
    entry["after"] = ("(%d bytes, too large to diff)\n" % len(after) if len(after) > limit
                      else to_text(after, errors="surrogate_or_strict"))
    return entry


def write_files(dest, contents, mode, check_mode=False, want_diff=False):
    """Write ``contents`` ({name: bytes}) into directory ``dest``; only files whose content or mode differ.

    Nothing is written through a link: ``dest`` must not be one, a link at a file's name is replaced by the file
    (its target is neither read, nor printed in a diff, nor changed), and every file is opened relative to the
    directory's descriptor with ``O_NOFOLLOW``. All temporary files are written first (same directory, created with
    ``O_EXCL``, then renamed), so a failure leaves every report file either as it was or complete.
    Returns ``(changed, files, diffs)``."""
    changed = False
    files = {}
    diffs = []
    planned = []
    dir_fd = _open_dir(dest)
    try:
        if dir_fd is None:
            changed = True
            if want_diff:
                diffs.append({"before_header": dest, "after_header": dest, "before": "state: absent\n",
                              "after": "state: directory\n"})
            if not check_mode:
                os.makedirs(dest, 0o755)
                dir_fd = _open_dir(dest)
        for name in sorted(contents):
            path = os.path.join(dest, name)
            data = contents[name]
            limit = max(len(data), C.MAX_FILE_SIZE_FOR_DIFF if want_diff else 0) + 1
            kind, before, before_mode, size = _current(dir_fd, name, limit)
            content_changed = kind != "file" or before != data
            mode_changed = kind == "file" and before_mode != mode
            files[name] = {"path": path, "size": len(data), "changed": content_changed or mode_changed}
            if kind == "link":
                files[name]["replaced_link"] = True
            if not (content_changed or mode_changed):
                continue
            changed = True
            if want_diff:
                if content_changed:
                    diffs.append(_diff_entry(path, kind, before, size, data))
                else:
                    diffs.append({"before_header": path, "after_header": path,
                                  "before": "mode: %04o\n" % before_mode, "after": "mode: %04o\n" % mode})
            planned.append((name, data, content_changed))
        if check_mode or not planned:
            return changed, files, diffs
        temps = []
        try:
            for name, data, content_changed in planned:
                if not content_changed:  # same bytes, other permissions: fchmod of the file itself, never of a link
                    fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
                    try:
                        if not stat.S_ISREG(os.fstat(fd).st_mode):
                            raise IsADirectoryError("%s changed while it was written" % name)
                        os.fchmod(fd, mode)
                    finally:
                        os.close(fd)
                    continue
                tmp = ".%s.%s.tmp" % (name, os.urandom(6).hex())
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
                             0o600, dir_fd=dir_fd)
                temps.append((tmp, name))
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fchmod(handle.fileno(), mode)
                    os.fsync(handle.fileno())
            for tmp, name in temps:
                os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)  # a link at ``name`` is replaced, not followed
            os.fsync(dir_fd)
        finally:
            for tmp, dummy in temps:
                try:
                    os.unlink(tmp, dir_fd=dir_fd)
                except FileNotFoundError:
                    pass
        return changed, files, diffs
    finally:
        if dir_fd is not None:
            os.close(dir_fd)


class ActionModule(ActionBase):
    """Render the report and write its files on the controller."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)
    _requires_connection = False

    def _plain(self, value):
        """A registered result as plain data. Registered module results are data already; a value that still holds
        templates (a set_fact of a template, on ansible-core 2.19+) is templated first."""
        try:
            return to_plain(value)
        except ReferenceError:  # a lazy template container needs a templating context: let the templar resolve it
            return to_plain(self._templar.template(value))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC, mutually_exclusive=MUTUALLY_EXCLUSIVE,
                                                  required_one_of=REQUIRED_ONE_OF)
        dest = os.path.abspath(os.path.expanduser(args["dest"]))
        try:
            mode = _parse_mode(args["mode"])
        except ValueError as exc:
            result.update(failed=True, msg="Failed to write the OOM audit report: %s" % exc)
            return result
        if args["hosts"] is not None:
            # the oom_report filter's code (plugin_utils), fed each host's registered result read raw from hostvars
            try:
                results = read_host_results(args["hosts"], (task_vars or {}).get("hostvars"), args["result_var"], self._plain)
                report = build_report(results, critical=to_plain(args["critical"]), intended=to_plain(args["intended"]),
                                      since=args["since"], thresholds=to_plain(args["thresholds"]),
                                      fail_on=to_plain(args["fail_on"]), include_containers=args["include_containers"])
            except ValueError as exc:
                result.update(failed=True, msg="Failed to build the OOM audit report: %s" % exc)
                return result
        else:
            report = to_plain(args["report"])
        try:
            rendered = render_all(report, args["files"] or None)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            result.update(failed=True, msg="Failed to write the OOM audit report: report is not an oomguard.linux.oom_report "
                                           "report (%s: %s)" % (type(exc).__name__, exc))
            return result
        contents = dict((name, to_bytes(text, errors="surrogate_or_strict")) for name, text in rendered.items())
        try:
            changed, files, diffs = write_files(dest, contents, mode, check_mode=self._task.check_mode,
                                                want_diff=self._task.diff)
        except OSError as exc:
            result.update(failed=True, msg="Failed to write the OOM audit report into %s: %s" % (dest, exc), dest=dest)
            return result
        result.update(changed=changed, dest=dest, files=files)
        # what a play needs to print a summary and gate on, without the report's rows
        for key in ("summary", "failures", "totals"):
            if key in report:
                result[key] = report[key]
        if self._task.diff and diffs:
            result["diff"] = diffs
        written = sorted(name for name, info in files.items() if info["changed"])
        verb = "would write" if self._task.check_mode else "wrote"
        result["msg"] = ("%s %s in %s" % (verb, ", ".join(written), dest)) if written else "report files in %s are up to date" % dest
        return result
