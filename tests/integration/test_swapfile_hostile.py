# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""oomguard.linux.swapfile against a hostile local user (issue 13, class 2, and the swapfile share of classes 1 and 6).

Every attack runs for real as root with user ``nobody`` (uid 65534) as the attacker: real symlinks, real directories
nobody can write, real processes of nobody that hold an fd open or race the module. Each test asserts the safe outcome
and that nothing changed: the victim's bytes, mode and owner, /proc/swaps, the test fstab file (never the real one).
The fixtures (loop filesystems, the root-only test base) come from test_swapfile.py.
"""
from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import time

import pytest

from test_swapfile import (  # pylint: disable=unused-import
    BASE_FSTAB,
    MIB,
    assert_active,
    assert_inactive,
    fs_tools,
    loop_fs,
    proc_swaps,
    read,
    root_ext4_dir,
    scratch,
    sh,
    swapoff_under,
    write_fstab,
)

pytestmark = [pytest.mark.root, pytest.mark.serial]

NOBODY = 65534


def as_nobody(code):
    """Start ``python3 -c code`` as nobody:nogroup, no supplementary groups; it prints 'ready' once set up."""
    proc = subprocess.Popen(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                             "/usr/bin/python3", "-c", code],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    assert line == "ready", (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc


def stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def fingerprint(path):
    """What must not change: lstat (type, mode, owner, inode, links) and, for a regular file, the bytes' digest."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    digest = None
    if stat.S_ISREG(st.st_mode):
        with open(path, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()
    link = os.readlink(path) if stat.S_ISLNK(st.st_mode) else None
    return (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_ino, st.st_nlink, digest, link)


def proc_swaps_text(scope):
    """The /proc/swaps lines of swap under ``scope`` (the test's own directory): name, type, size and priority (not
    "used", which moves). Other swap on the machine (other tests, other suites' hosts) comes and goes on its own."""
    with open("/proc/swaps", encoding="utf-8", errors="surrogateescape") as fh:
        lines = fh.read().splitlines()[1:]
    out = []
    for line in lines:
        fields = line.split()
        if fields and fields[0].startswith(scope.rstrip("/") + "/"):
            out.append((fields[0], fields[1], fields[2], fields[-1]))
    return sorted(out)


def active_inodes():
    """(dev, ino) of every active swap file, from /proc/swaps names."""
    out = set()
    for name in proc_swaps():
        try:
            st = os.stat(name)
        except OSError:
            continue
        out.add((st.st_dev, st.st_ino))
    return out


class Snapshot:
    """Files, /proc/swaps and the fstab before an attack; ``assert_unchanged`` compares them after."""

    def __init__(self, paths, fstab):
        self.paths = list(paths)
        self.scope = os.path.dirname(fstab)  # every test keeps its files and its fstab in one directory
        self.fstab = fstab
        self.files = {p: fingerprint(p) for p in self.paths}
        self.swaps = proc_swaps_text(self.scope)
        with open(fstab, "rb") as fh:
            self.fstab_bytes = fh.read()

    def assert_unchanged(self, context=""):
        for path in self.paths:
            assert fingerprint(path) == self.files[path], f"{context}: {path} changed"
        assert proc_swaps_text(self.scope) == self.swaps, f"{context}: /proc/swaps changed"
        with open(self.fstab, "rb") as fh:
            assert fh.read() == self.fstab_bytes, f"{context}: the fstab changed"


@pytest.fixture
def trusted(scratch):  # pylint: disable=redefined-outer-name
    """A directory only root can write (0755, so nobody may traverse it), with a test fstab; swapped off at the end."""
    os.chmod(scratch, 0o755)
    yield scratch
    swapoff_under(scratch)


def make_root_file(path, size=256 * 1024, mode=0o600):
    data = os.urandom(size)
    with open(path, "wb") as fh:
        fh.write(data)
    os.chmod(path, mode)
    return data


def make_swap(path, size=32 * MIB):
    """A valid swap file made by the test itself (fallocate + mkswap), not by the module."""
    sh("fallocate", "-l", str(size), path)
    os.chmod(path, 0o600)
    sh("mkswap", path)


# ------------------------------------------------------------------------------------------------- symlink at path

@pytest.mark.parametrize("target_kind", ["dangling", "root-file", "active-swap"])
def test_symlink_at_path_refused_in_every_state(run_module, trusted, target_kind):  # pylint: disable=redefined-outer-name
    """A link at path (owned by nobody, as an attacker would leave it) is never followed: present, absent, with and
    without force, check mode or not. The link, its target, /proc/swaps and the fstab stay as they were."""
    path = os.path.join(trusted, "swapfile")
    target = os.path.join(trusted, "victim")
    if target_kind == "root-file":
        make_root_file(target, mode=0o644)
    elif target_kind == "active-swap":
        make_swap(target)
        sh("swapon", "-p", "7", target)
    os.symlink(target, path)
    os.lchown(path, NOBODY, NOBODY)
    fstab = write_fstab(trusted, BASE_FSTAB + f"{path} none swap sw 0 0\n{target} none swap sw,pri=7 0 0\n")
    snap = Snapshot([path, target], fstab)
    try:
        for extra in ({}, {"force": True}, {"state": "absent"}, {"state": "absent", "force": True}):
            for check in (False, True):
                res = run_module("swapfile", dict({"path": path, "size": "32M", "fstab_path": fstab}, **extra), check=check)
                assert res.get("failed") is True, (extra, res)
                assert "symbolic link" in res["msg"] and res["msg"].startswith("Failed to "), res["msg"]
                snap.assert_unchanged(f"{target_kind} {extra} check={check}")
        if target_kind == "active-swap":
            assert proc_swaps()[target][2] == 7
        else:
            assert_inactive(target)
    finally:
        swapoff_under(trusted)


# ------------------------------------------------------------------------------------- directory nobody can write

@pytest.mark.parametrize("layout", ["owned-by-nobody", "group-writable", "sticky-1777", "parent-owned-by-nobody"])
def test_directory_writable_by_non_root_refused(run_module, trusted, layout):  # pylint: disable=redefined-outer-name
    """The file's directory, or one above it, writable by someone else than root: a clear error, nothing changed,
    for present, present+force and absent+force, even when a valid swap file and its fstab line are already there."""
    top = os.path.join(trusted, "d")
    os.mkdir(top)
    directory = top
    if layout == "owned-by-nobody":
        os.chown(top, NOBODY, NOBODY)
    elif layout == "group-writable":
        os.chown(top, 0, NOBODY)
        os.chmod(top, 0o775)
    elif layout == "sticky-1777":
        os.chmod(top, 0o1777)
    else:
        os.chown(top, NOBODY, NOBODY)
        directory = os.path.join(top, "sub")
        os.mkdir(directory, 0o755)  # root's own, but nobody can rename it away and put another in its place
    path = os.path.join(directory, "swapfile")
    make_swap(path)
    fstab = write_fstab(trusted, BASE_FSTAB + f"{path} none swap sw 0 0\n")
    snap = Snapshot([path, directory], fstab)
    listing = sorted(os.listdir(directory))
    for extra in ({"size": "64M"}, {"size": "64M", "force": True}, {"state": "absent", "force": True}):
        res = run_module("swapfile", dict({"path": path, "fstab_path": fstab}, **extra))
        assert res.get("failed") is True, (layout, extra, res)
        assert "writable by users other than root" in res["msg"] or "owned by uid 65534" in res["msg"], res["msg"]
        assert "nothing was changed" in res["msg"], res["msg"]
        snap.assert_unchanged(f"{layout} {extra}")
        assert sorted(os.listdir(directory)) == listing, "the module left a file behind"
    assert_inactive(path)


# ------------------------------------------------------------------------------------------------ a real race

RACER = r"""
import os, random, sys, time
path, target, mode = sys.argv[1], sys.argv[2], sys.argv[3]
directory, name = os.path.split(path)
mine = path + ".attacker"
print("ready", flush=True)
last = None


def plant(where):
    try:
        os.unlink(mine)
    except FileNotFoundError:
        pass
    os.symlink(target, mine)
    os.rename(mine, where)  # atomically replaces whatever is at ``where`` (a file of the module's too)


while mode == "flip":  # the simple attacker: a link at the name most of the time, briefly none
    try:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        time.sleep(random.uniform(0.0005, 0.005))
        plant(path)
    except OSError:
        pass
    time.sleep(random.uniform(0.001, 0.02))

while True:
    try:
        # Keep the name free so the module gets past its first look, and watch for its temporary file: the window
        # between creating it and swapon is where a name-based module would format or activate the link's target.
        temps = [n for n in os.listdir(directory) if n.startswith("." + name + ".oomguard-")]
        if not temps:
            st = os.lstat(path) if os.path.lexists(path) else None
            if st is not None and os.path.islink(path):
                os.unlink(path)
            elif st is not None and st.st_ino != last and random.random() < 0.7:
                # A new regular file at the name: a name-based module would mkswap/swapon the name next.
                last = st.st_ino
                time.sleep(random.uniform(0, 0.004))
                plant(path)     # refused by the kernel (EPERM) once the file is active swap
                time.sleep(0.5)  # leave the link there for the module to trip over
            time.sleep(0.0005)
            continue
        time.sleep(random.uniform(0, 0.004))
        move = random.choice(["path", "path", "temp", "unlink-after-link", "none"])
        if move == "path":
            plant(path)
        elif move == "temp":
            plant(os.path.join(directory, temps[0]))
        elif move == "unlink-after-link":
            for _round in range(200):
                if os.path.exists(path) and not os.path.islink(path):
                    os.unlink(path)
                    break
                time.sleep(0.001)
        while any(n.startswith("." + name + ".oomguard-") and not os.path.islink(os.path.join(directory, n))
                  for n in os.listdir(directory)):
            time.sleep(0.002)
    except OSError:
        time.sleep(0.002)
"""


def start_racer(uid, path, target, mode="watch"):
    cmd = ["/usr/bin/python3", "-c", RACER, path, target, mode]
    if uid:
        cmd = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"] + cmd
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    return proc


def test_race_nobody_replaces_path_with_symlink(run_module, trusted):  # pylint: disable=redefined-outer-name
    """nobody loops replacing path with a symlink to root's file while the module runs, in a directory nobody can
    write (the only place nobody can do that): every run fails cleanly at the directory check, the victim is never
    formatted nor activated."""
    directory = os.path.join(trusted, "shared")
    os.mkdir(directory)
    os.chown(directory, NOBODY, NOBODY)
    victim = os.path.join(trusted, "victim")
    make_root_file(victim, size=32 * MIB)
    path = os.path.join(directory, "swapfile")
    fstab = write_fstab(trusted)
    snap = Snapshot([victim], fstab)
    racer = start_racer(NOBODY, path, victim, "flip")
    try:
        for _round in range(3):
            res = run_module("swapfile", {"path": path, "size": "32M", "fstab_path": fstab, "force": True})
            assert res.get("failed") is True and "nothing was changed" in res["msg"], res
            snap.assert_unchanged("nobody racer")
        assert racer.poll() is None, "the racer died: " + racer.stderr.read()
        planted = False
        for _round in range(1000):  # the racer's link is there most of the time: proof it really raced
            if os.path.islink(path) and os.lstat(path).st_uid == NOBODY:
                planted = True
                break
            time.sleep(0.001)
        assert planted, "the racer never planted its link"
    finally:
        stop(racer)


def test_race_inode_checks_with_a_racer_past_the_directory_check(run_module, trusted):  # pylint: disable=redefined-outer-name
    """The inode checks themselves, with a racer that the directory check cannot stop: a root process (standing for
    anything that gets write access to the directory) loops replacing path with a symlink to root's file. Each run
    either succeeds on its own inode or fails cleanly; the victim is never mkswap'ed or swapon'ed, no temporary file is
    left, and whatever is active under the directory is a root 0600 file the module made, under its own name."""
    victim = os.path.join(trusted, "victim")
    make_root_file(victim, size=32 * MIB)
    path = os.path.join(trusted, "swapfile")
    fstab = write_fstab(trusted)
    victim_print = fingerprint(victim)
    outcomes = []
    racer = start_racer(0, path, victim)
    try:
        for _round in range(8):
            res = run_module("swapfile", {"path": path, "size": "32M", "fstab": False, "force": True})
            outcomes.append(res["msg"].split(": ", 1)[-1][:70] if res.get("failed") else "ok")
            if res.get("failed"):
                assert res["msg"].startswith("Failed to "), res
            assert fingerprint(victim) == victim_print, "the victim was touched"
            assert victim not in proc_swaps()
            for name in proc_swaps():
                if name.startswith(trusted + "/"):
                    assert name == path, f"unexpected active swap {name}"
                    st = os.lstat(path)  # an active swap file cannot be renamed over or unlinked: stable
                    assert stat.S_ISREG(st.st_mode) and st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o600
                    assert (st.st_dev, st.st_ino) in active_inodes()
            leftovers = [n for n in os.listdir(trusted)  # the racer's own links at the temporary name are not ours
                         if ".oomguard-" in n and not os.path.islink(os.path.join(trusted, n))]
            assert not leftovers, f"temporary files left behind: {leftovers}"
            swapoff_under(trusted)  # next round starts from scratch: the racer then gets the name again
    finally:
        stop(racer)
        swapoff_under(trusted)
    print(f"race outcomes: {outcomes}")
    assert fingerprint(victim) == victim_print
    assert sh("blkid", "-p", victim, check=False).stdout.find("swap") < 0, "the victim got a swap signature"


# ------------------------------------------------------------------ files the module did not make are not adopted

HOLDER = r"""
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
print("ready", flush=True)
sys.stdin.read()
"""


@pytest.mark.parametrize("kind", ["nobody-0600", "nobody-0644", "root-0644-chowned"])
def test_precreated_swap_with_fd_held_by_nobody_is_never_activated(run_module, trusted, kind):  # pylint: disable=redefined-outer-name
    """nobody pre-creates a valid swap file while the directory is still its own, keeps an fd open, and then the
    directory is handed to root. The module must never swapon that inode (else nobody reads root's swapped memory
    through its fd): refused unless force (owned by nobody), or rebuilt as a new inode (root's but mode 0644)."""
    directory = os.path.join(trusted, "swapdir")
    os.mkdir(directory, 0o755)
    os.chown(directory, NOBODY, NOBODY)
    path = os.path.join(directory, "swapfile")
    mode = 0o600 if kind == "nobody-0600" else 0o644
    maker = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "sh", "-c",
                            f"umask 0; fallocate -l 32M {path} && chmod {mode:o} {path} && mkswap {path} >/dev/null"],
                           capture_output=True, text=True, check=False)
    assert maker.returncode == 0, maker.stderr
    holder = as_nobody(HOLDER.replace("sys.argv[1]", repr(path)))
    try:
        os.chown(directory, 0, 0)  # the admin "fixes" the directory; the file and nobody's fd stay
        if kind == "root-0644-chowned":
            os.chown(path, 0, 0)  # ... and, in this variant, the file's owner too
        held = os.stat(f"/proc/{holder.pid}/fd/3")
        assert held.st_ino == os.stat(path).st_ino
        fstab = write_fstab(trusted)
        snap = Snapshot([path], fstab)
        args = {"path": path, "size": "32M", "fstab_path": fstab}

        if kind.startswith("nobody"):
            for extra in ({}, {"state": "absent"}):
                res = run_module("swapfile", dict(args, **extra))
                assert res.get("failed") is True and "owned by uid 65534" in res["msg"], res
                assert "does not adopt" in res["msg"] or "not this module's" in res["msg"], res["msg"]
                snap.assert_unchanged(f"{kind} {extra}")
            args["force"] = True
        res = run_module("swapfile", args)
        assert res["changed"] is True and not res.get("failed"), res
        assert_active(path, 32 * MIB)
        now = os.stat(path)
        assert now.st_ino != held.st_ino, "the module swapped on the inode nobody holds open"
        assert (held.st_dev, held.st_ino) not in active_inodes()
        assert os.stat(f"/proc/{holder.pid}/fd/3").st_uid == (0 if kind == "root-0644-chowned" else NOBODY)
        assert holder.poll() is None
    finally:
        stop(holder)
        swapoff_under(trusted)


