# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The oom_report_write action plugin, run by a real ansible-playbook, writing real files under tmp_path.

The report comes from facts recorded on a real host (fixtures/oom_facts_localhost.json) through the same build_report the
oom_report filter uses; the files on disk are compared byte for byte with what render_all produces.
"""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from ansible_collections.oomguard.linux.plugins.plugin_utils._report import build_report
from ansible_collections.oomguard.linux.plugins.plugin_utils._report_render import FILES, render_all

from helpers.ansible_run import run_playbook

RECORDED = Path(__file__).resolve().parent.parent / "module_utils" / "fixtures" / "oom_facts_localhost.json"


def make_report(generated_at):
    facts = json.loads(RECORDED.read_text(encoding="utf-8"))
    results = [("web1", {"changed": False, "ansible_facts": {"oom": facts}}),
               ("db1", {"unreachable": True, "msg": "ssh: connect to host db1: Connection refused"})]
    return build_report(results, intended={"postgres": -900}, generated_at=generated_at)


def play(tmp_path, tasks, **variables):
    vars_file = tmp_path / ("vars-%d.json" % len(list(tmp_path.glob("vars-*.json"))))
    vars_file.write_text(json.dumps(variables), encoding="utf-8")
    doc = run_playbook([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}], extra_args=["-e", "@%s" % vars_file])
    assert doc["_rc"] in (0, 2), doc
    return [task["hosts"]["localhost"] for task in doc["plays"][0]["tasks"]]


def write_task(report_var, dest, **options):
    args = {"dest": str(dest)}
    if report_var:
        args["report"] = "{{ %s }}" % report_var
    args.update(options.pop("args", {}))
    task = {"name": "write", "oomguard.linux.oom_report_write": args}
    task.update(options)
    return task


def disk(dest):
    return dict((p.name, p.read_bytes()) for p in sorted(Path(dest).iterdir()))


def expected(report, names=FILES):
    return dict((name, text.encode("utf-8")) for name, text in render_all(report, names).items())


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_writes_checks_and_diffs_real_files(tmp_path):  # pylint: disable=too-many-statements
    one = make_report("2026-11-27T10:00:00+00:00")
    two = make_report("2026-11-28T10:00:00+00:00")
    dest = tmp_path / "report"

    # 1. a new directory: every file is created, with the report's exact content, and diffs show them
    first, = play(tmp_path, [write_task("one", dest, diff=True)], one=one)
    assert first["changed"] is True and not first.get("failed"), first
    assert disk(dest) == expected(one)  # exactly the five files: no temporary file left behind
    assert all(mode_of(dest / name) == 0o644 for name in FILES) and mode_of(dest) == 0o755
    assert first["dest"] == str(dest) and set(first["files"]) == set(FILES)
    assert all(info["changed"] and info["size"] == len(expected(one)[name]) for name, info in first["files"].items())
    headers = [d["after_header"] for d in first["diff"]]
    assert str(dest) in headers and all(str(dest / name) in headers for name in FILES)
    prom = [d for d in first["diff"] if d["after_header"] == str(dest / "oomguard.prom")][0]
    assert prom["before"] == "" and prom["after"] == expected(one)["oomguard.prom"].decode()
    inodes = dict((name, os.stat(dest / name).st_ino) for name in FILES)

    # 2. the same report again: nothing changes, not even the inodes; 3. a newer report in check mode: changed, nothing written
    again, check = play(tmp_path, [write_task("one", dest), write_task("two", dest, check_mode=True, diff=True)], one=one, two=two)
    assert again["changed"] is False and not any(info["changed"] for info in again["files"].values()), again
    assert check["changed"] is True and not check.get("failed"), check
    assert disk(dest) == expected(one)
    assert dict((name, os.stat(dest / name).st_ino) for name in FILES) == inodes
    changed_now = sorted(name for name, info in check["files"].items() if info["changed"])
    assert "report.json" in changed_now and "would write" in check["msg"]
    diff = [d for d in check["diff"] if d["after_header"] == str(dest / "report.json")][0]
    assert "2026-11-27T10:00:00" in diff["before"] and "2026-11-28T10:00:00" in diff["after"]

    # 4. two files of the newer report, another mode: those two are replaced, the other three stay as they were
    subset, = play(tmp_path, [write_task("two", dest, args={"files": ["oomguard.prom", "hosts.csv"], "mode": "0600"})], two=two)
    assert subset["changed"] is True and set(subset["files"]) == {"oomguard.prom", "hosts.csv"}
    now = disk(dest)
    assert set(now) == set(FILES)
    for name in FILES:
        source = two if name in ("oomguard.prom", "hosts.csv") else one
        assert now[name] == expected(source)[name], name
        assert mode_of(dest / name) == (0o600 if name in ("oomguard.prom", "hosts.csv") else 0o644), name

    # 5. the same content with the old mode back: changed (mode only), content untouched
    chmod, = play(tmp_path, [write_task("two", dest, args={"files": ["oomguard.prom"]})], two=two)
    assert chmod["changed"] is True and mode_of(dest / "oomguard.prom") == 0o644
    assert (dest / "oomguard.prom").read_bytes() == expected(two)["oomguard.prom"]


def test_bad_input_fails_clearly_and_writes_nothing(tmp_path):
    report = make_report("2026-11-27T10:00:00+00:00")
    dest = tmp_path / "report"
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("keep me\n", encoding="utf-8")
    results = play(tmp_path, [
        write_task("bogus", dest, ignore_errors=True),
        write_task("report", dest, args={"mode": "rw-r--r--"}, ignore_errors=True),
        write_task("report", blocker, ignore_errors=True),
        write_task("report", dest, args={"files": ["index.htm"]}, ignore_errors=True),
    ], report=report, bogus={"hosts": "nope"})
    not_a_report, bad_mode, on_a_file, unknown_file = results
    assert not_a_report["failed"] and "is not an oomguard.linux.oom_report report" in not_a_report["msg"], not_a_report
    assert bad_mode["failed"] and "mode must be an octal number" in bad_mode["msg"], bad_mode
    assert on_a_file["failed"] and "is not a directory" in on_a_file["msg"], on_a_file
    assert unknown_file["failed"] and "index.htm" in unknown_file["msg"], unknown_file
    assert not dest.exists()
    assert blocker.read_text(encoding="utf-8") == "keep me\n"


def test_builds_the_report_from_registered_results(tmp_path):
    facts = json.loads(RECORDED.read_text(encoding="utf-8"))
    dest = tmp_path / "fleet"
    tasks = [
        {"name": "register a result as the facts task would", "ansible.builtin.set_fact": {"res": {"ansible_facts": {"oom": "{{ recorded }}"}}}},
        write_task(None, dest, args={"hosts": ["localhost", "not-in-inventory"], "result_var": "res",
                                     "intended": {"postgres": -900}, "fail_on": ["kills", "no_swap"]}),
    ]
    dummy, written = play(tmp_path, tasks, recorded=facts)
    assert written["changed"] is True and not written.get("failed"), written
    expected_report = build_report([("localhost", {"ansible_facts": {"oom": facts}}), ("not-in-inventory", None)],
                                   intended={"postgres": -900}, fail_on=["kills", "no_swap"])
    assert written["totals"] == expected_report["totals"] and written["summary"] == expected_report["summary"]
    assert [f["condition"] for f in written["failures"]] == [f["condition"] for f in expected_report["failures"]]
    assert "report" not in written and "hosts" not in written  # the rows stay in the files
    on_disk = json.loads((dest / "report.json").read_text(encoding="utf-8"))
    for key in ("hosts", "kills", "critical_services", "totals", "settings"):
        assert on_disk[key] == expected_report[key], key
    assert [h["status"] for h in on_disk["hosts"]] == ["ok", "missing"]
    assert set(p.name for p in dest.iterdir()) == set(FILES)


def test_report_and_hosts_are_exclusive(tmp_path):
    report = make_report("2026-11-27T10:00:00+00:00")
    both, neither = play(tmp_path, [
        write_task("report", tmp_path / "a", args={"hosts": ["localhost"]}, ignore_errors=True),
        write_task(None, tmp_path / "b", ignore_errors=True),
    ], report=report)
    assert both["failed"] and "mutually exclusive" in both["msg"], both
    assert neither["failed"] and "one of the following is required" in neither["msg"], neither
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_links_at_report_paths_are_replaced_never_written_through(tmp_path):
    """A link at a report file's name (planted by someone who can write the directory) is replaced by the file; its
    target keeps its bytes and mode and its content never shows in --diff. A link as dest is refused."""
    report = make_report("2026-11-27T10:00:00+00:00")
    dest = tmp_path / "report"
    dest.mkdir()
    secret = tmp_path / "secret.conf"
    secret.write_text("root-only secret 42\n", encoding="utf-8")
    os.chmod(secret, 0o600)
    (dest / "report.json").symlink_to(secret)
    (dest / "hosts.csv").symlink_to(tmp_path / "dangling")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "linked-dest").symlink_to(elsewhere)
    check, real, refused = play(tmp_path, [
        write_task("report", dest, check_mode=True, diff=True),
        write_task("report", dest, diff=True),
        write_task("report", tmp_path / "linked-dest", ignore_errors=True),
    ], report=report)
    for result in (check, real):
        assert result["changed"] is True and not result.get("failed"), result
        assert result["files"]["report.json"]["replaced_link"] is True
        shown = json.dumps(result["diff"])
        assert "root-only secret 42" not in shown and "symbolic link to %s" % secret in shown
    assert secret.read_text(encoding="utf-8") == "root-only secret 42\n" and mode_of(secret) == 0o600
    assert not (tmp_path / "dangling").exists()
    assert not (dest / "report.json").is_symlink() and not (dest / "hosts.csv").is_symlink()
    assert disk(dest) == expected(report)
    assert refused["failed"] and "is a symbolic link" in refused["msg"] and list(elsewhere.iterdir()) == [], refused


def test_a_fifo_or_directory_at_a_report_path_fails_without_hanging(tmp_path):
    from ansible_collections.oomguard.linux.plugins.action.oom_report_write import write_files

    dest = tmp_path / "report"
    dest.mkdir()
    os.mkfifo(dest / "report.json")
    (dest / "index.html").mkdir()
    for name in ("report.json", "index.html"):
        try:
            write_files(str(dest), {name: b"x"}, 0o644, want_diff=True)
        except IsADirectoryError as exc:
            assert "not a regular file" in str(exc)
        else:
            raise AssertionError("%s: a non-regular file was accepted" % name)
    assert stat.S_ISFIFO(os.lstat(dest / "report.json").st_mode) and (dest / "index.html").is_dir()
    assert sorted(p.name for p in dest.iterdir()) == ["index.html", "report.json"]  # no temporary file left
