# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Filters of the fleet audit: build the report from oom_facts results, render its files, gate a pipeline."""
from __future__ import annotations

DOCUMENTATION = r"""
name: oom_report
short_description: Build the fleet OOM audit report from oom_facts results
version_added: 0.1.0
author: oomguard.linux contributors (@oomguard)
description:
  - Aggregates the per-host results of M(oomguard.linux.oom_facts) into one report. It holds every host (reachable or
    not, and why), every OOM kill, every critical service with its OOM victim rank, drift from intended C(oom_score_adj)
    values, fleet totals, and a risk level per host with its reasons.
  - Unreachable and failed hosts, and hosts without any result, are listed in the report; none is dropped. What the audit
    could not measure is null, never 0 (a host whose kernel log could not be read has C(kill_count=null) and a risk of at
    least C(unknown)), and the totals say how many hosts each sum covers. A host whose result is malformed is failed,
    with why; the others are reported.
  - The logic lives in the collection's plugin_utils (C(_report.py), controller-only code); this filter is a thin wrapper. The report schema and
    the risk rules are documented in the collection's C(docs/audit.md).
  - Use P(oomguard.linux.oom_report_render#filter) to turn the report into files and P(oomguard.linux.oom_report_gate#filter)
    to fail a pipeline.
positional: _input, hostvars
options:
  _input:
    description:
      - Either a list of host names (then O(hostvars) is required and each host's result is read from
        C(hostvars[host][result_var])), or a dictionary mapping host names to registered oom_facts results
        (or to bare C(ansible_facts.oom) dictionaries).
    type: raw
    required: true
  hostvars:
    description: The C(hostvars) magic variable, when O(_input) is a list of host names.
    type: raw
  result_var:
    description: Name of the variable each host registered the oom_facts task result in.
    type: str
    default: oomguard_audit_result
  critical:
    description:
      - Process names (C(comm)) or systemd unit names (with or without C(.service); templated units match their
        prefix, so C(postgresql) matches C(postgresql@15-main.service)) of the services that matter.
      - Defaults to postgres, mysqld, mariadbd, nginx, httpd, apache2, redis-server, mongod, sshd, systemd-journald,
        dockerd, containerd, kubelet.
    type: list
    elements: str
  intended:
    description: Intended C(oom_score_adj) per name; a live value that differs is reported as drift.
    type: dict
    default: {}
  since:
    description: The kill window the facts were collected with (recorded in the report and its messages).
    type: str
    default: 7d
  thresholds:
    description:
      - C(top_victims) (default 5) - a critical service ranked this high and not lowered is a high risk.
      - C(low_available_pct) (default 10.0) - MemAvailable below this share of MemTotal is low headroom.
    type: dict
    default: {}
  fail_on:
    description:
      - Conditions recorded in the report's C(failures), any of C(kills), C(unprotected), C(drift), C(no_swap),
        C(incomplete) (a host reached but not fully audited - its module failed, its result was malformed or its kernel
        log could not be read) and C(unreachable) (a host that could not be reached or left no result).
    type: list
    elements: str
    default: []
  include_containers:
    description:
      - Also match the critical names against processes inside containers (one service row per container). By default
        the critical-service rules apply to the hosts' own services; container processes and kills are reported as such.
    type: bool
    default: false
  generated_at:
    description: Timestamp to record instead of now (ISO 8601), for reproducible reports.
    type: str
"""

EXAMPLES = r"""
- name: Collect the facts (one call per host)
  oomguard.linux.oom_facts:
    top: 5
    watch: "{{ oomguard_audit_critical }}"
  register: oomguard_audit_result
  ignore_unreachable: true
  ignore_errors: true

- name: Build the report on the controller
  ansible.builtin.set_fact:
    report: "{{ ansible_play_hosts_all | oomguard.linux.oom_report(hostvars, critical=['nginx', 'postgres'], intended={'postgres': -900}) }}"
  run_once: true

- name: From a dictionary of results instead
  ansible.builtin.debug:
    msg: "{{ {'web1': web1_result, 'db1': db1_result} | oomguard.linux.oom_report(since='1d') }}"
"""

