# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Unit tests for the size grammar shared by swapfile, systemd_override and the report."""
from __future__ import annotations

import pytest

from ansible_collections.oomguard.linux.plugins.module_utils._units import (
    SizeError,
    format_size,
    human_size,
    parse_size,
    parse_systemd_size,
)

GIB = 1024 ** 3


@pytest.mark.parametrize("text, expected", [
    (4096, 4096),
    ("4096", 4096),
    ("512M", 512 * 1024 ** 2),
    ("512m", 512 * 1024 ** 2),
    ("4G", 4 * GIB),
    ("1GiB", GIB),
    ("1 GiB", GIB),
    (" 1024MiB ", GIB),
    ("1048576K", GIB),
    ("1.5G", GIB + GIB // 2),
    ("1T", 1024 * GIB),
    ("1GB", 10 ** 9),
    ("500MB", 500 * 10 ** 6),
    ("1KB", 1000),
    ("100B", 100),
    ("0", 0),
])
def test_parse_size_accepts(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "1X", "-1", -1, "1 G B", "G", "1.G", "1iB", True, "4G\n", "1e9", "0x10"])
def test_parse_size_rejects(text):
    with pytest.raises(SizeError) as err:
        parse_size(text)
    assert "invalid size" in str(err.value)


def test_equal_sizes_written_differently_are_equal():
    assert parse_size("1G") == parse_size("1024M") == parse_size("1073741824") == parse_size(GIB) == parse_size("1GiB")


@pytest.mark.parametrize("text, expected", [
    ("2G", 2 * GIB),
    ("1500M", 1500 * 1024 ** 2),
    ("1.5G", GIB + GIB // 2),
    ("100", 100),
    ("100B", 100),
    ("1E", 1024 ** 6),
    (2048, 2048),
])
def test_parse_systemd_size_accepts(text, expected):
    assert parse_systemd_size(text) == expected


@pytest.mark.parametrize("text", ["2GiB", "2g", "2 G", "2GB", "-5", "", "infinity", "50%", "2G\nExecStartPre=/bin/sh", "1.", "K"])
def test_parse_systemd_size_rejects_what_systemd_rejects(text):
    with pytest.raises(SizeError):
        parse_systemd_size(text)


@pytest.mark.parametrize("num, text", [(2 * GIB, "2G"), (1536 * 1024 ** 2, "1536M"), (1500, "1500"), (4096, "4K"), (0, "0")])
def test_format_size_is_exact_and_round_trips(num, text):
    assert format_size(num) == text
    assert parse_systemd_size(format_size(num)) == num


def test_human_size():
    assert human_size(512) == "512 B"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(3 * GIB) == "3.0 GiB"
