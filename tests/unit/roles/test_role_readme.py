# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""The role README's variables table, defaults/main.yml and meta/argument_specs.yml agree (scripts/role-readme)."""
from __future__ import annotations

import importlib.machinery
import importlib.util
import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "oom_protect"


def _load_script():
    loader = importlib.machinery.SourceFileLoader("role_readme", str(ROOT / "scripts" / "role-readme"))
    spec = importlib.util.spec_from_loader("role_readme", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


role_readme = _load_script()


def test_readme_and_defaults_agree_with_argument_specs():
    problems = role_readme.process(ROLE, check=True)
    assert problems == [], "\n".join(problems)


def test_every_variable_and_item_key_is_in_the_readme():
    readme = (ROLE / "README.md").read_text(encoding="utf-8")
    options = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))["argument_specs"]["main"]["options"]
    assert len(options) >= 10
    for name, spec in options.items():
        assert f"| `{name}` |" in readme
        for key in spec.get("options", {}):
            assert f"| `{key}` |" in readme, f"{name}.{key} missing from README"


def test_defaults_and_argument_specs_are_one_to_one():
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
    options = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))["argument_specs"]["main"]["options"]
    assert set(defaults) == set(options)
    assert all(name.startswith("oom_protect_") for name in defaults)
    for name, value in defaults.items():
        assert options[name]["default"] == value, name


@pytest.fixture
def role_copy(tmp_path):
    copy = tmp_path / "oom_protect"
    shutil.copytree(ROLE, copy)
    return copy


def test_check_fails_when_argument_specs_change(role_copy):
    specs_path = role_copy / "meta" / "argument_specs.yml"
    specs = yaml.safe_load(specs_path.read_text(encoding="utf-8"))
    specs["argument_specs"]["main"]["options"]["oom_protect_apply"]["description"] = ["A new description."]
    specs_path.write_text(yaml.safe_dump(specs), encoding="utf-8")
    problems = role_readme.process(role_copy, check=True)
    assert len(problems) == 1 and "disagrees with meta/argument_specs.yml" in problems[0]
    assert "+| `oom_protect_apply` | str | `\"live\"` | A new description. Choices: `live`, `restart`, `none`. |" in problems[0]


def test_check_fails_when_a_default_differs(role_copy):
    defaults_path = role_copy / "defaults" / "main.yml"
    defaults_path.write_text(defaults_path.read_text(encoding="utf-8").replace("oom_protect_apply: live", "oom_protect_apply: none"),
                             encoding="utf-8")
    problems = role_readme.process(role_copy, check=True)
    assert problems == ["oom_protect_apply: default 'none' in defaults/main.yml, 'live' in argument_specs"]


def test_check_fails_on_a_variable_missing_from_argument_specs(role_copy):
    defaults_path = role_copy / "defaults" / "main.yml"
    defaults_path.write_text(defaults_path.read_text(encoding="utf-8") + "oom_protect_new_thing: 1\n", encoding="utf-8")
    problems = role_readme.process(role_copy, check=True)
    assert problems == ["oom_protect_new_thing: in defaults/main.yml but not in meta/argument_specs.yml"]


def test_rewrite_restores_the_table(role_copy):
    readme_path = role_copy / "README.md"
    text = readme_path.read_text(encoding="utf-8")
    start = text.index(role_readme.BEGIN)
    end = text.index(role_readme.END)
    readme_path.write_text(text[:start] + role_readme.BEGIN + "\nstale\n" + text[end:], encoding="utf-8")
    assert role_readme.process(role_copy, check=True)
    assert role_readme.process(role_copy, check=False) == []
    assert readme_path.read_text(encoding="utf-8") == text


def test_markup_is_rendered_as_markdown():
    assert role_readme.markup("C(sysctl -p) with V(live), O(oom_protect_services[].unit) and I(not) B(this)") == (
        "`sysctl -p` with `live`, `oom_protect_services[].unit` and *not* **this**")
