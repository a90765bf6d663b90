# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a collection module the way users do: through ansible-playbook, against a real host.

Each call writes a one-task playbook, runs it with the ansible.posix.json callback and returns the
task's result for the host, so tests assert on what Ansible really returned (changed, diff, warnings,
failures) and then on the effect on the system.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent.parent
ROOT = TESTS_DIR.parent
DEFAULT_INVENTORY = TESTS_DIR / "inventory" / "localhost.yml"


class AnsibleRunError(RuntimeError):
    """ansible-playbook itself failed (not the task): bad playbook, unreachable host, crash."""


VENV_BIN = ROOT / ".venv" / "bin"


def ansible_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    if VENV_BIN.is_dir() and str(VENV_BIN) not in env.get("PATH", "").split(os.pathsep):
        env["PATH"] = str(VENV_BIN) + os.pathsep + env.get("PATH", "")
    env.setdefault("ANSIBLE_CONFIG", str(TESTS_DIR / "ansible.cfg"))
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".collections"))
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    env["ANSIBLE_LOAD_CALLBACK_PLUGINS"] = "1"
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_DEPRECATION_WARNINGS"] = "0"
    if extra:
        env.update(extra)
    return env


def _playbook_bin() -> str:
    candidate = VENV_BIN / "ansible-playbook"
    return str(candidate) if candidate.exists() else "ansible-playbook"


def run_playbook(plays: list, inventory: str | Path | None = None, extra_env: dict | None = None,
                 extra_args: list | None = None, timeout: int = 600, wrapper: list | None = None) -> dict:
    """Run a playbook given as a Python structure; return the json callback's document.

    ``wrapper`` prefixes the command, e.g. ``["nsenter", "-t", PID, "-m", "--"]`` to run Ansible (and so a
    local module) inside another mount namespace such as the private journald's.
    """
    with tempfile.NamedTemporaryFile("w", suffix=".yml", prefix="oomguard-test-", delete=False) as fh:
        json.dump(plays, fh)
        path = fh.name
    try:
        cmd = list(wrapper or []) + [_playbook_bin(), "-i", str(inventory or DEFAULT_INVENTORY), path] + list(extra_args or [])
        proc = subprocess.run(cmd, env=ansible_env(extra_env), capture_output=True, text=True, timeout=timeout, check=False)
    finally:
        os.unlink(path)
    try:
        doc = json.loads(proc.stdout[proc.stdout.index("{"):])
    except ValueError as exc:
        raise AnsibleRunError(f"ansible-playbook rc={proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}") from exc
    doc["_rc"] = proc.returncode
    doc["_stderr"] = proc.stderr
    return doc


def run_module(module: str, args: dict | None = None, host: str = "localhost", check: bool = False,
               diff: bool = False, inventory: str | Path | None = None, extra_env: dict | None = None,
               wrapper: list | None = None) -> dict:
    """Run one module task on one host and return its result dict (``failed`` set on failure)."""
    if "." not in module:
        module = f"oomguard.linux.{module}"
    task = {"name": "module under test", module: args or {}, "check_mode": check, "diff": diff}
    play = {"hosts": host, "gather_facts": False, "tasks": [task]}
    doc = run_playbook([play], inventory=inventory, extra_env=extra_env, wrapper=wrapper)
    try:
        result = doc["plays"][0]["tasks"][0]["hosts"][host]
    except (KeyError, IndexError) as exc:
        raise AnsibleRunError(f"no result for {host}: {json.dumps(doc)[:4000]}") from exc
    return result
