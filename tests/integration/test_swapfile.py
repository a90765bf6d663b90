# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""oomguard.linux.swapfile against real swap on ext4, xfs and btrfs (loop-mounted images), through ansible-playbook.

Swap is machine-wide: every test swaps off whatever it activated under its own directory and unmounts its images in
fixture finalizers, even when the test fails. Swap files are small (32-64 MiB) and active only for a few seconds.
The checks read /proc/swaps and `swapon --show` directly, not through the module's own parser.
"""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile

import pytest

from helpers.swap import TEST_BASE, proc_swaps, swap_test_base, swapoff_under  # noqa: F401  pylint: disable=unused-import

pytestmark = [pytest.mark.root, pytest.mark.serial]

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1 << 20
BASE_FSTAB = "# test fstab, never the real one\nUUID=0000-1111  /  ext4  errors=remount-ro  0  1\n\n/dev/vdb1 /srv xfs defaults 0 2\n"
IMAGE_SIZES = {"xfs": "320M", "btrfs": "256M", "ext4": "128M"}  # mkfs.xfs (xfsprogs >= 5.19) wants at least 300 MiB


def sh(*cmd, check=True):
    return subprocess.run(list(cmd), capture_output=True, text=True, check=check)


def swapon_show():
    """{path: (size_bytes, priority)} from `swapon --show --bytes --noheadings`."""
    res = sh("swapon", "--show=NAME,SIZE,PRIO", "--bytes", "--noheadings", "--raw")
    out = {}
    for line in res.stdout.splitlines():
        name, size, prio = line.split()
        out[name] = (int(size), int(prio))
    return out


def assert_active(path, size, priority=None):
    """The file is active swap of ``size`` bytes (one page less is usable: the header) and the given priority."""
    swaps = proc_swaps()
    assert path in swaps, f"{path} not in /proc/swaps: {swaps}"
    assert swaps[path][0] * 1024 == size - PAGE
    show = swapon_show()
    assert show[path][0] == size - PAGE
    if priority is None:
        assert swaps[path][2] < 0, "an unset priority is numbered by the kernel (-2, -3, ...)"
    else:
        assert swaps[path][2] == priority == show[path][1]
    st = os.stat(path)
    assert st.st_size == size
    assert st.st_blocks * 512 >= size, "swap file has holes"
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0 and st.st_gid == 0


def assert_inactive(path):
    assert path not in proc_swaps()
    assert path not in swapon_show()


@pytest.fixture(scope="session")
def fs_tools():
    """mkfs.xfs and mkfs.btrfs: installed here, but a fresh CI machine has to get them from apt (a failure is a failure)."""
    missing = [tool for tool in ("mkfs.xfs", "mkfs.btrfs", "mkfs.ext4", "chattr") if not shutil.which(tool)]
    if missing:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        steps = [["apt-get", "update"], ["apt-get", "install", "-y", "xfsprogs", "btrfs-progs", "e2fsprogs"]]
        for cmd in steps:
            res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
            if res.returncode != 0:
                pytest.fail(f"cannot install filesystem tools {missing}: {' '.join(cmd)}: {res.stderr[-2000:]}")
        still = [tool for tool in missing if not shutil.which(tool)]
        if still:
            pytest.fail(f"filesystem tools still missing after apt-get install: {still}")


@pytest.fixture
def loop_fs(fs_tools, request):  # pylint: disable=unused-argument,redefined-outer-name
    """Factory: a freshly made filesystem of the given type, loop-mounted; returns its mount point."""
    made = []

    def make(fstype, *mkfs_options):
        base = tempfile.mkdtemp(prefix=f"oomguard-swap-{fstype}-", dir=swap_test_base())
        image, mnt = os.path.join(base, "image"), os.path.join(base, "mnt")
        os.mkdir(mnt)
        made.append((base, image, mnt))
        sh("truncate", "-s", IMAGE_SIZES[fstype], image)
        mkfs = {"xfs": ["mkfs.xfs", "-q", "-f"], "btrfs": ["mkfs.btrfs", "-q", "-f"], "ext4": ["mkfs.ext4", "-q", "-F"]}[fstype]
        sh(*mkfs, *mkfs_options, image)
        sh("mount", "-o", "loop", image, mnt)
        return mnt

    def cleanup():
        for base, image, mnt in made:
            swapoff_under(mnt)
            subprocess.run(["umount", mnt], check=False, capture_output=True)
            loops = sh("losetup", "-j", image, check=False).stdout.split()
            for dev in (word.rstrip(":") for word in loops if word.startswith("/dev/loop")):
                subprocess.run(["losetup", "-d", dev], check=False)
            shutil.rmtree(base, ignore_errors=True)

    request.addfinalizer(cleanup)
    return make


@pytest.fixture
def root_ext4_dir(request):
    """A temp dir on the root filesystem when it is ext4 (this machine kind: /dev/vda), else None."""
    fstype = sh("findmnt", "-n", "-o", "FSTYPE", "--target", swap_test_base()).stdout.strip()
    if fstype != "ext4":
        return None
    base = tempfile.mkdtemp(prefix="oomguard-swap-ext4-", dir=swap_test_base())

    def cleanup():
        swapoff_under(base)
        shutil.rmtree(base, ignore_errors=True)

    request.addfinalizer(cleanup)
    return base


@pytest.fixture(params=["ext4", "xfs", "btrfs"])
def swap_dir(request, loop_fs, root_ext4_dir):  # pylint: disable=redefined-outer-name
    """A directory on each filesystem kind: ext4 (a temp dir on the ext4 root fs, else an image), xfs and btrfs images."""
    if request.param == "ext4" and root_ext4_dir:
        return root_ext4_dir
    return loop_fs(request.param)


@pytest.fixture
def scratch(root_ext4_dir, loop_fs):  # pylint: disable=redefined-outer-name
    """One directory on ext4 for the tests that are about the module's logic rather than the filesystem."""
    return root_ext4_dir or loop_fs("ext4")


