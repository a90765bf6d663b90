# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The fleet audit on a real fleet: localhost, three systemd test hosts in different states and one host that does not exist.

- killed: a unit with MemoryMax=32M running a leaker; the kernel really kills it (its kill lands in that host's kernel log);
- protected: a batch job's oom_score_adj raised to 900 so it, not nginx, is the kernel's next victim; nginx as intended;
- unprotected: nginx's oom_score_adj raised to 500 (drift from the intended 0, and exposed);
- ghost: an inventory entry for a container that does not exist (unreachable).
The report files are parsed back (JSON, CSV, Prometheus text format) and index.html is rendered by a real headless Chromium.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from helpers.browser import Browser
from helpers.procs import spawner, write_adj  # noqa: F401  pylint: disable=unused-import

TESTS_DIR = Path(__file__).resolve().parent.parent
ROOT = TESTS_DIR.parent
PLAYBOOK = ROOT / "playbooks" / "audit.yml"
FILES = ("report.json", "hosts.csv", "kills.csv", "index.html", "oomguard.prom")

LEAK_UNIT = """[Unit]
Description=oomguard audit test: a leaker the kernel kills at MemoryMax

[Service]
Type=exec
MemoryMax=32M
ExecStart=/usr/local/bin/oomguard-leak /usr/local/lib/oomguard-leak.py
"""
# Sleeps first so the test can read the pid (and set the memsw limit when swap is active), then leaks 1 MiB at a time.
LEAK_SCRIPT = "import time\ntime.sleep(3)\nb = []\nwhile True:\n    b.append(bytearray(1 << 20))\n"


def _env():
    env = dict(os.environ)
    env.setdefault("ANSIBLE_CONFIG", str(TESTS_DIR / "ansible.cfg"))
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".collections"))
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_DEPRECATION_WARNINGS"] = "0"
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}"
    return env


def run_audit(inventory, report_dir, extra_vars=None, playbook=str(PLAYBOOK), timeout=600, env=None):
    cmd = ["ansible-playbook", "-i", str(inventory), playbook, "-e", json.dumps(
        dict({"oomguard_audit_report_dir": str(report_dir)}, **(extra_vars or {})))]
    return subprocess.run(cmd, env=dict(_env(), **(env or {})), capture_output=True, text=True, timeout=timeout, check=False)


def _swap_active():
    with open("/proc/swaps", encoding="utf-8") as fh:
        return len(fh.read().strip().splitlines()) > 1


def _oom_kill_leaker(host):
    """Start the leak unit in ``host`` and wait for the kernel to kill it; return the victim's host pid."""
    host.exec("ln -sf /usr/bin/python3 /usr/local/bin/oomguard-leak")
    host.write_file("/usr/local/lib/oomguard-leak.py", LEAK_SCRIPT)
    host.write_file("/etc/systemd/system/oomguard-leak.service", LEAK_UNIT)
    host.exec("systemctl daemon-reload && systemctl start oomguard-leak.service")
    pid = host.main_pid("oomguard-leak.service")
    assert pid > 0, "the leak unit did not start"
    host_pid = host.host_pid(pid)
    memsw = host.memory_cgroup_dir / "system.slice" / "oomguard-leak.service" / "memory.memsw.limit_in_bytes"
    limit = (host.memory_cgroup_dir / "system.slice" / "oomguard-leak.service" / "memory.limit_in_bytes").read_text().strip()
    assert int(limit) == 32 << 20, f"MemoryMax=32M is not enforced (limit {limit})"
    if _swap_active() and memsw.exists():
        memsw.write_text(str(32 << 20))  # on cgroup v1 the unit would swap instead of being killed
    deadline = time.monotonic() + 60
    state = {}
    while time.monotonic() < deadline:
        state = host.systemctl_show("oomguard-leak.service", "ActiveState", "Result", "ExecMainStatus")
        if state["ActiveState"] in ("failed", "inactive"):
            break
        time.sleep(0.5)
    assert state.get("ActiveState") == "failed" and state.get("Result") in ("signal", "oom-kill"), state
    assert state.get("ExecMainStatus") == "9", state  # SIGKILL from the OOM killer
    return host_pid


