# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Render the fleet OOM audit report as files (the fleet audit; logic in plugin_utils)."""
from __future__ import annotations

DOCUMENTATION = r"""
name: oom_report_render
short_description: Render the fleet OOM audit report as files
version_added: 0.1.0
author: oomguard.linux contributors (@oomguard)
description:
  - Turns a report built by P(oomguard.linux.oom_report#filter) into the audit's files, as a dictionary of file name to text.
  - C(report.json) is the report itself; C(hosts.csv) and C(kills.csv) have a header row, every text cell quoted, and a
    text cell that starts with C(=), C(+), C(-), C(@), a tab or a carriage return prefixed with a single quote, so no
    spreadsheet runs it as a formula (CSV injection); C(index.html) is self-contained
    (inline CSS, an inline SVG chart of kills per host/unit over time, a sortable host table; no external asset or URL);
    C(oomguard.prom) is in the Prometheus text exposition format for node_exporter's textfile collector.
positional: _input, files
options:
  _input:
    description: The report.
    type: dict
    required: true
  files:
    description: The files to render (default all five).
    type: list
    elements: str
    choices: [report.json, hosts.csv, kills.csv, index.html, oomguard.prom]
"""

EXAMPLES = r"""
- name: Write the report files
  ansible.builtin.copy:
    content: "{{ item.value }}"
    dest: "/var/tmp/oom-report/{{ item.key }}"
    mode: "0644"
  loop: "{{ report | oomguard.linux.oom_report_render | dict2items }}"
  loop_control:
    label: "{{ item.key }}"

- name: Only the Prometheus file, for node_exporter's textfile collector
  ansible.builtin.copy:
    content: "{{ (report | oomguard.linux.oom_report_render(['oomguard.prom']))['oomguard.prom'] }}"
    dest: /var/lib/node_exporter/textfile_collector/oomguard.prom
    mode: "0644"
"""

RETURN = r"""
_value:
  description: File name to file content.
  type: dict
  sample:
    hosts.csv: "host,reachable,status,...\n"
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.oomguard.linux.plugins.plugin_utils._report import to_plain as _plain
from ansible_collections.oomguard.linux.plugins.plugin_utils._report_render import render_all


def oom_report_render(report, files=None):
    """Render the report's files: {name: content}."""
    try:
        return render_all(_plain(report), _plain(files))
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError("oom_report_render: input is not an oom_report report (%s)" % exc)
    except ValueError as exc:
        raise AnsibleFilterError("oom_report_render: %s" % exc)


class FilterModule:
    """The fleet audit's oom_report_render filter."""

    def filters(self):
        return {"oom_report_render": oom_report_render}