RETURN = r"""
_value:
  description: The report (schema 1; see docs/audit.md).
  type: dict
  contains:
    schema:
      description: Report schema version.
      type: int
      sample: 1
    generated_at:
      description: When the report was built (ISO 8601, UTC).
      type: str
    settings:
      description: The settings used (critical names, intended values, since, thresholds, fail_on).
      type: dict
    hosts:
      description:
        - One entry per host, in input order, with C(host), C(reachable), C(status) (ok, unreachable, failed, skipped, missing),
          C(reason), C(coverage) (full, partial, untrusted_only, no_kernel_log, none), C(risk) (unknown, low, medium, high, critical), C(risk_score)
          (-1..3), C(reasons) (list of rule, level, message, next_step, blocked), memory and swap figures, C(kill_count)
          (null when unknown), C(kill_sources) and C(kill_sources_read), and counts of unprotected critical services and drifts.
      type: list
      elements: dict
    kills:
      description:
        - Every OOM kill, newest first, with its C(host), C(time), C(pid), C(comm), C(unit), C(container_id),
          C(container_runtime), C(killer), C(trust), C(basis), C(constraint), memory figures, C(uid) and
          C(user_manager) (a kill under a user's systemd manager is never a critical-service kill).
      type: list
      elements: dict
    victims:
      description:
        - Per host, the processes the kernel kills first, in its order, with C(place) (equal oom_scores share a place),
          C(tied), C(pid), C(comm), C(user), C(unit), container, C(oom_score), C(oom_score_adj), C(rss_kb).
      type: list
      elements: dict
    critical_services:
      description:
        - One entry per host and watched name present (the hosts' own processes; per container too with
          O(include_containers)), with C(pid), C(comm), C(unit), C(place) (1 is the next victim; ties share a place),
          C(oom_score), C(oom_score_adj), C(configured_adj), C(intended), C(drift) and C(protected).
      type: list
      elements: dict
    totals:
      description:
        - Fleet totals (hosts, reachable, unreachable, failed, hosts_incomplete, not_fully_audited, kills,
          critical_unprotected, drift, no_swap, risk counts), and C(covers), how many hosts each sum covers.
      type: dict
    summary:
      description: A few lines for people.
      type: list
      elements: str
    failures:
      description: The O(fail_on) conditions the fleet matches, each with C(condition), C(hosts) and C(message).
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.oomguard.linux.plugins.plugin_utils._report import build_report, read_host_results, to_plain as _plain


def oom_report(data, hostvars=None, result_var="oomguard_audit_result", critical=None, intended=None, since="7d",
               thresholds=None, fail_on=None, generated_at=None, include_containers=False):
    """Build the fleet report (see DOCUMENTATION)."""
    if isinstance(data, (list, tuple)):
        if hostvars is None:
            raise AnsibleFilterError("oom_report: a list of hosts needs hostvars, e.g. hosts | oomguard.linux.oom_report(hostvars)")
        results = read_host_results(data, hostvars, result_var)
    elif hasattr(data, "items"):
        results = [(str(host), _plain(value)) for host, value in data.items()]
    else:
        raise AnsibleFilterError("oom_report: input must be a list of host names or a dict of host -> result, got %s"
                                 % type(data).__name__)
    try:
        include_containers = boolean(include_containers, strict=True)
    except TypeError as exc:
        raise AnsibleFilterError("oom_report: include_containers: %s" % exc)
    try:
        return build_report(results, critical=_plain(critical) if critical is not None else None, intended=_plain(intended),
                            since=since, thresholds=_plain(thresholds), fail_on=_plain(fail_on), generated_at=generated_at,
                            include_containers=include_containers)
    except ValueError as exc:
        raise AnsibleFilterError("oom_report: %s" % exc)


class FilterModule:
    """The fleet audit's report filter."""

    def filters(self):
        return {"oom_report": oom_report}
