# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Unit tests of plugins/module_utils/_swap.py: the parsers get recorded kernel text, the file helpers real temp files."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest

from ansible_collections.oomguard.linux.plugins.module_utils import _swap

# Recorded on this machine kind (kernel 6.1) with two swap files active, one of them deleted while active, and one
# with a blank in its name (the kernel escapes it as \040).
PROC_SWAPS = """Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority
/var/tmp/swt/swap1                      file\t\t65532\t\t1024\t\t7
/var/tmp/my\\040swap                     file\t\t32764\t\t0\t\t-2
/var/tmp/old (deleted)                  file\t\t32764\t\t0\t\t-3
/dev/vdb2                               partition\t1048572\t\t0\t\t-4
"""

MEMINFO = """MemTotal:       24683328 kB
MemFree:        24206148 kB
MemAvailable:   24241284 kB
Buffers:           20440 kB
HugePages_Total:       0
Hugepagesize:       2048 kB
"""

MOUNTINFO = r"""21 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
22 21 0:20 / /proc rw,nosuid,nodev,noexec,relatime shared:2 - proc proc rw
30 21 0:25 / /dev/shm rw,nosuid,nodev shared:5 - tmpfs tmpfs rw
40 21 7:0 / /var/tmp/img\040x rw,relatime shared:9 - xfs /dev/loop0 rw,attr2
41 21 7:1 / /var/tmp/imgb rw,relatime shared:10 - btrfs /dev/loop1 rw,space_cache=v2
42 41 0:40 / /var/tmp/imgb rw,relatime shared:11 - tmpfs tmpfs rw
"""


def test_parse_proc_swaps_sizes_in_bytes_and_escapes():
    entries = _swap.parse_proc_swaps(PROC_SWAPS)
    assert [e["path"] for e in entries] == ["/var/tmp/swt/swap1", "/var/tmp/my swap", "/var/tmp/old", "/dev/vdb2"]
    first = entries[0]
    assert first == {"path": "/var/tmp/swt/swap1", "type": "file", "size_bytes": 65532 * 1024, "used_bytes": 1024 * 1024,
                     "priority": 7, "deleted": False}
    assert entries[1]["priority"] == -2
    assert entries[2]["deleted"] is True
    assert entries[3]["type"] == "partition"


def test_parse_proc_swaps_empty_table():
    assert not _swap.parse_proc_swaps("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n")


def test_find_swap_ignores_deleted_entries():
    entries = _swap.parse_proc_swaps(PROC_SWAPS)
    assert _swap.find_swap(entries, "/var/tmp/swt/swap1")["priority"] == 7
    assert _swap.find_swap(entries, "/var/tmp/old") is None
    assert _swap.find_swap(entries, "/var/tmp/my swap")["size_bytes"] == 32764 * 1024


def test_parse_meminfo_converts_kb():
    info = _swap.parse_meminfo(MEMINFO)
    assert info["MemTotal"] == 24683328 * 1024
    assert info["MemAvailable"] == 24241284 * 1024
    assert info["HugePages_Total"] == 0  # no unit: a count, not scaled


def test_read_meminfo_live():
    info = _swap.read_meminfo()
    assert info["MemTotal"] > info["MemAvailable"] > 0


def test_swapoff_shortfall_and_default_reserve():
    info = {"MemTotal": 1 << 30, "MemAvailable": 600 << 20}
    assert _swap.swap_reserve_default(info) == 256 << 20  # 10% of 1 GiB is below the 256 MiB floor
    assert _swap.swap_reserve_default({"MemTotal": 24 << 30}) == (24 << 30) // 10
    assert _swap.swapoff_shortfall(300 << 20, info, 256 << 20) == 0
    assert _swap.swapoff_shortfall(400 << 20, info, 256 << 20) == 56 << 20


