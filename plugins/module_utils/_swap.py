# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Swap space helpers shared by the swapfile module and the facts code.

Everything here either parses text (``/proc/swaps``, ``/proc/meminfo``, ``/proc/self/mountinfo``, fstab lines) or does one
small, well-defined file operation (read a swap header, allocate a file without holes). Parsers take the text, so tests
feed them recorded files; the ``read_*`` wrappers read the live kernel files.
"""
from __future__ import annotations

import errno
import os
import struct

PROC_SWAPS = "/proc/swaps"
PROC_MEMINFO = "/proc/meminfo"
PROC_MOUNTINFO = "/proc/self/mountinfo"

# Filesystems whose files cannot back swap: memory-backed (swap there would live in the memory it should relieve),
# network, overlay/stacked, read-only images and pseudo filesystems. FUSE types (fuse, fuse.sshfs, fuseblk...) too.
UNSUPPORTED_FILESYSTEMS = {
    "tmpfs": "a memory-backed filesystem: swap there would use the memory it is meant to relieve",
    "ramfs": "a memory-backed filesystem: swap there would use the memory it is meant to relieve",
    "devtmpfs": "a memory-backed filesystem",
    "overlay": "a stacked filesystem without a block map (swapon needs one)",
    "aufs": "a stacked filesystem without a block map (swapon needs one)",
    "ecryptfs": "a stacked filesystem without a block map (swapon needs one)",
    "nfs": "a network filesystem (swap over the network deadlocks under memory pressure)",
    "nfs4": "a network filesystem (swap over the network deadlocks under memory pressure)",
    "cifs": "a network filesystem (swap over the network deadlocks under memory pressure)",
    "smb3": "a network filesystem (swap over the network deadlocks under memory pressure)",
    "smbfs": "a network filesystem (swap over the network deadlocks under memory pressure)",
    "ceph": "a network filesystem (swap over the network deadlocks under memory pressure)",
    "glusterfs": "a network filesystem (swap over the network deadlocks under memory pressure)",
    "9p": "a network/virtual filesystem without a block map",
    "virtiofs": "a virtual filesystem without a block map",
    "squashfs": "a read-only filesystem",
    "erofs": "a read-only filesystem",
    "iso9660": "a read-only filesystem",
    "zfs": "ZFS, which does not support swap files",
    "proc": "a pseudo filesystem",
    "sysfs": "a pseudo filesystem",
    "autofs": "a pseudo filesystem",
}

SWAP_MAGICS = (b"SWAPSPACE2", b"SWAP-SPACE")
# The swap header (struct swap_header.info) starts 1024 bytes into the first page: version, last_page, nr_badpages.
_SWAP_INFO_OFFSET = 1024


def unescape_octal(text: str) -> str:
    r"""Undo the kernel's and fstab's octal escapes (``\040`` space, ``\011`` tab, ``\012`` newline, ``\134`` backslash)."""
    if "\\" not in text:
        return text
    out = []
    i = 0
    while i < len(text):
        chunk = text[i:i + 4]
        if len(chunk) == 4 and chunk[0] == "\\" and all(c in "01234567" for c in chunk[1:]):
            out.append(chr(int(chunk[1:], 8)))
            i += 4
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def escape_octal(text: str) -> str:
    """Escape what fstab cannot hold literally in a field (space, tab, newline, backslash)."""
    return "".join("\\%03o" % ord(c) if c in " \t\n\\" else c for c in text)


# --------------------------------------------------------------------------------------------------------------- /proc


def parse_meminfo(text: str) -> dict:
    """``/proc/meminfo`` text -> ``{"MemTotal": bytes, "MemAvailable": bytes, ...}`` (kB values converted to bytes)."""
    info = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        if not sep:
            continue
        parts = rest.split()
        if not parts:
            continue
        try:
            value = int(parts[0])
        except ValueError:
            continue
        if len(parts) > 1 and parts[1].lower() == "kb":
            value *= 1024
        info[key.strip()] = value
    return info


def read_meminfo(path: str = PROC_MEMINFO) -> dict:
    with open(path, encoding="ascii", errors="replace") as fh:
        return parse_meminfo(fh.read())


def parse_proc_swaps(text: str) -> list:
    """``/proc/swaps`` text -> list of dicts: path, type, size_bytes, used_bytes, priority, deleted.

    The kernel prints sizes in KiB and escapes blanks and backslashes in the path as octal; a file removed while
    active is shown with a `` (deleted)`` suffix.
    """
    entries = []
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 5:
            continue
        # The name is escaped, so it is a single field unless it carries the " (deleted)" suffix.
        name_fields = parts[:-4]
        deleted = name_fields[-1:] == ["(deleted)"] and len(name_fields) > 1
        if deleted:
            name_fields = name_fields[:-1]
        try:
            size_kib, used_kib, prio = int(parts[-3]), int(parts[-2]), int(parts[-1])
        except ValueError:
            continue
        entries.append({
            "path": unescape_octal(" ".join(name_fields)),
            "type": parts[-4],
            "size_bytes": size_kib * 1024,
            "used_bytes": used_kib * 1024,
            "priority": prio,
            "deleted": deleted,
        })
    return entries


def read_proc_swaps(path: str = PROC_SWAPS) -> list:
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        return parse_proc_swaps(fh.read())


def find_swap(entries: list, path: str):
    """The /proc/swaps entry for ``path`` (compared with its resolved form, as the kernel prints it), or None."""
    real = os.path.realpath(path)
    for entry in entries:
        if not entry["deleted"] and entry["path"] in (path, real):
            return entry
    return None


def parse_mountinfo(text: str) -> list:
    """``/proc/self/mountinfo`` text -> list of dicts: mount_point, fstype, source, options (in file order)."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields = left.split()
        rfields = right.split()
        if len(fields) < 6 or len(rfields) < 1:
            continue
        mounts.append({
            "mount_point": unescape_octal(fields[4]),
            "options": fields[5],
            "fstype": rfields[0],
            "source": unescape_octal(rfields[1]) if len(rfields) > 1 else "",
        })
    return mounts


