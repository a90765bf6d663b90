# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Controller-only code lives in plugins/plugin_utils and never ships to a managed host (issue 16).

Ansible packs into a module's payload every ``module_utils`` file the module imports, so the report code must not be
there; the action plugin and the filters share plugin_utils instead of importing each other; the hostvars read is
written once.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
PLUGINS = ROOT / "plugins"


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def test_report_code_is_controller_only():
    assert (PLUGINS / "plugin_utils" / "_report.py").is_file()
    assert (PLUGINS / "plugin_utils" / "_report_render.py").is_file()
    assert not list((PLUGINS / "module_utils").glob("_report*.py"))
    managed = list((PLUGINS / "modules").glob("*.py")) + list((PLUGINS / "module_utils").glob("*.py"))
    assert len(managed) > 5
    for path in managed:
        bad = [name for name in _imports(path) if ".plugin_utils" in name or ".plugins.filter" in name]
        assert not bad, "%s imports controller code %s" % (path.name, bad)


def test_action_and_filters_share_plugin_utils_not_each_other():
    action = _imports(PLUGINS / "action" / "oom_report_write.py")
    assert not [name for name in action if ".plugins.filter" in name], action
    assert "ansible_collections.oomguard.linux.plugins.plugin_utils._report" in action
    for path in (PLUGINS / "filter").glob("oom_report*.py"):
        assert [name for name in _imports(path) if ".plugin_utils._report" in name], path.name


def test_hostvars_are_read_in_one_place():
    readers = sorted(str(p.relative_to(PLUGINS)) for p in PLUGINS.rglob("*.py") if "raw_get" in p.read_text(encoding="utf-8"))
    assert readers == ["plugin_utils/_report.py"], readers


def test_the_audit_runtime_is_ansible_core_only_and_pinned():
    """`make audit` builds .venv-audit from requirements/audit.txt: ansible-core, pinned to what the tests run."""
    import ansible.release  # pylint: disable=import-outside-toplevel

    lines = [line.strip() for line in (ROOT / "requirements" / "audit.txt").read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines == ["ansible-core==%s" % ansible.release.__version__]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    target = makefile[makefile.index("\naudit:"):].split("\n\n", 1)[0]
    assert "$(AUDIT_VENV)/.stamp" in target and "bootstrap" not in target.split("##")[0], target
    assert "-r requirements/audit.txt" in makefile and "AUDIT_VENV=$(AUDIT_VENV) scripts/audit" in target
