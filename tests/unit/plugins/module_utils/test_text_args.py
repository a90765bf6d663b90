# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Unit tests for the two edges every module shares: text from untrusted bytes, and strict integer options."""
from __future__ import annotations

import json

import pytest

from ansible_collections.oomguard.linux.plugins.module_utils._args import loose_int_errors
from ansible_collections.oomguard.linux.plugins.module_utils._text import safe_text


@pytest.mark.parametrize("raw, expected", [
    (b"postgres", "postgres"),
    (b"\xff\xfe", "\\xff\\xfe"),          # the kernel's own spelling of an undecodable byte
    (b"caf\xc3\xa9", "caf\u00e9"),        # valid UTF-8 is kept
    (b"a\nb", "a\nb"),                    # a newline is valid UTF-8: escaping for display is the printer's job
    ("x\udcff", "x\\xff"),                # a str that went through surrogateescape
    (b"\xc3", "\\xc3"),                   # a truncated sequence
    ("a\ud800b", "a\\ud800b"),             # a lone surrogate that no surrogateescape made (from JSON)
    ("\udcff\ud800", "\\xff\\ud800"),        # both kinds in one string: each spelled its own way, never raised
    ("a\udcff\ud800", "a\\xff\\ud800"),
    ("\udcc3\udca9\udfff", "\u00e9\\udfff"),  # escaped bytes that are valid UTF-8 together read as text
    (None, None),
])
def test_safe_text(raw, expected):
    text = safe_text(raw)
    assert text == expected
    if text is not None:
        text.encode("utf-8")              # strict: raises on a lone surrogate
        json.dumps(text, ensure_ascii=False).encode("utf-8")


SPEC = {
    "value": {"type": "int"},
    "pid": {"type": "list", "elements": "int"},
    "name": {"type": "str"},
    "items": {"type": "list", "elements": "dict", "options": {"v": {"type": "int", "aliases": ["val"]}}},
    "one": {"type": "dict", "options": {"n": {"type": "int"}}},
}


@pytest.mark.parametrize("raw, bad", [
    ({"value": True}, "'value'"),
    ({"value": False}, "'value'"),
    ({"value": 1.0}, "'value'"),
    ({"value": "1.0"}, "'value'"),
    ({"value": "true"}, "'value'"),
    ({"pid": [1, True]}, "'pid'"),
    ({"pid": [2.5]}, "'pid'"),
    ({"items": [{"v": 1}, {"val": True}]}, "'items[1].v'"),
    ({"one": {"n": 3.0}}, "'one.n'"),
])
def test_loose_ints_refused(raw, bad):
    errors = loose_int_errors(SPEC, raw)
    assert len(errors) == 1 and bad in errors[0], errors


@pytest.mark.parametrize("raw", [
    {"value": 5}, {"value": -1000}, {"value": "-5"}, {"value": " 7 "}, {"pid": [1, "2"]},
    {"name": True}, {"items": [{"v": 0}]}, {"one": {"n": -3}}, {}, {"value": None},
])
def test_true_ints_pass(raw):
    assert loose_int_errors(SPEC, raw) == []