def mount_for(path: str, mounts: list):
    """The mount holding ``path`` (an absolute, resolved path): longest mount point prefix, the later mount on ties."""
    best = None
    for mount in mounts:
        mp = mount["mount_point"]
        if mp == "/" or path == mp or path.startswith(mp.rstrip("/") + "/"):
            if best is None or len(mp) >= len(best["mount_point"]):
                best = mount
    return best


def filesystem_of(path: str, mountinfo_path: str = PROC_MOUNTINFO):
    """The mount (dict, see :func:`parse_mountinfo`) holding ``path``, or None when mountinfo cannot be read."""
    try:
        with open(mountinfo_path, encoding="utf-8", errors="surrogateescape") as fh:
            mounts = parse_mountinfo(fh.read())
    except OSError:
        return None
    return mount_for(os.path.realpath(path), mounts)


def unsupported_reason(fstype: str):
    """Why files on ``fstype`` cannot back swap, or None when swapon may accept them."""
    if fstype in UNSUPPORTED_FILESYSTEMS:
        return UNSUPPORTED_FILESYSTEMS[fstype]
    if fstype == "fuse" or fstype.startswith(("fuse.", "fuseblk")):
        return "a FUSE filesystem without a block map (swapon needs one)"
    return None


def swap_reserve_default(meminfo: dict) -> int:
    """Memory that must stay available after a swapoff: 10% of MemTotal, at least 256 MiB."""
    return max(256 << 20, meminfo.get("MemTotal", 0) // 10)


def swapoff_shortfall(used_bytes: int, meminfo: dict, reserve: int):
    """Bytes missing for a safe swapoff (pages in swap must fit in MemAvailable with ``reserve`` left), or 0."""
    available = meminfo.get("MemAvailable", meminfo.get("MemFree", 0))
    return max(0, used_bytes + reserve - available)


# --------------------------------------------------------------------------------------------------------------- files


def page_size() -> int:
    return os.sysconf("SC_PAGE_SIZE")


def round_to_pages(num_bytes: int, pagesize: int) -> int:
    """Round up to whole pages: the size of a swap file is always a number of pages."""
    return -(-num_bytes // pagesize) * pagesize


def read_swap_header(path: str, pagesize: int):
    """Inspect the first page of ``path``: None when it holds no swap signature, else a dict with ``pages`` (the
    number of pages the header covers, header page included: ``last_page + 1``)."""
    with open(path, "rb") as fh:
        head = fh.read(pagesize)
    if len(head) < pagesize or head[pagesize - 10:] not in SWAP_MAGICS:
        return None
    info = {"pages": None, "version": None}
    if head[pagesize - 10:] == SWAP_MAGICS[0]:
        version, last_page = struct.unpack_from("=II", head, _SWAP_INFO_OFFSET)
        info.update(version=version, pages=last_page + 1)
    return info


def is_sparse(st) -> bool:
    """True when the file has holes: fewer blocks allocated than its size needs (swapon refuses such files)."""
    return st.st_blocks * 512 < st.st_size


def write_zeros(fd: int, size: int, chunk: int = 1 << 20) -> None:
    """Allocate ``size`` bytes by writing zeros (for filesystems without fallocate)."""
    os.lseek(fd, 0, os.SEEK_SET)
    block = b"\0" * chunk
    remaining = size
    while remaining > 0:
        written = os.write(fd, block[:min(chunk, remaining)])
        remaining -= written


def allocate(fd: int, size: int) -> str:
    """Give the open, empty file ``fd`` ``size`` bytes with every block allocated; return the method used."""
    try:
        os.posix_fallocate(fd, 0, size)
        method = "fallocate"
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)):
            raise
        write_zeros(fd, size)
        method = "zeros"
    os.fsync(fd)
    return method


