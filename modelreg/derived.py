"""Derived data kept in the git folder (the manifest cache, the listing index, the record
of manifests found valid, the log index): written whole, atomically, and never needed.

A reader sees the old file or the new one, never a part; a write that fails (a full
disk, a read-only checkout) loses only the time the next run spends rebuilding it.
"""

from __future__ import annotations

import contextlib
import marshal
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO


def replace(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """``path`` written anew by ``write`` (into a file of this process, then renamed over
    it); an error on the way leaves the old file, or none."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as f:
            write(f)
        os.replace(tmp, path)
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)


def dump(path: Path, key: Any, *values: Any) -> None:
    """``values`` saved in ``path`` under ``key`` (``marshal``: plain values only)."""
    data = marshal.dumps((key, *values))
    replace(path, lambda f: f.write(data))


def load(path: Path, key: Any, count: int) -> tuple[Any, ...] | None:
    """The ``count`` values :func:`dump` saved in ``path`` under ``key``; None when the
    file is missing, damaged, or saved under another key (by other code)."""
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if isinstance(data, tuple) and len(data) == count + 1 and data[0] == key:
        return data[1:]
    return None
