#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: swapfile
short_description: Create, resize and remove a swap file safely
version_added: "0.1.0"
description:
  - Manages one swap file at O(path). It creates it without holes, formats it with C(mkswap), activates it with C(swapon)
    at the wanted priority and keeps its C(/etc/fstab) line; resizes it when O(size) differs; removes it with O(state=absent).
  - Refuses filesystems whose files cannot hold swap (tmpfs, ramfs, overlay, aufs, NFS, CIFS/SMB, Ceph, GlusterFS, 9p, virtiofs,
    FUSE, squashfs, erofs, iso9660, ZFS and pseudo filesystems), detected from C(/proc/self/mountinfo) for the file's directory.
  - Checks the free space of the filesystem (the space available to unprivileged users, so the root reserve is left alone)
    before it allocates the file.
  - On btrfs the empty file gets the no-copy-on-write attribute (C(chattr +C)) before any block is allocated, as the kernel requires.
  - Before every C(swapoff) (resize, priority change, removal) the module checks that C(MemAvailable) can take the pages that are
    in this swap plus O(swapoff_reserve); otherwise it fails and leaves the swap active, because a C(swapoff) on a loaded host
    can itself cause the OOM kills swap is meant to prevent.
  - A file at O(path) without a swap signature is never overwritten or deleted unless O(force=true). A file with no data at
    all (size 0 or only holes, as left by C(truncate)) is not data and is replaced without O(force).
  - A swap file with holes (sparse, which C(swapon) refuses) is rebuilt with every block allocated.
  - "Hostile local users: O(path) is never followed if it is a symbolic link (dangling or not), in any state and with
    O(force=true) too. The file's directory and every directory above it (as written and resolved) must be owned by root and
    not writable by group or others (a sticky directory such as C(/tmp) is refused too); otherwise the module fails and changes
    nothing. See C(docs/security.md)."
  - Only a file owned by root:root with mode 0600 and one link is kept as it is. A root-owned swap file with another mode or
    group is rebuilt as a new file (never chmod'ed, because someone may hold it open and read swapped memory through it). A file owned
    by another user, or with more than one link, is refused unless O(force=true), which deletes that name and builds a new file;
    the old inode is never formatted or activated.
  - A new file is built under a temporary name in the checked directory, opened with C(O_CREAT|O_EXCL|O_NOFOLLOW), formatted
    with C(mkswap) through its file descriptor, given the final name with C(link(2)), and activated with C(swapon(2)) on its
    descriptor. Device and inode are compared with the name before every step and right after C(swapon); a swap whose name
    changed is swapped off again and the task fails. C(swapoff) is also made on the file's descriptor, and C(/proc/swaps)
    entries are matched by device and inode, so O(state=absent) can only deactivate this path's own file.
options:
  path:
    description:
      - Absolute path of the swap file, without C(.) or C(..) components. Its directory must exist and, like every directory
        above it, be owned by root and not writable by group or others.
    type: path
    required: true
  size:
    description:
      - Size of the swap file, required with O(state=present).
      - A plain integer (or a string of digits) is bytes.
      - V(K), V(M), V(G), V(T), V(P) and V(KiB), V(MiB), V(GiB), V(TiB), V(PiB) are powers of 1024 (V(1G) = V(1GiB) = 1073741824 bytes).
      - V(KB), V(MB), V(GB), V(TB), V(PB) are powers of 1000 (V(1GB) = 1000000000 bytes), as in fallocate(1); V(B) is bytes.
      - Unit letters are case-insensitive, a decimal fraction is allowed (V(1.5G)), one blank between number and unit is allowed.
      - The file's size is this size rounded up to whole pages (4096 bytes on most hosts); C(/proc/swaps) then shows one page less,
        the page that holds the swap header. Differently written but equal sizes (V(1G), V(1024M), V("1073741824")) are the same size.
      - At least 10 pages (the minimum of mkswap).
    type: raw
  state:
    description:
      - V(present) creates, formats and activates the swap file (and writes its fstab line).
      - V(absent) deactivates it (after the memory check), removes its fstab line and deletes the file.
    type: str
    choices: [present, absent]
    default: present
  priority:
    description:
      - Swap priority, V(0) to V(32767); higher is used first. A boolean, a float or a non-integer string is refused
        before anything is done. Given to C(swapon(2)) (C(SWAP_FLAG_PREFER)) and written as C(pri=N) in the fstab line.
      - When omitted, a new swap gets the kernel's default (the kernel numbers those -2, -3, and so on, in activation order), and the
        priority of an existing swap (active, or the C(pri=) of its fstab line) is kept. An omitted priority is never a change.
      - A different priority on an active swap means C(swapoff) then C(swapon) with the new priority (after the memory check).
    type: int
  fstab:
    description:
      - Manage the swap file's line in O(fstab_path), written as C(PATH none swap sw[,pri=N] 0 0).
      - An existing swap line for the same path is fixed in place whatever its spacing or options; duplicates are removed;
        every other line is kept byte for byte. The file is rewritten atomically (temporary file, then rename).
    type: bool
    default: true
  fstab_path:
    description:
      - The fstab file to manage, for tests and chroots.
    type: path
    default: /etc/fstab
  force:
    description:
      - Replace (or, with O(state=absent), delete) an existing file at O(path) that has data but no swap signature, or that
        is owned by another user or has more than one link. Only the name at O(path) is removed; a new inode is built.
      - Never applies to a symbolic link at O(path) or to a directory someone else than root can write; those are always refused.
    type: bool
    default: false
  swapoff_reserve:
    description:
      - Memory that must still be available after a C(swapoff). The module only swaps off when C(MemAvailable) is at least the
        bytes in use in this swap plus this reserve. Same units as O(size).
      - Defaults to 10% of C(MemTotal), at least 256 MiB.
    type: raw
notes:
  - Needs root, C(mkswap) (util-linux), C(/proc) mounted, and C(chattr) (e2fsprogs) on btrfs. C(swapon) and C(swapoff) are
    called as system calls on the file's descriptor, not through the swapon(8) and swapoff(8) tools.
  - The swap signature is detected by the C(SWAPSPACE2) magic at the end of the first page.
  - A resize builds a new file. The old swap is swapped off (after the memory check), deleted, and a new file of the new size is
    allocated, formatted and activated with the same priority.
  - If C(mkswap) or C(swapon) fails on a file the module has just allocated, the file (and its temporary name) is removed
    again, and a swap that was activated is swapped off.
seealso:
  - name: swapon(8)
    description: Activate swap.
    link: https://man7.org/linux/man-pages/man8/swapon.8.html
extends_documentation_fragment: []
attributes:
  check_mode:
    support: full
    description: Reports what would be done (including failures of the free-space and memory checks) and changes nothing.
  diff_mode:
    support: full
    description: Shows the file's size, whether it is active, its priority and its fstab line, before and after.
  platform:
    support: full
    platforms: linux
    description: Linux only (C(/proc/swaps), C(/proc/self/mountinfo)).
author:
  - oomguard.linux contributors (@oomguard)
"""

EXAMPLES = r"""
- name: Add 2 GiB of swap as a buffer before the OOM killer
  oomguard.linux.swapfile:
    path: /swapfile
    size: 2G

- name: Same file, used before other swap devices
  oomguard.linux.swapfile:
    path: /swapfile
    size: 2G
    priority: 100

- name: Remove it (fails and leaves it active if the memory cannot take its pages back)
  oomguard.linux.swapfile:
    path: /swapfile
    state: absent

- name: Swap that must not come back at boot
  oomguard.linux.swapfile:
    path: /var/swap/extra
    size: 512MiB
    fstab: false
"""

RETURN = r"""
path:
  description: The swap file's path, as given (valid UTF-8).
  returned: always
  type: str
  sample: /swapfile
size_bytes:
  description: Size of the file in bytes (the requested size rounded up to pages); 0 when there is no file.
  returned: always
  type: int
  sample: 2147483648
active:
  description: Whether the file is active swap (in C(/proc/swaps)).
  returned: always
  type: bool
  sample: true
priority:
  description: The active swap's priority from C(/proc/swaps); null when inactive, or in check mode when the kernel would choose it.
  returned: always
  type: int
  sample: 100
fstab_line:
  description: The file's swap line in O(fstab_path) (without the newline), or null when there is none.
  returned: always
  type: str
  sample: /swapfile none swap sw,pri=100 0 0
actions:
  description: What was done, or in check mode what would be done, in order.
  returned: always
  type: list
  elements: str
  sample: ["allocate 2147483648 bytes (fallocate)", "mkswap", "swapon with priority 100", "add fstab line"]
fstype:
  description: Filesystem type of the file's directory, from C(/proc/self/mountinfo).
  returned: when known
  type: str
  sample: ext4
"""

import errno
import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.oomguard.linux.plugins.module_utils._args import refuse_loose_ints
from ansible_collections.oomguard.linux.plugins.module_utils._text import safe_text
from ansible_collections.oomguard.linux.plugins.module_utils._units import SizeError, human_size, parse_size
from ansible_collections.oomguard.linux.plugins.module_utils._swap import (
    UnsafePath,
    adoption_problem,
    allocate,
    check_directory_chain,
    filesystem_of,
    find_swap_by_inode,
    find_swap_lines,
    foreign_problem,
    fstab_priority,
    identity,
    is_sparse,
    open_trusted_directory,
    page_size,
    parse_fstab_line,
    path_components,
    read_meminfo,
    read_proc_swaps,
    read_swap_header_fd,
    render_swap_line,
    round_to_pages,
    swap_line_matches,
    swap_reserve_default,
    swapoff_fd,
    swapoff_shortfall,
    swapon_fd,
    unsupported_reason,
    update_fstab,
)

MIN_PAGES = 10


def clean(value):
    """Every string in a result valid UTF-8 (paths and fstab lines may carry undecodable bytes)."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


class SwapFile:
    """The swap file at one path, reached only through its checked directory (a directory fd): what is there now, and
    the operations on it. Every operation on a file is made on an fd whose device and inode were compared with the
    name just before (and, for swapon, just after)."""

    def __init__(self, module):
        self.module = module
        params = module.params
        self.path = params["path"]
        self.directory, self.name = os.path.split(self.path)
        self.real = os.path.join(os.path.realpath(self.directory), self.name)
        self.paths = {self.path, self.real}
        self.pagesize = page_size()
        self.actions = []
        self.dfd = None       # the checked directory
        self.fd = None        # the existing file at path, as inspected
        self.new = None       # the file being built: {"fd", "tmp", "linked", "active"} until it is committed

    # ------------------------------------------------------------------------------------------------------- state
    def fail(self, verb_what, why, **kwargs):
        self.discard_new()
        self.module.fail_json(**clean(dict(msg="Failed to %s: %s" % (verb_what, why), path=self.path,
                                           actions=self.actions, **kwargs)))

    def open_directory(self):
        """Check the directory chain and open the directory; nothing is changed when this fails."""
        try:
            check_directory_chain(self.directory or "/")
            self.dfd = open_trusted_directory(self.directory or "/")
        except UnsafePath as exc:
            self.fail("manage swap file %s" % self.path, "%s; nothing was changed (use a directory only root can write, "
                      "such as / or /var/lib/swap with mode 0755)" % exc)
        except OSError as exc:
            self.fail("manage swap file %s" % self.path, "cannot open directory %s: %s" % (self.directory, to_native(exc)))

    def lstat_name(self, name):
        try:
            return os.stat(name, dir_fd=self.dfd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def inspect(self):
        """Current state: file (fstat of an fd opened without following links, swap header, sparse), its active entry
        in /proc/swaps (by device and inode), fstab line."""
        state = {"exists": False, "st": None, "header": None, "sparse": False, "active": None,
                 "fstab_line": None, "fstab_entry": None, "fstab_count": 0}
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        try:
            st = self.lstat_name(self.name)
            if st is not None and stat.S_ISLNK(st.st_mode):
                self.fail("manage swap file %s" % self.path, "it is a symbolic link; the module never follows a link at path "
                          "(in any state, force or not): remove the link and run again")
            if st is not None and not stat.S_ISREG(st.st_mode):
                self.fail("manage swap file %s" % self.path, "it exists and is not a regular file")
            if st is not None:
                fd = os.open(self.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=self.dfd)
                self.fd = fd
                fst = os.fstat(fd)
                if identity(fst) != identity(st) or not stat.S_ISREG(fst.st_mode):
                    self.fail("manage swap file %s" % self.path, "the file was replaced while it was being inspected")
                state.update(exists=True, st=fst, header=read_swap_header_fd(fd, self.pagesize), sparse=is_sparse(fst))
        except OSError as exc:
            self.fail("inspect %s" % self.path, to_native(exc))
        if state["exists"]:
            try:
                state["active"] = find_swap_by_inode(read_proc_swaps(), state["st"])
            except OSError as exc:
                self.fail("read /proc/swaps", to_native(exc))
        lines = self.fstab_lines()
        found = find_swap_lines(lines, self.paths)
        if found:
            state["fstab_line"] = lines[found[0]].rstrip("\r\n")
            state["fstab_entry"] = parse_fstab_line(lines[found[0]])
            state["fstab_count"] = len(found)
        return state

    def verify(self, fd, name, verb_what, links=None):
        """The name ``name`` in the checked directory is still the inode open as ``fd`` (and, for our own new file,
        root:root 0600 with ``links`` links); else fail without acting."""
        try:
            st = self.lstat_name(name)
            fst = os.fstat(fd)
        except OSError as exc:
            self.fail(verb_what, to_native(exc))
        if st is None or identity(st) != identity(fst):
            self.fail(verb_what, "%s was replaced or removed by someone else while the module worked on it; stopped "
                      "before acting on it" % os.path.join(self.directory, name))
        if links is not None and (fst.st_uid != 0 or fst.st_gid != 0 or stat.S_IMODE(fst.st_mode) != 0o600
                                  or fst.st_nlink != links):
            self.fail(verb_what, "the new file's owner, mode or link count was changed by someone else; stopped")
        return fst

    def fstab_text(self):
        try:
            with open(self.module.params["fstab_path"], encoding="utf-8", errors="surrogateescape", newline="") as fh:
                return fh.read()
        except FileNotFoundError:
            return ""
        except OSError as exc:
            self.fail("read %s" % self.module.params["fstab_path"], to_native(exc))
        return ""

    def fstab_lines(self):
        return self.fstab_text().splitlines(True)

    # -------------------------------------------------------------------------------------------------- operations
    def run(self, verb_what, cmd):
        rc, out, err = self.module.run_command(cmd, environ_update={"LC_ALL": "C"})
        if rc != 0:
            why = (err or out).strip() or "exit code %d" % rc
            self.fail(verb_what, "%s failed: %s" % (" ".join(cmd), why), rc=rc, stdout=out, stderr=err)

    def check_memory(self, active, verb_what):
        try:
            meminfo = read_meminfo()
        except OSError as exc:
            self.fail(verb_what, "cannot read /proc/meminfo: %s" % to_native(exc))
        reserve = self.module.params["swapoff_reserve"]
        if reserve is None:
            reserve = swap_reserve_default(meminfo)
        else:
            reserve = parse_size(reserve)
        shortfall = swapoff_shortfall(active["used_bytes"], meminfo, reserve)
        if shortfall:
            self.fail(verb_what, "swapoff would have to move %s from swap back into memory, but MemAvailable is %s and %s must stay "
                      "available (swapoff_reserve); %s short. The swap stays active: free memory first or lower swapoff_reserve"
                      % (human_size(active["used_bytes"]), human_size(meminfo.get("MemAvailable", 0)), human_size(reserve),
                         human_size(shortfall)),
                      used_bytes=active["used_bytes"], mem_available=meminfo.get("MemAvailable"), reserve_bytes=reserve)

    def check_space(self, wanted, freed):
        try:
            vfs = os.fstatvfs(self.dfd)
        except OSError as exc:
            self.fail("create swap file %s" % self.path, "cannot stat filesystem of %s: %s" % (self.directory, to_native(exc)))
        available = vfs.f_bavail * vfs.f_frsize
        if wanted > available + freed:
            self.fail("create swap file %s" % self.path, "it needs %s but %s has only %s available"
                      % (human_size(wanted), self.directory or "/", human_size(available + freed)))

    def swapoff(self):
        """swapoff the inspected file (by its fd: the kernel matches the inode, never another swap)."""
        verb_what = "swapoff %s" % self.path
        self.verify(self.fd, self.name, verb_what)
        try:
            swapoff_fd(self.fd)
        except OSError as exc:
            self.fail(verb_what, to_native(exc))

    def delete_old(self, verb_what):
        """Remove the name of the inspected file, after checking it still names that inode."""
        self.verify(self.fd, self.name, verb_what)
        try:
            os.unlink(self.name, dir_fd=self.dfd)
        except OSError as exc:
            self.fail(verb_what, to_native(exc))

    def build(self, wanted, fstype):
        """Make a new swap file under a temporary name in the checked directory (O_CREAT|O_EXCL|O_NOFOLLOW, root:root
        0600), allocate it without holes, mkswap it through its fd, then give it the final name with link(2), which
        never replaces anything. Returns the fd of the new file."""
        verb_what = "create swap file %s" % self.path
        tmp = ".%s.oomguard-%s" % (self.name, os.urandom(6).hex())
        try:
            fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=self.dfd)
        except OSError as exc:
            self.fail(verb_what, to_native(exc))
        self.new = {"fd": fd, "tmp": tmp, "linked": False, "active": False}
        try:
            os.fchown(fd, 0, 0)
            os.fchmod(fd, 0o600)
        except OSError as exc:
            self.fail(verb_what, to_native(exc))
        if fstype == "btrfs":
            # No copy-on-write must be set while the file is empty, before any block is allocated. chattr takes a name:
            # the name is in the checked directory and is compared with our fd right before and after.
            self.verify(fd, tmp, verb_what, links=1)
            self.run(verb_what, [self.module.get_bin_path("chattr", required=True), "+C",
                                 os.path.join(os.path.realpath(self.directory), tmp)])
        self.verify(fd, tmp, verb_what, links=1)
        try:
            method = allocate(fd, wanted)
            if is_sparse(os.fstat(fd)):
                raise OSError("the filesystem left holes in the file after allocation")
        except OSError as exc:
            self.fail(verb_what, "cannot allocate %s: %s" % (human_size(wanted), to_native(exc)))
        self.actions.append("allocate %d bytes (%s)" % (wanted, method))
        self.verify(fd, tmp, verb_what, links=1)
        # mkswap opens /proc/<our pid>/fd/<fd>: the kernel resolves that to this very inode, whatever names change.
        self.run("format swap file %s" % self.path,
                 [self.module.get_bin_path("mkswap", required=True), "/proc/%d/fd/%d" % (os.getpid(), fd)])
        self.actions.append("mkswap")
        self.verify(fd, tmp, verb_what, links=1)
        try:
            os.link(tmp, self.name, src_dir_fd=self.dfd, dst_dir_fd=self.dfd, follow_symlinks=False)
        except FileExistsError:
            self.fail(verb_what, "something appeared at the path while the new swap file was being built; nothing was "
                      "activated and the new file was removed")
        except OSError as exc:
            self.fail(verb_what, to_native(exc))
        self.new["linked"] = True
        self.verify(fd, tmp, verb_what, links=2)
        try:
            os.unlink(tmp, dir_fd=self.dfd)
        except OSError as exc:
            self.fail(verb_what, to_native(exc))
        self.new["tmp"] = None
        self.verify(fd, self.name, verb_what, links=1)
        # The fd still refers to the removed temporary name; the kernel names a swap (in /proc/swaps) by the name it was
        # opened with, and refuses an unlinked one. So the final name is opened without following links and must be the
        # very inode just built before it replaces the build fd.
        try:
            final = os.open(self.name, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=self.dfd)
        except OSError as exc:
            self.fail(verb_what, to_native(exc))
        if identity(os.fstat(final)) != identity(os.fstat(fd)):
            os.close(final)
            self.fail(verb_what, "%s was replaced by someone else right after it was built; stopped" % self.path)
        os.close(fd)
        self.new["fd"] = final
        self.verify(final, self.name, verb_what, links=1)
        return final

    def swapon(self, fd, prio, fresh):
        """swapon(2) the inode open as ``fd``; the name is compared with it right before and right after, and a swap
        whose name changed in between is swapped off again and the task fails."""
        verb_what = "activate swap file %s" % self.path
        self.verify(fd, self.name, verb_what, links=1)
        try:
            swapon_fd(fd, prio)
        except OSError as exc:
            why = to_native(exc)
            if getattr(exc, "errno", None) == errno.EINVAL:
                why += " (the kernel refuses the file: no valid swap signature, holes, or copy-on-write)"
            self.fail(verb_what, why)
        if fresh:
            self.new["active"] = True
        try:
            after = self.lstat_name(self.name)
            fst = os.fstat(fd)
        except OSError:
            after = fst = None
        if after is None or identity(after) != identity(fst) or fst.st_nlink != 1:
            if not fresh:
                try:
                    swapoff_fd(fd)
                except OSError:
                    pass
            self.fail(verb_what, "the path was changed by someone else while the swap was being activated; it was "
                      "swapped off again")
        self.actions.append("swapon" if prio is None else "swapon with priority %d" % prio)

    def discard_new(self):
        """Undo a half-built new file: swapoff it if it was activated, remove the names that still point to it."""
        new, self.new = self.new, None
        if not new:
            return
        fd = new["fd"]
        if new["active"]:
            try:
                swapoff_fd(fd)
            except OSError:
                pass
        try:
            mine = identity(os.fstat(fd))
            for name in (new["tmp"], self.name if new["linked"] else None):
                if name is None:
                    continue
                st = self.lstat_name(name)
                if st is not None and identity(st) == mine:
                    os.unlink(name, dir_fd=self.dfd)
        except OSError:
            pass
        try:
            os.close(fd)
        except OSError:
            pass

    def commit_new(self):
        fd = self.new["fd"]
        self.new = None
        return fd

    def write_fstab(self, text):
        fstab_path = self.module.params["fstab_path"]
        directory = os.path.dirname(fstab_path) or "."
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(fstab_path), dir=directory)
            with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape", newline="") as fh:
                fh.write(text)
            if os.path.exists(fstab_path):
                st = os.stat(fstab_path)
                os.chmod(tmp, stat.S_IMODE(st.st_mode))
                os.chown(tmp, st.st_uid, st.st_gid)
            else:
                os.chmod(tmp, 0o644)
        except OSError as exc:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)
            self.fail("write %s" % fstab_path, to_native(exc))
        self.module.atomic_move(tmp, fstab_path)

    def fstab_step(self, new_line, before):
        """The fstab action bringing the file to ``new_line`` (None: no line), or None when it is already so."""
        if before["fstab_count"] == 0 and new_line is None:
            return None
        if before["fstab_count"] == 1 and new_line is not None and before["fstab_line"] == new_line:
            return None
        if new_line is None:
            return "remove fstab line"
        return "add fstab line" if before["fstab_count"] == 0 else "update fstab line"

    def apply_fstab(self, new_line):
        """Rewrite the fstab: only the swap lines for this path (as written or resolved) change."""
        text, dummy = update_fstab(self.fstab_text(), self.paths, new_line)
        self.write_fstab(text)