def test_mountinfo_longest_prefix_and_later_mount_wins():
    mounts = _swap.parse_mountinfo(MOUNTINFO)
    assert _swap.mount_for("/var/tmp/x", mounts)["fstype"] == "ext4"
    assert _swap.mount_for("/dev/shm/swap", mounts)["fstype"] == "tmpfs"
    assert _swap.mount_for("/var/tmp/img x/swap", mounts)["fstype"] == "xfs"
    assert _swap.mount_for("/var/tmp/img xy", mounts)["fstype"] == "ext4"  # a prefix of the name is not a parent directory
    assert _swap.mount_for("/var/tmp/imgb/swap", mounts)["fstype"] == "tmpfs"  # mounted over the btrfs later


def test_filesystem_of_live_root():
    mount = _swap.filesystem_of("/")
    assert mount["mount_point"] == "/"
    assert mount["fstype"]


@pytest.mark.parametrize("fstype", ["tmpfs", "ramfs", "overlay", "nfs", "nfs4", "cifs", "squashfs", "fuse.sshfs", "fuseblk", "zfs"])
def test_unsupported_filesystems(fstype):
    assert _swap.unsupported_reason(fstype)


@pytest.mark.parametrize("fstype", ["ext4", "xfs", "btrfs", "f2fs", "vfat"])
def test_supported_filesystems(fstype):
    assert _swap.unsupported_reason(fstype) is None


def test_octal_escapes_round_trip():
    assert _swap.escape_octal("/a b\\c") == "/a\\040b\\134c"
    assert _swap.unescape_octal("/a\\040b\\134c") == "/a b\\c"
    assert _swap.unescape_octal("/plain\\9") == "/plain\\9"


def test_parse_fstab_line():
    assert _swap.parse_fstab_line("# comment") is None
    assert _swap.parse_fstab_line("   \n") is None
    entry = _swap.parse_fstab_line("/swap\\040file\tswap   swap pri=5,defaults\n")
    assert entry == {"spec": "/swap file", "file": "swap", "vfstype": "swap", "options": ["pri=5", "defaults"], "freq": "0", "passno": "0"}
    assert _swap.fstab_priority(entry) == 5


def test_render_and_match_swap_line():
    assert _swap.render_swap_line("/swapfile") == "/swapfile none swap sw 0 0"
    assert _swap.render_swap_line("/my swap", 10) == "/my\\040swap none swap sw,pri=10 0 0"
    entry = _swap.parse_fstab_line("/swapfile  none\tswap  pri=10,sw  0  0")
    assert _swap.swap_line_matches(entry, 10)
    assert not _swap.swap_line_matches(entry, 11)
    assert not _swap.swap_line_matches(entry, None)
    assert not _swap.swap_line_matches(_swap.parse_fstab_line("/swapfile none swap sw,noauto 0 0"), None)


FSTAB = ("# /etc/fstab: static file system information.\n"
         "UUID=1234  /      ext4  errors=remount-ro  0  1\n"
         "\n"
         "/swapfile\tnone  swap  defaults,pri=3  0 0\n"
         "/dev/vdb1 /srv xfs defaults 0 2\n"
         "/swapfile none swap sw 0 0\n"
         "/other none swap sw 0 0")


def test_update_fstab_replaces_first_drops_duplicates_keeps_the_rest():
    text, old = _swap.update_fstab(FSTAB, {"/swapfile"}, "/swapfile none swap sw,pri=5 0 0")
    assert old == "/swapfile\tnone  swap  defaults,pri=3  0 0"
    assert text == ("# /etc/fstab: static file system information.\n"
                    "UUID=1234  /      ext4  errors=remount-ro  0  1\n"
                    "\n"
                    "/swapfile none swap sw,pri=5 0 0\n"
                    "/dev/vdb1 /srv xfs defaults 0 2\n"
                    "/other none swap sw 0 0")


def test_update_fstab_remove():
    text, old = _swap.update_fstab(FSTAB, {"/swapfile"}, None)
    assert old.startswith("/swapfile\t")
    assert "/swapfile" not in text
    assert text.endswith("/dev/vdb1 /srv xfs defaults 0 2\n/other none swap sw 0 0")


