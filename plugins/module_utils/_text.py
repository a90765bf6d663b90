# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Turn bytes that other people wrote into text that is always valid UTF-8.

Process names, command lines, cgroup paths, unit names, pidfile paths and log lines are written by local users we do not
trust. Python's ``surrogateescape`` keeps undecodable bytes as lone surrogates, and ansible-core 2.19 refuses a module
result that holds one ("Refusing to deserialize an invalid UTF8 string"): one process named ``b"\\xff"`` would blind the
whole result. Every such string goes through this file instead.

The spelling of an undecodable byte is the kernel's own (``\\xff``, as in ``/proc/PID/status`` and the OOM report), so a
name reads the same in our output and in ``dmesg``. Valid UTF-8 (including newlines and other control characters) is
kept as it is: escaping for a terminal or a spreadsheet is the job of whoever prints it.
"""
from __future__ import annotations

import re

# A lone surrogate that no surrogateescape decode made (U+DC80-U+DCFF are the escaped bytes 0x80-0xff).
_FOREIGN_SURROGATE = "([\ud800-\udc7f\udd00-\udfff])"


def safe_text(data) -> str:
    """Return ``data`` (bytes, or a str that may hold surrogate escapes) as valid UTF-8 text.

    Undecodable bytes become ``\\xNN``. ``None`` stays ``None`` so callers can keep "unknown" distinct from "".
    """
    if data is None:
        return None
    if isinstance(data, str):
        try:
            data.encode("utf-8")
            return data
        except UnicodeEncodeError:
            try:
                data = data.encode("utf-8", "surrogateescape")  # bytes that a surrogateescape decode kept
            except UnicodeEncodeError:
                return _spell_mixed(data)
    return data.decode("utf-8", "backslashreplace")


def _spell_mixed(data):
    """A str holding lone surrogates that surrogateescape cannot carry (JSON's ``"\\ud800"``), maybe besides escaped
    bytes: the escaped bytes are spelled as bytes are (``\\xff``), every other lone surrogate as its escape."""
    parts = re.split(_FOREIGN_SURROGATE, data)
    # re.split with a group: the odd items are the foreign surrogates, the even ones never hold one
    return "".join("\\u%04x" % ord(part) if idx % 2 else safe_text(part) for idx, part in enumerate(parts))


def safe_fs_text(path) -> str:
    """Like :func:`safe_text`, for a filesystem path given as str (os.fsdecode'd) or bytes."""
    return safe_text(path)
