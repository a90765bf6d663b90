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
                # a lone surrogate from elsewhere (JSON's "\\ud800"): spelled as its escape, never passed on
                return data.encode("utf-8", "backslashreplace").decode("utf-8")
    return data.decode("utf-8", "backslashreplace")


def safe_fs_text(path) -> str:
    """Like :func:`safe_text`, for a filesystem path given as str (os.fsdecode'd) or bytes."""
    return safe_text(path)
