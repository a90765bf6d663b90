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
options:
  path:
    description:
      - Absolute path of the swap file. Its directory must exist.
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
      - Swap priority, V(0) to V(32767); higher is used first. Given to C(swapon -p) and written as C(pri=N) in the fstab line.
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
      - Replace (or, with O(state=absent), delete) an existing file at O(path) that has data but no swap signature.
    type: bool
    default: false
  swapoff_reserve:
    description:
      - Memory that must still be available after a C(swapoff). The module only swaps off when C(MemAvailable) is at least the
        bytes in use in this swap plus this reserve. Same units as O(size).
      - Defaults to 10% of C(MemTotal), at least 256 MiB.
    type: raw
notes:
  - Needs root, C(mkswap), C(swapon) and C(swapoff) (util-linux), and C(chattr) (e2fsprogs) on btrfs.
  - The swap signature is detected by the C(SWAPSPACE2) magic at the end of the first page.
  - A resize builds a new file. The old swap is swapped off (after the memory check), deleted, and a new file of the new size is
    allocated, formatted and activated with the same priority.
  - If C(mkswap) or C(swapon) fails on a file the module has just allocated, the file is removed again.
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
  description: The swap file's path, as given.
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

import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.oomguard.linux.plugins.module_utils._units import SizeError, human_size, parse_size
from ansible_collections.oomguard.linux.plugins.module_utils._swap import (
    allocate,
    filesystem_of,
    find_swap,
    find_swap_lines,
    fstab_priority,
    is_sparse,
    page_size,
    parse_fstab_line,
    read_meminfo,
    read_proc_swaps,
    read_swap_header,
    render_swap_line,
    round_to_pages,
    swap_line_matches,
    swap_reserve_default,
    swapoff_shortfall,
    unsupported_reason,
    update_fstab,
)

MIN_PAGES = 10


