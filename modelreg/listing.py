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

import io
import marshal
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from modelreg import derived
from modelreg.query import Page

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


def now() -> int:
    """The moment to save with statuses taken after it (see :func:`unchanged`)."""
    return time.time_ns()


def unchanged(stat: Stat | None, known: Stat | None, taken_ns: int) -> bool:
    """Whether a file with ``stat`` holds what it held when ``known`` was taken, at or
    after ``taken_ns``, without reading it (both None: there is still no such file). A
    file modified within :data:`RACY_NS` before that moment is "racily clean": only its
    bytes can tell, as in git's index."""
    if stat is None or known is None:
        return stat is None and known is None
    return stat == known and stat[0] < taken_ns - RACY_NS


@dataclass(frozen=True)
class Entry:
    """One model as the index keeps it: the manifest's blob id and file status, its
    summary (``Summary.to_tuple`` without the version rows) and its JSON as listed, in
    pieces to be joined (``()``: none, when the manifest cache would not keep it)."""

    blob: str
    stat: Stat
    summary: tuple[Any, ...]
    json: tuple[bytes | memoryview, ...]


class Table:
    """The entries of an index, sorted by model id, with their listed JSON: in pieces
    (built by this run) or in the index file (loaded), never joined into one buffer.
    ``body`` is every model's JSON joined by commas in id order: what listing every
    model prints, written out by :meth:`write_body`."""

    def __init__(
        self,
        ids: list[str],
        blobs: list[str],
        stats: list[Stat],
        summaries: list[tuple[Any, ...]],
        spans: list[tuple[int, int] | None],  # where each model's JSON is in the body
        pieces: list[tuple[bytes | memoryview, ...]] | None = None,
        stored: tuple[Path, int] | None = None,  # the index file, and where its body starts
    ) -> None:
        self.ids, self.blobs, self.stats, self.summaries = ids, blobs, stats, summaries
        self.spans = spans
        self.pieces = pieces
        self.stored = stored

    @classmethod
    def of(cls, entries: dict[str, Entry]) -> Table:
        """The table of ``entries``, their JSON kept as the pieces they are."""
        ids = sorted(entries)
        rows = [entries[i] for i in ids]
        spans: list[tuple[int, int] | None] = []
        at = 0
        for e in rows:
            if not e.json:
                spans.append(None)
                continue
            at += 1 if at else 0  # the comma before it
            size = sum(len(piece) for piece in e.json)
            spans.append((at, at + size))
            at += size
        return cls(
            ids,
            [e.blob for e in rows],
            [e.stat for e in rows],
            [e.summary for e in rows],
            spans,
            pieces=[e.json for e in rows],
        )

    @property
    def complete(self) -> bool:
        """Whether every model's JSON is in the body."""
        return None not in self.spans

    def json(self, i: int) -> bytes | None:
        """The listed JSON of the ``i``-th model."""
        span = self.spans[i]
        if span is None:
            return None
        if self.pieces is not None:
            return b"".join(self.pieces[i])
        return self._read(span[0], span[1])

    def _read(self, start: int, end: int) -> bytes:
        assert self.stored is not None
        path, offset = self.stored
        with path.open("rb") as f:
            f.seek(offset + start)
            return f.read(end - start)

    def write_body(self, out: BinaryIO, first: int = 0, last: int | None = None) -> None:
        """Write the JSON of models ``first`` to ``last`` (excluded; default: to the end),
        joined by commas, to ``out``: piece by piece, or copied from the index file in
        blocks. Every model's JSON must be there (:attr:`complete`)."""
        last = len(self.ids) if last is None else last
        if first >= last:
            return
        if self.pieces is not None:
            for n in range(first, last):
                if n > first:
                    out.write(b",")
                for piece in self.pieces[n]:
                    out.write(piece)
            return
        start, end = self.spans[first], self.spans[last - 1]
        assert start is not None and end is not None and self.stored is not None
        path, offset = self.stored
        with path.open("rb") as f:
            f.seek(offset + start[0])
            left = end[1] - start[0]
            while left > 0:
                block = f.read(min(left, 1 << 20))
                if not block:
                    raise OSError(f"{path} is shorter than its index says")
                out.write(block)
                left -= len(block)

    def body(self, first: int = 0, last: int | None = None) -> bytes:
        """What :meth:`write_body` writes, as bytes."""
        buffer = io.BytesIO()
        self.write_body(buffer, first, last)
        return buffer.getvalue()

    def entries(self) -> dict[str, Entry]:
        """The entries, their JSON views of this table's (nothing copied per model)."""
        if self.pieces is not None:
            pieces = self.pieces
        else:
            view = memoryview(self.body())  # the file read once
            pieces = [() if span is None else (view[span[0] : span[1]],) for span in self.spans]
        return {
            model_id: Entry(self.blobs[n], self.stats[n], self.summaries[n], pieces[n])
            for n, model_id in enumerate(self.ids)
        }


EMPTY = Table([], [], [], [], [], pieces=[])


@dataclass(frozen=True)
class Listed:
    """One page of a listing: the ids (with the total), and the models' JSON as listed,
    joined by commas, written out by :meth:`write` (from the index, never joined in
    memory) or given whole by :meth:`body`."""

    page: Page[str]
    table: Table | None = None  # the page is its models from ``first`` on
    first: int = 0
    parts: tuple[bytes, ...] = ()  # else: the page's JSON, one piece per model

    def write(self, out: BinaryIO) -> None:
        if self.table is not None:
            self.table.write_body(out, self.first, self.first + len(self.page.items))
            return
        for n, part in enumerate(self.parts):
            out.write(b"," + part if n else part)

    def body(self) -> bytes:
        buffer = io.BytesIO()
        self.write(buffer)
        return buffer.getvalue()


class ListingIndex:
    """The index in ``path`` (None: none is kept) of the registry in ``root``, valid for
    manifests parsed by code of ``code_version`` (the manifest cache's version)."""

    def __init__(self, path: Path | None, root: Path, code_version: str) -> None:
        self.path = path
        self.key = (VERSION, code_version, str(root))
        self.taken_ns = 0  # when the saved statuses were taken

    def load(self) -> Table:
        """The saved table (empty when there is no valid index); its JSON stays in the
        file until asked for."""
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
                offset = f.tell()
        except (OSError, EOFError, ValueError, TypeError):
            return EMPTY
        self.taken_ns = head[1]
        ids, blobs, stats, summaries, spans = head[2:]
        return Table(ids, blobs, stats, summaries, spans, stored=(self.path, offset))

    def trusted(self, stat: Stat, known: Stat) -> bool:
        """Whether a file with ``stat`` holds what it held when ``known`` was taken,
        without reading it."""
        return unchanged(stat, known, self.taken_ns)

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
            table.write_body(f)

        derived.replace(self.path, write)
        self.taken_ns = taken_ns
