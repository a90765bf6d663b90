# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Unit tests for the systemd knowledge in module_utils/_systemd.py: unit names, values, drop-in rendering,
drop-in precedence, cgroup paths and the kernel's limit files.

The limit files of cgroup v2 cannot exist on this machine (v1 memory controller only): those tests write a
recorded layout into a temp directory and say so. Everything else is pure text or a real temp directory tree.
"""
from __future__ import annotations

import os

import pytest

from ansible_collections.oomguard.linux.plugins.module_utils import _systemd as sd

GIB = 1024 ** 3


# -- cgroup paths -> unit -----------------------------------------------------------------------------------------
CID = "5ee797ebf6a0cd1e06d99881831745ccad6837db8a7f6db52f55413a21522dca"


@pytest.mark.parametrize("path, unit, slc, container", [
    ("/system.slice/nginx.service", "nginx.service", "system.slice", None),
    ("0::/system.slice/postgresql@15-main.service".split("::")[1], "postgresql@15-main.service", "system.slice", None),
    ("/system.slice/system-postgresql.slice/postgresql@15-main.service", "postgresql@15-main.service",
     "system-postgresql.slice", None),
    ("/system.slice/docker-%s.scope" % CID, "docker-%s.scope" % CID, "system.slice", CID),
    ("/machine.slice/libpod-%s.scope/container" % CID, "libpod-%s.scope" % CID, "machine.slice", CID),
    ("/libpod_parent/libpod-%s/system.slice/nginx.service" % CID, "nginx.service", "system.slice", CID),
    ("/kubepods/burstable/pod1234/%s" % CID, None, None, CID),
    ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12.slice/cri-containerd-%s.scope" % CID,
     "cri-containerd-%s.scope" % CID, "kubepods-burstable-pod12.slice", CID),
    ("/user.slice/user-1000.slice/session-3.scope", "session-3.scope", "user-1000.slice", None),
    # A user manager's own tree below user@UID.service: the system manager's unit is reported (lead's behaviour).
    ("/user.slice/user-1000.slice/user@1000.service/app.slice/firefox.service", "user@1000.service", "user-1000.slice",
     None),
    ("/system.slice/foo.service/worker", "foo.service", "system.slice", None),
    ("/system.slice/foo.service/payload.service", "foo.service", "system.slice", None),
    ("/oomtest", None, None, None),
    ("", None, None, None),
    ("/", None, None, None),
])
def test_unit_from_cgroup_path(path, unit, slc, container):
    got = sd.unit_from_cgroup_path(path)
    assert got["unit"] == unit
    assert got["slice"] == slc
    assert got["container_id"] == container


def test_parse_show():
    assert sd.parse_show("MainPID=77\nMemoryMax=infinity\nDescription=a=b\nnoise\n") == {
        "MainPID": "77", "MemoryMax": "infinity", "Description": "a=b"}


# -- unit names ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("postgresql", "postgresql.service"),
    ("postgresql.service", "postgresql.service"),
    ("postgresql@15-main.service", "postgresql@15-main.service"),
    ("postgresql@.service", "postgresql@.service"),
    ("postgresql@15-main", "postgresql@15-main.service"),
    ("batch.slice", "batch.slice"),
    ("session-3.scope", "session-3.scope"),
    ("dev-sda1.swap", "dev-sda1.swap"),
    ("var-lib-mysql.mount", "var-lib-mysql.mount"),
    ("foo.bar", "foo.bar.service"),                 # '.bar' is no unit type: the whole name is the prefix
    ("a\\x2db.service", "a\\x2db.service"),         # systemd-escape output keeps its backslash
    ("user@1000.service", "user@1000.service"),
    ("getty@tty1@x.service", "getty@tty1@x.service"),  # a second '@' is part of the instance
    ("a:b_c.service", "a:b_c.service"),
    ("x" * 247 + ".service", "x" * 247 + ".service"),  # 255 characters
])
def test_normalize_unit_name_accepts(name, expected):
    assert sd.normalize_unit_name(name) == expected


@pytest.mark.parametrize("name, fragment", [
    ("", "non-empty"),
    ("../../etc/foo", "must not contain '/'"),
    ("foo/bar.service", "must not contain '/'"),
    ("foo..bar.service", "'..'"),
    ("foo\nbar.service", "control character"),
    ("foo\x00.service", "control character"),
    ("foo\t.service", "control character"),
    (".service", "must not start with '.'"),
    (".hidden.service", "must not start with '.'"),
    ("@foo.service", "must not start with '@'"),
    ("foo bar.service", "not allowed"),
    ("foo$bar", "not allowed"),
    ("fü.service", "not allowed"),
    ("x" * 248 + ".service", "longer than 255"),
    ("x" * 250, "longer than 255"),                 # .service appended makes it too long
])
def test_normalize_unit_name_refuses(name, fragment):
    with pytest.raises(sd.SystemdError, match=None) as info:
        sd.normalize_unit_name(name)
    assert fragment in str(info.value)


def test_split_unit_name():
    assert sd.split_unit_name("postgresql@15-main.service") == {
        "prefix": "postgresql", "instance": "15-main", "type": "service", "template": "postgresql@.service"}
    assert sd.split_unit_name("postgresql@.service")["instance"] == ""
    assert sd.split_unit_name("nginx.service") == {"prefix": "nginx", "instance": None, "type": "service", "template": None}
    assert sd.is_template("postgresql@.service")
    assert not sd.is_template("postgresql@15-main.service")


@pytest.mark.parametrize("unit, section", [
    ("a.service", "Service"), ("a.slice", "Slice"), ("a.scope", "Scope"), ("a.socket", "Socket"),
    ("a.mount", "Mount"), ("a.swap", "Swap"),
])
def test_section_for(unit, section):
    assert sd.section_for(unit) == section


@pytest.mark.parametrize("unit", ["a.timer", "a.target", "a.path", "a.device", "a.automount"])
def test_section_for_refuses_types_without_settings(unit):
    with pytest.raises(sd.SystemdError, match="take no OOM or memory settings"):
        sd.section_for(unit)


@pytest.mark.parametrize("name, expected", [("50-oomguard", "50-oomguard.conf"), ("10-x.conf", "10-x.conf"),
                                            ("a_b@c:d+e", "a_b@c:d+e.conf")])
def test_validate_dropin_name(name, expected):
    assert sd.validate_dropin_name(name) == expected


@pytest.mark.parametrize("name", ["override", "override.conf", "../x", "a/b", ".hidden", "a\nb", "a b", ""])
def test_validate_dropin_name_refuses(name):
    with pytest.raises(sd.SystemdError):
        sd.validate_dropin_name(name)


# -- values -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key, value, expected", [
    ("OOMScoreAdjust", -1000, "-1000"),
    ("OOMScoreAdjust", 1000, "1000"),
    ("OOMScoreAdjust", "+5", "5"),
    ("OOMScoreAdjust", 0, "0"),
    ("OOMPolicy", "kill", "kill"),
    ("MemoryMax", "2G", "2G"),
    ("MemoryMax", "1.5G", "1.5G"),
    ("MemoryMax", "1500M", "1500M"),
    ("MemoryMax", "3E", "3E"),
    ("MemoryMax", "1024", "1024"),
    ("MemoryMax", 1024, "1024"),
    ("MemoryMax", "infinity", "infinity"),
    ("MemoryMax", "50%", "50%"),
    ("MemoryMax", "12.5%", "12.5%"),
    ("MemoryMax", "12.55%", "12.55%"),
    ("MemoryMax", "100%", "100%"),
    ("MemoryLow", "0", "0"),
    ("MemoryMin", "0%", "0%"),
    ("MemorySwapMax", "0", "0"),
    ("ManagedOOMMemoryPressureLimit", "0%", "0%"),
    ("ManagedOOMMemoryPressureLimit", "99.99%", "99.99%"),
    ("ManagedOOMPreference", "avoid", "avoid"),
    ("ManagedOOMSwap", "kill", "kill"),
    ("TasksMax", 50, "50"),                # unknown to the table: only checked for control characters
    ("MemoryAccounting", True, "yes"),
])
def test_validate_value_accepts(key, value, expected):
    assert sd.validate_value(key, value, "service", 252) == expected


@pytest.mark.parametrize("key, value, fragment", [
    ("OOMScoreAdjust", -1001, "between -1000 and 1000"),
    ("OOMScoreAdjust", "1001", "between -1000 and 1000"),
    ("OOMScoreAdjust", "5.5", "integer"),
    ("OOMScoreAdjust", True, "boolean"),
    ("OOMPolicy", "restart", "one of continue, stop, kill"),
    ("MemoryMax", "2g", "suffixes"),             # systemd's suffixes are upper case
    ("MemoryMax", "2GiB", "suffixes"),
    ("MemoryMax", "2 G", "suffixes"),
    ("MemoryMax", "-1", "suffixes"),
    ("MemoryMax", "0", "out of range"),
    ("MemoryHigh", "0%", "out of range"),
    ("MemoryMax", "16E", "out of range"),
    ("MemoryMax", "101%", "0% to 100%"),
    ("MemoryMax", "12.555%", "0% to 100%"),
    ("MemoryMax", "max", "suffixes"),
    ("MemoryMax", "2G\nExecStartPre=/bin/sh -c evil", "control character"),
    ("MemoryMax", " 2G", "blanks"),
    ("Description", "x\\", "backslash"),
    ("Description", "a\rb", "control character"),
    ("ManagedOOMMemoryPressureLimit", "50", "percentage"),
    ("ManagedOOMMemoryPressureLimit", "100.5%", "percentage"),
])
def test_validate_value_refuses(key, value, fragment):
    with pytest.raises(sd.SystemdError) as info:
        sd.validate_value(key, value, "service", 252)
    assert fragment in str(info.value)


@pytest.mark.parametrize("key, utype", [
    ("OOMScoreAdjust", "slice"), ("OOMScoreAdjust", "scope"),
    ("OOMPolicy", "slice"), ("OOMPolicy", "socket"), ("OOMPolicy", "mount"),
])
def test_keys_in_the_wrong_unit_type(key, utype):
    value = "5" if key == "OOMScoreAdjust" else "kill"
    with pytest.raises(sd.SystemdError, match="does not belong in a .%s unit" % utype):
        sd.validate_value(key, value, utype, 252)


@pytest.mark.parametrize("key, utype", [
    ("MemoryMax", "slice"), ("MemoryMax", "scope"), ("MemoryMax", "socket"), ("MemoryMax", "mount"),
    ("MemoryMax", "swap"), ("OOMScoreAdjust", "socket"), ("OOMScoreAdjust", "mount"), ("OOMScoreAdjust", "swap"),
    ("ManagedOOMSwap", "slice"),
])
def test_keys_in_the_right_unit_type(key, utype):
    value = {"MemoryMax": "1G", "OOMScoreAdjust": "5", "ManagedOOMSwap": "kill"}[key]
    assert sd.validate_value(key, value, utype, 252) == value


@pytest.mark.parametrize("key, value, version, needed", [
    ("OOMPolicy", "kill", 242, 243),
    ("MemoryMin", "1G", 239, 240),
    ("MemorySwapMax", "1G", 231, 232),
    ("ManagedOOMSwap", "kill", 246, 247),
    ("ManagedOOMPreference", "omit", 247, 248),
    ("ManagedOOMMemoryPressureLimit", "50%", 247, 248),
    ("MemoryMax", "12.5%", 239, 240),       # one decimal: parse_permille, systemd 240
    ("MemoryMax", "12.55%", 247, 248),      # two decimals: parse_permyriad, systemd 248
])
def test_version_gate(key, value, version, needed):
    with pytest.raises(sd.SystemdError, match="needs systemd %d" % needed):
        sd.validate_value(key, value, "service", version)
    assert sd.validate_value(key, value, "service", needed) == value
    assert sd.validate_value(key, value, "service", None) == value  # unknown version: no gate


def test_check_settings_collects_every_error():
    with pytest.raises(sd.SystemdError) as info:
        sd.check_settings({"OOMScoreAdjust": 2000, "MemoryMax": "2x", "bad key": "1"}, "service", 252)
    text = str(info.value)
    assert "OOMScoreAdjust" in text and "MemoryMax" in text and "bad key" in text


@pytest.mark.parametrize("settings", [
    {"MemoryHigh": "3G", "MemoryMax": "2G"},
    {"MemoryHigh": "2049M", "MemoryMax": "2G"},
    {"MemoryLow": "60%", "MemoryMax": "50%"},
    {"MemoryMin": "3G", "MemoryMax": "2G"},
])
def test_check_settings_high_above_max(settings):
    with pytest.raises(sd.SystemdError, match="is above MemoryMax"):
        sd.check_settings(settings, "service", 252)


@pytest.mark.parametrize("settings", [
    {"MemoryHigh": "2G", "MemoryMax": "2G"},
    {"MemoryHigh": "1500M", "MemoryMax": "2G"},
    {"MemoryHigh": "infinity", "MemoryMax": "2G"},  # not comparable: no error
    {"MemoryHigh": "3G", "MemoryMax": "infinity"},
    {"MemoryHigh": "90%", "MemoryMax": "1G"},       # percent vs bytes without a total: not comparable
])
def test_check_settings_high_not_above_max(settings):
    assert sd.check_settings(settings, "service", 252)


def test_check_settings_percent_against_bytes_with_total():
    with pytest.raises(sd.SystemdError, match="is above MemoryMax"):
        sd.check_settings({"MemoryHigh": "50%", "MemoryMax": "1G"}, "service", 252, total_memory=4 * GIB)


def test_memory_bytes():
    assert sd.memory_bytes("2G") == 2 * GIB
    assert sd.memory_bytes("infinity") is None
    assert sd.memory_bytes("50%") is None
    assert sd.memory_bytes("50%", 4 * GIB) == 2 * GIB
    assert sd.memory_bytes("12.5%", 8 * GIB) == GIB


# -- rendering ----------------------------------------------------------------------------------------------------
def test_render_dropin_is_stable_and_ordered():
    settings = sd.check_settings({"MemoryMax": "2G", "TasksMax": "50", "OOMScoreAdjust": -500, "MemoryHigh": "1500M",
                                  "Environment": ["A=1", "B=2"]}, "service", 252)
    text = sd.render_dropin("postgresql@.service", settings)
    assert text == (
        sd.MANAGED_HEADER
        + "# Unit: postgresql@.service\n"
        "[Service]\n"
        "OOMScoreAdjust=-500\n"
        "MemoryHigh=1500M\n"
        "MemoryMax=2G\n"
        "Environment=A=1\n"
        "Environment=B=2\n"
        "TasksMax=50\n")
    assert text == sd.render_dropin("postgresql@.service", dict(reversed(list(settings.items()))))


@pytest.mark.parametrize("unit, section", [("batch.slice", "[Slice]"), ("x.scope", "[Scope]"), ("x.socket", "[Socket]"),
                                           ("var-lib.mount", "[Mount]"), ("dev-sdb.swap", "[Swap]")])
def test_render_dropin_sections(unit, section):
    text = sd.render_dropin(unit, {"MemoryMax": "1G"})
    assert text.splitlines()[2] == section
    assert sd.parse_dropin(text) == [(section[1:-1], "MemoryMax", "1G", 4)]


def test_render_then_parse_roundtrip():
    settings = sd.check_settings({"OOMScoreAdjust": 300, "MemoryMax": "1G", "ManagedOOMPreference": "avoid"}, "service", 252)
    parsed = sd.parse_dropin(sd.render_dropin("a.service", settings))
    assert [(s, k, v) for s, k, v, dummy in parsed] == [
        ("Service", "OOMScoreAdjust", "300"), ("Service", "MemoryMax", "1G"), ("Service", "ManagedOOMPreference", "avoid")]


# -- parsing other drop-ins ---------------------------------------------------------------------------------------
def test_parse_dropin_syntax():
    text = (
        "# comment\n"
        "; also a comment\n"
        "[Unit]\n"
        "Description = spaced  \n"
        "[Service]\n"
        "OOMScoreAdjust=\n"
        "ExecStart=/bin/sh -c \\\n"
        "# a comment inside a continuation is skipped\n"
        "  'echo hi'\n"
        "MemoryMax=1G\n"
        "not a setting\n"
    )
    assert sd.parse_dropin(text) == [
        ("Unit", "Description", "spaced", 4),
        ("Service", "OOMScoreAdjust", "", 6),
        ("Service", "ExecStart", "/bin/sh -c 'echo hi'", 7),
        ("Service", "MemoryMax", "1G", 10),
    ]


def test_dropin_dir_names():
    assert sd.dropin_dir_names("postgresql@15-main.service") == [
        "postgresql@15-main.service.d", "postgresql@.service.d", "service.d"]
    assert sd.dropin_dir_names("foo-bar-baz.service") == [
        "foo-bar-baz.service.d", "foo-bar-.service.d", "foo-.service.d", "service.d"]
    assert sd.dropin_dir_names("user-1000.slice") == ["user-1000.slice.d", "user-.slice.d", "slice.d"]
    assert sd.dropin_dir_names("-.slice") == ["-.slice.d", "slice.d"]


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)


@pytest.fixture
def unit_tree(tmp_path):
    """A fake unit search path, highest priority first (a real directory tree in tmp)."""
    dirs = [str(tmp_path / d) for d in ("etc.control", "run.control", "etc", "run", "lib")]
    return dirs


def test_dropin_files_sorted_by_name_across_dirs(unit_tree):
    control, dummy, etc, run, lib = unit_tree
    _write(os.path.join(lib, "a.service.d", "10-vendor.conf"), "[Service]\nOOMScoreAdjust=1\n")
    _write(os.path.join(etc, "a.service.d", "50-oomguard.conf"), "[Service]\nOOMScoreAdjust=2\n")
    _write(os.path.join(run, "a.service.d", "90-later.conf"), "[Service]\nOOMScoreAdjust=3\n")
    _write(os.path.join(lib, "service.d", "00-all.conf"), "[Service]\nTasksMax=9\n")
    _write(os.path.join(etc, "a.service.d", "README"), "not a drop-in\n")
    files = sd.dropin_files("a.service", unit_tree)
    assert [name for name, dummy in files] == ["00-all.conf", "10-vendor.conf", "50-oomguard.conf", "90-later.conf"]
    assert dict(files)["90-later.conf"].startswith(run)
    assert control  # unused dir is simply absent


def test_same_name_in_higher_priority_dir_masks(unit_tree):
    control, dummy, etc, dummy2, lib = unit_tree
    _write(os.path.join(lib, "a.service.d", "50-x.conf"), "[Service]\nOOMScoreAdjust=1\n")
    _write(os.path.join(etc, "a.service.d", "50-x.conf"), "[Service]\nOOMScoreAdjust=2\n")
    _write(os.path.join(control, "a.service.d", "50-x.conf"), "[Service]\nOOMScoreAdjust=3\n")
    files = sd.dropin_files("a.service", unit_tree)
    assert files == [("50-x.conf", os.path.join(control, "a.service.d", "50-x.conf"))]


def test_instance_dropin_masks_template_dropin_of_same_name(unit_tree):
    etc = unit_tree[2]
    _write(os.path.join(etc, "pg@.service.d", "50-x.conf"), "[Service]\nOOMScoreAdjust=1\n")
    _write(os.path.join(etc, "pg@15.service.d", "50-x.conf"), "[Service]\nOOMScoreAdjust=2\n")
    assert sd.dropin_files("pg@15.service", unit_tree) == [("50-x.conf", os.path.join(etc, "pg@15.service.d", "50-x.conf"))]
    assert sd.dropin_files("pg@.service", unit_tree) == [("50-x.conf", os.path.join(etc, "pg@.service.d", "50-x.conf"))]


def test_precedence_later_dropin_overrides(unit_tree):
    etc, run = unit_tree[2], unit_tree[3]
    ours = os.path.join(etc, "pg@.service.d", "50-oomguard.conf")
    _write(ours, "[Service]\nOOMScoreAdjust=-500\nMemoryMax=1G\n")
    _write(os.path.join(run, "pg@15.service.d", "90-later.conf"), "[Service]\nOOMScoreAdjust=100\n")
    _write(os.path.join(etc, "pg@.service.d", "10-early.conf"), "[Service]\nMemoryMax=3G\n")
    _write(os.path.join(etc, "pg@.service.d", "95-reset.conf"), "[Unit]\nMemoryMax=9G\n[Service]\nMemoryMax=\n")
    info = sd.precedence("pg@15.service", ours, ["OOMScoreAdjust", "MemoryMax"], unit_tree)
    assert info["masked_by"] is None
    assert info["overrides"] == {
        "OOMScoreAdjust": [{"path": os.path.join(run, "pg@15.service.d", "90-later.conf"), "value": "100"}],
        "MemoryMax": [{"path": os.path.join(etc, "pg@.service.d", "95-reset.conf"), "value": ""}],
    }
    assert info["effective"] == {"OOMScoreAdjust": "100", "MemoryMax": ""}
    # The template itself does not see the instance's drop-in.
    info = sd.precedence("pg@.service", ours, ["OOMScoreAdjust"], unit_tree)
    assert info["overrides"] == {}
    assert info["effective"] == {"OOMScoreAdjust": "-500"}


def test_precedence_before_our_file_exists_uses_content(unit_tree):
    etc = unit_tree[2]
    ours = os.path.join(etc, "a.service.d", "50-oomguard.conf")
    _write(os.path.join(etc, "a.service.d", "override.conf"), "[Service]\nOOMScoreAdjust=7\n")
    info = sd.precedence("a.service", ours, ["OOMScoreAdjust"], unit_tree, our_content="[Service]\nOOMScoreAdjust=5\n")
    assert info["overrides"]["OOMScoreAdjust"][0]["value"] == "7"  # override.conf sorts after 50-oomguard.conf
    assert info["effective"]["OOMScoreAdjust"] == "7"


def test_precedence_masked(unit_tree):
    control, etc = unit_tree[0], unit_tree[2]
    ours = os.path.join(etc, "a.service.d", "50-oomguard.conf")
    _write(ours, "[Service]\nOOMScoreAdjust=5\n")
    _write(os.path.join(control, "a.service.d", "50-oomguard.conf"), "[Service]\nOOMScoreAdjust=9\n")
    info = sd.precedence("a.service", ours, ["OOMScoreAdjust"], unit_tree)
    assert info["masked_by"] == os.path.join(control, "a.service.d", "50-oomguard.conf")
    assert info["effective"] == {"OOMScoreAdjust": "9"}


def test_precedence_dev_null_dropin_masks(unit_tree):
    control, etc = unit_tree[0], unit_tree[2]
    ours = os.path.join(etc, "a.service.d", "50-oomguard.conf")
    _write(ours, "[Service]\nOOMScoreAdjust=5\n")
    os.makedirs(os.path.join(control, "a.service.d"))
    os.symlink("/dev/null", os.path.join(control, "a.service.d", "50-oomguard.conf"))
    info = sd.precedence("a.service", ours, ["OOMScoreAdjust"], unit_tree)
    assert info["masked_by"].endswith("50-oomguard.conf") and info["effective"] == {}


# -- kernel files -------------------------------------------------------------------------------------------------
def test_enforced_memory_v1_real_cgroup():
    """The real v1 memory controller of this machine: a cgroup we create and remove."""
    root = "/sys/fs/cgroup"
    if sd.cgroup_layout(root) != "v1" or not os.access(os.path.join(root, "memory"), os.W_OK):
        pytest.skip("needs a writable v1 memory controller (root)")
    name = "oomguard-test-systemd-%d" % os.getpid()
    path = os.path.join(root, "memory", name)
    os.mkdir(path)
    try:
        got = sd.enforced_memory("/" + name, ["MemoryMax", "MemoryHigh"], root)
        assert got["values"] == {"MemoryMax": "infinity"}
        assert got["unsupported"] == ["MemoryHigh"]
        with open(os.path.join(path, "memory.limit_in_bytes"), "w") as fh:
            fh.write(str(64 << 20))
        got = sd.enforced_memory("/" + name, ["MemoryMax"], root)
        assert got["values"] == {"MemoryMax": 64 << 20}
        assert sd.memory_usage("/" + name, root) == 0
    finally:
        os.rmdir(path)


def test_enforced_memory_v2_recorded(tmp_path):
    """cgroup v2 cannot be mounted for memory here: a recorded layout of a v2 host (files as the kernel shows them)."""
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    unit = tmp_path / "system.slice" / "batch.service"
    unit.mkdir(parents=True)
    (unit / "memory.max").write_text("2147483648\n")
    (unit / "memory.high").write_text("max\n")
    (unit / "memory.current").write_text("1234567\n")
    got = sd.enforced_memory("/system.slice/batch.service", ["MemoryMax", "MemoryHigh", "MemoryLow"], str(tmp_path))
    assert got["layout"] == "v2"
    assert got["values"] == {"MemoryMax": 2 * GIB, "MemoryHigh": "infinity"}
    assert got["unsupported"] == []
    assert sd.memory_usage("/system.slice/batch.service", str(tmp_path)) == 1234567


def test_show_values():
    assert sd.show_value_bytes("infinity") == "infinity"
    assert sd.show_value_bytes(str(sd.UINT64_MAX)) == "infinity"
    assert sd.show_value_bytes("1073741824") == GIB
    assert sd.show_value_bytes("[not set]") is None
    assert sd.show_value_int("-900") == -900
    assert sd.show_value_int("") is None


def test_physical_memory(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24576000 kB\nMemFree: 1 kB\n")
    assert sd.physical_memory(str(meminfo)) == 24576000 * 1024
    assert sd.physical_memory(str(tmp_path / "missing")) is None
    assert sd.physical_memory() > 0
