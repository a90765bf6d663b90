# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""oomguard.linux.systemd_override through ansible-playbook.

Two parts:
* localhost (no systemd runs here): the file on disk in a temp unit_dir, check mode, diff, idempotence, absent,
  a hand-written override.conf left alone, and the bad-input matrix (every case: the error AND no file written).
* real systemd test hosts from the bench (podman, systemd 252, cgroup v1 memory controller): daemon-reload,
  `systemctl show`, /proc/MAINPID/oom_score_adj, the cgroup's memory.limit_in_bytes, a template drop-in
  reaching postgresql@15-main.service, live apply, restart, precedence, and a real OOM kill under MemoryMax=.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from helpers.swap import swap_test_base

MANAGED = "# Managed by oomguard.linux (oomguard.linux.systemd_override): local changes are overwritten.\n"


def files_under(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, dummy, fs in os.walk(root) for f in fs)


# ==============================================================================================================
# localhost, temp unit_dir
# ==============================================================================================================
def test_local_write_check_diff_idempotent_absent(run_module, tmp_path):
    unit_dir = tmp_path / "system"
    args = {"unit": "postgresql@.service", "unit_dir": str(unit_dir), "oom_score_adjust": -500, "memory_max": "2G",
            "memory_high": "1500M"}
    path = unit_dir / "postgresql@.service.d" / "50-oomguard.conf"
    expected = MANAGED + "# Unit: postgresql@.service\n[Service]\nOOMScoreAdjust=-500\nMemoryHigh=1500M\nMemoryMax=2G\n"

    res = run_module("systemd_override", args, check=True, diff=True)
    assert res["changed"] is True and not res.get("failed")
    assert not unit_dir.exists(), "check mode must not create anything"
    assert res["diff"]["before"] == "" and res["diff"]["after"] == expected

    res = run_module("systemd_override", args, diff=True)
    assert res["changed"] is True
    assert path.read_text() == expected
    assert oct(path.stat().st_mode & 0o7777) == "0o644"
    assert res["path"] == str(path) and res["content"] == expected
    assert res["reloaded"] is False and res["systemd_running"] is False
    assert any("systemd is not running" in w and "skipped" in w for w in res["warnings"])

    res = run_module("systemd_override", args, diff=True)
    assert res["changed"] is False
    assert res["diff"]["before"] == res["diff"]["after"] == expected

    # a hand-written override.conf in the same directory: never touched, and it keeps the directory
    override = path.parent / "override.conf"
    override.write_text("[Service]\nOOMScoreAdjust=-900\n")
    os.chmod(override, 0o600)
    res = run_module("systemd_override", dict(args, memory_max="3G"), diff=True)
    assert res["changed"] is True
    assert "MemoryMax=3G" in path.read_text()
    assert any("override.conf" in w and "OOMScoreAdjust" in w for w in res["warnings"]), res["warnings"]
    assert res["overridden_by"]["OOMScoreAdjust"][0]["path"] == str(override)

    res = run_module("systemd_override", {"unit": "postgresql@.service", "unit_dir": str(unit_dir), "state": "absent"},
                     check=True, diff=True)
    assert res["changed"] is True and path.exists()
    res = run_module("systemd_override", {"unit": "postgresql@.service", "unit_dir": str(unit_dir), "state": "absent"},
                     diff=True)
    assert res["changed"] is True and res["diff"]["after"] == ""
    assert not path.exists()
    assert override.read_text() == "[Service]\nOOMScoreAdjust=-900\n" and oct(override.stat().st_mode & 0o777) == "0o600"
    res = run_module("systemd_override", {"unit": "postgresql@.service", "unit_dir": str(unit_dir), "state": "absent"})
    assert res["changed"] is False

    # absent removes the .d directory when our file was the last one in it
    run_module("systemd_override", {"unit": "batch.slice", "unit_dir": str(unit_dir), "memory_max": "40%"})
    assert (unit_dir / "batch.slice.d" / "50-oomguard.conf").read_text().splitlines()[2:] == ["[Slice]", "MemoryMax=40%"]
    run_module("systemd_override", {"unit": "batch.slice", "unit_dir": str(unit_dir), "state": "absent"})
    assert not (unit_dir / "batch.slice.d").exists()


