"""Git's on-disk formats written directly: loose objects, trees, commits, the index, refs.

GitPython reads and finds everything; these few writers exist because its own
(``IndexFile.write``, ``tree_to_stream``, the loose-object store) cost tens of
milliseconds per commit on a registry of a thousand files, where these cost
well under one. Each follows git's documented format and locking protocol
(``<file>.lock`` created exclusively, then renamed over the file).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
import zlib
from collections.abc import Iterable
from pathlib import Path
from struct import pack, unpack_from

from modelreg.errors import ConflictError

TREE_MODE = 0o040000


def object_id(kind: bytes, data: bytes) -> bytes:
    h = hashlib.sha1(b"%s %d\0" % (kind, len(data)))
    h.update(data)
    return h.digest()


def write_loose(objects_dir: Path, kind: bytes, data: bytes) -> bytes:
    """Store an object unless git already has it loose; returns its binary id.

    Written in place (no temporary file): an object is invisible until a ref
    names it, and one found already present is checked before it is trusted,
    so a file torn by a crash is replaced, never reused.
    """
    binsha = object_id(kind, data)
    hexsha = binsha.hex()
    path = objects_dir / hexsha[:2] / hexsha[2:]
    # Trees are mostly object ids, which do not compress: store them (level 0).
    # Level 1 for the rest: objects are written often and `git gc` repacks them anyway.
    packed = zlib.compress(b"%s %d\0" % (kind, len(data)) + data, 0 if kind == b"tree" else 1)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        try:
            fd = os.open(path, flags, 0o444)
        except FileNotFoundError:
            path.parent.mkdir(exist_ok=True)
            fd = os.open(path, flags, 0o444)
    except FileExistsError:
        if _intact(path, binsha):
            return binsha
        tmp = path.with_name(f"tmp_{hexsha[2:]}_{os.getpid()}")
        tmp.write_bytes(packed)
        os.replace(tmp, path)
        return binsha
    try:
        os.write(fd, packed)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)
    return binsha


def _intact(path: Path, binsha: bytes) -> bool:
    try:
        raw = zlib.decompress(path.read_bytes())
    except (OSError, zlib.error):
        return False
    return hashlib.sha1(raw).digest() == binsha


def parse_tree(body: bytes) -> list[tuple[bytes, int, str]]:
    """(binsha, mode, name) entries of a tree object's body, in stored order."""
    entries = []
    pos, end = 0, len(body)
    while pos < end:
        space = body.index(b" ", pos)
        nul = body.index(b"\0", space)
        entries.append(
            (
                body[nul + 1 : nul + 21],
                int(body[pos:space], 8),
                body[space + 1 : nul].decode("utf-8", "surrogateescape"),
            )
        )
        pos = nul + 21
    return entries


def tree_bytes(entries: Iterable[tuple[bytes, int, str]]) -> bytes:
    """A tree object's body from (binsha, mode, name) in git's order."""
    ordered = sorted(entries, key=lambda e: e[2] + "/" if e[1] == TREE_MODE else e[2])
    return b"".join(b"%o %s\0%s" % (mode, name.encode(), sha) for sha, mode, name in ordered)


def signature(name: str, email: str, when: float | None = None) -> bytes:
    t = time.time() if when is None else when
    offset = time.localtime(t).tm_gmtoff
    sign = "+" if offset >= 0 else "-"
    offset = abs(offset)
    return f"{name} <{email}> {int(t)} {sign}{offset // 3600:02d}{offset % 3600 // 60:02d}".encode()


def commit_bytes(
    tree: bytes, parents: list[bytes], author: bytes, committer: bytes, message: str
) -> bytes:
    lines = [b"tree " + tree.hex().encode()]
    lines += [b"parent " + p.hex().encode() for p in parents]
    lines += [b"author " + author, b"committer " + committer]
    body = message if message.endswith("\n") else message + "\n"
    return b"\n".join(lines) + b"\n\n" + body.encode()


@contextlib.contextmanager
def _locked(path: Path):  # type: ignore[no-untyped-def]
    lock = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise ConflictError(
            f"{lock} exists: another git process is running (or crashed; "
            "remove the file if none is)"
        ) from None
    try:
        yield fd
    except BaseException:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()
        raise
    os.close(fd)
    os.replace(lock, path)