def test_hard_link_elsewhere_not_adopted(run_module, trusted):  # pylint: disable=redefined-outer-name
    """A swap file with a second name (link count 2) is not the module's alone: refused unless force; with force the
    path gets a new inode and the other name keeps the old one, never activated."""
    path = os.path.join(trusted, "swapfile")
    other = os.path.join(trusted, "elsewhere")
    fstab = write_fstab(trusted)
    args = {"path": path, "size": "32M", "fstab_path": fstab}
    assert run_module("swapfile", args)["changed"] is True
    sh("swapoff", path)
    os.link(path, other)
    snap = Snapshot([path, other], fstab)
    for extra in ({}, {"state": "absent"}):
        res = run_module("swapfile", dict(args, **extra))
        assert res.get("failed") is True and "2 hard links" in res["msg"], res
        snap.assert_unchanged(str(extra))
    res = run_module("swapfile", dict(args, force=True))
    assert res["changed"] is True and not res.get("failed"), res
    assert_active(path, 32 * MIB)
    assert os.stat(path).st_ino != os.stat(other).st_ino
    assert fingerprint(other) == snap.files[other][:5] + (1,) + snap.files[other][6:], "the other name's file changed"
    assert other not in proc_swaps()


# ----------------------------------------------------------------------------- absent: only this path's own inode