def test_update_fstab_append_adds_missing_newline():
    text, old = _swap.update_fstab(FSTAB, {"/new"}, "/new none swap sw 0 0")
    assert old is None
    assert text == FSTAB + "\n/new none swap sw 0 0\n"
    assert _swap.update_fstab("", {"/new"}, "/new none swap sw 0 0") == ("/new none swap sw 0 0\n", None)
    assert _swap.update_fstab(FSTAB, {"/new"}, None) == (FSTAB, None)


def test_update_fstab_keeps_crlf_and_ignores_non_swap_lines_for_the_path():
    text = "/img.raw /mnt ext4 loop 0 0\r\n/img.raw none swap sw 0 0\r\n"
    new, dummy = _swap.update_fstab(text, {"/img.raw"}, "/img.raw none swap sw,pri=1 0 0")
    assert new == "/img.raw /mnt ext4 loop 0 0\r\n/img.raw none swap sw,pri=1 0 0\r\n"


def test_round_to_pages():
    assert _swap.round_to_pages(1, 4096) == 4096
    assert _swap.round_to_pages(4096, 4096) == 4096
    assert _swap.round_to_pages(1000000, 4096) == 1003520


def test_swap_header_and_sparse_detection_on_real_files(tmp_path):
    pagesize = _swap.page_size()
    plain = tmp_path / "plain"
    plain.write_bytes(b"hello" * 2000)
    assert _swap.read_swap_header(str(plain), pagesize) is None
    sparse = tmp_path / "sparse"
    with open(sparse, "wb") as fh:
        fh.truncate(64 * pagesize)
    assert _swap.is_sparse(os.stat(sparse))
    subprocess.run(["mkswap", str(sparse)], check=True, capture_output=True)
    header = _swap.read_swap_header(str(sparse), pagesize)
    assert header == {"pages": 64, "version": 1}
    assert _swap.is_sparse(os.stat(sparse))  # mkswap wrote the header page only


@pytest.mark.parametrize("use_zeros", [False, True])
def test_allocate_leaves_no_holes(tmp_path, use_zeros):
    target = tmp_path / "alloc"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        if use_zeros:
            _swap.write_zeros(fd, 3 << 20, chunk=1 << 20)
        else:
            assert _swap.allocate(fd, 3 << 20) in ("fallocate", "zeros")
    finally:
        os.close(fd)
    st = os.stat(target)
    assert st.st_size == 3 << 20
    assert not _swap.is_sparse(st)


# ------------------------------------------------------------------------------------------------ trust (issue 13)


def _root_dir():
    """A fresh root-owned 0755 directory under a root-owned 0755 base (tmp_path is under sticky /tmp: refused)."""
    base = "/var/lib/oomguard-swaptest"
    os.makedirs(base, mode=0o755, exist_ok=True)
    path = tempfile.mkdtemp(prefix="unit-", dir=base)
    os.chmod(path, 0o755)
    return path


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the trust checks are about root-owned directories")


@pytest.fixture
def root_dir():
    path = _root_dir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_path_components_refuse_dot_and_dotdot_and_relative():
    assert _swap.path_components("/var//lib/swap") == ["var", "lib", "swap"]
    assert _swap.path_components("/") == []
    for bad in ("relative/swap", "/var/../etc/x", "/var/./x"):
        with pytest.raises(_swap.UnsafePath):
            _swap.path_components(bad)


@needs_root
def test_directory_trust_problems_on_real_directories(root_dir):
    sub = os.path.join(root_dir, "sub")
    os.mkdir(sub, 0o755)
    os.chmod(sub, 0o755)
    assert _swap.directory_trust_problem(os.stat(sub), sub) is None
    os.chmod(sub, 0o1777)
    assert "writable by users other than root (mode 1777)" in _swap.directory_trust_problem(os.stat(sub), sub)
    assert "sticky" in _swap.directory_trust_problem(os.stat(sub), sub)
    os.chmod(sub, 0o775)
    assert "mode 0775" in _swap.directory_trust_problem(os.stat(sub), sub)
    os.chmod(sub, 0o755)
    os.chown(sub, 65534, 0)
    assert "owned by uid 65534" in _swap.directory_trust_problem(os.stat(sub), sub)
    assert "not a directory" in _swap.directory_trust_problem(os.stat("/proc/self/status"), "/proc/self/status")