# --------------------------------------------------------------------------------------------------------------- fstab


def parse_fstab_line(line: str):
    """Split one fstab line into a dict (spec, file, vfstype, options list, freq, passno), or None for blank/comment."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    fields = stripped.split()
    if len(fields) < 3:
        return None
    return {
        "spec": unescape_octal(fields[0]),
        "file": unescape_octal(fields[1]),
        "vfstype": fields[2],
        "options": fields[3].split(",") if len(fields) > 3 else ["defaults"],
        "freq": fields[4] if len(fields) > 4 else "0",
        "passno": fields[5] if len(fields) > 5 else "0",
    }


def fstab_priority(entry: dict):
    """The ``pri=N`` of a parsed swap line, or None."""
    for opt in entry["options"]:
        if opt.startswith("pri="):
            try:
                return int(opt[4:])
            except ValueError:
                return None
    return None


def render_swap_line(path: str, priority=None) -> str:
    """The fstab line this collection writes for a swap file (no newline)."""
    options = "sw" if priority is None else "sw,pri=%d" % priority
    return "%s none swap %s 0 0" % (escape_octal(path), options)


def swap_line_matches(entry: dict, priority=None) -> bool:
    """Whether a parsed line already says what :func:`render_swap_line` would, ignoring spacing and option order."""
    wanted = {"sw"} if priority is None else {"sw", "pri=%d" % priority}
    options = {"sw" if opt == "defaults" else opt for opt in entry["options"]}
    return (entry["vfstype"] == "swap" and entry["file"] in ("none", "swap") and options == wanted
            and entry["freq"] == "0" and entry["passno"] == "0")


def find_swap_lines(lines: list, paths) -> list:
    """Indexes of the swap lines (type ``swap``) whose device is one of ``paths``."""
    found = []
    for index, line in enumerate(lines):
        entry = parse_fstab_line(line)
        if entry and entry["vfstype"] == "swap" and entry["spec"] in paths:
            found.append(index)
    return found


def update_fstab(text: str, paths, new_line):
    """Return ``(new_text, old_line)``: ``text`` with the swap line(s) for ``paths`` replaced by ``new_line`` (a string
    without newline, or None to remove them). The first matching line is replaced in place, later duplicates are
    dropped, a missing line is appended; every other line is kept byte for byte. ``old_line`` is the first matching
    line before the change (without its newline) or None.
    """
    lines = text.splitlines(True)
    found = find_swap_lines(lines, paths)
    old_line = lines[found[0]].rstrip("\r\n") if found else None
    if found:
        first = found[0]
        ending = lines[first][len(lines[first].rstrip("\r\n")):] or "\n"
        out = []
        for index, line in enumerate(lines):
            if index == first and new_line is not None:
                out.append(new_line + ending)
            elif index not in found:
                out.append(line)
        return "".join(out), old_line
    if new_line is None:
        return text, None
    if lines and not lines[-1].endswith("\n"):
        text += "\n"
    return text + new_line + "\n", None