def test_absent_removes_only_its_own_swap_and_line(run_module, trusted):  # pylint: disable=redefined-outer-name
    """Another swap is active and has its own fstab line; removing ours touches neither."""
    path = os.path.join(trusted, "swapfile")
    other = os.path.join(trusted, "other")
    make_swap(other)
    sh("swapon", "-p", "3", other)
    fstab = write_fstab(trusted, BASE_FSTAB + f"{other} none swap sw,pri=3 0 0\n")
    try:
        assert run_module("swapfile", {"path": path, "size": "32M", "fstab_path": fstab})["changed"] is True
        assert read(fstab) == BASE_FSTAB + f"{other} none swap sw,pri=3 0 0\n{path} none swap sw 0 0\n"
        other_print = fingerprint(other)
        res = run_module("swapfile", {"path": path, "state": "absent", "fstab_path": fstab})
        assert res["changed"] is True and not res.get("failed"), res
        assert_inactive(path)
        assert not os.path.exists(path)
        assert proc_swaps()[other][2] == 3 and fingerprint(other) == other_print
        assert read(fstab) == BASE_FSTAB + f"{other} none swap sw,pri=3 0 0\n"
    finally:
        swapoff_under(trusted)


# --------------------------------------------------------------------------------------- types and valid UTF-8