class SwapFile:
    """The swap file at one path: what is there now, and the operations on it."""

    def __init__(self, module):
        self.module = module
        params = module.params
        self.path = params["path"]
        self.real = os.path.realpath(self.path)
        self.paths = {self.path, self.real}
        self.pagesize = page_size()
        self.actions = []

    # ------------------------------------------------------------------------------------------------------- state
    def fail(self, verb_what, why, **kwargs):
        self.module.fail_json(msg="Failed to %s: %s" % (verb_what, why), path=self.path, actions=self.actions, **kwargs)

    def inspect(self):
        """Current state: file (stat, swap header, sparse), active entry, fstab line."""
        state = {"exists": False, "st": None, "header": None, "sparse": False, "active": None,
                 "fstab_line": None, "fstab_entry": None, "fstab_count": 0}
        try:
            st = os.stat(self.real)
        except FileNotFoundError:
            st = None
        except OSError as exc:
            self.fail("inspect %s" % self.path, to_native(exc))
        if st is not None:
            state.update(exists=True, st=st)
            if not stat.S_ISREG(st.st_mode):
                self.fail("manage swap file %s" % self.path, "it exists and is not a regular file")
            try:
                state["header"] = read_swap_header(self.real, self.pagesize)
            except OSError as exc:
                self.fail("read %s" % self.path, to_native(exc))
            state["sparse"] = is_sparse(st)
        try:
            state["active"] = find_swap(read_proc_swaps(), self.path)
        except OSError as exc:
            self.fail("read /proc/swaps", to_native(exc))
        lines = self.fstab_lines()
        found = find_swap_lines(lines, self.paths)
        if found:
            state["fstab_line"] = lines[found[0]].rstrip("\r\n")
            state["fstab_entry"] = parse_fstab_line(lines[found[0]])
            state["fstab_count"] = len(found)
        return state

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
    def run(self, verb_what, cmd, cleanup=None):
        rc, out, err = self.module.run_command(cmd, environ_update={"LC_ALL": "C"})
        if rc != 0:
            if cleanup:
                cleanup()
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
        directory = os.path.dirname(self.real)
        try:
            vfs = os.statvfs(directory)
        except OSError as exc:
            self.fail("create swap file %s" % self.path, "cannot stat filesystem of %s: %s" % (directory, to_native(exc)))
        available = vfs.f_bavail * vfs.f_frsize
        if wanted > available + freed:
            self.fail("create swap file %s" % self.path, "it needs %s but %s has only %s available"
                      % (human_size(wanted), directory, human_size(available + freed)))

    def create(self, wanted, fstype):
        """Allocate a new file of ``wanted`` bytes without holes, mode 0600, owner root."""
        try:
            fd = os.open(self.real, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            self.fail("create swap file %s" % self.path, to_native(exc))
        try:
            os.fchown(fd, 0, 0)
            os.fchmod(fd, 0o600)
            if fstype == "btrfs":
                # No copy-on-write must be set while the file is empty, before any block is allocated.
                self.run("create swap file %s" % self.path, [self.module.get_bin_path("chattr", required=True), "+C", self.real],
                         cleanup=lambda: self.remove_quietly(fd))
            method = allocate(fd, wanted)
            if is_sparse(os.fstat(fd)):
                raise OSError("the filesystem left holes in the file after allocation")
        except OSError as exc:
            self.remove_quietly(fd)
            self.fail("create swap file %s" % self.path, "cannot allocate %s: %s" % (human_size(wanted), to_native(exc)))
        os.close(fd)
        self.actions.append("allocate %d bytes (%s)" % (wanted, method))

    def remove_quietly(self, fd=None):
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.unlink(self.real)
        except OSError:
            pass

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

    def update_fstab(self, new_line, before):
        """Bring the fstab to ``new_line`` (None: no line). Returns the line there afterwards (predicted in check mode)."""
        if before["fstab_count"] == 0 and new_line is None:
            return None
        if before["fstab_count"] == 1 and new_line is not None and before["fstab_line"] == new_line:
            return new_line
        if new_line is None:
            self.actions.append("remove fstab line")
        elif before["fstab_count"] == 0:
            self.actions.append("add fstab line")
        else:
            self.actions.append("update fstab line")
        if not self.module.check_mode:
            text, dummy = update_fstab(self.fstab_text(), self.paths, new_line)
            self.write_fstab(text)
        return new_line


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
    params = module.params
    path = params["path"]
    if not os.path.isabs(path):
        module.fail_json(msg="Failed to manage swap file %s: path must be absolute" % path)
    priority = params["priority"]
    if priority is not None and not 0 <= priority <= 32767:
        module.fail_json(msg="Failed to manage swap file %s: priority must be 0..32767, got %d" % (path, priority))
    try:
        if params["swapoff_reserve"] is not None:
            parse_size(params["swapoff_reserve"])
        wanted = parse_size(params["size"]) if params["size"] is not None else None
    except SizeError as exc:
        module.fail_json(msg="Failed to manage swap file %s: %s" % (path, to_native(exc)))

    swap = SwapFile(module)
    directory = os.path.dirname(swap.real)
    if not os.path.isdir(directory):
        swap.fail("manage swap file %s" % path, "directory %s does not exist" % directory)
    mount = filesystem_of(directory)
    fstype = mount["fstype"] if mount else None

    before = swap.inspect()
    before_summary = summary(before)
    if params["state"] == "present":
        after_summary = present(swap, before, wanted, fstype)
    else:
        after_summary = absent(swap, before)

    changed = bool(swap.actions)
    if not module.check_mode:
        after = swap.inspect()
        after_summary = summary(after)
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
    module.exit_json(**result)


def present(swap, before, wanted, fstype):
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
    rebuild = swapoff = swapon = mkswap = fix_mode = False
    if not before["exists"]:
        rebuild = True
    elif header is None:
        if st.st_blocks == 0:
            rebuild = True  # size 0 or only holes: no data to lose
        elif params["force"]:
            rebuild = True
        else:
            swap.fail("create swap file %s" % path, "the file exists, has data and no swap signature; "
                      "it is left untouched (set force=true to replace it)")
    else:
        size_ok = st.st_size == wanted and header["pages"] == wanted // pagesize
        if active is not None:
            # The file's size and header decide; /proc/swaps is not compared with them: the kernel may use fewer pages
            # than the header names when filesystem blocks do not line up with pages (ext4 with 1K blocks), and an
            # active swapfile cannot be changed on disk (the kernel marks it S_SWAPFILE), so the header is current.
            if not size_ok:
                rebuild = swapoff = True
            elif params["priority"] is not None and active["priority"] != params["priority"]:
                swapoff = swapon = True
        elif before["sparse"] or not size_ok:
            rebuild = True
        else:
            swapon = True
    if rebuild:
        mkswap = swapon = True
        swapoff = active is not None
    elif before["exists"] and (stat.S_IMODE(st.st_mode) != 0o600 or st.st_uid != 0 or st.st_gid != 0):
        fix_mode = True

    # The priority to activate with and to write to fstab: asked, else what the swap has now (never a kernel-chosen one).
    prio = params["priority"]
    if prio is None and active is not None and active["priority"] >= 0:
        prio = active["priority"]
    if prio is None and before["fstab_entry"] is not None:
        prio = fstab_priority(before["fstab_entry"])
    fstab_line = None
    if params["fstab"]:
        entry = before["fstab_entry"]
        if (entry is not None and before["fstab_count"] == 1 and swap_line_matches(entry, prio)
                and entry["spec"] == path):
            fstab_line = before["fstab_line"]  # same meaning, spacing and option order kept
        else:
            fstab_line = render_swap_line(path, prio)

    if swapoff:
        swap.check_memory(active, "swapoff %s" % path)
    if rebuild:
        freed = st.st_blocks * 512 if st is not None else 0
        swap.check_space(wanted, freed)

    check = module.check_mode
    if swapoff:
        swap.actions.append("swapoff")
        if not check:
            swap.run("swapoff %s" % path, [module.get_bin_path("swapoff", required=True), swap.real])
    if rebuild:
        if before["exists"]:
            swap.actions.append("delete old %s file" % ("swap" if header is not None else "non-swap" if st.st_blocks else "empty"))
            if not check:
                try:
                    os.unlink(swap.real)
                except OSError as exc:
                    swap.fail("replace %s" % path, to_native(exc))
        if check:
            swap.actions.append("allocate %d bytes" % wanted)
        else:
            swap.create(wanted, fstype)
    if fix_mode:
        swap.actions.append("set mode 0600, owner root")
        if not check:
            try:
                os.chown(swap.real, 0, 0)
                os.chmod(swap.real, 0o600)
            except OSError as exc:
                swap.fail("set mode of %s" % path, to_native(exc))
    cleanup = swap.remove_quietly if rebuild else None
    if mkswap:
        swap.actions.append("mkswap")
        if not check:
            swap.run("format swap file %s" % path, [module.get_bin_path("mkswap", required=True), swap.real], cleanup=cleanup)
    if swapon:
        swap.actions.append("swapon" if prio is None else "swapon with priority %d" % prio)
        if not check:
            cmd = [module.get_bin_path("swapon", required=True)]
            if prio is not None:
                cmd += ["-p", str(prio)]
            swap.run("activate swap file %s" % path, cmd + [swap.real], cleanup=cleanup)
    if params["fstab"]:
        fstab_after = swap.update_fstab(fstab_line, before)
    else:
        fstab_after = before["fstab_line"]

    will_be_active = active is not None or swapon
    return {
        "exists": True,
        "size": wanted,
        "active": will_be_active,
        "priority": prio if prio is not None else (active["priority"] if active is not None and not swapoff else None),
        "fstab_line": fstab_after,
    }


def absent(swap, before):
    module = swap.module
    path = swap.path
    st, header, active = before["st"], before["header"], before["active"]
    if before["exists"] and header is None and st.st_blocks and not module.params["force"]:
        swap.fail("remove swap file %s" % path, "the file has data and no swap signature; it is left in place (set force=true to delete it)")
    if active is not None:
        swap.check_memory(active, "swapoff %s" % path)
        swap.actions.append("swapoff")
        if not module.check_mode:
            swap.run("swapoff %s" % path, [module.get_bin_path("swapoff", required=True), swap.real])
    fstab_after = swap.update_fstab(None, before) if module.params["fstab"] else before["fstab_line"]
    if before["exists"]:
        swap.actions.append("delete file")
        if not module.check_mode:
            try:
                os.unlink(swap.real)
            except OSError as exc:
                swap.fail("delete %s" % path, to_native(exc))
    return {"exists": False, "size": 0, "active": False, "priority": None, "fstab_line": fstab_after}


if __name__ == "__main__":
    main()