@needs_root
def test_check_directory_chain_checks_parents_and_symlinks(root_dir, tmp_path):
    deep = os.path.join(root_dir, "a", "b")
    os.makedirs(deep)
    os.chmod(os.path.join(root_dir, "a"), 0o755)
    os.chmod(deep, 0o755)
    _swap.check_directory_chain(deep)
    os.close(_swap.open_trusted_directory(deep))
    os.chown(os.path.join(root_dir, "a"), 65534, 65534)  # a parent, not the directory itself
    with pytest.raises(_swap.UnsafePath, match="owned by uid 65534"):
        _swap.check_directory_chain(deep)
    with pytest.raises(_swap.UnsafePath, match="owned by uid 65534"):
        _swap.open_trusted_directory(deep)
    os.chown(os.path.join(root_dir, "a"), 0, 0)
    # A link in a trusted directory to a trusted one is fine; one into /tmp (sticky) is not.
    os.symlink(deep, os.path.join(root_dir, "link"))
    _swap.check_directory_chain(os.path.join(root_dir, "link"))
    os.symlink(str(tmp_path), os.path.join(root_dir, "tmplink"))
    with pytest.raises(_swap.UnsafePath, match="writable by users other than root|owned by uid"):
        _swap.check_directory_chain(os.path.join(root_dir, "tmplink"))
    with pytest.raises(_swap.UnsafePath, match="mode 1777"):
        _swap.check_directory_chain("/tmp")


@needs_root
def test_adoption_and_foreign_problems(root_dir):
    path = os.path.join(root_dir, "f")
    with open(path, "wb") as fh:
        fh.write(b"x")
    os.chmod(path, 0o600)
    assert _swap.adoption_problem(os.stat(path)) is None and _swap.foreign_problem(os.stat(path)) is None
    os.chmod(path, 0o644)
    assert _swap.adoption_problem(os.stat(path)) == "mode 0644" and _swap.foreign_problem(os.stat(path)) is None
    os.chmod(path, 0o600)
    os.link(path, path + ".2")
    assert "2 hard links" in _swap.foreign_problem(os.stat(path))
    os.unlink(path + ".2")
    os.chown(path, 65534, 65534)
    assert "owned by uid 65534" in _swap.foreign_problem(os.stat(path))
    assert "group 65534" in _swap.adoption_problem(os.stat(path))


def test_find_swap_by_inode_compares_files_not_names(tmp_path):
    mine, other = tmp_path / "mine", tmp_path / "other"
    mine.write_bytes(b"a")
    other.write_bytes(b"b")
    entries = [
        {"path": str(other), "type": "file", "deleted": False, "priority": 1},
        {"path": str(mine), "type": "file", "deleted": True, "priority": 2},  # a deleted entry is never ours
        {"path": "/dev/nonexistent-swap", "type": "partition", "deleted": False, "priority": 3},
    ]
    assert _swap.find_swap_by_inode(entries, os.stat(mine)) is None
    link = tmp_path / "link"
    link.symlink_to(mine)
    entries.append({"path": str(link), "type": "file", "deleted": False, "priority": 4})
    assert _swap.find_swap_by_inode(entries, os.stat(mine))["priority"] == 4  # same inode, whatever the name
    assert _swap.find_swap_by_inode(entries, os.stat(other))["priority"] == 1


def test_read_swap_header_never_follows_a_link(tmp_path):
    pagesize = _swap.page_size()
    real = tmp_path / "real"
    with open(real, "wb") as fh:
        fh.truncate(16 * pagesize)
    subprocess.run(["mkswap", str(real)], check=True, capture_output=True)
    link = tmp_path / "link"
    link.symlink_to(real)
    assert _swap.read_swap_header(str(real), pagesize)["pages"] == 16
    with pytest.raises(OSError):
        _swap.read_swap_header(str(link), pagesize)