@pytest.mark.parametrize("priority", [True, 1.5, "5.0"], ids=["bool", "float", "float-string"])
def test_loose_priority_refused_before_anything(run_module, trusted, priority):  # pylint: disable=redefined-outer-name
    """``priority: true`` (once priority 1) and ``1.5`` are refused before any swapoff: the active swap keeps its
    priority, /proc/swaps, the file and the fstab are unchanged; on a new path no file is made."""
    path = os.path.join(trusted, "swapfile")
    fstab = write_fstab(trusted)
    args = {"path": path, "size": "32M", "fstab_path": fstab}
    try:
        assert run_module("swapfile", dict(args, priority=5))["changed"] is True
        snap = Snapshot([path], fstab)
        res = run_module("swapfile", dict(args, priority=priority))
        # ansible-core itself refuses 1.5; true and "5.0" (which it would turn into 1 and 5) are refused by refuse_loose_ints
        assert res.get("failed") is True and "priority" in res["msg"], res
        assert "must be an integer" in res["msg"] or "unable to convert to int" in res["msg"], res["msg"]
        snap.assert_unchanged(repr(priority))
        assert proc_swaps()[path][2] == 5
        fresh = os.path.join(trusted, "fresh")
        res = run_module("swapfile", dict(args, path=fresh, priority=priority))
        assert res.get("failed") is True and not os.path.exists(fresh), res
    finally:
        swapoff_under(trusted)