def test_local_mode_drift_is_repaired(run_module, tmp_path):
    args = {"unit": "nginx", "unit_dir": str(tmp_path), "oom_score_adjust": 100, "name": "10-oom"}
    run_module("systemd_override", args)
    path = tmp_path / "nginx.service.d" / "10-oom.conf"
    os.chmod(path, 0o600)
    res = run_module("systemd_override", args)
    assert res["changed"] is True and oct(path.stat().st_mode & 0o777) == "0o644"


def test_local_existing_dropin_with_undecodable_bytes(run_module, tmp_path):
    """A drop-in someone left with bytes that are not UTF-8: the result (diff included) still deserialises, and the
    file is replaced by ours."""
    path = tmp_path / "nginx.service.d" / "50-oomguard.conf"
    path.parent.mkdir()
    path.write_bytes(b"# \xff\xfe left by someone\n[Service]\nOOMScoreAdjust=7\n")
    res = run_module("systemd_override", {"unit": "nginx", "unit_dir": str(tmp_path), "oom_score_adjust": 100},
                     diff=True)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] and "\\xff\\xfe left by someone" in res["diff"]["before"]
    assert "OOMScoreAdjust=100" in path.read_text()


def test_local_refuses_symlink_target(run_module, tmp_path):
    ddir = tmp_path / "nginx.service.d"
    ddir.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    os.symlink(victim, ddir / "50-oomguard.conf")
    res = run_module("systemd_override", {"unit": "nginx", "unit_dir": str(tmp_path), "oom_score_adjust": 1})
    assert res.get("failed") and "not a regular file" in res["msg"]
    assert victim.read_text() == "keep\n"


# The bad-input matrix: (case id, args, fragment of the error message). Every case runs against an empty temp
# unit_dir and must leave it empty.
BAD_INPUTS = [
    ("newline-injection-memory_max", {"memory_max": "2G\nExecStartPre=/bin/sh -c evil"}, "control character"),
    ("path-traversal-unit", {"unit": "../../etc/foo", "oom_score_adjust": 1}, "must not contain '/'"),
    ("slash-in-unit", {"unit": "foo/bar.service", "oom_score_adjust": 1}, "must not contain '/'"),
    ("dotdot-in-unit", {"unit": "foo..service", "oom_score_adjust": 1}, "'..'"),
    ("control-char-in-unit", {"unit": "foo\x1b.service", "oom_score_adjust": 1}, "control character"),
    ("bad-char-in-unit", {"unit": "foo bar", "oom_score_adjust": 1}, "not allowed"),
    ("unit-too-long", {"unit": "x" * 250, "oom_score_adjust": 1}, "longer than 255"),
    ("oom-score-adjust-too-low", {"oom_score_adjust": -1001}, "between -1000 and 1000"),
    ("oom-score-adjust-too-high", {"oom_score_adjust": 1001}, "between -1000 and 1000"),
    ("memory-max-lowercase-suffix", {"memory_max": "2g"}, "suffixes K, M, G"),
    ("memory-max-iec-suffix", {"memory_max": "2GiB"}, "suffixes K, M, G"),
    ("memory-max-zero", {"memory_max": "0"}, "out of range"),
    ("memory-max-overflow", {"memory_max": "16E"}, "out of range"),
    ("memory-max-percent-over-100", {"memory_max": "101%"}, "0% to 100%"),
    ("memory-high-above-max", {"memory_max": "1G", "memory_high": "2G"}, "MemoryHigh=2G is above MemoryMax=1G"),
    ("oom-score-adjust-on-slice", {"unit": "batch.slice", "oom_score_adjust": 100}, "does not belong in a .slice unit"),
    ("oom-policy-on-socket", {"unit": "x.socket", "oom_policy": "kill"}, "does not belong in a .socket unit"),
    ("settings-on-timer", {"unit": "x.timer", "memory_max": "1G"}, "take no OOM or memory settings"),
    ("extra-key-injection", {"extra": {"Foo]\n[Unit": "x"}}, "invalid key"),
    ("extra-value-newline", {"extra": {"Environment": "A=1\nExecStart=/bin/evil"}}, "control character"),
    ("extra-value-line-continuation", {"extra": {"Environment": "A=1\\"}}, "backslash"),
    ("extra-duplicates-typed", {"memory_max": "1G", "extra": {"MemoryMax": "2G"}}, "both as a typed option and in extra"),
    ("extra-known-key-checked", {"extra": {"OOMPolicy": "explode"}}, "one of continue, stop, kill"),
    ("dropin-name-override", {"name": "override", "oom_score_adjust": 1}, "reserved for 'systemctl edit'"),
    ("dropin-name-traversal", {"name": "../../x", "oom_score_adjust": 1}, "invalid drop-in name"),
    ("managed-oom-limit-not-percent", {"managed_oom_memory_pressure_limit": "50"}, "percentage"),
    ("no-settings", {}, "needs at least one setting"),
    ("relative-unit-dir", {"unit_dir": "relative/dir", "oom_score_adjust": 1}, "not an absolute path"),
    # issue 13 class 6: ansible-core would take true as 1 and 5.0 as 5
    ("oom-score-adjust-bool", {"oom_score_adjust": True}, "argument 'oom_score_adjust' must be an integer, got bool True"),
    ("oom-score-adjust-float", {"oom_score_adjust": 5.0}, "argument 'oom_score_adjust' must be an integer, got float 5.0"),
]


