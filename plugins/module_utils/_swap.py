# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""Swap space helpers shared by the swapfile module and the facts code.

Everything here either parses text (``/proc/swaps``, ``/proc/meminfo``, ``/proc/self/mountinfo``, fstab lines) or does one
small, well-defined file operation (read a swap header, allocate a file without holes). Parsers take the text, so tests
feed them recorded files; the ``read_*`` wrappers read the live kernel files.
"""
from __future__ import annotations

import ctypes
import errno
import os
import stat
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
    """Inspect the first page of ``path`` (never through a symlink): see :func:`read_swap_header_fd`."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        return read_swap_header_fd(fd, pagesize)
    finally:
        os.close(fd)


def read_swap_header_fd(fd: int, pagesize: int):
    """Inspect the first page of the open file ``fd``: None when it holds no swap signature, else a dict with ``pages``
    (the number of pages the header covers, header page included: ``last_page + 1``). Reads at most one page."""
    head = os.pread(fd, pagesize, 0)
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


# --------------------------------------------------------------------------------------------------------------- trust
# The swap file's directory, and every directory above it, must be writable by root alone: whoever can write to one of
# them can put a symlink or a file of their own at the path between two of our steps (a sticky directory such as /tmp
# still lets anyone create the name first). POSIX ACLs that grant write show as the group-write bit (the ACL mask).


class UnsafePath(Exception):
    """The path (or its directory chain) is not one root alone controls; the message says which part and why."""


def directory_trust_problem(st, name: str):
    """Why the directory ``name`` (its ``st``) is not trusted, or None: owned by root and not group/other-writable."""
    if not stat.S_ISDIR(st.st_mode):
        return "%s is not a directory" % name
    if st.st_uid != 0:
        return "%s is owned by uid %d, not root: that user can replace the swap file" % (name, st.st_uid)
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022:
        sticky = " (the sticky bit does not help: any user can create the name first)" if mode & stat.S_ISVTX else ""
        return "%s is writable by users other than root (mode %04o)%s" % (name, mode, sticky)
    return None


def path_components(path: str) -> list:
    """The names in an absolute path, refusing ``.`` and ``..`` (which make the checked chain differ from the used one)."""
    if not path.startswith("/"):
        raise UnsafePath("path must be absolute")
    parts = [part for part in path.split("/") if part]
    if any(part in (".", "..") for part in parts):
        raise UnsafePath("path must not contain '.' or '..' components")
    return parts


def check_directory_chain(directory: str) -> None:
    """Raise :class:`UnsafePath` unless every directory on the way to ``directory`` is trusted.

    Both the chain as written (a symlink on the way is fine only inside a trusted directory, and fstab keeps the path as
    written, so boot resolves it again) and the resolved chain are checked.
    """
    for chain in (path_components(directory), path_components(os.path.realpath(directory))):
        for index in range(len(chain) + 1):
            current = "/" + "/".join(chain[:index])
            try:
                st = os.lstat(current)
            except OSError as exc:
                raise UnsafePath("cannot inspect %s: %s" % (current, exc.strerror or exc)) from None
            if stat.S_ISLNK(st.st_mode):
                continue  # its own directory was checked just before; the resolved chain is checked below
            problem = directory_trust_problem(st, current)
            if problem:
                raise UnsafePath(problem)


def open_trusted_directory(directory: str) -> int:
    """Open the resolved ``directory`` component by component without following links, checking each one (fstat of
    the opened directory, so what is checked is what is used); return the fd of the last one."""
    real = os.path.realpath(directory)
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
    fd = os.open("/", flags)
    try:
        problem = directory_trust_problem(os.fstat(fd), "/")
        if problem:
            raise UnsafePath(problem)
        walked = ""
        for part in path_components(real):
            walked += "/" + part
            try:
                nfd = os.open(part, flags | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                raise UnsafePath("cannot open directory %s without following links: %s" % (walked, exc.strerror or exc)) from None
            os.close(fd)
            fd = nfd
            problem = directory_trust_problem(os.fstat(fd), walked)
            if problem:
                raise UnsafePath(problem)
    except BaseException:
        os.close(fd)
        raise
    return fd


def identity(st) -> tuple:
    """What names one inode: device and inode number."""
    return (st.st_dev, st.st_ino)


def adoption_problem(st):
    """Why an existing file is not one this module may keep using as it is, or None.

    Only a file owned by root:root with mode 0600 and one link is adopted. Anything else may have been opened by someone
    else before (an fd kept open reads the swapped-out memory later), so it is never chmod'ed or chown'ed into shape.
    """
    problems = []
    if st.st_uid != 0:
        problems.append("owned by uid %d" % st.st_uid)
    if st.st_nlink != 1:
        problems.append("has %d hard links" % st.st_nlink)
    if st.st_gid != 0:
        problems.append("group %d" % st.st_gid)
    if stat.S_IMODE(st.st_mode) != 0o600:
        problems.append("mode %04o" % stat.S_IMODE(st.st_mode))
    return ", ".join(problems) or None


def foreign_problem(st):
    """Why the file belongs to someone else (not root's, or another name shares the inode), or None."""
    problems = []
    if st.st_uid != 0:
        problems.append("owned by uid %d, not root" % st.st_uid)
    if st.st_nlink != 1:
        problems.append("has %d hard links (another name shares its inode)" % st.st_nlink)
    return ", ".join(problems) or None


def find_swap_by_inode(entries: list, st):
    """The /proc/swaps entry whose file is the inode ``st`` (compared by device and inode, never by name), or None."""
    wanted = identity(st)
    for entry in entries:
        if entry["deleted"] or entry["type"] != "file":
            continue
        try:
            if identity(os.stat(entry["path"])) == wanted:
                return entry
        except OSError:
            continue
    return None


SWAP_FLAG_PREFER = 0x8000
SWAP_FLAG_PRIO_MASK = 0x7FFF


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def fd_path(fd: int) -> str:
    """A name for the open file ``fd`` that the kernel resolves to that very inode (for this process)."""
    return "/proc/self/fd/%d" % fd


def swapon_fd(fd: int, priority=None) -> None:
    """swapon(2) the inode open as ``fd`` (through /proc/self/fd, so no name can be swapped in between)."""
    flags = 0 if priority is None else SWAP_FLAG_PREFER | (priority & SWAP_FLAG_PRIO_MASK)
    libc = _libc()
    if libc.swapon(os.fsencode(fd_path(fd)), ctypes.c_int(flags)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "swapon(2): %s" % os.strerror(err))


def swapoff_fd(fd: int) -> None:
    """swapoff(2) the inode open as ``fd``: the kernel matches the active swap by the file itself, not by a name."""
    libc = _libc()
    if libc.swapoff(os.fsencode(fd_path(fd))) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "swapoff(2): %s" % os.strerror(err))
