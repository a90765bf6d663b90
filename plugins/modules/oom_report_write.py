#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: oom_report_write
short_description: Write the fleet OOM audit report's files on the controller
version_added: 0.1.0
description:
  - Renders a report built by the P(oomguard.linux.oom_report#filter) filter and writes its files into a directory on
    the Ansible controller - C(report.json), C(hosts.csv), C(kills.csv), C(index.html) and C(oomguard.prom), the same
    content as the P(oomguard.linux.oom_report_render#filter) filter returns.
  - This is an action plugin. It runs in the controller's process and sends no module to any host, so it writes the
    five files in milliseconds, where one M(ansible.builtin.copy) task per file runs two modules each.
  - Each file is written to a temporary file in O(dest) and renamed over the old one, after all of them have been
    written, so a failure leaves every file either as it was or complete. Files whose content and mode are already right
    are not touched; the task is changed only when a file (or the directory) is created or changed.
  - The playbook C(oomguard.linux.audit) uses it.
author: oomguard.linux contributors (@oomguard)
options:
  report:
    description:
      - The report, as returned by the P(oomguard.linux.oom_report#filter) filter.
    type: dict
    required: true
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

- name: Build the report
  ansible.builtin.set_fact:
    audit_report: "{{ ansible_play_hosts_all | oomguard.linux.oom_report(hostvars) }}"
  run_once: true

- name: Write the five report files on the controller
  oomguard.linux.oom_report_write:
    report: "{{ audit_report }}"
    dest: /srv/oom-report
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
msg:
  description: Which files were (or in check mode would be) written.
  returned: always
  type: str
  sample: wrote index.html, report.json in /srv/oom-report
"""