def describe(state):
    """Text for diff mode."""
    if not state.get("exists"):
        size = "none (no file)"
    else:
        size = "%d bytes (%s)" % (state["size"], human_size(state["size"]))
    if state.get("active"):
        prio = state.get("priority")
        active = "yes, priority %s" % ("chosen by the kernel" if prio is None else prio)
    else:
        active = "no"
    return "size: %s\nactive: %s\nfstab: %s\n" % (size, active, state.get("fstab_line") or "(no line)")


def summary(state):
    active = state["active"]
    return {
        "exists": state["exists"],
        "size": state["st"].st_size if state["st"] is not None else 0,
        "active": active is not None,
        "priority": active["priority"] if active else None,
        "fstab_line": state["fstab_line"],
    }


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            size=dict(type="raw"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            priority=dict(type="int"),
            fstab=dict(type="bool", default=True),
            fstab_path=dict(type="path", default="/etc/fstab"),
            force=dict(type="bool", default=False),
            swapoff_reserve=dict(type="raw"),
        ),
        required_if=[("state", "present", ["size"])],
        supports_check_mode=True,
    )
    refuse_loose_ints(module)
    # ansible-core adds owner/mode/size/state of the file named by a result's ``path`` by stat'ing that name again at
    # exit (following links, racing with whoever controls the name; a name removed in between crashed the module).
    # This module reports the file from the descriptor it checked (size_bytes, active...), so that is switched off.
    module.add_path_info = lambda kwargs: kwargs
    params = module.params
    path = params["path"]
    try:
        parts = path_components(path)
    except UnsafePath as exc:
        module.fail_json(**clean(dict(msg="Failed to manage swap file %s: %s" % (path, exc))))
    if not parts or path.endswith("/"):
        module.fail_json(**clean(dict(msg="Failed to manage swap file %s: path must name a file" % path)))
    priority = params["priority"]
    if priority is not None and not 0 <= priority <= 32767:
        module.fail_json(**clean(dict(msg="Failed to manage swap file %s: priority must be 0..32767, got %d" % (path, priority))))
    try:
        if params["swapoff_reserve"] is not None:
            parse_size(params["swapoff_reserve"])
        wanted = parse_size(params["size"]) if params["size"] is not None else None
    except SizeError as exc:
        module.fail_json(**clean(dict(msg="Failed to manage swap file %s: %s" % (path, to_native(exc)))))

    swap = SwapFile(module)
    if not os.path.isdir(swap.directory or "/"):
        swap.fail("manage swap file %s" % path, "directory %s does not exist" % swap.directory)
    swap.open_directory()
    mount = filesystem_of(swap.directory or "/")
    fstype = mount["fstype"] if mount else None

    before = swap.inspect()
    before_summary = summary(before)
    if params["state"] == "present":
        plan = plan_present(swap, before, wanted, fstype)
        after_summary = plan["after"]
        if module.check_mode:
            swap.actions.extend(plan["actions"])
        else:
            execute_present(swap, before, plan, fstype)
    else:
        plan = plan_absent(swap, before)
        after_summary = plan["after"]
        if module.check_mode:
            swap.actions.extend(plan["actions"])
        else:
            execute_absent(swap, before, plan)

    changed = bool(swap.actions)
    if not module.check_mode:
        after_summary = summary(swap.inspect())
    result = dict(
        changed=changed,
        path=path,
        size_bytes=after_summary["size"],
        active=after_summary["active"],
        priority=after_summary["priority"],
        fstab_line=after_summary["fstab_line"],
        actions=swap.actions,
    )
    if fstype:
        result["fstype"] = fstype
    if module._diff:
        result["diff"] = dict(before=describe(before_summary), after=describe(after_summary),
                              before_header="%s (before)" % path, after_header="%s (after)" % path)
    module.exit_json(**clean(result))


