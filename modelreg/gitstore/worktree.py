"""Files of the working tree replaced whole, never torn, their mode kept."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


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