def test_undecodable_fstab_bytes_give_valid_utf8_results(run_module, trusted):  # pylint: disable=redefined-outer-name
    """An fstab line for our path with bytes that are not UTF-8: the result and diff stay valid UTF-8 (else
    ansible-core refuses the whole result), the byte is shown as \\xff, and the other lines keep their bytes."""
    path = os.path.join(trusted, "swapfile")
    fstab = os.path.join(trusted, "fstab")
    other = b"/dev/vdb1 /srv\xfe xfs defaults 0 2\n"
    with open(fstab, "wb") as fh:
        fh.write(other + path.encode() + b" none swap sw,x-\xff 0 0\n")
    try:
        res = run_module("swapfile", {"path": path, "size": "32M", "fstab_path": fstab}, check=True, diff=True)
        assert not res.get("failed"), res
        assert "x-\\xff" in res["diff"]["before"], res["diff"]
        res = run_module("swapfile", {"path": path, "size": "32M", "fstab_path": fstab}, diff=True)
        assert res["changed"] is True and not res.get("failed"), res
        assert res["fstab_line"] == f"{path} none swap sw 0 0"
        with open(fstab, "rb") as fh:
            assert fh.read() == other + f"{path} none swap sw 0 0\n".encode()
        assert_active(path, 32 * MIB)
    finally:
        swapoff_under(trusted)


