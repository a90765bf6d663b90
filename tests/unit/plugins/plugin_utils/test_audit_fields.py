# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The audit playbook asks oom_facts for only some keys of each process and kill (process_fields, kill_fields,
raw_lines: 0). The report built from such trimmed facts must be the report built from the whole facts."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import yaml

from ansible_collections.oomguard.linux.plugins.module_utils import _oom_facts as facts_utils
from ansible_collections.oomguard.linux.plugins.plugin_utils import _report as report_utils
from ansible_collections.oomguard.linux.plugins.plugin_utils._report import build_report

ROOT = Path(__file__).resolve().parents[4]
PLAYBOOK = ROOT / "playbooks" / "audit.yml"
RECORDED = Path(__file__).resolve().parent.parent / "module_utils" / "fixtures" / "oom_facts_localhost.json"


def facts_task_args():
    plays = yaml.safe_load(PLAYBOOK.read_text(encoding="utf-8"))
    for task in plays[0]["tasks"]:
        if "oomguard.linux.oom_facts" in task:
            return task["oomguard.linux.oom_facts"]
    raise AssertionError("no oomguard.linux.oom_facts task in %s" % PLAYBOOK)


def trimmed(facts, args):
    """The facts as the audit's call returns them: schema 2, only the asked columns, rows as lists."""
    out = copy.deepcopy(facts)
    out["process_columns"] = facts_utils.columns_of(args["process_fields"], facts_utils.PROCESS_KEYS)
    out["kill_columns"] = facts_utils.columns_of(args["kill_fields"], facts_utils.KILL_FIELDS)
    for key in ("processes", "watched"):
        out[key] = facts_utils.shape_rows(out[key], out["process_columns"], args.get("row_format", "dicts"))
    out["kills"] = facts_utils.shape_rows(out["kills"], out["kill_columns"], args.get("row_format", "dicts"))
    assert all(isinstance(row, list) for row in out["processes"] + out["kills"])
    return out


def test_playbook_asks_for_the_keys_the_report_reads():
    """The playbook's lists are the keys the report reads, as far as this oom_facts offers them: when oom_facts gains
    one the report reads (container_runtime, a kill's trust or basis), this test asks for it in the playbook."""
    args = facts_task_args()
    assert args["raw_lines"] == 0
    assert args["row_format"] == "lists"  # the smallest result to carry back; the report names the columns
    assert set(args["process_fields"]) <= set(facts_utils.PROCESS_FIELDS) and "cmdline" not in args["process_fields"]
    assert set(args["kill_fields"]) <= set(facts_utils.KILL_FIELDS) and "raw" not in args["kill_fields"]
    assert set(args["process_fields"]) == set(report_utils._PROC_TYPES) & set(facts_utils.PROCESS_FIELDS)
    assert set(args["kill_fields"]) == set(report_utils._KILL_TYPES) & set(facts_utils.KILL_FIELDS)
    # the container of a process is told by its memory cgroup when oom_facts does not name the runtime
    assert "memcg" in args["process_fields"] and "task_memcg" in args["kill_fields"]
    # a kill under a user's systemd manager is that user's process, never the host's critical service
    assert {"uid", "user_manager"} <= set(args["kill_fields"])


def test_report_from_trimmed_facts_is_the_report_from_whole_facts():
    args = facts_task_args()
    whole = json.loads(RECORDED.read_text(encoding="utf-8"))
    assert whole["kills"] and whole["watched"] and whole["processes"] and whole["units"] is not None
    # a second host whose services drifted and whose kill hit a critical service, so every rule has input
    other = copy.deepcopy(whole)
    for proc in other["watched"]:
        proc["oom_score_adj"] = 300
    for kill in other["kills"]:
        kill["comm"] = "postgres"
    # this host's watched services all run in containers: include them, so every rule has input
    settings = dict(intended={"postgres": -900, "nginx": 0}, generated_at="2026-11-27T10:00:00+00:00",
                    include_containers=True)
    full = build_report([("a", {"ansible_facts": {"oom": whole}}), ("b", {"ansible_facts": {"oom": other}})], **settings)
    small = build_report([("a", {"ansible_facts": {"oom": trimmed(whole, args)}}),
                          ("b", {"ansible_facts": {"oom": trimmed(other, args)}})], **settings)
    assert small == full
    assert full["kills"] and full["critical_services"] and full["totals"]["drift"] > 0 and full["victims"]
    assert all(s["container_runtime"] == "podman" for s in full["critical_services"])
    # and the trimmed facts are much smaller
    assert len(json.dumps(trimmed(whole, args))) < 0.7 * len(json.dumps(whole))


def test_columns_keep_the_spec_order_and_rows_follow_them():
    assert facts_utils.columns_of(["pid", "rank", "pid"], facts_utils.PROCESS_KEYS) == ["rank", "pid"]
    assert facts_utils.columns_of([], ("a", "b")) == ["a", "b"]
    rows = [{"pid": 1, "comm": "a", "rank": 2}, {"pid": 2}]
    assert facts_utils.shape_rows(rows, ["rank", "pid"], "lists") == [[2, 1], [None, 2]]
    assert facts_utils.shape_rows(rows, ["rank", "pid"]) == [{"rank": 2, "pid": 1}, {"rank": None, "pid": 2}]