def write_fstab(directory, text=BASE_FSTAB):
    path = os.path.join(directory, "fstab")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def read(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def lsattr_nocow(path):
    flags = sh("lsattr", path).stdout.split()[0]
    return "C" in flags


def test_lifecycle(run_module, swap_dir):  # pylint: disable=redefined-outer-name
    """create (check mode, then real), idempotence, resize up and down, priority change, absent (check, real, again)."""
    swap = os.path.join(swap_dir, "swapfile")
    fstab = write_fstab(swap_dir)
    args = {"path": swap, "size": "32M", "fstab_path": fstab}

    res = run_module("swapfile", args, check=True, diff=True)
    assert res["changed"] is True and not res.get("failed"), res
    assert "mkswap" in res["actions"] and res["size_bytes"] == 32 * MIB
    assert "active: no" in res["diff"]["before"] and "active: yes" in res["diff"]["after"]
    assert not os.path.exists(swap), "check mode created the file"
    assert_inactive(swap)
    assert read(fstab) == BASE_FSTAB

    res = run_module("swapfile", args, diff=True)
    assert res["changed"] is True and not res.get("failed"), res
    assert_active(swap, 32 * MIB)
    assert res["active"] is True and res["size_bytes"] == 32 * MIB and res["priority"] < 0
    assert read(fstab) == BASE_FSTAB + f"{swap} none swap sw 0 0\n"
    assert res["fstab_line"] == f"{swap} none swap sw 0 0"
    if "btrfs" in swap_dir:
        assert lsattr_nocow(swap), "btrfs swap file must be no-copy-on-write"

    for same in ("32M", "32MiB", "32768K", 33554432, "33554432", " 32 m"):
        res = run_module("swapfile", dict(args, size=same), diff=True)
        assert res["changed"] is False and not res.get("failed"), (same, res)
        assert res["diff"]["before"] == res["diff"]["after"]
    assert_active(swap, 32 * MIB)

    res = run_module("swapfile", dict(args, size="64M"))
    assert res["changed"] is True and not res.get("failed"), res
    assert res["actions"][0] == "swapoff"
    assert_active(swap, 64 * MIB)

    res = run_module("swapfile", dict(args, size="40000KB"))  # 40,000,000 bytes rounded up to pages: a shrink
    assert res["changed"] is True and not res.get("failed"), res
    shrunk = -(-40_000_000 // PAGE) * PAGE
    assert_active(swap, shrunk)
    assert run_module("swapfile", dict(args, size=40_000_000))["changed"] is False

    res = run_module("swapfile", dict(args, size=shrunk, priority=10), diff=True)
    assert res["changed"] is True and not res.get("failed"), res
    assert res["actions"] == ["swapoff", "swapon with priority 10", "update fstab line"]
    assert_active(swap, shrunk, priority=10)
    assert read(fstab) == BASE_FSTAB + f"{swap} none swap sw,pri=10 0 0\n"
    assert "pri=10" in res["diff"]["after"] and "priority 10" in res["diff"]["after"]
    assert run_module("swapfile", dict(args, size=shrunk, priority=10))["changed"] is False
    res = run_module("swapfile", dict(args, size=shrunk))  # priority omitted: never a change, the 10 stays
    assert res["changed"] is False and res["priority"] == 10, res
    assert_active(swap, shrunk, priority=10)

    res = run_module("swapfile", dict(args, state="absent"), check=True, diff=True)
    assert res["changed"] is True and res["actions"] == ["swapoff", "remove fstab line", "delete file"], res
    assert_active(swap, shrunk, priority=10)
    assert read(fstab).endswith("pri=10 0 0\n")

    res = run_module("swapfile", dict(args, state="absent"), diff=True)
    assert res["changed"] is True and not res.get("failed"), res
    assert_inactive(swap)
    assert not os.path.exists(swap)
    assert read(fstab) == BASE_FSTAB
    res = run_module("swapfile", dict(args, state="absent"))
    assert res["changed"] is False and res["active"] is False and res["fstab_line"] is None


def test_existing_non_swap_file_refused_then_forced(run_module, scratch):  # pylint: disable=redefined-outer-name
    swap = os.path.join(scratch, "data")
    fstab = write_fstab(scratch)
    content = os.urandom(256 * 1024)
    with open(swap, "wb") as fh:
        fh.write(content)
    os.chmod(swap, 0o644)
    args = {"path": swap, "size": "32M", "fstab_path": fstab}

    for state in ("present", "absent"):
        res = run_module("swapfile", dict(args, state=state))
        assert res.get("failed") is True, res
        assert "no swap signature" in res["msg"] and "force" in res["msg"], res["msg"]
        assert res["msg"].startswith("Failed to ")
        with open(swap, "rb") as fh:
            assert fh.read() == content, "a refused run changed the file"
        assert stat.S_IMODE(os.stat(swap).st_mode) == 0o644
        assert_inactive(swap)
        assert read(fstab) == BASE_FSTAB

    res = run_module("swapfile", dict(args, force=True), check=True)
    assert res["changed"] is True and "delete old non-swap file" in res["actions"], res
    with open(swap, "rb") as fh:
        assert fh.read() == content

    res = run_module("swapfile", dict(args, force=True))
    assert res["changed"] is True and not res.get("failed"), res
    assert_active(swap, 32 * MIB)
    with open(swap, "rb") as fh:
        assert fh.read(len(content)) != content
    assert run_module("swapfile", dict(args, state="absent"))["changed"] is True
    assert_inactive(swap)
    assert not os.path.exists(swap)


@pytest.mark.parametrize("with_signature", [False, True], ids=["truncated", "truncated-mkswap"])
def test_sparse_file_rebuilt(run_module, scratch, with_signature):  # pylint: disable=redefined-outer-name
    """A sparse file (truncate, or truncate + mkswap as blog posts do) is rebuilt without holes, never swapon'ed as is."""
    swap = os.path.join(scratch, "sparse")
    sh("truncate", "-s", "32M", swap)
    if with_signature:
        sh("mkswap", swap)
        assert sh("swapon", swap, check=False).returncode != 0, "the kernel should refuse a file with holes"
    st = os.stat(swap)
    assert st.st_blocks * 512 < st.st_size
    res = run_module("swapfile", {"path": swap, "size": "32M", "fstab": False})
    assert res["changed"] is True and not res.get("failed"), res
    assert any(a.startswith("delete old") for a in res["actions"]) and "mkswap" in res["actions"], res["actions"]
    assert_active(swap, 32 * MIB)
    assert run_module("swapfile", {"path": swap, "size": "32M", "fstab": False})["changed"] is False
    assert run_module("swapfile", {"path": swap, "state": "absent", "fstab": False})["changed"] is True
    assert_inactive(swap)


def test_fstab_existing_lines_fixed_and_others_kept(run_module, scratch):  # pylint: disable=redefined-outer-name
    swap = os.path.join(scratch, "swapfile")
    other = ("# keep me   exactly\n"
             "UUID=0000-1111\t/\text4  errors=remount-ro  0  1\n"
             "\n"
             f"{swap}\t none   swap   defaults,pri=3   0 0\n"
             "/dev/vdb1 /srv xfs defaults 0 2\n"
             f"{swap} none swap sw 0 0\n"
             "/other/swap none swap sw 0 0")  # no newline at the end
    fstab = write_fstab(scratch, other)
    os.chmod(fstab, 0o640)
    res = run_module("swapfile", {"path": swap, "size": "32M", "priority": 5, "fstab_path": fstab}, diff=True)
    assert res["changed"] is True and not res.get("failed"), res
    assert "update fstab line" in res["actions"]
    assert read(fstab) == ("# keep me   exactly\n"
                           "UUID=0000-1111\t/\text4  errors=remount-ro  0  1\n"
                           "\n"
                           f"{swap} none swap sw,pri=5 0 0\n"
                           "/dev/vdb1 /srv xfs defaults 0 2\n"
                           "/other/swap none swap sw 0 0")
    assert stat.S_IMODE(os.stat(fstab).st_mode) == 0o640, "the rewrite must keep the fstab's mode"
    assert_active(swap, 32 * MIB, priority=5)

    # A line with the same meaning but other spacing and option order is left as it is.
    same = read(fstab).replace(f"{swap} none swap sw,pri=5 0 0", f"{swap}   none swap   pri=5,sw 0   0")
    write_fstab(scratch, same)
    res = run_module("swapfile", {"path": swap, "size": "32M", "priority": 5, "fstab_path": fstab})
    assert res["changed"] is False, res
    assert read(fstab) == same

    # fstab=false: the file is not touched, even on removal.
    res = run_module("swapfile", {"path": swap, "state": "absent", "fstab": False, "fstab_path": fstab})
    assert res["changed"] is True and "remove fstab line" not in res["actions"]
    assert read(fstab) == same
    assert_inactive(swap)
    res = run_module("swapfile", {"path": swap, "state": "absent", "fstab_path": fstab})
    assert res["actions"] == ["remove fstab line"]
    assert f"{swap} " not in read(fstab) and read(fstab).endswith("/other/swap none swap sw 0 0")


def test_tmpfs_refused(run_module, request):
    mnt = tempfile.mkdtemp(prefix="oomguard-swap-tmpfs-", dir=swap_test_base())
    sh("mount", "-t", "tmpfs", "-o", "size=64M,mode=0755", "oomguard-test", mnt)

    def cleanup():
        swapoff_under(mnt)
        subprocess.run(["umount", mnt], check=False)
        os.rmdir(mnt)

    request.addfinalizer(cleanup)
    swap = os.path.join(mnt, "swapfile")
    fstab = write_fstab(mnt)
    for check in (True, False):
        res = run_module("swapfile", {"path": swap, "size": "32M", "fstab_path": fstab}, check=check)
        assert res.get("failed") is True, res
        assert res["msg"].startswith(f"Failed to create swap file {swap}: {mnt} is on tmpfs"), res["msg"]
        assert not os.path.exists(swap)
        assert read(fstab) == BASE_FSTAB
        assert_inactive(swap)


def test_memory_check_keeps_swap_active(run_module, scratch):  # pylint: disable=redefined-outer-name
    """A swapoff that MemAvailable could not absorb is refused (here forced by a reserve larger than the RAM)."""
    swap = os.path.join(scratch, "swapfile")
    fstab = write_fstab(scratch)
    args = {"path": swap, "size": "32M", "fstab_path": fstab}
    assert run_module("swapfile", args)["changed"] is True
    assert_active(swap, 32 * MIB)
    with open("/proc/meminfo", encoding="ascii") as fh:
        total_kib = int(fh.readline().split()[1])
    huge = f"{2 * total_kib}K"
    for step, extra in (("remove", {"state": "absent"}), ("resize", {"size": "64M"}), ("priority", {"priority": 3})):
        for check in (True, False):
            res = run_module("swapfile", dict(args, swapoff_reserve=huge, **extra), check=check)
            assert res.get("failed") is True, (step, res)
            assert res["msg"].startswith(f"Failed to swapoff {swap}: "), res["msg"]
            assert "stays active" in res["msg"] and "MemAvailable" in res["msg"]
            assert_active(swap, 32 * MIB)
            assert read(fstab) == BASE_FSTAB + f"{swap} none swap sw 0 0\n"
    res = run_module("swapfile", dict(args, state="absent", swapoff_reserve="64M"))
    assert res["changed"] is True and not res.get("failed"), res
    assert_inactive(swap)


@pytest.mark.parametrize("size, needle", [
    ("12Q", "invalid size"),
    ("-5M", "invalid size"),
    ("4K", "below the minimum"),
])
def test_bad_size_changes_nothing(run_module, scratch, size, needle):  # pylint: disable=redefined-outer-name
    swap = os.path.join(scratch, "swapfile")
    fstab = write_fstab(scratch)
    res = run_module("swapfile", {"path": swap, "size": size, "fstab_path": fstab})
    assert res.get("failed") is True and needle in res["msg"], res
    assert res["msg"].startswith("Failed to ")
    assert not os.path.exists(swap)
    assert read(fstab) == BASE_FSTAB


def test_not_enough_space_refused(run_module, loop_fs):  # pylint: disable=redefined-outer-name
    mnt = loop_fs("ext4")
    swap = os.path.join(mnt, "swapfile")
    res = run_module("swapfile", {"path": swap, "size": "1G", "fstab": False})
    assert res.get("failed") is True, res
    assert "available" in res["msg"] and res["msg"].startswith(f"Failed to create swap file {swap}: "), res["msg"]
    assert not os.path.exists(swap)
    assert_inactive(swap)


def test_small_block_filesystem_is_idempotent(run_module, loop_fs):  # pylint: disable=redefined-outer-name
    """ext4 with 1 KiB blocks: the kernel may map fewer pages than the header names (blocks need not line up with
    pages), so /proc/swaps can show less than size - 1 page. That must not read as a wrong size on every run."""
    mnt = loop_fs("ext4", "-b", "1024")
    swap = os.path.join(mnt, "swapfile")
    args = {"path": swap, "size": "32M", "fstab": False}
    try:
        res = run_module("swapfile", args)
        assert res["changed"] is True and not res.get("failed"), res
        assert os.path.getsize(swap) == 32 << 20
        assert swap in proc_swaps(), "the swapfile is not in /proc/swaps"
        res = run_module("swapfile", args)
        assert res["changed"] is False, res
        res = run_module("swapfile", args)
        assert res["changed"] is False, res
    finally:
        run_module("swapfile", dict(args, state="absent"))
    assert_inactive(swap)
    assert not os.path.exists(swap)


def test_priority_out_of_range_refused(run_module, scratch):  # pylint: disable=redefined-outer-name
    swap = os.path.join(scratch, "swapfile")
    res = run_module("swapfile", {"path": swap, "size": "32M", "priority": 40000, "fstab": False})
    assert res.get("failed") is True and "priority must be 0..32767" in res["msg"], res
    assert not os.path.exists(swap)


@pytest.mark.parametrize("tool", ["mkswap", "swapon"])
def test_failed_format_or_activation_removes_new_file(run_module, scratch, tmp_path, tool):  # pylint: disable=redefined-outer-name
    """A stand-in mkswap first on PATH: one that fails (the one failure that cannot be produced for real here), or one
    that succeeds without writing a signature, so the kernel's own swapon(2) refuses the file for real."""
    fake = tmp_path / "mkswap"
    if tool == "mkswap":
        fake.write_text("#!/bin/sh\necho 'mkswap: simulated failure' >&2\nexit 1\n", encoding="utf-8")
    else:
        fake.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    fake.chmod(0o755)
    swap = os.path.join(scratch, "swapfile")
    fstab = write_fstab(scratch)
    env = {"PATH": f"{tmp_path}:{os.environ['PATH']}"}
    res = run_module("swapfile", {"path": swap, "size": "32M", "fstab_path": fstab}, extra_env=env)
    assert res.get("failed") is True, res
    needle = "simulated failure" if tool == "mkswap" else "swapon(2): Invalid argument"
    assert needle in res["msg"] and res["msg"].startswith("Failed to "), res["msg"]
    assert not os.path.exists(swap), "the half-made swap file was left behind"
    assert os.listdir(scratch) == ["fstab"], f"temporary files left behind: {os.listdir(scratch)}"
    assert read(fstab) == BASE_FSTAB
    assert_inactive(swap)


@pytest.fixture
def memory_hog(request):
    """A process in its own v1 memory cgroup, limited below its size so part of it goes to swap; removed afterwards."""
    cgroup_root = "/sys/fs/cgroup/memory"
    if not os.path.exists(os.path.join(cgroup_root, "memory.limit_in_bytes")):
        pytest.skip("needs the cgroup v1 memory controller (this machine kind has it)")
    cgroup = os.path.join(cgroup_root, f"oomguard-swaptest-{os.getpid()}")
    os.mkdir(cgroup)
    procs = []

    def cleanup():
        for proc in procs:
            proc.kill()
            proc.wait()
        if os.path.isdir(cgroup):
            os.rmdir(cgroup)

    request.addfinalizer(cleanup)

    def start(limit, size):
        with open(os.path.join(cgroup, "memory.limit_in_bytes"), "w", encoding="ascii") as fh:
            fh.write(str(limit))
        code = (f"import os, sys; open('{cgroup}/cgroup.procs', 'w').write(str(os.getpid())); "
                f"b = [b'\\x01' * (1 << 20) for _ in range({size >> 20})]; print('ready', flush=True); sys.stdin.read()")
        proc = subprocess.Popen(["python3", "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout.readline().strip() == "ready"
        return cgroup, proc

    return start


def test_swapoff_with_pages_in_swap(run_module, scratch, memory_hog):  # pylint: disable=redefined-outer-name
    """Pages really in the swap file: they count in the memory check, and a permitted swapoff brings them back."""
    swap = os.path.join(scratch, "swapfile")
    args = {"path": swap, "size": "64M", "priority": 32767, "fstab": False}  # highest priority: our file is used first
    assert run_module("swapfile", args)["changed"] is True
    cgroup, proc = memory_hog(16 * MIB, 40 * MIB)
    used_kib = proc_swaps()[swap][1]
    assert used_kib >= 8 * 1024, f"expected the hog's pages in {swap}: {proc_swaps()}"

    # The refusal itself is forced by a reserve larger than the RAM (MemAvailable moves by more than a few MiB while
    # other tests run, so a reserve tuned to fail only because of these pages would be flaky). What is proved here is
    # that the module reads the bytes really in this swap; the arithmetic is unit-tested (swapoff_shortfall).
    with open("/proc/meminfo", encoding="ascii") as fh:
        total_kib = int(fh.readline().split()[1])
    res = run_module("swapfile", dict(args, state="absent", swapoff_reserve=f"{2 * total_kib}K"))
    assert res.get("failed") is True and "stays active" in res["msg"], res
    now_kib = proc_swaps()[swap][1]
    assert res["used_bytes"] >= 8 * MIB
    assert abs(res["used_bytes"] - now_kib * 1024) <= 4 * MIB, (res["used_bytes"], now_kib)
    assert now_kib >= 8 * 1024, "the refused swapoff must leave the pages in swap"

    with open(os.path.join(cgroup, "memory.limit_in_bytes"), "w", encoding="ascii") as fh:
        fh.write(str(256 * MIB))  # room for the pages to come back
    res = run_module("swapfile", dict(args, state="absent"))
    assert res["changed"] is True and not res.get("failed"), res
    assert_inactive(swap)
    assert proc.poll() is None, "the process whose pages were in swap must survive the swapoff"


def test_inactive_swap_reactivated_with_fstab_priority_and_loose_mode_rebuilt(run_module, scratch):  # pylint: disable=redefined-outer-name
    """After a reboot without fstab (or a manual swapoff) the existing swap is activated again, not rebuilt; the
    priority of its fstab line is kept when none is asked; a loosened mode makes it rebuilt, never chmod'ed."""
    swap = os.path.join(scratch, "swapfile")
    fstab = write_fstab(scratch)
    args = {"path": swap, "size": "32M", "fstab_path": fstab}
    assert run_module("swapfile", dict(args, priority=4))["changed"] is True
    assert_active(swap, 32 * MIB, priority=4)
    sh("swapoff", swap)
    inode = os.stat(swap).st_ino
    res = run_module("swapfile", args, diff=True)
    assert res["changed"] is True and res["actions"] == ["swapon with priority 4"], res
    assert os.stat(swap).st_ino == inode, "an intact swap file must not be rebuilt"
    assert_active(swap, 32 * MIB, priority=4)
    assert read(fstab) == BASE_FSTAB + f"{swap} none swap sw,pri=4 0 0\n"

    # A loosened mode means someone may have opened the file meanwhile (an fd kept open reads swapped memory later):
    # the file is never chmod'ed back and reused, it is rebuilt as a new inode.
    os.chmod(swap, 0o644)
    inode = os.stat(swap).st_ino
    res = run_module("swapfile", args)
    assert res["changed"] is True, res
    assert res["actions"][:2] == ["swapoff", "delete old swap file (mode 0644: not adopted, rebuilt)"], res["actions"]
    assert os.stat(swap).st_ino != inode, "a 0644 swap file was adopted instead of rebuilt"
    assert_active(swap, 32 * MIB, priority=4)
    assert run_module("swapfile", dict(args, state="absent"))["changed"] is True
    assert_inactive(swap)