@pytest.mark.parametrize("strike", ["temp-name", "final-name"])
def test_name_swapped_during_mkswap_is_caught(run_module, trusted, tmp_path, strike):  # pylint: disable=redefined-outer-name
    """Deterministic version of the race: a wrapper first on PATH runs the real mkswap and, at that very moment, does
    what a racer would (the wrapper only fixes the timing; the kernel, the files and mkswap are real): a link to root's
    file replaces the temporary name, or is put at the final name. The module notices before it names or activates
    anything, fails cleanly, and the victim is neither formatted nor activated."""
    victim = os.path.join(trusted, "victim")
    make_root_file(victim, size=32 * MIB)
    victim_print = fingerprint(victim)
    path = os.path.join(trusted, "swapfile")
    where = f'"$(ls -d {trusted}/.swapfile.oomguard-*)"' if strike == "temp-name" else f'"{path}"'
    wrapper = tmp_path / "mkswap"
    wrapper.write_text("#!/bin/sh\n"
                       '/sbin/mkswap "$@" || exit 1\n'
                       f'ln -s {victim} {trusted}/attacker-link && mv -fT {trusted}/attacker-link {where}\n',
                       encoding="utf-8")
    wrapper.chmod(0o755)
    res = run_module("swapfile", {"path": path, "size": "32M", "fstab": False},
                     extra_env={"PATH": f"{tmp_path}:{os.environ['PATH']}"})
    assert res.get("failed") is True, res
    expected = "replaced or removed by someone else" if strike == "temp-name" else "something appeared at the path"
    assert expected in res["msg"], res["msg"]
    assert fingerprint(victim) == victim_print, "the victim was touched"
    assert victim not in proc_swaps() and not any(n.startswith(trusted + "/") for n in proc_swaps())
    regular = [n for n in os.listdir(trusted) if ".oomguard-" in n and not os.path.islink(os.path.join(trusted, n))]
    assert not regular, f"the module left its file behind: {regular}"
    assert os.path.islink(path) == (strike == "final-name")
