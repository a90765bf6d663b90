# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Time a module the way Ansible runs it on a managed host: its own process, from the BUILT and INSTALLED collection,
through the AnsiballZ wrapper.

* :class:`Installed` builds the collection (``ansible-galaxy collection build``) and installs the tarball into a
  temporary collections path (``ansible-galaxy collection install -p``): what a user gets, not the checkout.
* :func:`capture` runs the module once with ``ansible localhost -m FQCN -a ARGS`` (local connection, pipelining off,
  ``ANSIBLE_KEEP_REMOTE_FILES=1``) and keeps the ``AnsiballZ_<module>.py`` that Ansible wrote. That file holds the
  zipped module and module_utils and the arguments; ``python3 AnsiballZ_x.py`` unzips it, imports (and compiles, from
  the zip: no cached bytecode) the module, runs it and prints the ``exit_json`` result, exactly as on a managed host.
* :func:`timed` runs a command and returns its wall time and the CPU time of the process tree (rusage of children).
* Start-up (Python + AnsibleModule + exit_json of a tiny result) is the same wrapper for ``ansible.builtin.ping``:
  measured alone, in the same run, and subtracted.
"""
from __future__ import annotations

import glob
import json
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
TARGET_PYTHON = "/usr/bin/python3"  # the managed host's interpreter (what the audit and the tests use)


def load() -> str:
    """The machine's load average (``uptime``'s numbers): noisy neighbours show here."""
    one, five, fifteen = os.getloadavg()
    return "load %.2f %.2f %.2f (%d CPUs)" % (one, five, fifteen, os.cpu_count() or 0)


def _ansible_env(collections: Path, work: Path) -> dict:
    env = dict(os.environ)
    cfg = work / "ansible.cfg"
    if not cfg.exists():
        cfg.write_text("[defaults]\nhost_key_checking = False\nretry_files_enabled = False\n", encoding="utf-8")
    env.update({
        "ANSIBLE_CONFIG": str(cfg),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "PATH": "%s:%s" % (VENV_BIN, env.get("PATH", "")),
    })
    return env


class Installed:
    """The collection built from this checkout and installed into a temporary collections path."""

    def __init__(self, source: Path = ROOT):
        self.source = source
        self.work = Path(tempfile.mkdtemp(prefix="oomguard-bench-install-"))
        self.collections = self.work / "collections"

    def __enter__(self):
        build = self.work / "build"
        subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(build),
                        str(self.source)], check=True, stdout=subprocess.DEVNULL, env=_ansible_env(self.collections, self.work))
        tarball = glob.glob(str(build / "oomguard-linux-*.tar.gz"))[0]
        subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "install", "--force", "-p", str(self.collections),
                        tarball], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=_ansible_env(self.collections, self.work))
        assert (self.collections / "ansible_collections" / "oomguard" / "linux" / "MANIFEST.json").exists()
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.work, ignore_errors=True)

    def env(self) -> dict:
        return _ansible_env(self.collections, self.work)


def capture(installed: Installed, fqcn: str, args: dict, name: str) -> Path:
    """Run ``fqcn`` with ``args`` once through ``ansible`` and return the path of the AnsiballZ wrapper it ran."""
    remote = Path(tempfile.mkdtemp(prefix="remote-", dir=str(installed.work)))
    env = installed.env()
    env.update({"ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_PIPELINING": "0", "ANSIBLE_REMOTE_TMP": str(remote)})
    proc = subprocess.run([str(VENV_BIN / "ansible"), "localhost", "-i", "localhost,", "-c", "local",
                           "-e", "ansible_python_interpreter=" + TARGET_PYTHON, "-m", fqcn] + (["-a", json.dumps(args)] if args else []),
                          env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit("capture of %s %s failed (rc=%d):\n%s\n%s"
                         % (fqcn, args, proc.returncode, proc.stdout[-3000:], proc.stderr[-2000:]))
    found = glob.glob(str(remote / "ansible-tmp-*" / ("AnsiballZ_%s.py" % fqcn.rsplit(".", 1)[1])))
    assert len(found) == 1, found
    dest = installed.work / ("%s.py" % name)
    shutil.copyfile(found[0], dest)
    shutil.rmtree(remote, ignore_errors=True)
    return dest


def run_wrapper(wrapper: Path) -> dict:
    """Run an AnsiballZ wrapper as Ansible does and return its parsed result (failing loudly on a failed module)."""
    proc = subprocess.run([TARGET_PYTHON, str(wrapper)], capture_output=True, check=False)
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        raise SystemExit("%s printed no JSON (rc=%d): %s" % (wrapper, proc.returncode, proc.stderr[-2000:]))
    if result.get("failed"):
        raise SystemExit("%s failed: %s" % (wrapper, result.get("msg")))
    return result


def timed(argv, shell=False):
    """``(wall seconds, CPU seconds of the whole process tree)`` of one run; stdout is read through a pipe and
    discarded, as a user's terminal or Ansible's connection would read it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, shell=shell, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit("%s exited %d" % (argv, proc.returncode))
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


class Rounds:
    """Interleaved rounds of several commands (one run of each per round, so a burst of load hits all of them)."""

    def __init__(self, commands: dict, rounds: int):
        self.commands = commands
        self.rounds = rounds
        self.wall = dict((name, []) for name in commands)
        self.cpu = dict((name, []) for name in commands)

    def run(self):
        for name, argv in self.commands.items():  # warm-up: page cache, dentries
            timed(argv, shell=isinstance(argv, str))
        for _round in range(self.rounds):
            for name, argv in self.commands.items():
                wall, cpu = timed(argv, shell=isinstance(argv, str))
                self.wall[name].append(wall)
                self.cpu[name].append(cpu)
        return self

    def best(self, name) -> float:
        return min(self.wall[name])

    def best_cpu(self, name) -> float:
        return min(self.cpu[name])

    def line(self, name) -> str:
        walls = self.wall[name]
        return "%-34s best %7.1f ms  median %7.1f ms  cpu best %7.1f ms" % (
            name, min(walls) * 1000, statistics.median(walls) * 1000, min(self.cpu[name]) * 1000)


def wrapper_cmd(wrapper: Path):
    return [TARGET_PYTHON, str(wrapper)]