def plan_present(swap, before, wanted, fstype):
    """Decide everything for state=present (no change made): the steps, their descriptions, the state after."""
    module = swap.module
    params = module.params
    pagesize = swap.pagesize
    path = swap.path
    wanted = round_to_pages(wanted, pagesize)
    if wanted < MIN_PAGES * pagesize:
        swap.fail("create swap file %s" % path, "size %d bytes is below the minimum of %d pages (%d bytes)"
                  % (wanted, MIN_PAGES, MIN_PAGES * pagesize))
    reason = unsupported_reason(fstype) if fstype else None
    if reason:
        swap.fail("create swap file %s" % path, "%s is on %s, %s; choose a path on a disk filesystem such as ext4, xfs or btrfs"
                  % (os.path.dirname(swap.real), fstype, reason))

    st, header, active = before["st"], before["header"], before["active"]
    rebuild = swapoff = swapon = False
    old_kind = None
    if not before["exists"]:
        rebuild = True
    else:
        foreign = foreign_problem(st)
        if foreign and not params["force"]:
            swap.fail("create swap file %s" % path, "the existing file is %s; the module does not adopt a file it did not "
                      "make (never chmod/chown then swapon), and leaves it untouched. Set force=true to delete this name "
                      "and build a new swap file (a new inode; the old one is never used)" % foreign)
        if foreign:
            rebuild, old_kind = True, "foreign file (%s)" % foreign
        elif header is None:
            if st.st_blocks == 0:
                rebuild, old_kind = True, "empty file"  # size 0 or only holes: no data to lose
            elif params["force"]:
                rebuild, old_kind = True, "non-swap file"
            else:
                swap.fail("create swap file %s" % path, "the file exists, has data and no swap signature; "
                          "it is left untouched (set force=true to replace it)")
        elif adoption_problem(st):
            # Root's own swap file, but readable or owned by a group: someone may hold it open. Rebuilt, never chmod'ed.
            rebuild, old_kind = True, "swap file (%s: not adopted, rebuilt)" % adoption_problem(st)
        else:
            size_ok = st.st_size == wanted and header["pages"] == wanted // pagesize
            if active is not None:
                # The file's size and header decide; /proc/swaps is not compared with them: the kernel may use fewer
                # pages than the header names when filesystem blocks do not line up with pages (ext4 with 1K blocks),
                # and an active swapfile cannot be changed on disk (the kernel marks it S_SWAPFILE).
                if not size_ok:
                    rebuild = True
                elif params["priority"] is not None and active["priority"] != params["priority"]:
                    swapoff = swapon = True
            elif before["sparse"] or not size_ok:
                rebuild, old_kind = True, "swap file"
            else:
                swapon = True
        if rebuild and old_kind is None:
            old_kind = "swap file"
    if rebuild:
        swapon = True
        swapoff = active is not None

    # The priority to activate with and to write to fstab: asked, else what the swap has now (never a kernel-chosen one).
    prio = params["priority"]
    if prio is None and active is not None and active["priority"] >= 0:
        prio = active["priority"]
    if prio is None and before["fstab_entry"] is not None:
        prio = fstab_priority(before["fstab_entry"])
    fstab_line = before["fstab_line"]
    fstab_action = None
    if params["fstab"]:
        entry = before["fstab_entry"]
        if (entry is not None and before["fstab_count"] == 1 and swap_line_matches(entry, prio)
                and entry["spec"] == path):
            fstab_line = before["fstab_line"]  # same meaning, spacing and option order kept
        else:
            fstab_line = render_swap_line(path, prio)
        fstab_action = swap.fstab_step(fstab_line, before)

    # Refusals that depend on the system come before any change, in check mode too.
    if swapoff:
        swap.check_memory(active, "swapoff %s" % path)
    if rebuild:
        freed = st.st_blocks * 512 if st is not None and st.st_nlink == 1 else 0
        swap.check_space(wanted, freed)

    actions = []
    if swapoff:
        actions.append("swapoff")
    if rebuild and before["exists"]:
        actions.append("delete old %s" % old_kind)
    if rebuild:
        actions += ["allocate %d bytes" % wanted, "mkswap"]
    if swapon:
        actions.append("swapon" if prio is None else "swapon with priority %d" % prio)
    if fstab_action:
        actions.append(fstab_action)
    return {
        "wanted": wanted, "rebuild": rebuild, "swapoff": swapoff, "swapon": swapon, "prio": prio, "old_kind": old_kind,
        "fstab_line": fstab_line, "fstab_action": fstab_action, "actions": actions,
        "after": {
            "exists": True,
            "size": wanted,
            "active": active is not None or swapon,
            "priority": prio if prio is not None else (active["priority"] if active is not None and not swapoff else None),
            "fstab_line": fstab_line,
        },
    }


