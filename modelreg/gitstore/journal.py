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
    blob id of the bytes being written there (None: being deleted), the writing
    process, and whether files are written in place (a file cut short is then
    the write's own, see :func:`modelreg.gitstore.worktree.torn`)."""

    parent: str | None
    paths: dict[str, str | None]
    pid: int
    in_place: bool = False


class Journal:
    """One pending-write record in a git folder (``modelreg/pending-write.json``).

    The file is kept and rewritten in place; empty means no write is pending. A
    record is written whole before the write touches anything, so a torn one (a
    crash while recording) means the write had not begun: it reads as no record.
    Rewriting in place spares each write a file creation, a rename and a removal,
    which cost more than the record itself on a busy file system.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "pending-write.json"
        # the git processes the pending write started, one id a line (appended, so
        # the record itself is never rewritten half-way through a write)
        self.helpers_path = folder / "pending-helpers"
        self._helpers = False  # this process recorded some since the last clear

    def write(self, pending: Pending) -> None:
        """Record ``pending`` (whole, or read back as no record)."""
        record = {"parent": pending.parent, "paths": pending.paths, "pid": pending.pid}
        if pending.in_place:
            record["in_place"] = True
        data = json.dumps(record).encode()
        # not O_TRUNC: ext4 flushes a file emptied at open and written again when it is
        # closed (its replace-by-truncate heuristic), which costs milliseconds; the file is
        # empty here anyway (cleared after each write, and by recovery)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
        except FileNotFoundError:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size:
                os.ftruncate(fd, 0)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    def read(self) -> Pending | None:
        """The record left by a write that did not finish, None if there is none (or
        only a torn one, which means the write had not begun)."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        try:
            raw = json.loads(text) if text else None
        except ValueError:
            return None
        if not isinstance(raw, dict):
            return None
        return Pending(
            raw.get("parent"),
            dict(raw.get("paths", {})),
            int(raw.get("pid", 0)),
            raw.get("in_place") is True,
        )

    def add_helper(self, pid: int) -> None:
        """Record a git process the pending write started: killing the writer does not
        end it, and it holds git's locks until it ends by itself."""
        try:
            fd = os.open(self.helpers_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        except FileNotFoundError:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.helpers_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, b"%d\n" % pid)
        finally:
            os.close(fd)
        self._helpers = True

    def helpers(self) -> list[int]:
        """The git processes recorded by :meth:`add_helper` since the last clear (a line
        torn by a crash is left out)."""
        try:
            text = self.helpers_path.read_text()
        except FileNotFoundError:
            return []
        return [int(line) for line in text.split("\n")[:-1] if line.isdigit()]

    def clear(self, helpers: bool = False) -> None:
        """No write pending (the file is emptied, not removed). The record of git
        processes goes first (a crash in between leaves the write pending, and its
        processes had ended); with ``helpers``, even if another process recorded it."""
        if helpers or self._helpers:
            with contextlib.suppress(FileNotFoundError):
                os.truncate(self.helpers_path, 0)
            self._helpers = False
        with contextlib.suppress(FileNotFoundError):
            os.truncate(self.path, 0)
