# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Size parsing and formatting shared by the swapfile and systemd_override modules and the facts/report code.

Two grammars live here, because two different audiences write sizes:

* :func:`parse_size` is what users type in module options for files (swapfile ``size``): a plain integer is bytes;
  ``K``/``M``/``G``/``T``/``P`` and ``KiB``/``MiB``/``GiB``/``TiB``/``PiB`` are powers of 1024; ``KB``/``MB``/``GB``/``TB``/``PB``
  are powers of 1000 (as fallocate(1) and the SI define them); ``B`` is bytes. Case of the unit letters is ignored,
  surrounding blanks and one blank between number and unit are allowed, and a decimal fraction (``1.5G``) is accepted
  when the result is a whole number of bytes after rounding down.
* :func:`parse_systemd_size` accepts exactly what systemd's ``parse_size()`` with base 1024 accepts for ``MemoryMax=``
  and friends: digits with an optional fraction, then an optional single upper-case suffix ``B K M G T P E``.
"""
from __future__ import annotations

import re

_POW = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}

_USER_SIZE = re.compile(r"\A[ \t]*(?P<num>[0-9]+(?:\.[0-9]+)?) ?(?P<unit>[KMGTPE]?(?:I?B)?)[ \t]*\Z", re.IGNORECASE)
_SYSTEMD_SIZE = re.compile(r"\A(?P<num>[0-9]+(?:\.[0-9]+)?)(?P<unit>[BKMGTPE]?)\Z")


class SizeError(ValueError):
    """A size string that does not follow the grammar; the message says what was expected."""


def _scaled(num: str, factor: int) -> int:
    if "." in num:
        whole, frac = num.split(".", 1)
        return int(whole) * factor + (int(frac) * factor) // (10 ** len(frac))
    return int(num) * factor


def parse_size(value) -> int:
    """Return the number of bytes that ``value`` (an int or a size string, see the module docstring) names."""
    if isinstance(value, bool):
        raise SizeError(f"invalid size {value!r}: expected bytes or a number with a unit such as 512M, 4G, 1GiB")
    if isinstance(value, int):
        if value < 0:
            raise SizeError(f"invalid size {value!r}: must not be negative")
        return value
    text = str(value)
    match = _USER_SIZE.match(text)
    if not match:
        raise SizeError(f"invalid size {text!r}: expected bytes or a number with a unit such as 512M, 4G, 1GiB, 1000MB")
    unit = match.group("unit").upper()
    prefix = unit[:1] if unit[:1] in "KMGTPE" and unit else ""
    suffix = unit[len(prefix):]
    if suffix not in ("", "B", "IB"):
        raise SizeError(f"invalid size {text!r}: unknown unit {match.group('unit')!r}")
    if suffix == "IB" and not prefix:
        raise SizeError(f"invalid size {text!r}: unknown unit {match.group('unit')!r}")
    base = 1000 if (suffix == "B" and prefix) else 1024
    return _scaled(match.group("num"), base ** _POW[prefix])


def parse_systemd_size(value) -> int:
    """Return bytes for a value in systemd's size syntax (base 1024), or raise :class:`SizeError`."""
    if isinstance(value, bool):
        raise SizeError(f"invalid size {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise SizeError(f"invalid size {value!r}: must not be negative")
        return value
    text = str(value)
    match = _SYSTEMD_SIZE.match(text)
    if not match:
        raise SizeError(f"invalid size {text!r}: systemd expects bytes or a number with one of the suffixes K, M, G, T, P, E (base 1024)")
    unit = match.group("unit")
    return _scaled(match.group("num"), 1024 ** _POW["" if unit == "B" else unit])


def format_size(num_bytes: int) -> str:
    """Shortest exact spelling of ``num_bytes`` in systemd's syntax: 2147483648 -> '2G', 1500 -> '1500'."""
    if num_bytes <= 0:
        return str(num_bytes)
    for unit in ("E", "P", "T", "G", "M", "K"):
        factor = 1024 ** _POW[unit]
        if num_bytes % factor == 0:
            return f"{num_bytes // factor}{unit}"
    return str(num_bytes)


def human_size(num_bytes: float) -> str:
    """Rounded, human spelling for reports: 1536 -> '1.5 KiB'."""
    value = float(num_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"