@pytest.mark.parametrize("args, fragment", [pytest.param(a, f, id=i) for i, a, f in BAD_INPUTS])
def test_bad_input_matrix(run_module, tmp_path, args, fragment):
    unit_dir = tmp_path / "system"
    unit_dir.mkdir()
    full = {"unit": "postgresql@15-main.service", "unit_dir": str(unit_dir)}
    full.update(args)
    res = run_module("systemd_override", full)
    assert res.get("failed") is True, res
    assert fragment in res["msg"], res["msg"]
    assert files_under(tmp_path) == [] and os.listdir(unit_dir) == []
    assert not os.path.exists("/etc/foo.d") and not os.path.exists("/etc/foo.service.d")


# ==============================================================================================================
# real systemd test hosts
# ==============================================================================================================
def run_on(run_module, host, args, **kwargs):
    return run_module("systemd_override", args, host=host.name, inventory=host.inventory, **kwargs)


def cat(host, path):
    proc = host.exec(["cat", path], check=False)
    return proc.stdout if proc.returncode == 0 else None


def proc_adj(host, pid):
    return int(host.exec(["cat", "/proc/%d/oom_score_adj" % pid]).stdout)


def cgroup_limit(host, unit):
    cg = host.systemctl_show(unit, "ControlGroup")["ControlGroup"]
    return int(host.exec(["cat", "/sys/fs/cgroup/memory%s/memory.limit_in_bytes" % cg]).stdout)


def host_has_cap_sys_resource(host):
    for line in host.exec(["cat", "/proc/1/status"]).stdout.splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) & (1 << 24))
    return False


