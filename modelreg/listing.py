"""The listing index: every model of a working tree, its summary and its JSON, found again
by the manifests' file status instead of by reading them.

It works as git's index does: a manifest whose status (modification and change times,
size, inode) is what it was when the index was saved holds the bytes it held then, so
its summary and JSON are served without reading, hashing or parsing it. A file changed
too close to the moment its status was taken ("racily clean") could have changed again
within the same clock tick; it is read and its blob id compared. The index is derived
data, kept in the git folder beside the manifest cache: deleting it costs one slower
listing, never a wrong one.
"""

from __future__ import annotations

import marshal
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from modelreg import derived

VERSION = "modelreg-listing-1"
MAGIC = b"modelreg listing index\n"
# a file modified this close before its status was taken is not trusted on status alone
RACY_NS = 1_000_000_000

Stat = tuple[int, int, int, int]  # mtime_ns, ctime_ns, size, inode


def stat_of(path: str | os.PathLike[str]) -> Stat | None:
    """The status the index compares, None when there is no such file."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino


@dataclass(frozen=True)
class Entry:
    """One model as the index keeps it: the manifest's blob id and file status, its
    summary (``Summary.to_tuple`` without the version rows) and its JSON as listed, in
    pieces to be joined (``()``: none, when the manifest cache would not keep it)."""

    blob: str
    stat: Stat
    summary: tuple[Any, ...]
    json: tuple[bytes | memoryview, ...]


@dataclass(frozen=True)
class Table:
    """The entries of an index, sorted by model id, with their listed JSON joined by
    commas in that order (``body``: what listing every model prints)."""

    ids: list[str]
    blobs: list[str]
    stats: list[Stat]
    summaries: list[tuple[Any, ...]]
    body: bytes | bytearray
    spans: list[tuple[int, int] | None]  # where each model's JSON is in ``body``

    @classmethod
    def of(cls, entries: dict[str, Entry]) -> Table:
        """The table of ``entries``: their JSON pieces copied once, into the body."""
        ids = sorted(entries)
        rows = [entries[i] for i in ids]
        spans: list[tuple[int, int] | None] = []
        listed = [e for e in rows if e.json]
        size = sum(len(piece) for e in listed for piece in e.json) + max(len(listed) - 1, 0)
        body = bytearray(size)  # sized once: growing it would copy it again and again
        at = 0
        for e in rows:
            if not e.json:
                spans.append(None)
                continue
            if at:
                body[at : at + 1] = b","
                at += 1
            start = at
            for piece in e.json:
                body[at : at + len(piece)] = piece
                at += len(piece)
            spans.append((start, at))
        return cls(
            ids,
            [e.blob for e in rows],
            [e.stat for e in rows],
            [e.summary for e in rows],
            body,
            spans,
        )

    @property
    def complete(self) -> bool:
        """Whether every model's JSON is in ``body``."""
        return None not in self.spans

    def json(self, i: int) -> bytes | None:
        """The listed JSON of the ``i``-th model."""
        span = self.spans[i]
        return None if span is None else bytes(self.body[span[0] : span[1]])

    def entries(self) -> dict[str, Entry]:
        """The entries, their JSON pieces views of the body (nothing copied)."""
        view = memoryview(self.body)
        return {
            model_id: Entry(
                self.blobs[i],
                self.stats[i],
                self.summaries[i],
                () if (span := self.spans[i]) is None else (view[span[0] : span[1]],),
            )
            for i, model_id in enumerate(self.ids)
        }


EMPTY = Table([], [], [], [], b"", [])


class ListingIndex:
    """The index in ``path`` (None: none is kept) of the registry in ``root``, valid for
    manifests parsed by code of ``code_version`` (the manifest cache's version)."""

    def __init__(self, path: Path | None, root: Path, code_version: str) -> None:
        self.path = path
        self.key = (VERSION, code_version, str(root))
        self.taken_ns = 0  # when the saved statuses were taken

    def load(self) -> Table:
        """The saved table (empty when there is no valid index)."""
        if self.path is None:
            return EMPTY
        try:
            with self.path.open("rb") as f:
                if f.read(len(MAGIC)) != MAGIC:
                    return EMPTY
                size = int.from_bytes(f.read(8), "little")
                head = marshal.loads(f.read(size))
                if not (isinstance(head, tuple) and len(head) == 7 and head[0] == self.key):
                    return EMPTY
                body = f.read()
        except (OSError, EOFError, ValueError, TypeError):
            return EMPTY
        self.taken_ns = head[1]
        ids, blobs, stats, summaries, spans = head[2:]
        return Table(ids, blobs, stats, summaries, body, spans)

    def trusted(self, stat: Stat, known: Stat) -> bool:
        """Whether a file with ``stat`` holds what it held when ``known`` was taken,
        without reading it."""
        return stat == known and stat[0] < self.taken_ns - RACY_NS

    @staticmethod
    def now() -> int:
        """The moment to pass to :meth:`save`: taken before the statuses saved."""
        return time.time_ns()

    def save(self, table: Table, taken_ns: int) -> None:
        """Keep ``table``, whose statuses were taken after ``taken_ns``."""
        if self.path is None:
            return
        # the body after the rest (read as it is, not through marshal)
        head = marshal.dumps(
            (self.key, taken_ns, table.ids, table.blobs, table.stats, table.summaries, table.spans)
        )

        def write(f: BinaryIO) -> None:
            f.write(MAGIC)
            f.write(len(head).to_bytes(8, "little"))
            f.write(head)
            f.write(table.body)

        derived.replace(self.path, write)
        self.taken_ns = taken_ns
