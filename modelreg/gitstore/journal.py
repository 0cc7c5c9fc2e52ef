"""The record of a write in progress, so that a crash never blocks the next one.

Before a write touches the working tree, it records the branch's commit and,
for each file, the id of the bytes it is about to put there. If the process
dies before the write is complete, the next writer finds the record and can
tell a half-written manifest (ours, to roll back) from the user's own edit.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pending:
    """A write that started: the commit it started from, per repository path the
    blob id of the bytes being written there (None: being deleted), and the
    writing process."""

    parent: str | None
    paths: dict[str, str | None]
    pid: int


class Journal:
    """One pending-write record in a git folder (``modelreg/pending-write.json``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "pending-write.json"

    def write(self, pending: Pending) -> None:
        """Record ``pending`` atomically (the record is whole or absent)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"parent": pending.parent, "paths": pending.paths, "pid": pending.pid})
        )
        os.replace(tmp, self.path)

    def read(self) -> Pending | None:
        """The record left by a write that did not finish, None if there is none (or
        only a torn temporary file, which means the write had not begun)."""
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except ValueError:  # cannot happen with an atomic rename; treat as absent
            return None
        return Pending(raw.get("parent"), dict(raw.get("paths", {})), int(raw.get("pid", 0)))

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