def wait_for(predicate, timeout=30.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


PG = "postgresql@15-main.service"
TEMPLATE_DIR = "/etc/systemd/system/postgresql@.service.d"


@pytest.mark.bench
@pytest.mark.root
@pytest.mark.slow
def test_template_dropin_live_restart_absent(run_module, make_systemd_host):
    h = make_systemd_host()
    hand = "[Service]\n# written by hand\nEnvironment=HAND=1\n"
    h.write_file(TEMPLATE_DIR + "/override.conf", hand, mode="0600")
    h.exec("systemctl daemon-reload")
    pid = h.main_pid(PG)
    assert pid > 0
    adj_before = proc_adj(h, pid)
    args = {"unit": "postgresql@.service", "oom_score_adjust": 300, "apply": "live"}

    res = run_on(run_module, h, args, check=True, diff=True)
    assert res["changed"] is True and not res.get("failed"), res
    assert cat(h, TEMPLATE_DIR + "/50-oomguard.conf") is None
    assert proc_adj(h, pid) == adj_before
    assert any(a.get("pid") == pid and a["status"] == "would set" for a in res["applied"])

    res = run_on(run_module, h, args, diff=True)
    assert res["changed"] is True and not res.get("failed"), res
    assert cat(h, TEMPLATE_DIR + "/50-oomguard.conf") == (
        MANAGED + "# Unit: postgresql@.service\n[Service]\nOOMScoreAdjust=300\n")
    assert h.exec("stat -c %a " + TEMPLATE_DIR + "/50-oomguard.conf").stdout.strip() == "644"
    assert res["reloaded"] is True and res["units"] == [PG]
    # the template's drop-in reached the running instance: systemd shows it, the kernel has it, same pid
    assert h.systemctl_show(PG, "OOMScoreAdjust")["OOMScoreAdjust"] == "300"
    assert h.main_pid(PG) == pid
    assert proc_adj(h, pid) == 300
    assert res["enforced"][PG]["OOMScoreAdjust"] == 300 and res["configured"][PG]["OOMScoreAdjust"] == 300
    assert {"pid": pid, "status": "set", "before": adj_before, "after": 300}.items() <= \
        [a for a in res["applied"] if a.get("pid") == pid][0].items()
    # children that carried the inherited value got it too; none is left at the old inherited value
    children = h.exec("pgrep -g $(ps -o pgid= -p %d) -d ' ' ." % pid, check=False).stdout.split()
    for child in children:
        assert proc_adj(h, int(child)) == 300 or int(child) == pid

    res = run_on(run_module, h, args)
    assert res["changed"] is False, res

    # restart: the new process starts with the value (positive values need no capability)
    res = run_on(run_module, h, dict(args, oom_score_adjust=400, apply="restart"))
    assert res["changed"] is True and any(a.get("status") == "restarted" for a in res["applied"])
    new_pid = wait_for(lambda: h.main_pid(PG))
    assert new_pid != pid
    assert proc_adj(h, new_pid) == 400
    assert h.systemctl_show(PG, "Environment")["Environment"] == "HAND=1"  # the hand-written drop-in still applies

    res = run_on(run_module, h, {"unit": "postgresql@.service", "state": "absent"})
    assert res["changed"] is True
    assert cat(h, TEMPLATE_DIR + "/50-oomguard.conf") is None
    assert cat(h, TEMPLATE_DIR + "/override.conf") == hand
    assert h.exec("stat -c %a " + TEMPLATE_DIR + "/override.conf").stdout.strip() == "600"
    assert h.systemctl_show(PG, "OOMScoreAdjust")["OOMScoreAdjust"] == "-900"  # Debian's own unit value again


@pytest.mark.bench
@pytest.mark.root
@pytest.mark.slow
def test_negative_value_configured_versus_enforced(run_module, make_systemd_host):
    h = make_systemd_host()
    capable = host_has_cap_sys_resource(h)
    res = run_on(run_module, h, {"unit": "nginx", "oom_score_adjust": -500, "apply": "restart"})
    assert not res.get("failed"), res
    pid = wait_for(lambda: h.main_pid("nginx.service"))
    assert h.systemctl_show("nginx.service", "OOMScoreAdjust")["OOMScoreAdjust"] == "-500"
    if capable:
        assert proc_adj(h, pid) == -500
        assert not any("not enforced" in w for w in res.get("warnings", []))
    else:
        # systemd skipped the negative value (only a debug log): configured -500, enforced 0
        assert proc_adj(h, pid) == 0
        assert res["configured"]["nginx.service"]["OOMScoreAdjust"] == -500
        assert res["enforced"]["nginx.service"]["OOMScoreAdjust"] == 0
        assert any("CAP_SYS_RESOURCE" in w and "not enforced" in w for w in res["warnings"]), res["warnings"]
        # check mode predicts what the real run will do: no change, and it says why
        res = run_on(run_module, h, {"unit": "nginx", "oom_score_adjust": -500, "apply": "live"}, check=True)
        assert res["changed"] is False, res
        assert any(a.get("pid") == pid and a["status"] == "would fail" for a in res["applied"]), res["applied"]
        assert any("CAP_SYS_RESOURCE is missing" in w for w in res["warnings"]), res["warnings"]
        # live apply cannot do better without the capability: a clear failure entry and a warning, no crash
        res = run_on(run_module, h, {"unit": "nginx", "oom_score_adjust": -500, "apply": "live"})
        assert not res.get("failed"), res
        assert any(a.get("pid") == pid and a["status"] == "failed" for a in res["applied"])
        assert proc_adj(h, pid) == 0


LEAKER = ("/usr/bin/python3 -c \"import os,time;"
          "[time.sleep(0.1) for _ in iter(lambda: os.path.exists('/run/oomg-go'), True)];"
          "b=[b'x'*(1<<20) for _ in range(%d)];time.sleep(600)\"")


def make_service(host, name, alloc_mib, wait_for_go=False):
    cmd = LEAKER % alloc_mib
    if not wait_for_go:
        cmd = cmd.replace("os.path.exists('/run/oomg-go')", "True")
    host.write_file("/etc/systemd/system/%s" % name, "[Service]\nExecStart=%s\n" % cmd)
    host.exec("systemctl daemon-reload && systemctl start %s" % name)


@pytest.mark.bench
@pytest.mark.root
@pytest.mark.slow
def test_memory_limits_apply_at_reload_and_refuse_below_usage(run_module, make_systemd_host):
    h = make_systemd_host()
    make_service(h, "oomg-hold.service", 40)
    unit = "oomg-hold.service"
    pid = wait_for(lambda: h.main_pid(unit))
    assert wait_for(lambda: int(h.systemctl_show(unit, "MemoryCurrent")["MemoryCurrent"] or 0) > 40 << 20)

    res = run_on(run_module, h, {"unit": unit, "memory_max": "256M", "memory_high": "200M"})
    assert res["changed"] and res["reloaded"], res
    assert h.systemctl_show(unit, "MemoryMax")["MemoryMax"] == str(256 << 20)
    assert cgroup_limit(h, unit) == 256 << 20          # the kernel enforces it already: no restart
    assert h.main_pid(unit) == pid
    assert res["enforced"][unit]["MemoryMax"] == 256 << 20
    assert any("MemoryHigh" in w and "not enforced" in w for w in res["warnings"]), res["warnings"]  # cgroup v1

    res = run_on(run_module, h, {"unit": unit, "memory_max": "128M", "memory_high": "100M"})
    assert res["changed"] and not res.get("failed"), res
    assert cgroup_limit(h, unit) == 128 << 20          # lowered on the running unit at the reload
    assert h.main_pid(unit) == pid

    before = cat(h, "/etc/systemd/system/%s.d/50-oomguard.conf" % unit)
    res = run_on(run_module, h, {"unit": unit, "memory_max": "16M"})
    assert res.get("failed") and "uses" in res["msg"] and "force=true" in res["msg"], res
    assert cat(h, "/etc/systemd/system/%s.d/50-oomguard.conf" % unit) == before
    assert cgroup_limit(h, unit) == 128 << 20 and h.main_pid(unit) == pid

    # a key in the wrong unit type on a real host: refused, nothing written
    res = run_on(run_module, h, {"unit": "system.slice", "oom_score_adjust": 5})
    assert res.get("failed") and "does not belong in a .slice unit" in res["msg"]
    assert cat(h, "/etc/systemd/system/system.slice.d/50-oomguard.conf") is None


@pytest.mark.bench
@pytest.mark.root
@pytest.mark.slow
def test_unit_is_oom_killed_past_memory_max(run_module, make_systemd_host):
    h = make_systemd_host()
    unit = "oomg-leak.service"
    make_service(h, unit, 512, wait_for_go=True)
    res = run_on(run_module, h, {"unit": unit, "memory_max": "64M", "oom_policy": "stop"})
    assert not res.get("failed") and cgroup_limit(h, unit) == 64 << 20, res
    cg = h.systemctl_show(unit, "ControlGroup")["ControlGroup"]
    memsw = "/sys/fs/cgroup/memory%s/memory.memsw.limit_in_bytes" % cg
    # Swap is machine-wide and other tests may turn it on: systemd (v1) sets only memory.limit_in_bytes, so with
    # swap active the leak would be swapped out instead of killed. Cap memory+swap at the same 64M so the kill
    # is deterministic either way; this is test setup, not something the module writes.
    swap_active = len(open("/proc/swaps").read().splitlines()) > 1
    if cat(h, memsw) is not None:
        h.exec("echo %d > %s" % (64 << 20, memsw))
    else:
        assert not swap_active, "swap is active and this kernel has no memsw files: the OOM kill cannot be forced"
    h.exec("touch /run/oomg-go")
    state = wait_for(lambda: h.systemctl_show(unit, "ActiveState")["ActiveState"] == "failed" and "failed", timeout=60)
    assert state == "failed", h.systemctl_show(unit, "ActiveState", "Result", "ExecMainStatus")
    props = h.systemctl_show(unit, "Result", "ExecMainStatus", "ExecMainCode")
    assert props["Result"] in ("signal", "oom-kill"), props   # cgroup v1: 'signal'; v2: 'oom-kill'
    assert props["ExecMainStatus"] == "9", props               # SIGKILL from the kernel's OOM killer
    log = h.exec("journalctl -k --no-pager -o cat | grep -F 'oom_memcg=%s' | tail -n 1" % cg, check=False).stdout
    assert "oom-kill:constraint=CONSTRAINT_MEMCG" in log, log


@pytest.mark.bench
@pytest.mark.root
@pytest.mark.slow
def test_precedence_warning_and_slice(run_module, make_systemd_host):
    h = make_systemd_host()
    h.write_file("/etc/systemd/system/nginx.service.d/90-later.conf", "[Service]\nOOMScoreAdjust=100\n")
    res = run_on(run_module, h, {"unit": "nginx", "oom_score_adjust": 200})
    assert not res.get("failed"), res
    later = "/etc/systemd/system/nginx.service.d/90-later.conf"
    assert res["overridden_by"]["OOMScoreAdjust"] == [{"path": later, "value": "100"}]
    assert any(later in w and "overridden" in w for w in res["warnings"]), res["warnings"]
    assert h.systemctl_show("nginx.service", "OOMScoreAdjust")["OOMScoreAdjust"] == "100"  # the later file wins
    assert res["effective"]["nginx.service"]["OOMScoreAdjust"] == "100"

    res = run_on(run_module, h, {"unit": "oomg-batch.slice", "memory_max": "300M"})
    assert res["changed"] and not res.get("failed"), res
    assert cat(h, "/etc/systemd/system/oomg-batch.slice.d/50-oomguard.conf").splitlines()[2:] == ["[Slice]", "MemoryMax=300M"]
    assert h.systemctl_show("oomg-batch.slice", "MemoryMax")["MemoryMax"] == str(300 << 20)

    res = run_on(run_module, h, {"unit": "nginx", "oom_score_adjust": 200, "runtime": True})
    assert res["path"] == "/run/systemd/system/nginx.service.d/50-oomguard.conf"
    assert cat(h, res["path"]) is not None


@pytest.mark.bench
@pytest.mark.root
@pytest.mark.serial
@pytest.mark.slow
def test_memory_max_warns_when_v1_swap_escapes_it(run_module, make_systemd_host):
    """On cgroup v1 systemd sets no memory+swap limit: with swap active a unit swaps past MemoryMax=. The module
    must say so when (and only when) swap is really active. Swap is machine-wide: a 32M swapfile, removed at the end."""
    if not os.path.exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"):
        pytest.fail("this check needs cgroup v1 with memsw accounting (this machine kind has it)")
    h = make_systemd_host()
    make_service(h, "oomg-swapesc.service", 8)
    unit = "oomg-swapesc.service"
    wait_for(lambda: h.main_pid(unit))
    # swapfile refuses a directory anyone but root can write (/tmp is sticky 1777): a root-owned 0755 one
    swapdir = Path(tempfile.mkdtemp(prefix="swapesc-", dir=swap_test_base()))
    swap = {"path": str(swapdir / "swapfile"), "size": "32M", "fstab_path": str(swapdir / "fstab")}
    try:
        res = run_module("swapfile", swap)
        assert res["changed"] and not res.get("failed"), res
        assert any(line.split()[0] == swap["path"] for line in open("/proc/swaps").read().splitlines()[1:])
        res = run_on(run_module, h, {"unit": unit, "memory_max": "256M"})
        assert not res.get("failed"), res
        assert any("swap past it" in w for w in res.get("warnings", [])), res.get("warnings")
    finally:
        run_module("swapfile", dict(swap, state="absent"))
        shutil.rmtree(swapdir, ignore_errors=True)
    assert all(line.split()[0] != swap["path"] for line in open("/proc/swaps").read().splitlines()[1:])
    if open("/proc/swaps").read().splitlines()[1:]:
        return  # someone else's swap is active on this machine: the "no warning without swap" half cannot be shown
    res = run_on(run_module, h, {"unit": unit, "memory_max": "200M"})
    assert res["changed"] and not any("swap past it" in w for w in res.get("warnings", [])), res.get("warnings")
