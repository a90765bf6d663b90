# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Argument checks that ansible-core's own validation does not make, shared by every module.

ansible-core's ``type: int`` accepts ``true`` (a bool is an int in Python, so ``value: true`` became oom_score_adj 1) and,
since 2.19, any float or string with no fractional part (``1.0``, ``"5.0"``). For options where a wrong number is
dangerous (a kill-order value, a swap priority) that is a silent surprise. :func:`refuse_loose_ints` looks at the
arguments as they were sent, before ansible-core converted them, and fails the module with a clear message when an
``int`` option got a bool, a float or a string that is not a plain integer.
"""
from __future__ import annotations

import re

from ansible.module_utils.basic import _load_params

_INT_TEXT = re.compile(r"\A[ \t]*[+-]?[0-9]+[ \t]*\Z")


def _describe(value) -> str:
    return "%s %r" % (type(value).__name__, value)


def _loose(value) -> bool:
    if isinstance(value, bool) or isinstance(value, float):
        return True
    if isinstance(value, str):
        return not _INT_TEXT.match(value)
    return False


def loose_int_errors(spec: dict, raw: dict, context: str = "") -> list:
    """Return one message per ``int`` option (or ``list`` of ``int``) in ``spec`` whose raw value is not a true integer."""
    errors = []
    if not isinstance(raw, dict):
        return errors
    for name, option in spec.items():
        keys = [name] + list(option.get("aliases") or [])
        value = next((raw[k] for k in keys if k in raw), None)
        if value is None:
            continue
        where = context + name
        kind, elements = option.get("type", "str"), option.get("elements")
        if kind == "int" and _loose(value):
            errors.append("argument '%s' must be an integer, got %s" % (where, _describe(value)))
        elif kind == "list" and elements == "int" and isinstance(value, list):
            errors.extend("argument '%s' must be a list of integers, got %s" % (where, _describe(v))
                          for v in value if _loose(v))
        elif option.get("options"):
            items = value if kind == "list" and isinstance(value, list) else [value]
            for index, item in enumerate(items):
                sub = "%s[%d]." % (where, index) if kind == "list" else where + "."
                errors.extend(loose_int_errors(option["options"], item, sub))
    return errors


def refuse_loose_ints(module) -> None:
    """Fail ``module`` (already built) if any ``int`` option was given a bool, a float or a non-integer string."""
    errors = loose_int_errors(module.argument_spec, _load_params())
    if errors:
        module.fail_json(msg="Invalid arguments: " + "; ".join(errors))
