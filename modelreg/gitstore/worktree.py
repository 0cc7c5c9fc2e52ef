"""Files of the working tree replaced whole, never torn, their mode kept."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path


def read_file(path: str | Path) -> bytes:
    """The whole file, read with ``os.open`` and ``os.read`` until its end: a third of
    the time of :meth:`Path.read_bytes` for a small file, which counts when a commit
    reads thousands. Raises :class:`OSError` as ``open`` does."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        chunks = []
        want = os.fstat(fd).st_size + 1  # one read for the file, one to see its end
        while chunk := os.read(fd, want):
            chunks.append(chunk)
            want = 1 << 20
        return b"".join(chunks)
    finally:
        os.close(fd)


def write_file(path: Path, data: bytes | None, top: Path, scratch: Path) -> None:
    """Replace ``path`` with ``data`` atomically (written in ``scratch``, then renamed
    over it; an existing file keeps its mode, so an executable manifest stays one),
    or with None remove it and the folders it leaves empty up to ``top``."""
    if data is None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        folder = path.parent
        while folder != top and top in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    scratch.mkdir(parents=True, exist_ok=True)
    tmp = scratch / f"{os.getpid()}-{path.name.encode('utf-8', 'surrogateescape').hex()[:64]}"
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        try:
            os.replace(tmp, path)
        except OSError:  # another file system: write beside the file instead
            beside = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            _copy(tmp, beside, mode)
            os.replace(beside, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def create_whole(path: Path, data: bytes, scratch: Path) -> None:
    """Create ``path`` holding ``data`` from its first instant, or raise
    :class:`FileExistsError` when it exists: written in ``scratch`` (same file
    system), then hard-linked into place, so a process killed at any point leaves
    either no file or the whole one, never an empty file (as ``open`` with
    ``O_CREAT | O_EXCL`` followed by a write can). Where the file system has no
    hard links, the file is created and written in two steps."""
    scratch.mkdir(parents=True, exist_ok=True)
    aside = scratch / f"{os.getpid()}.{path.name}"
    try:
        with open(aside, "wb") as fh:
            fh.write(data)
        try:
            os.link(aside, path)
            return
        except FileExistsError:
            raise
        except OSError:  # no hard links here (some network or FUSE file systems)
            pass
    finally:
        with contextlib.suppress(FileNotFoundError):
            aside.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def write_in_place(path: Path, data: bytes | None, top: Path, scratch: Path) -> None:
    """Write ``data`` over the file where it is, as ``git checkout`` writes files: no
    file created and renamed, which on ext4 costs about half a millisecond a file.
    A reader meanwhile may see the file half written, and so may the next writer
    after a crash: :func:`torn` tells such a file from someone else's edit. What is
    not a regular file (a symbolic link) is replaced as :func:`write_file` does."""
    try:
        found: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        found = None
    if data is None or (found is not None and not stat.S_ISREG(found.st_mode)):
        write_file(path, data, top, scratch)
        return
    if found is None:
        path.parent.mkdir(parents=True, exist_ok=True)
    # not O_TRUNC: ext4 flushes a file emptied at open when it is closed
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if found is not None and found.st_size > len(data):
            os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


def torn(disk: bytes, old: bytes, new: bytes) -> bool:
    """Whether ``disk`` is what :func:`write_in_place` of ``new`` over ``old`` leaves
    when cut short: the first bytes of ``new``, then the rest of ``old`` (``old``
    itself, ``new`` itself and ``new`` not yet cut to its length included)."""
    if disk == new:
        return True
    low, high = 0, min(len(disk), len(new))  # how far disk and new agree
    while low < high:
        middle = (low + high + 1) // 2
        if disk[:middle] == new[:middle]:
            low = middle
        else:
            high = middle - 1
    # past the agreeing part, the rest must be old's own bytes at the same places
    return disk[low:] == old[low:]


def _copy(src: Path, dst: Path, mode: int | None) -> None:
    dst.write_bytes(src.read_bytes())
    if mode is not None:
        os.chmod(dst, mode)


def clear_scratch(scratch: Path) -> None:
    """Remove temporary files a killed writer left (call under the write lock)."""
    if scratch.is_dir():
        for leftover in scratch.iterdir():
            with contextlib.suppress(OSError):
                leftover.unlink()
