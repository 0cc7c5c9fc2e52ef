"""An exclusive lock on a file, held by one process (and thread) at a time.

Through ``filelock``, which uses ``flock`` on POSIX and ``msvcrt.locking`` on Windows:
the library itself makes no POSIX-only call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from modelreg.errors import ConflictError


@contextlib.contextmanager
def exclusive(path: Path, timeout: float, what: str = "another modelreg write") -> Iterator[None]:
    """Hold ``path`` locked for the block; waits at most ``timeout`` seconds.

    Raises :class:`ConflictError` naming the file when the lock stays held longer.
    """
    import filelock  # on first use: reads never lock

    lock = filelock.FileLock(path, timeout=timeout, thread_local=False)
    try:
        lock.acquire(poll_interval=0.005)
    except filelock.Timeout:
        raise ConflictError(f"{what} holds {path} (waited {timeout:.0f} s)") from None
    try:
        yield
    finally:
        lock.release()