def execute_present(swap, before, plan, fstype):
    path = swap.path
    if plan["swapoff"]:
        swap.swapoff()
        swap.actions.append("swapoff")
    fd = swap.fd
    if plan["rebuild"]:
        if before["exists"]:
            swap.delete_old("replace %s" % path)
            swap.actions.append("delete old %s" % plan["old_kind"])
        fd = swap.build(plan["wanted"], fstype)
    if plan["swapon"]:
        swap.swapon(fd, plan["prio"], fresh=plan["rebuild"])
    if plan["rebuild"]:
        fd = swap.commit_new()
        if swap.fd is not None:
            os.close(swap.fd)
        swap.fd = fd
    if plan["fstab_action"]:
        swap.verify(swap.fd, swap.name, "update %s" % swap.module.params["fstab_path"])
        swap.apply_fstab(plan["fstab_line"])
        swap.actions.append(plan["fstab_action"])


def plan_absent(swap, before):
    module = swap.module
    path = swap.path
    st, header, active = before["st"], before["header"], before["active"]
    if before["exists"]:
        foreign = foreign_problem(st)
        if foreign and not module.params["force"]:
            swap.fail("remove swap file %s" % path, "the file is %s; it is not this module's and is left in place "
                      "(set force=true to swap it off and delete this name)" % foreign)
        if header is None and st.st_blocks and not module.params["force"]:
            swap.fail("remove swap file %s" % path, "the file has data and no swap signature; it is left in place "
                      "(set force=true to delete it)")
    if active is not None:
        swap.check_memory(active, "swapoff %s" % path)
    fstab_action = swap.fstab_step(None, before) if module.params["fstab"] else None
    actions = (["swapoff"] if active is not None else []) + ([fstab_action] if fstab_action else []) \
        + (["delete file"] if before["exists"] else [])
    fstab_after = None if module.params["fstab"] else before["fstab_line"]
    return {"actions": actions, "swapoff": active is not None, "fstab_action": fstab_action, "delete": before["exists"],
            "after": {"exists": False, "size": 0, "active": False, "priority": None, "fstab_line": fstab_after}}


def execute_absent(swap, before, plan):
    if plan["swapoff"]:
        swap.swapoff()
        swap.actions.append("swapoff")
    if plan["fstab_action"]:
        swap.apply_fstab(None)
        swap.actions.append(plan["fstab_action"])
    if plan["delete"]:
        swap.delete_old("delete %s" % swap.path)
        swap.actions.append("delete file")


if __name__ == "__main__":
    main()
