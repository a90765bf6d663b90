#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: oom_report_write
short_description: Build the fleet OOM audit report and write its files on the controller
version_added: 0.1.0
description:
  - Builds the fleet report from the registered M(oomguard.linux.oom_facts) results of O(hosts) (with the code of the
    P(oomguard.linux.oom_report#filter) filter), or takes a O(report) that filter built, renders it and writes its files
    into a directory on the Ansible controller - C(report.json), C(hosts.csv), C(kills.csv), C(index.html) and
    C(oomguard.prom), the same content as the P(oomguard.linux.oom_report_render#filter) filter returns.
  - With O(hosts), the report never passes through a variable, so Ansible does not copy or template its rows; on a fleet
    of hundreds of hosts with thousands of kills this saves seconds. The result carries the report's C(summary),
    C(failures) and C(totals) for the tasks that follow.
  - This is an action plugin. It runs in the controller's process and sends no module to any host, so it writes the
    five files in milliseconds, where one M(ansible.builtin.copy) task per file runs two modules each.
  - Each file is written to a temporary file in O(dest) and renamed over the old one, after all of them have been
    written, so a failure leaves every file either as it was or complete. Files whose content and mode are already right
    are not touched; the task is changed only when a file (or the directory) is created or changed.
  - Nothing is written through a symbolic link. O(dest) must not be a link (the task fails and says so); a link at the
    name of a report file is replaced by the file, and its target is neither read, nor shown in C(--diff), nor changed.
    A directory, FIFO or device at a file's name fails the task.
  - The playbook C(oomguard.linux.audit) uses it.
author: oomguard.linux contributors (@oomguard)
options:
  report:
    description:
      - The report, as returned by the P(oomguard.linux.oom_report#filter) filter.
      - Exactly one of O(report) and O(hosts) is required.
    type: dict
  hosts:
    description:
      - Build the report from these hosts' registered oom_facts results (read from C(hostvars[host][result_var]));
        usually C(ansible_play_hosts_all). Hosts without a result are listed as missing, never dropped.
    type: list
    elements: str
  result_var:
    description: With O(hosts), the variable each host registered its oom_facts result in.
    type: str
    default: oomguard_audit_result
  critical:
    description:
      - With O(hosts), the critical services (process or unit names); the P(oomguard.linux.oom_report#filter) filter's
        default list when not set.
    type: list
    elements: str
  intended:
    description: With O(hosts), the intended C(oom_score_adj) per name (drift check).
    type: dict
    default: {}
  since:
    description: With O(hosts), the kill window the facts were collected with (recorded in the report).
    type: str
    default: 7d
  thresholds:
    description: With O(hosts), C(top_victims) and C(low_available_pct) (see the filter).
    type: dict
    default: {}
  fail_on:
    description:
      - With O(hosts), the conditions recorded in the report's C(failures) (C(kills), C(unprotected), C(drift), C(no_swap),
        C(incomplete), C(unreachable); see the P(oomguard.linux.oom_report#filter) filter).
    type: list
    elements: str
    default: []
  include_containers:
    description:
      - With O(hosts), also match the critical names against processes that run inside containers on the hosts (each
        container's service is then a row of its own). By default the critical-service rules apply to the hosts' own
        services, and container processes are reported as such (C(container_id), C(container_runtime)).
    type: bool
    default: false
  dest:
    description:
      - Directory on the controller that receives the files. It is created (mode C(0755)) when missing.
      - A relative path is relative to the controller's current directory.
    type: path
    required: true
  files:
    description:
      - Write only these files. By default all five.
    type: list
    elements: str
    choices: [report.json, hosts.csv, kills.csv, index.html, oomguard.prom]
  mode:
    description:
      - Permissions of the written files, as an octal string (V('0644')) or number.
    type: raw
    default: "0644"
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details: Everything runs on the controller; no module is executed on the target.
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reports which files would change and writes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: One diff per changed file; files larger than C(MAX_FILE_SIZE_FOR_DIFF) are shown by size only.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
    details: The files are written on the controller, whatever host the task runs for.
notes:
  - Run it once (C(run_once=true)); it writes on the controller whatever host the task runs for.
  - The report records when it was built, so C(report.json) and C(index.html) change on every new audit.
seealso:
  - plugin: oomguard.linux.oom_report
    plugin_type: filter
    description: Builds the report from oom_facts results.
  - plugin: oomguard.linux.oom_report_render
    plugin_type: filter
    description: The same files as a dictionary of strings.
  - module: oomguard.linux.oom_facts
    description: Collects what the report is built from.
"""

EXAMPLES = r"""
- name: Collect the facts (one call per host)
  oomguard.linux.oom_facts:
    top: 5
    raw_lines: 0
    watch: [postgres, nginx]
  register: oomguard_audit_result
  ignore_unreachable: true
  ignore_errors: true

- name: Build the report and write the five files on the controller
  oomguard.linux.oom_report_write:
    hosts: "{{ ansible_play_hosts_all }}"
    result_var: oomguard_audit_result
    intended: {postgres: -900}
    fail_on: [kills]
    dest: /srv/oom-report
  run_once: true
  register: written

- name: Gate the pipeline
  ansible.builtin.fail:
    msg: "{{ written.failures | map(attribute='message') | join('; ') }}"
  when: written.failures | length > 0
  run_once: true

- name: A report built with the filter
  ansible.builtin.set_fact:
    audit_report: "{{ ansible_play_hosts_all | oomguard.linux.oom_report(hostvars) }}"
  run_once: true

- name: Only the Prometheus file, into node_exporter's textfile directory
  oomguard.linux.oom_report_write:
    report: "{{ audit_report }}"
    dest: /var/lib/node_exporter/textfile
    files: [oomguard.prom]
  run_once: true
"""

RETURN = r"""
dest:
  description: The absolute path of the report directory.
  returned: always
  type: str
  sample: /srv/oom-report
files:
  description: For each file written or checked, its C(path), C(size) in bytes and whether it C(changed).
  returned: success
  type: dict
  sample: {"report.json": {"path": "/srv/oom-report/report.json", "size": 48213, "changed": true},
           "oomguard.prom": {"path": "/srv/oom-report/oomguard.prom", "size": 2011, "changed": false}}
  contains:
    path:
      description: Where the file is.
      type: str
    size:
      description: Its size in bytes.
      type: int
    changed:
      description: Whether it was (or in check mode would be) written or its mode changed.
      type: bool
    replaced_link:
      description: Present and true when a symbolic link stood at the file's name and was (or would be) replaced.
      type: bool
summary:
  description: The report's summary lines.
  returned: success
  type: list
  elements: str
  sample: ["hosts: 3 in inventory, 2 fully audited, 1 not fully audited (0 kernel log unreadable, 1 unreachable, 0 failed)",
           "kills: 1 since 7d on 1 host(s) (covers 2 of 3 hosts)"]
failures:
  description: The report's C(failures), the O(fail_on) conditions the fleet matches (C(condition), C(hosts), C(message)).
  returned: success
  type: list
  elements: dict
  sample: [{"condition": "kills", "hosts": ["web1"], "message": "fail_on kills: 1 OOM kill(s) since 7d on web1"}]
totals:
  description: The report's fleet totals.
  returned: success
  type: dict
  sample: {"hosts": 3, "reachable": 2, "unreachable": 1, "failed": 0, "hosts_incomplete": 0, "not_fully_audited": 1,
           "kills": 1, "covers": {"kills": 2, "critical_services": 2, "drift": 2, "no_swap": 2}}
msg:
  description: Which files were (or in check mode would be) written.
  returned: always
  type: str
  sample: wrote index.html, report.json in /srv/oom-report
"""