# the audit runs its facts task with become; the bench image has no sudo, and root may su without a password
PODMAN_BECOME = "      ansible_become_method: ansible.builtin.su"


def _write_inventory(path, hosts, ghost):
    lines = ["---", "all:", "  hosts:", "    localhost:", "      ansible_connection: local",
             "      ansible_python_interpreter: /usr/bin/python3"]
    for h in hosts:
        lines += [f"    {h.name}:", "      ansible_connection: containers.podman.podman", PODMAN_BECOME,
                  "      ansible_python_interpreter: /usr/bin/python3"]
    lines += [f"    {ghost}:", "      ansible_connection: containers.podman.podman",
              "      ansible_python_interpreter: /usr/bin/python3"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def chromium():
    """Debian's chromium; installed with apt-get when missing. FAILS (never skips) when it cannot be installed."""
    exe = shutil.which("chromium")
    if not exe:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        log = []
        for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, check=False)
            log.append(f"$ {' '.join(cmd)} -> {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        exe = shutil.which("chromium")
        if not exe:
            pytest.fail("cannot install Debian's chromium for the HTML test:\n" + "\n".join(log), pytrace=False)
    return exe


def dump_dom(chromium_exe, page):
    profile = tempfile.mkdtemp(prefix="oomguard-chromium-")
    try:
        proc = subprocess.run([chromium_exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                               "--dump-dom", f"file://{page}"], capture_output=True, text=True, timeout=120, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0 and "<table" in proc.stdout, f"chromium failed rc={proc.returncode}: {proc.stderr[-3000:]}"
    return proc.stdout


def _prom_samples(text):
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return out


@pytest.mark.bench
@pytest.mark.root
@pytest.mark.slow
def test_audit_of_a_real_fleet(make_systemd_host, chromium, tmp_path):  # pylint: disable=too-many-locals,too-many-statements
    killed, protected, unprotected = make_systemd_host(count=3)
    ghost = f"oomguard-ghost-{os.getpid()}"

    # killed: a real kernel OOM kill inside the host's unit
    victim_pid = _oom_kill_leaker(killed)

    # protected: the batch job is the next victim, nginx runs at its intended 0; no PostgreSQL there
    protected.exec("systemctl stop postgresql.service 'postgresql@*'")
    protected.exec("systemd-run --unit=oomguard-batch.service /bin/sleep 3600")
    batch_pid = protected.main_pid("oomguard-batch.service")
    protected.exec(f"echo 900 > /proc/{batch_pid}/oom_score_adj")

    # unprotected: nginx raised to 500 (its master and workers)
    nginx_pid = unprotected.main_pid("nginx.service")
    assert nginx_pid > 0
    unprotected.exec("for p in $(pgrep -x nginx); do echo 500 > /proc/$p/oom_score_adj; done")

    inventory = tmp_path / "fleet.yml"
    _write_inventory(inventory, [killed, protected, unprotected], ghost)
    report_dir = tmp_path / "report"
    settings = {"oomguard_audit_intended": {"nginx": 0}, "oomguard_audit_thresholds": {"top_victims": 1},
                "oomguard_audit_since": "1h", "oomguard_audit_fail_on": ["drift"]}
    proc = run_audit(inventory, report_dir, settings)

    # fail_on drift fails the run with a clear message, after the report was written
    assert proc.returncode != 0, proc.stdout[-4000:]
    assert "OOM audit failed on drift" in proc.stdout, proc.stdout[-4000:]
    assert f"{unprotected.name}/nginx intended 0 live 500" in proc.stdout
    for name in FILES:
        assert (report_dir / name).stat().st_size > 0, name

    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    hosts = {h["host"]: h for h in report["hosts"]}
    assert set(hosts) == {"localhost", killed.name, protected.name, unprotected.name, ghost}

    # the unreachable host is listed, with why
    assert hosts[ghost]["status"] == "unreachable" and not hosts[ghost]["reachable"] and hosts[ghost]["reason"]
    assert hosts[ghost]["risk"] == "unknown"
    for name in ("localhost", killed.name, protected.name, unprotected.name):
        assert hosts[name]["status"] == "ok", hosts[name]

    # the kill: pid (the kernel's), comm, unit, on the killed host only among the test hosts
    kills = [k for k in report["kills"] if k["host"] == killed.name]
    # on the killed host the kill is the host's own (it is that container), on localhost it is the container's
    assert [(k["pid"], k["comm"], k["unit"], k["killer"], k["container_id"]) for k in kills] == [
        (victim_pid, "oomguard-leak", "oomguard-leak.service", "kernel", None)], kills
    assert hosts[killed.name]["container"] == {"runtime": "podman", "id": killed.id}
    assert hosts[killed.name]["kill_count"] == 1 and hosts[killed.name]["risk"] in ("high", "critical")
    assert any(r["rule"] == "kills" for r in hosts[killed.name]["reasons"])
    assert not [k for k in report["kills"] if k["host"] in (protected.name, unprotected.name)]
    # localhost sees every kill of the machine, the container's among them
    assert any(k["pid"] == victim_pid and k["container_id"] == killed.id for k in report["kills"] if k["host"] == "localhost")

    services = {(s["host"], s["service"]): s for s in report["critical_services"]}
    bad = services[(unprotected.name, "nginx")]
    assert (bad["pid"], bad["oom_score_adj"], bad["intended"], bad["drift"], bad["protected"]) == (nginx_pid, 500, 0, True, False)
    assert bad["unit"] == "nginx.service"
    rules = {r["rule"]: r for r in hosts[unprotected.name]["reasons"]}
    assert rules["unprotected"]["level"] == "high" and "nginx" in rules["unprotected"]["message"]
    assert "drift" in rules and hosts[unprotected.name]["drift_count"] == 1

    good = services[(protected.name, "nginx")]
    assert (good["oom_score_adj"], good["drift"]) == (0, False) and good["rank"] > 1
    prules = {r["rule"] for r in hosts[protected.name]["reasons"]}
    assert not prules & {"unprotected", "top_victim", "drift", "kills"}, hosts[protected.name]["reasons"]
    assert (protected.name, "postgres") not in services

    # Debian's postgresql@.service asks for OOMScoreAdjust=-900; without CAP_SYS_RESOURCE it runs at 0: reported
    adj_msgs = [r["message"] for r in hosts[unprotected.name]["reasons"] if r["rule"] == "adj_not_enforced"]
    assert any("postgresql@" in m and "OOMScoreAdjust=-900" in m for m in adj_msgs), hosts[unprotected.name]["reasons"]

    # memory figures are the host's real ones (the containers share the VM's /proc/meminfo)
    with open("/proc/meminfo", encoding="utf-8") as fh:
        mem_total = int(next(line for line in fh if line.startswith("MemTotal:")).split()[1])
    assert hosts["localhost"]["mem_total_kb"] == mem_total

    # CSV files parse back
    with open(report_dir / "hosts.csv", encoding="utf-8", newline="") as fh:
        rows = {r["host"]: r for r in csv.DictReader(fh)}
    assert rows[ghost]["status"] == "unreachable" and rows[ghost]["reachable"] == "false"
    assert rows[unprotected.name]["drift_count"] == "1" and rows[killed.name]["kill_count"] == "1"
    with open(report_dir / "kills.csv", encoding="utf-8", newline="") as fh:
        krows = [r for r in csv.DictReader(fh) if r["host"] == killed.name]
    assert [(r["pid"], r["comm"], r["unit"]) for r in krows] == [(str(victim_pid), "oomguard-leak", "oomguard-leak.service")]

    # the Prometheus file passes prometheus_client's parser
    samples = _prom_samples((report_dir / "oomguard.prom").read_text(encoding="utf-8"))
    up = {s[0]["host"]: s[1] for s in samples["oomguard_host_up"]}
    assert up == {"localhost": 1, killed.name: 1, protected.name: 1, unprotected.name: 1, ghost: 0}
    assert ({"host": killed.name, "unit": "oomguard-leak.service", "killer": "kernel", "container_id": ""}, 1) \
        in samples["oomguard_kills"]
    assert ({"host": unprotected.name, "service": "nginx", "container_id": ""}, 1) in samples["oomguard_critical_unprotected"]
    assert ({"host": unprotected.name, "service": "nginx", "container_id": ""}, 1) in samples["oomguard_oom_score_adj_drift"]
    swap_hosts = {s[0]["host"] for s in samples["oomguard_swap_total_bytes"]}
    assert swap_hosts == {"localhost", killed.name, protected.name, unprotected.name}

    # index.html in a real browser: host names and the kill row are in the DOM
    dom = dump_dom(chromium, report_dir / "index.html")
    for name in ("localhost", killed.name, protected.name, unprotected.name, ghost):
        assert name in dom, name
    assert f'<td data-label="pid" class="num">{victim_pid}</td><td data-label="comm" class="long">oomguard-leak</td>' in dom
    assert "<svg" in dom and "<circle" in dom


@pytest.mark.slow
def test_make_audit_script_audits_this_machine(tmp_path, chromium):
    """scripts/audit (what `make audit` runs): embedded localhost inventory, five files, summary and path printed."""
    report_dir = tmp_path / "report"
    env = _env()
    env["AUDIT_REPORT_DIR"] = str(report_dir)
    proc = subprocess.run([str(ROOT / "scripts" / "audit")], env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert f"report: {report_dir}/index.html" in proc.stdout.splitlines()[-1]
    assert "== OOM audit ==" in proc.stdout
    assert "hosts: 1 in inventory, 1 fully audited, 0 not fully audited (0 kernel log unreadable, 0 unreachable, 0 failed)" \
        in proc.stdout
    for name in FILES:
        assert (report_dir / name).stat().st_size > 0, name
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    host = report["hosts"][0]
    with open("/proc/meminfo", encoding="utf-8") as fh:
        mem_total = int(next(line for line in fh if line.startswith("MemTotal:")).split()[1])
    assert (host["host"], host["status"], host["mem_total_kb"]) == ("localhost", "ok", mem_total)
    with open("/proc/vmstat", encoding="utf-8") as fh:
        oom_kill = int(next(line for line in fh if line.startswith("oom_kill ")).split()[1])
    assert host["oom_kill_counter"] is not None and host["oom_kill_counter"] <= oom_kill
    assert "localhost" in dump_dom(chromium, report_dir / "index.html")

    # a gate in a pipeline: AUDIT_FAIL_ON makes the script exit non-zero with the reason, and the report is still there
    env["AUDIT_FAIL_ON"] = "no_swap,kills"
    proc = subprocess.run([str(ROOT / "scripts" / "audit")], env=env, capture_output=True, text=True, timeout=600, check=False)
    again = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    if again["totals"]["no_swap"] or again["totals"]["kills"]:
        assert proc.returncode != 0 and "OOM audit failed on" in proc.stdout, proc.stdout[-3000:]
        assert "FAILED fail_on" in proc.stdout
    else:  # swap on and no kill in the window: the gate passes
        assert proc.returncode == 0, proc.stdout[-3000:]
    assert again["settings"]["fail_on"] == ["no_swap", "kills"]


# --- the audit never gives a false all-clear (issue 14), on real hosts ---------------------------------------------

SCREENSHOTS = {1366: Path("/tmp/oomguard-report-1366.png"), 390: Path("/tmp/oomguard-report-390.png")}

# what the page must do at each width, measured in the browser
PAGE_CHECKS = """(() => {
  const doc = document.documentElement;
  const top = id => { const e = document.getElementById(id); return e ? e.getBoundingClientRect().top + window.scrollY : null; };
  const reasons = Array.from(document.querySelectorAll('li.reason')).map(li => {
    const r = li.getBoundingClientRect();
    return {w: r.width, h: r.height, left: r.left, right: r.right, shown: li.offsetParent !== null, text: li.textContent};
  });
  const times = Array.from(document.querySelectorAll('#kills-table tr.kill td[data-label="time"]'))
    .map(td => parseFloat(td.getAttribute('data-v')));
  const wide = Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > doc.clientWidth + 1)
    .slice(0, 5).map(e => e.tagName + '.' + e.className);
  return {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, innerWidth: window.innerWidth,
          sections: ['hosts', 'services', 'victims', 'kills'].map(top), reasons: reasons, times: times, wide: wide,
          text: document.body.innerText};
})()"""


def check_page(chromium_exe, page, widths=(1366, 390), shots=None):
    """Load index.html in a real Chromium at each width; assert the layout people need; save the screenshots."""
    out = {}
    with Browser(chromium_exe) as browser:
        for width in widths:
            tab = browser.page(page, width)
            got = tab.evaluate(PAGE_CHECKS)
            assert got["innerWidth"] == width, got["innerWidth"]
            assert got["scrollWidth"] <= got["clientWidth"], f"sideways scrolling at {width} px: {got['wide']}"
            assert got["reasons"], "no reason on the page"
            for reason in got["reasons"]:
                assert reason["shown"] and reason["w"] > 50 and reason["h"] > 0, reason
                assert reason["left"] >= 0 and reason["right"] <= got["clientWidth"] + 1, (width, reason)
            sections = got["sections"]
            assert None not in sections and sections == sorted(sections), sections  # hosts, services, victims, kills
            assert got["times"] == sorted(got["times"], reverse=True), "kills are not newest first"
            tab.screenshot(str((shots or SCREENSHOTS)[width]))
            out[width] = got
    return out


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the socket is: nothing listens there


@pytest.mark.bench
@pytest.mark.root
@pytest.mark.slow
def test_audit_tells_what_it_could_not_see_and_names_containers(make_systemd_host, chromium, tmp_path):
    # pylint: disable=too-many-locals,too-many-statements
    """localhost (root), a bench host with a real OOM kill of a process in that container, an inventory host on a
    closed port of 127.0.0.1 (unreachable) and a host whose module run fails (a missing interpreter)."""
    bench = make_systemd_host()
    victim_pid = _oom_kill_leaker(bench)
    port = _closed_port()
    inventory = tmp_path / "fleet.yml"
    inventory.write_text("\n".join([
        "---", "all:", "  hosts:",
        "    localhost:", "      ansible_connection: local", "      ansible_python_interpreter: /usr/bin/python3",
        f"    {bench.name}:", "      ansible_connection: containers.podman.podman", PODMAN_BECOME,
        "      ansible_python_interpreter: /usr/bin/python3",
        "    closed-port:", "      ansible_host: 127.0.0.1", f"      ansible_port: {port}", "      ansible_connection: ssh",
        "      ansible_ssh_common_args: -o ConnectTimeout=5 -o StrictHostKeyChecking=no -o BatchMode=yes",
        "    broken:", "      ansible_host: localhost", "      ansible_connection: local",
        "      ansible_python_interpreter: /nonexistent/python3", ""]), encoding="utf-8")
    report_dir = tmp_path / "report"
    critical = ["oomguard-leak", "nginx", "postgres", "sshd"]
    proc = run_audit(inventory, report_dir, {"oomguard_audit_since": "1h", "oomguard_audit_critical": critical,
                                             "oomguard_audit_fail_on": ["incomplete", "unreachable"]})
    # the gate: two hosts were not fully audited; the report is written first
    assert proc.returncode != 0 and "OOM audit failed on incomplete, unreachable" in proc.stdout, proc.stdout[-4000:]
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    assert report["summary"][0] == ("hosts: 4 in inventory, 2 fully audited, 2 not fully audited (0 kernel log unreadable, "
                                    "1 unreachable, 1 failed)"), report["summary"]
    hosts = {h["host"]: h for h in report["hosts"]}

    # unreachable and failed: listed with why, every figure null, out of the sums
    closed, broken = hosts["closed-port"], hosts["broken"]
    assert closed["status"] == "unreachable" and "Connection refused" in closed["reason"], closed
    assert broken["status"] == "failed" and "/nonexistent/python3" in broken["reason"], broken
    for h in (closed, broken):
        assert h["risk"] == "unknown" and h["coverage"] == "none"
        assert [h[k] for k in ("kill_count", "critical_found", "critical_unprotected", "drift_count", "swap_total_kb",
                               "mem_total_kb", "kill_sources")] == [None] * 7
        assert h["reasons"][0]["next_step"]
    t = report["totals"]
    assert (t["hosts"], t["reachable"], t["unreachable"], t["failed"], t["not_fully_audited"]) == (4, 2, 1, 1, 2)
    assert t["covers"]["kills"] == 2 and t["kills"] == hosts["localhost"]["kill_count"] + hosts[bench.name]["kill_count"]
    assert "(covers 2 of 4 hosts)" in report["summary"][1]

    # the kernel log was read on both audited hosts, and says from where
    for name in ("localhost", bench.name):
        assert hosts[name]["coverage"] == "full" and hosts[name]["kill_sources_read"], hosts[name]["kill_sources"]
        assert set(hosts[name]["kill_sources"]) == {"journal", "dmesg", "kmsg", "files"}

    # the kill: the bench host's own critical service; on localhost a process of a container, not the host's
    own = [k for k in report["kills"] if k["host"] == bench.name and k["pid"] == victim_pid]
    assert [(k["container_id"], k["critical"]) for k in own] == [(None, True)], own
    assert any(r["rule"] == "critical_killed" for r in hosts[bench.name]["reasons"])
    seen = [k for k in report["kills"] if k["host"] == "localhost" and k["pid"] == victim_pid]
    assert [(k["container_id"], k["container_runtime"], k["critical"]) for k in seen] == [(bench.id, "podman", False)], seen
    assert not any(r["rule"] == "critical_killed" and f"pid {victim_pid}" in r["message"] for r in hosts["localhost"]["reasons"])
    # the bench host's nginx is a container process on localhost: not one of localhost's critical services
    assert not [s for s in report["critical_services"] if s["host"] == "localhost" and s["container_id"] == bench.id]
    assert [s for s in report["critical_services"] if s["host"] == bench.name and s["service"] == "nginx"]
    with open(report_dir / "kills.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["host"] == "localhost" and r["pid"] == str(victim_pid)]
    assert [(r["container_id"], r["container_runtime"], r["critical"]) for r in rows] == [(bench.id, "podman", "false")]

    # who dies next: localhost's top victims in the kernel's order, checked against /proc
    top = [v for v in report["victims"] if v["host"] == "localhost"]
    assert len(top) >= 5 and [v["place"] for v in top] == sorted(v["place"] for v in top)
    for v in top:
        try:
            with open(f"/proc/{v['pid']}/oom_score_adj", encoding="ascii") as fh:
                assert int(fh.read()) == v["oom_score_adj"], v
        except FileNotFoundError:
            continue  # exited since
    assert all(v["oom_score"] is not None and v["rss_kb"] is not None for v in top)

    # every finding carries a next step; this machine lacks CAP_SYS_RESOURCE, so no step lowers below 0 here
    for h in (hosts["localhost"], hosts[bench.name]):
        assert h["cap_sys_resource"] is False
        for r in h["reasons"]:
            assert r["next_step"], r
            assert "oom_score_adjust: -" not in r["next_step"] and "value: -" not in r["next_step"], r

    # the page, in a real browser at 1366 px and 390 px
    got = check_page(chromium, report_dir / "index.html")
    for width in (1366, 390):
        text = got[width]["text"]
        assert "cannot be fixed here" in text and "Who dies next" in text
        assert "not audited (unreachable)" in text and "not audited (failed)" in text
        assert f"podman {bench.id[:12]}" in text
    for path in SCREENSHOTS.values():
        assert path.stat().st_size > 10_000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def nobody_home():
    """A home directory nobody owns, outside pytest's private (0700) tmp tree; removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix="oomguard-nobody-"))
    os.chmod(home, 0o755)
    os.chown(home, 65534, 65534)
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _as_nobody(cmd, home):
    env = _env()
    env.update(HOME=str(home), ANSIBLE_LOCAL_TEMP=str(home / ".ansible" / "tmp"), ANSIBLE_REMOTE_TEMP=str(home / ".ansible" / "tmp"))
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] + cmd, env=env,
                          capture_output=True, text=True, timeout=600, check=False, cwd=str(home))


@pytest.mark.root
@pytest.mark.slow
def test_audit_as_nobody_says_kills_unknown(nobody_home, chromium):  # pylint: disable=redefined-outer-name
    """Run as an unprivileged user without become, every kernel-log source is refused: the kills are unknown (null),
    never 0, the host is not an all-clear, and the page says why and what to do."""
    home = nobody_home
    report_dir = home / "report"
    cmd = ["ansible-playbook", "-i", str(TESTS_DIR / "inventory" / "localhost.yml"), str(PLAYBOOK), "-e", json.dumps(
        {"oomguard_audit_report_dir": str(report_dir), "oomguard_audit_become": False, "oomguard_audit_fail_on": ["incomplete"]})]
    proc = _as_nobody(cmd, home)
    assert proc.returncode != 0 and "OOM audit failed on incomplete" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "1 not fully audited (1 kernel log unreadable" in proc.stdout
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    host = report["hosts"][0]
    assert (host["status"], host["kill_count"], host["coverage"], host["risk"]) == ("ok", None, "no_kernel_log", "unknown")
    assert report["totals"]["hosts_incomplete"] == 1 and report["totals"]["kills"] is None
    assert host["kill_sources_read"] == []
    assert "Operation not permitted" in host["kill_sources"]["dmesg"]["reason"]  # kernel.dmesg_restrict, measured
    assert host["reasons"][0]["rule"] == "kills_unknown"
    # the same machine as root reads the kernel log: the difference is the privilege, not the machine
    with open("/proc/sys/kernel/dmesg_restrict", encoding="ascii") as fh:
        assert fh.read().strip() == "1"
    with open(report_dir / "hosts.csv", encoding="utf-8", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert row["kill_count"] == "" and row["coverage"] == "no_kernel_log" and "dmesg" in row["kill_sources_failed"]
    got = check_page(chromium, report_dir / "index.html", widths=(390,), shots={390: home / "nobody-390.png"})
    assert "kills unknown: could not read the kernel log (run with become)" in got[390]["text"]


@pytest.mark.root
@pytest.mark.slow
def test_make_audit_prints_terminal_escapes_escaped(tmp_path, spawner):  # pylint: disable=redefined-outer-name
    """A real process whose name carries terminal escapes, watched as a critical name and exposed: scripts/audit and
    the play print the finding with the escapes spelled out, never raw."""
    evil = "oom\x1b[7m\x1b]0;x\x07"  # 14 bytes: the kernel keeps 15
    exposed = spawner.python("time.sleep(300)", comm=evil)
    write_adj(exposed.pid, 500)
    report_dir = tmp_path / "report"
    env = _env()
    env["AUDIT_REPORT_DIR"] = str(report_dir)
    env["AUDIT_FAIL_ON"] = "unprotected"  # the gate's message names the service: printed by the play and by the script
    proc = subprocess.run([str(ROOT / "scripts" / "audit"), "-e", json.dumps({"oomguard_audit_critical": [evil]})], env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode != 0 and "OOM audit failed on unprotected" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-2000:]
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    assert [s["comm"] for s in report["critical_services"]] == [evil]  # the data keeps the real name
    summary = proc.stdout[proc.stdout.index("== OOM audit =="):]
    assert "FAILED fail_on unprotected: 1 critical service(s) not protected: localhost/oom\\x1b[7m\\x1b]0;x\\x07=500" \
        in summary, summary
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout


@pytest.mark.slow
def test_page_stays_readable_with_long_names(chromium, tmp_path):
    """Long unit names, long unbroken process names and many findings: no sideways scrolling at 390 px, every
    finding visible, sections in order, newest kill first (facts shaped like oom_facts', rendered for real)."""
    from ansible_collections.oomguard.linux.plugins.plugin_utils._report import build_report  # pylint: disable=import-outside-toplevel
    from ansible_collections.oomguard.linux.plugins.plugin_utils._report_render import render_all  # pylint: disable=import-outside-toplevel
    from helpers.audit_facts import host_facts, kill, ok, proc, unit  # pylint: disable=import-outside-toplevel

    long_unit = "app-" + "x" * 120 + "@instance-with-a-very-long-name.service"
    facts = host_facts(processes=[proc(10 + i, "w" * 15, score=900 - i, unit=long_unit) for i in range(6)],
                       watched=[proc(80, "nginx", adj=500, score=950, unit="nginx.service")],
                       kills=[kill(100 + i, "p" * 15, unit=long_unit, time="2026-11-27T1%d:00:00+00:00" % i) for i in range(5)],
                       units=[unit(long_unit, 10, configured_adj=-500, enforced_adj=0, memory_high="512M")])
    report = build_report({"host-" + "y" * 60: ok(facts)}, intended={"nginx": -500})
    page = tmp_path / "index.html"
    page.write_text(render_all(report)["index.html"], encoding="utf-8")
    got = check_page(chromium, page, widths=(390, 1366),
                     shots={w: tmp_path / f"long-{w}.png" for w in (390, 1366)})
    assert len(got[390]["reasons"]) >= 5 and got[390]["times"][0] > got[390]["times"][-1]


@pytest.mark.root
@pytest.mark.slow
def test_audit_uses_become_by_default(tmp_path):
    """The facts task runs with become unless oomguard_audit_become is false: pointed at an unprivileged become user
    (nobody, through su), the default run cannot read the kernel log, the run without become (as root) can."""
    inventory = tmp_path / "become-nobody.yml"
    inventory.write_text("\n".join([
        "---", "all:", "  hosts:", "    localhost:", "      ansible_connection: local",
        "      ansible_python_interpreter: /usr/bin/python3", "      ansible_become_method: ansible.builtin.su",
        "      ansible_become_user: nobody", '      ansible_become_flags: "-s /bin/sh"', ""]), encoding="utf-8")
    pipelining = {"ANSIBLE_PIPELINING": "1"}  # the module goes through su's stdin: nobody cannot read root's tmp dir
    default = run_audit(inventory, tmp_path / "default", env=pipelining)
    assert default.returncode == 0, default.stdout[-3000:]
    without = run_audit(inventory, tmp_path / "without", {"oomguard_audit_become": False}, env=pipelining)
    assert without.returncode == 0, without.stdout[-3000:]
    as_nobody = json.loads((tmp_path / "default" / "report.json").read_text(encoding="utf-8"))["hosts"][0]
    as_root = json.loads((tmp_path / "without" / "report.json").read_text(encoding="utf-8"))["hosts"][0]
    assert (as_nobody["status"], as_nobody["kill_count"], as_nobody["coverage"]) == ("ok", None, "no_kernel_log"), as_nobody
    assert as_root["kill_count"] is not None and "dmesg" in as_root["kill_sources_read"], as_root["kill_sources"]
