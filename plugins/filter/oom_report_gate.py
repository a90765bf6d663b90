# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The fail_on conditions a fleet OOM audit report matches (the fleet audit; logic in plugin_utils)."""
from __future__ import annotations

DOCUMENTATION = r"""
name: oom_report_gate
short_description: The fail_on conditions a fleet OOM audit report matches
version_added: 0.1.0
author: oomguard.linux contributors (@oomguard)
description:
  - Checks a report built by P(oomguard.linux.oom_report#filter) against pipeline conditions and returns the ones it matches,
    each with a message naming the hosts. An empty list means the gate passes.
  - C(kills) - an OOM kill happened in the audit window. C(unprotected) - a critical service runs with C(oom_score_adj) >= 0
    (not lowered). C(drift) - a live C(oom_score_adj) differs from its intended value. C(no_swap) - a reachable host has no swap.
    C(incomplete) - a host was reached but not fully audited (its module failed, its result was malformed, or its kernel log
    could not be read). C(unreachable) - a host could not be reached or left no result.
  - Messages have their control characters escaped, so they are safe to print on a terminal.
positional: _input, fail_on
options:
  _input:
    description: The report.
    type: dict
    required: true
  fail_on:
    description: The conditions to check.
    type: list
    elements: str
    choices: [kills, unprotected, drift, no_swap, incomplete, unreachable]
    default: []
"""

EXAMPLES = r"""
- name: Fail the pipeline on OOM kills or drift
  ansible.builtin.fail:
    msg: "{{ report | oomguard.linux.oom_report_gate(['kills', 'drift']) | map(attribute='message') | join('; ') }}"
  when: report | oomguard.linux.oom_report_gate(['kills', 'drift']) | length > 0
"""

RETURN = r"""
_value:
  description: One entry per matched condition.
  type: list
  elements: dict
  contains:
    condition:
      description: The condition.
      type: str
      sample: kills
    hosts:
      description: The hosts that match it.
      type: list
      elements: str
    message:
      description: A sentence for people.
      type: str
      sample: "fail_on kills: 1 OOM kill(s) since 7d on web1"
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.oomguard.linux.plugins.plugin_utils._report import gate, to_plain as _plain


def oom_report_gate(report, fail_on=None):
    """The fail_on conditions the report matches."""
    try:
        return gate(_plain(report), _plain(fail_on))
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError("oom_report_gate: input is not an oom_report report (%s)" % exc)
    except ValueError as exc:
        raise AnsibleFilterError("oom_report_gate: %s" % exc)


class FilterModule:
    """The fleet audit's oom_report_gate filter."""

    def filters(self):
        return {"oom_report_gate": oom_report_gate}
