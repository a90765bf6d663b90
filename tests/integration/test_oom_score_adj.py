# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""oomguard.linux.oom_score_adj through ansible-playbook, against real processes: every assertion on the effect
reads /proc/PID/oom_score_adj. The vanished and pid-reuse races are driven at the module_utils level in
tests/unit/plugins/module_utils/test_procfs.py (the same code path, with a real exit and a real reused pid)."""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from ansible_collections.oomguard.linux.plugins.module_utils._procfs import has_cap_sys_resource
from helpers.ansible_run import run_playbook
from helpers.procs import NOBODY, children_of, read_adj, spawner, wait_for, write_adj  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.root

MODULE = "oomguard.linux.oom_score_adj"


def by_pid(res):
    return {p["pid"]: p for p in res["processes"]}


def test_pid_check_diff_apply_idempotent(spawner, run_module):
    proc = spawner.start("oomt-int-pid")
    res = run_module("oom_score_adj", {"pid": proc.pid, "value": 500}, check=True, diff=True)
    assert res["changed"] and not res.get("failed")
    assert f"{proc.pid} oomt-int-pid: 0 -> 500" in res["diff"]["prepared"]
    assert by_pid(res)[proc.pid]["after"] == 500
    assert read_adj(proc.pid) == 0, "check mode wrote"

    res = run_module("oom_score_adj", {"pid": proc.pid, "value": 500}, diff=True)
    assert res["changed"] and res["changed_count"] == 1 and res["matched"] == 1
    row = by_pid(res)[proc.pid]
    assert (row["comm"], row["before"], row["after"], row["changed"]) == ("oomt-int-pid", 0, 500, True)
    assert row["oom_score"] == int(Path(f"/proc/{proc.pid}/oom_score").read_text())
    assert read_adj(proc.pid) == 500

    res = run_module("oom_score_adj", {"pid": proc.pid, "value": 500}, diff=True)
    assert not res["changed"] and res["unchanged_count"] == 1
    assert res["diff"]["prepared"] == ""
    assert read_adj(proc.pid) == 500


def test_pid_list_and_pidfile(spawner, run_module, tmp_path):
    a, b, c = (spawner.start("oomt-int-list") for _index in range(3))
    write_adj(b.pid, 200)
    res = run_module("oom_score_adj", {"pid": [a.pid, b.pid], "value": 200})
    assert res["changed"] and res["changed_count"] == 1 and res["unchanged_count"] == 1
    assert (read_adj(a.pid), read_adj(b.pid), read_adj(c.pid)) == (200, 200, 0)

    pidfile = tmp_path / "daemon.pid"
    pidfile.write_text(f"{c.pid}\n")
    res = run_module("oom_score_adj", {"pidfile": str(pidfile), "value": 650})
    assert res["changed"] and [p["pid"] for p in res["processes"]] == [c.pid]
    assert read_adj(c.pid) == 650


def test_name_comm_and_long_exe_name(spawner, run_module):
    long_name = "oomt-int-long-daemon-name"
    target = spawner.start(long_name)
    short = spawner.start("oomt-int-short")
    other = spawner.start("oomt-int-long-daemon-nameX")  # shares the 15-char comm, must not match the long name
    res = run_module("oom_score_adj", {"name": [long_name, "oomt-int-short"], "value": 300})
    assert res["changed"], res
    assert sorted(by_pid(res)) == sorted([target.pid, short.pid])
    assert (read_adj(target.pid), read_adj(short.pid), read_adj(other.pid)) == (300, 300, 0)


def test_pattern_like_pgrep_f(spawner, run_module):
    a = spawner.start("oomt-int-pat", args=["401"])
    b = spawner.start("oomt-int-pat", args=["402"])
    res = run_module("oom_score_adj", {"pattern": r"oomt-int-pat 40[2]$", "value": 700})
    assert res["changed"] and list(by_pid(res)) == [b.pid]
    assert (read_adj(a.pid), read_adj(b.pid)) == (0, 700)


@pytest.mark.parametrize("match,index", [("oldest", 0), ("newest", 2)])
def test_match_oldest_newest(spawner, run_module, match, index):
    procs = []
    for _index in range(3):
        procs.append(spawner.start("oomt-int-match"))
        time.sleep(0.05)  # distinct start times (clock ticks)
    res = run_module("oom_score_adj", {"name": "oomt-int-match", "match": match, "value": 111})
    assert res["changed"] and list(by_pid(res)) == [procs[index].pid]
    assert [read_adj(p.pid) for p in procs] == [111 if i == index else 0 for i in range(3)]


def test_include_children(spawner, run_module):
    parent = spawner.start("oomt-int-par", args=["-c", "sleep 300 & sleep 300 & sh -c 'sleep 300 & wait' & wait"], source="sh")
    kids = wait_for(lambda: len(children_of(parent.pid)) == 3 and children_of(parent.pid), what="children")
    grandchild = wait_for(lambda: [g for k in kids for g in children_of(k)], what="grandchild")
    res = run_module("oom_score_adj", {"name": "oomt-int-par", "value": 400})
    assert list(by_pid(res)) == [parent.pid]
    assert read_adj(parent.pid) == 400 and [read_adj(k) for k in kids] == [0, 0, 0]

    res = run_module("oom_score_adj", {"name": "oomt-int-par", "value": 450, "include_children": True})
    assert sorted(by_pid(res)) == sorted([parent.pid] + kids + grandchild)
    assert all(read_adj(p) == 450 for p in [parent.pid] + kids + grandchild)


def test_user_filter(spawner, run_module):
    mine = spawner.start("oomt-int-user")
    theirs = spawner.start("oomt-int-user", uid=NOBODY)
    res = run_module("oom_score_adj", {"name": "oomt-int-user", "user": "nobody", "value": 123})
    assert list(by_pid(res)) == [theirs.pid]
    assert (read_adj(mine.pid), read_adj(theirs.pid)) == (0, 123)


def test_lowering_and_capability(spawner, run_module):
    proc = spawner.start("oomt-int-low")
    write_adj(proc.pid, 800)
    res = run_module("oom_score_adj", {"pid": proc.pid, "value": 100})
    assert res["changed"] and read_adj(proc.pid) == 100

    res = run_module("oom_score_adj", {"name": "oomt-int-low", "value": -500})
    # ansible-playbook -> module inherits this test's capabilities
    if has_cap_sys_resource():
        assert res["changed"] and not res.get("failed")
        assert read_adj(proc.pid) == -500
    else:
        assert res["failed"]
        assert "CAP_SYS_RESOURCE" in res["msg"] and "common in containers" in res["msg"]
        assert "OOMScoreAdjust= cannot help either" in res["msg"]
        assert f"{proc.pid} (oomt-int-low)" in res["msg"]
        assert res["missing_capability"] is True
        assert read_adj(proc.pid) == 100


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the module as nobody")
def test_rollback_names_each_process(spawner):
    """The module runs as nobody (become su): its own process accepts the write, root's process refuses it with a
    real EACCES, so the first is set back and the failure names both."""
    own = spawner.start("oomt-rb-own", uid=NOBODY)
    roots = spawner.start("oomt-rb-root")
    write_adj(own.pid, 150)
    play = {"hosts": "localhost", "gather_facts": False, "become": True, "become_method": "su", "become_user": "nobody",
            "become_flags": "-s /bin/sh",
            "tasks": [{"name": "t", MODULE: {"pid": [own.pid, roots.pid], "value": 300}}]}
    doc = run_playbook([play], extra_env={"ANSIBLE_REMOTE_TMP": "/tmp/.ansible-oomt"})
    res = doc["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert res.get("failed"), res
    assert f"{own.pid} (oomt-rb-own) set back to 150" in res["msg"], res["msg"]
    assert f"{roots.pid} (oomt-rb-root)" in res["msg"]
    assert [r["pid"] for r in res["rolled_back"]] == [own.pid]
    assert (read_adj(own.pid), read_adj(roots.pid)) == (150, 0)


@pytest.mark.parametrize("args,message", [
    ({"value": 1001}, "between -1000 and 1000"),
    ({"value": -1001}, "between -1000 and 1000"),
    ({"value": "abc"}, "int"),
    ({"value": 5, "name": "oomt-int-bad"}, "mutually exclusive"),
    ({"value": 5, "pid": None}, "one of the following is required"),
    ({"value": 5, "pattern": "(unclosed"}, "invalid regular expression"),
    ({"value": 5, "pidfile": "MISSING"}, "cannot read pidfile"),
    ({"value": 5, "pidfile": "GARBAGE"}, "does not contain a pid"),
])
def test_bad_input(spawner, run_module, tmp_path, args, message):
    proc = spawner.start("oomt-int-bad")
    write_adj(proc.pid, 42)
    args = dict(args)
    if args.get("pid", 1) is None:
        del args["pid"]
    elif "pattern" not in args and "pidfile" not in args:
        args["pid"] = proc.pid
    if args.get("pidfile") == "MISSING":
        args["pidfile"] = str(tmp_path / "absent.pid")
    elif args.get("pidfile") == "GARBAGE":
        (tmp_path / "garbage.pid").write_text(f"pid={proc.pid}\n")
        args["pidfile"] = str(tmp_path / "garbage.pid")
    res = run_module("oom_score_adj", args)
    assert res.get("failed"), res
    assert message in res["msg"], res["msg"]
    assert read_adj(proc.pid) == 42


def test_missing_fail_and_ignore(spawner, run_module, tmp_path):
    proc = spawner.start("oomt-int-miss")
    spawner.kill(proc)
    res = run_module("oom_score_adj", {"pid": proc.pid, "value": 10})
    assert res["failed"] and f"no such process for pid {proc.pid}" in res["msg"]
    res = run_module("oom_score_adj", {"name": "oomt-int-nothing-here", "value": 10})
    assert res["failed"] and "no process matches name=oomt-int-nothing-here" in res["msg"]
    for args in ({"name": "oomt-int-nothing-here"}, {"pid": proc.pid}, {"pidfile": str(tmp_path / "absent.pid")}):
        res = run_module("oom_score_adj", dict(args, value=10, missing="ignore"))
        assert not res.get("failed") and not res["changed"] and res["processes"] == [] and res["matched"] == 0


# ---------------------------------------------------------------------------------------------------------------
# systemd units, on a real systemd test host
# ---------------------------------------------------------------------------------------------------------------
def container_adj(host, pid):
    return int(host.exec(["cat", f"/proc/{pid}/oom_score_adj"]).stdout)


@pytest.mark.bench
@pytest.mark.slow
def test_unit_selector_and_override_warning(make_systemd_host, run_module):
    host = make_systemd_host()
    nginx = sorted(int(p) for p in host.exec(["pgrep", "-x", "nginx"]).stdout.split())
    assert len(nginx) >= 2, "nginx master and workers expected on the bench host"
    outsider = host.main_pid("cron.service") or host.main_pid("systemd-journald.service")
    before_outsider = container_adj(host, outsider)

    res = run_module("oom_score_adj", {"unit": "nginx.service", "value": 300}, host=host.name, inventory=host.inventory)
    assert res["changed"], res
    assert sorted(by_pid(res)) == nginx
    assert all(p["unit"] == "nginx.service" for p in res["processes"])
    assert all(container_adj(host, pid) == 300 for pid in nginx)
    assert container_adj(host, outsider) == before_outsider

    # a unit configured with another OOMScoreAdjust=: warn, and name the module that persists it
    host.write_file("/etc/systemd/system/nginx.service.d/oom.conf", "[Service]\nOOMScoreAdjust=100\n")
    host.exec(["systemctl", "daemon-reload"])
    assert host.systemctl_show("nginx.service", "OOMScoreAdjust")["OOMScoreAdjust"] == "100"
    res = run_module("oom_score_adj", {"unit": "nginx.service", "value": 350}, host=host.name, inventory=host.inventory)
    assert res["changed"]
    warnings = " ".join(res.get("warnings", []))
    assert "OOMScoreAdjust=100" in warnings and "oomguard.linux.systemd_override" in warnings
    assert all(container_adj(host, pid) == 350 for pid in nginx)

    res = run_module("oom_score_adj", {"unit": "nginx.service", "value": 100}, host=host.name, inventory=host.inventory)
    assert not any("OOMScoreAdjust" in w for w in res.get("warnings", []))

    # the postmaster is the oldest postgres process; its backends are left alone
    master = host.main_pid("postgresql@15-main.service")
    res = run_module("oom_score_adj", {"name": "postgres", "match": "oldest", "value": 200}, host=host.name,
                     inventory=host.inventory)
    assert list(by_pid(res)) == [master]
    assert container_adj(host, master) == 200


# ---------------------------------------------------------------------------------------------------------------
# hostile local users (issue 13): nobody is the attacker; every result must deserialise and nothing may change
# ---------------------------------------------------------------------------------------------------------------
def start_hostile(name: bytes, uid=NOBODY, adj=1000, args=()):
    """A real python3 running as ``uid`` that renames itself to the raw bytes ``name`` with prctl(PR_SET_NAME) and
    raises its own oom_score_adj to ``adj`` so that it is a top victim: what any local user can do."""
    code = ("import ctypes, time\n"
            "ctypes.CDLL(None).prctl(15, %r, 0, 0, 0)\n"
            "open('/proc/self/oom_score_adj', 'w').write('%d')\n"
            "time.sleep(300)\n" % (name, adj))
    proc = subprocess.Popen(["/usr/bin/python3", "-c", code] + list(args), stdin=subprocess.DEVNULL,
                            start_new_session=True, user=uid)
    wait_for(lambda: Path(f"/proc/{proc.pid}/comm").read_bytes() == name[:15] + b"\n" and read_adj(proc.pid) == adj,
             what="hostile rename")
    return proc


@pytest.fixture
def hostile():
    procs = []

    def start(*args, **kwargs):
        proc = start_hostile(*args, **kwargs)
        procs.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def test_hostile_process_names_do_not_blind_facts_or_fail_the_write(hostile, run_module):
    bad = hostile(b"oomt\xffevil", args=[b"arg\xff"])
    newline = hostile(b"oomt\nnl")
    assert Path(f"/proc/{bad.pid}/comm").read_bytes() == b"oomt\xffevil\n"

    # oom_facts, as Ansible runs it, over the whole table with command lines: the result deserialises
    res = run_module("oom_facts", {"top": 0, "include_cmdline": True, "sources": []})
    assert not res.get("failed"), res.get("msg")
    texts = set(strings_in(res))
    assert "oomt\\xffevil" in texts and "oomt\nnl" in texts, "the hostile names are not in the facts"
    assert any("arg\\xff" in t for t in texts)
    assert str(bad.pid) in json.dumps(res)

    # oom_score_adj selects the process by its spelled name, writes, and reports success with the same spelling
    res = run_module("oom_score_adj", {"name": "oomt\\xffevil", "value": 900})
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] and [(p["pid"], p["comm"]) for p in res["processes"]] == [(bad.pid, "oomt\\xffevil")]
    assert read_adj(bad.pid) == 900
    res = run_module("oom_score_adj", {"pid": newline.pid, "value": 950}, diff=True)
    assert not res.get("failed") and res["processes"][0]["comm"] == "oomt\nnl"
    assert read_adj(newline.pid) == 950
    res = run_module("oom_score_adj", {"pattern": r"arg\\xff$", "value": 800})
    assert not res.get("failed") and [p["pid"] for p in res["processes"]] == [bad.pid]
    assert read_adj(bad.pid) == 800


def test_pidfile_of_nobody_naming_root_process_refused(spawner, run_module, tmp_path):
    os.chmod(tmp_path, 0o755)
    daemon = spawner.start("oomt-root-daemon")
    write_adj(daemon.pid, 10)
    forged = tmp_path / "forged.pid"
    forged.write_text(f"{daemon.pid}\n")
    os.chown(forged, NOBODY, NOBODY)
    res = run_module("oom_score_adj", {"pidfile": str(forged), "value": -1000})
    assert res.get("failed"), res
    assert "owned by uid 65534 (nobody)" in res["msg"] and f"names pid {daemon.pid}, which runs as uid 0" in res["msg"]
    assert read_adj(daemon.pid) == 10
    res = run_module("oom_score_adj", {"pidfile": str(forged), "value": 1000, "missing": "ignore"})
    assert res.get("failed") and read_adj(daemon.pid) == 10  # not "missing": ignore does not hide the refusal


@pytest.mark.parametrize("case,message", [
    ("fifo", "is a FIFO, not a regular file"),
    ("huge", "is 104857600 bytes"),
    ("binary", "does not contain a pid"),
    ("symlink", "is a symbolic link: refused"),
])
def test_pidfile_hostile_files(spawner, run_module, tmp_path, case, message):
    proc = spawner.start("oomt-int-pidf")
    write_adj(proc.pid, 20)
    real = tmp_path / "real.pid"
    real.write_text(f"{proc.pid}\n")
    path = tmp_path / f"{case}.pid"
    if case == "fifo":
        os.mkfifo(path)
    elif case == "huge":
        with open(path, "wb") as fh:
            fh.write(b"%d\n" % proc.pid)
            fh.truncate(100 << 20)
    elif case == "binary":
        path.write_bytes(b"%d\x00\xff\xfe\x1b]0;owned\x07\n" % proc.pid)
    else:
        path.symlink_to(real)
    started = time.monotonic()
    res = run_module("oom_score_adj", {"pidfile": str(path), "value": 500})
    elapsed = time.monotonic() - started
    assert res.get("failed"), res
    assert message in res["msg"], res["msg"]
    assert elapsed < 15, f"{elapsed:.1f}s through ansible-playbook (a hang would hit the 600 s timeout)"
    assert read_adj(proc.pid) == 20


def test_oldest_name_with_impostor_needs_user(spawner, run_module):
    impostor = spawner.start("oomt-int-daemon", uid=NOBODY)
    time.sleep(0.05)
    real = spawner.start("oomt-int-daemon")
    res = run_module("oom_score_adj", {"name": "oomt-int-daemon", "match": "oldest", "user": "root", "value": 321})
    assert [p["pid"] for p in res["processes"]] == [real.pid]
    assert (read_adj(real.pid), read_adj(impostor.pid)) == (321, 0)
    # without user, the older impostor wins: what the docs warn about
    res = run_module("oom_score_adj", {"name": "oomt-int-daemon", "match": "oldest", "value": 322}, check=True)
    assert [p["pid"] for p in res["processes"]] == [impostor.pid]


@pytest.mark.parametrize("args,where", [
    ({"value": True}, "argument 'value' must be an integer, got bool True"),
    # ansible-core itself refuses a float with a fraction; ours refuses 1.0 and bools
    ({"value": 1.5}, "argument 'value' is of type float and we were unable to convert to int"),
    ({"value": 1.0}, "argument 'value' must be an integer, got float 1.0"),
    ({"value": 5, "pid": [True]}, "argument 'pid' must be a list of integers, got bool True"),
    ({"value": 5, "pattern_timeout": True}, "argument 'pattern_timeout' must be an integer, got bool True"),
])
def test_loose_ints_refused(spawner, run_module, args, where):
    proc = spawner.start("oomt-int-loose")
    write_adj(proc.pid, 30)
    args = dict(args)
    args.setdefault("pid", [proc.pid])
    res = run_module("oom_score_adj", args)
    assert res.get("failed"), res
    assert where in res["msg"], res["msg"]
    assert read_adj(proc.pid) == 30


def test_oom_facts_refuses_loose_ints(run_module):
    res = run_module("oom_facts", {"top": True, "sources": []})
    assert res.get("failed") and "argument 'top' must be an integer, got bool True" in res["msg"]


def test_catastrophic_pattern_bounded(spawner, run_module):
    crafted = subprocess.Popen(["/usr/bin/python3", "-c", "import time; time.sleep(300)", "a" * 40 + "!"],
                               start_new_session=True)
    spawner.procs.append(crafted)
    wait_for(lambda: Path(f"/proc/{crafted.pid}/cmdline").read_bytes().endswith(b"a!\0"), what="cmdline")
    mark = f"OOMT_REDOS_MARK=run-{os.getpid()}-{time.monotonic_ns()}"
    started = time.monotonic()
    res = run_module("oom_score_adj", {"pattern": "(a+)+$", "value": 700, "pattern_timeout": 1},
                     extra_env=dict([mark.split("=", 1)]))
    elapsed = time.monotonic() - started
    assert res.get("failed"), res
    assert "did not finish matching the command lines" in res["msg"] and "within 1 s" in res["msg"], res["msg"]
    assert elapsed < 15, elapsed
    assert read_adj(crafted.pid) == 0
    # no matching child outlives the module: the module (local connection) and its forked child inherit
    # ansible-playbook's environment, so a survivor would still carry the mark
    survivors = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if mark.encode() in Path(entry.path, "environ").read_bytes().split(b"\0"):
                    survivors.append(int(entry.name))
            except OSError:
                continue
    assert survivors == [], f"processes left behind by the module: {survivors}"


# ---------------------------------------------------------------------------------------------------------------
# container processes (issue 14): named, skipped unless asked for, never labelled with a host unit
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.bench
@pytest.mark.slow
def test_container_processes_skipped_by_default_and_named(systemd_host, spawner, run_module):
    host = systemd_host
    name = f"oomt-ctr-{os.getpid()}"
    host.exec(["cp", "/bin/sleep", f"/tmp/{name}"])
    subprocess.run(["podman", "exec", "-d", host.name, f"/tmp/{name}", "300"], check=True, capture_output=True)
    inside = wait_for(lambda: [int(p) for p in host.exec(["pgrep", "-x", name], check=False).stdout.split()],
                      what="container process")[0]
    outer = host.host_pid(inside)
    on_host = spawner.start(name)
    try:
        write_adj(outer, 0)
        res = run_module("oom_score_adj", {"name": name, "value": 600})
        assert not res.get("failed"), res.get("msg")
        assert [p["pid"] for p in res["processes"]] == [on_host.pid]
        assert res["processes"][0]["container_id"] is None
        assert res["skipped_containers"] == [{"pid": outer, "comm": name[:15], "container_id": host.id,
                                              "container_runtime": "podman"}]
        assert (read_adj(on_host.pid), read_adj(outer)) == (600, 0)

        res = run_module("oom_score_adj", {"name": name, "value": 650, "containers": True})
        rows = {p["pid"]: p for p in res["processes"]}
        assert sorted(rows) == sorted([on_host.pid, outer]) and res["skipped_containers"] == []
        assert (rows[outer]["container_id"], rows[outer]["container_runtime"]) == (host.id, "podman")
        assert rows[outer]["unit"] is None, "a container process must not carry a host unit name"
        assert (read_adj(on_host.pid), read_adj(outer)) == (650, 650)

        # an explicit pid selects the container's process whatever containers says, and names its container
        res = run_module("oom_score_adj", {"pid": outer, "value": 660})
        assert [(p["pid"], p["container_id"], p["unit"]) for p in res["processes"]] == [(outer, host.id, None)]
        assert read_adj(outer) == 660
    finally:
        host.exec(["pkill", "-x", name], check=False)