def write_locked(path: Path, data: bytes) -> None:
    with _locked(path) as fd:
        os.write(fd, data)


def update_ref(
    git_dir: Path, ref: str, old: bytes | None, new: bytes, ident: bytes, message: str
) -> None:
    """Move ``ref`` (``HEAD`` or ``refs/heads/x``) from ``old`` to ``new`` with reflog lines."""
    path = git_dir / ref
    path.parent.mkdir(parents=True, exist_ok=True)
    write_locked(path, new.hex().encode() + b"\n")
    line = b"%s %s %s\t%s\n" % (
        (old or b"\0" * 20).hex().encode(),
        new.hex().encode(),
        ident,
        message.encode(),
    )
    for log in {git_dir / "logs" / ref, git_dir / "logs" / "HEAD"}:
        with contextlib.suppress(OSError):
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "ab") as fh:
                fh.write(line)


class Index:
    """The index (``.git/index``, versions 2 and 3) as raw entries by path.

    Unchanged entries are kept as the bytes read, so a write costs one join and
    one hash. Extensions are dropped (the cached tree would describe old trees),
    as ``git`` itself does when it cannot keep them valid.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.version = 2
        self.entries: dict[bytes, bytes] = {}
        self._order: list[bytes] | None = None  # sorted paths, kept while no path comes or goes
        self.stamp: tuple[int, int] | None = None
        self.supported = True
        self.load()

    def load(self) -> None:
        try:
            data = self.path.read_bytes()
            st = self.path.stat()
        except FileNotFoundError:
            self.entries, self.stamp = {}, None
            return
        self.stamp = (st.st_mtime_ns, st.st_size)
        sig, version, count = unpack_from(">4sLL", data, 0)
        if sig != b"DIRC" or version not in (2, 3):
            self.supported = False
            return
        self.version = version
        pos, entries = 12, {}
        for _ in range(count):
            flags = unpack_from(">H", data, pos + 60)[0]
            head = 62
            if flags & 0x4000:
                head += 2
            if flags & 0x3000:  # a merge is in progress (conflict stages)
                raise ConflictError(
                    "the index has unmerged entries (a merge is in progress): "
                    "finish or abort it first"
                )
            end = data.index(b"\0", pos + head)
            path = data[pos + head : end]
            size = (head + len(path) + 8) & ~7
            entries[path] = data[pos : pos + size]
            pos += size
        self.entries = entries
        if data[pos : pos + 4] == b"link":  # split index: leave it to git
            self.supported = False

    def fresh(self) -> bool:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return self.stamp is None
        return (st.st_mtime_ns, st.st_size) == self.stamp

    def set(self, path: str, binsha: bytes, mode: int, st: os.stat_result) -> None:
        raw = path.encode()
        if raw not in self.entries:
            self._order = None
        fixed = pack(
            ">LLLLLLLLLL20sH",
            int(st.st_ctime),
            st.st_ctime_ns % 1_000_000_000,
            int(st.st_mtime),
            st.st_mtime_ns % 1_000_000_000,
            st.st_dev & 0xFFFFFFFF,
            st.st_ino & 0xFFFFFFFF,
            mode,
            st.st_uid,
            st.st_gid,
            st.st_size & 0xFFFFFFFF,
            binsha,
            min(len(raw), 0xFFF),
        )
        entry = fixed + raw
        self.entries[raw] = entry + b"\0" * (((len(entry) + 8) & ~7) - len(entry))

    def remove(self, path: str) -> None:
        if self.entries.pop(path.encode(), None) is not None:
            self._order = None

    def get(self, path: str) -> bytes | None:
        """The object id the index holds for ``path``."""
        raw = self.entries.get(path.encode())
        return None if raw is None else raw[40:60]

    def write(self) -> None:
        entries = self.entries
        if self._order is None or len(self._order) != len(entries):
            self._order = sorted(entries)
        body = (
            b"DIRC"
            + pack(">LL", self.version, len(entries))
            + b"".join([entries[k] for k in self._order])
        )
        write_locked(self.path, body + hashlib.sha1(body).digest())
        st = self.path.stat()
        self.stamp = (st.st_mtime_ns, st.st_size)
