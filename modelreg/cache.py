"""A cache of parsed manifests, keyed by git blob id, kept in the git folder.

Parsing YAML is the cost to avoid repeating: a blob id names exact bytes, so
an entry is valid for as long as the code that parsed it. Entries are the
manifest as JSON (validated again, in pydantic-core, only when a command asks
for that model) in one ``marshal`` file, in chunks. Beside it, an index names
the chunk of each blob: a command that needs a few models reads their chunks,
not the whole file (at 10,000 models the file is some 70 MB, half a second to
load), and a command that lists everything loads it all.
"""

from __future__ import annotations

import marshal
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from modelreg import derived
from modelreg.query import Summary

if TYPE_CHECKING:
    from modelreg.manifest import Model, Version

# Bump when parsing or the models change, so old entries are never trusted.
CACHE_VERSION = "modelreg-cache-14"
INDEX_SUFFIX = ".index"  # the index's file: the cache's name with this after it
# The file is rewritten whole only when what a run added is at least this fraction of
# it: parsing a few small manifests again later costs less than rewriting megabytes now
# (a write of one small manifest into a registry of thousands rewrites nothing).
REWRITE_FRACTION = 1 / 256
CHUNK = 500  # entries per marshal record of the file

Point = tuple[int, int] | None


def _plain(value: object) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    return value is None or isinstance(value, (str, int, bool))


# where the versions end in the entry's JSON (they come last), how many there are, the
# highest number, first_version, archived: what appending versions needs
Tail = tuple[int, int, int, "int | None", bool]
Entry = tuple[bytes, Point, tuple[Any, ...], Tail]


@dataclass(frozen=True)
class Head:
    """What appending versions to a stored manifest needs to know of it, without
    building its model: the blob, where appended versions go in its text, how many
    versions it has, the highest number, ``first_version`` and the archived flag."""

    blob: str
    model_id: str
    point: Point
    count: int
    latest: int
    first_version: int | None
    archived: bool

    @classmethod
    def of(cls, blob: str, model: Model, point: Point) -> Head:
        return cls(
            blob,
            model.id,
            point,
            len(model.versions),
            model.latest_version,
            model.first_version,
            model.archived,
        )

    @classmethod
    def of_entry(cls, blob: str, entry: Entry) -> Head:
        _, point, summary, (_, count, latest, first_version, archived) = entry
        return cls(blob, summary[0], point, count, latest, first_version, archived)

    def appended(self, blob: str, versions: Sequence[Version], point: Point) -> Head:
        """The head of ``blob``: this manifest with ``versions`` appended at ``point``."""
        return replace(
            self,
            blob=blob,
            point=point,
            count=self.count + len(versions),
            latest=max((self.latest, *(v.version for v in versions))),
        )


def _tail(end: int, head: Head) -> Tail:
    """The :data:`Tail` of an entry whose JSON's versions end at ``end``."""
    return (end, head.count, head.latest, head.first_version, head.archived)


def _json(model: Model) -> tuple[bytes, int]:
    """The model as JSON, its versions last (so versions appended later are spliced in
    without parsing it), and where they end."""
    head = model.model_dump_json(by_alias=True, exclude_none=True, exclude={"versions"})
    versions = model.model_dump_json(by_alias=True, exclude_none=True, include={"versions"})
    data = (head[:-1] + "," + versions[1:]).encode()
    return data, len(data) - 2


class ManifestCache:
    """The cache in ``path`` (None: in memory only). Its owner saves it (:meth:`save`):
    a :class:`~modelreg.registry.Registry` does when closed."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        # blob id -> (manifest as JSON, where appended versions go in its text, summary,
        # tail);
        # read from disk on first use; until then single entries are read through the
        # index (``_index``: blob id -> offset of its chunk; None: not read yet, or
        # not usable) and kept in ``_some``
        self._raw: dict[str, Entry] | None = None
        self._index: dict[str, int] | None = None
        self._index_read = False
        self._token: object = None
        self._some: dict[str, Entry] = {}
        self._new: dict[str, Entry] = {}  # encoded this run
        self.models: dict[str, Model] = {}
        self.used: set[str] = set()
        self.dirty = False
        # put this run, encoded only when saved or listed (a big manifest written many
        # times costs one encoding): blob id -> (model, append point); and per model id
        # the blob last written (a state this run wrote and then wrote over is not saved)
        self._fresh: dict[str, tuple[Model, Point]] = {}
        self._written: dict[str, str] = {}
        # versions this run appended to a cached manifest, their entry made only when
        # saved or asked for (a big manifest appended to many times is encoded once):
        # blob id -> (the blob appended to, the versions, append point)
        self._appended: dict[str, tuple[str, list[Version], Point]] = {}
        # the states this run's writes started from: history once committed, not kept
        # when the file is rewritten (a model written again and again would otherwise
        # leave an entry per state, each as big as the manifest)
        self._replaced: set[str] = set()
        self._added = 0  # bytes of JSON this run added

    @property
    def raw(self) -> dict[str, Entry]:
        """Every entry (the whole file read, with what this run added)."""
        if self._raw is None:
            self._raw = self._load()
            self._raw.update(self._new)
        for blob in list(self._appended):
            self._settle(blob)
        return self._raw

    def _load(self) -> dict[str, Entry]:
        if self.path is None:
            return {}
        out: dict[str, Entry] = {}
        try:
            with self.path.open("rb") as f:
                if marshal.load(f) != CACHE_VERSION:
                    return {}
                marshal.load(f)  # the token the index names the file by
                while (chunk := marshal.load(f)) is not None:
                    out.update(chunk)
        except (OSError, EOFError, ValueError, TypeError):
            return {}
        return out

    def _found(self, blob: str) -> Entry | None:
        """The entry of ``blob``: through the index while the file is not loaded (its
        chunk read alone), else from everything loaded."""
        if blob in self._appended:
            self._settle(blob)
        if self._raw is not None:
            return self._raw.get(blob)
        found = self._new.get(blob) or self._some.get(blob)
        if found is not None:
            return found
        index = self._indexed()
        if index is None:
            return self.raw.get(blob)
        offset = index.get(blob)
        if offset is None:
            return None  # the index names every entry of the file
        assert self.path is not None
        try:
            with self.path.open("rb") as f:
                if not self._named(f):  # rewritten since: its chunks are elsewhere
                    return self.raw.get(blob)
                f.seek(offset)
                chunk = dict(marshal.load(f))
        except (OSError, EOFError, ValueError, TypeError):
            return self.raw.get(blob)
        self._some.update(chunk)
        return chunk.get(blob)

    def _indexed(self) -> dict[str, int] | None:
        """The index, when it was written with the cache file as it is (its token)."""
        if self._index_read or self.path is None:
            return self._index
        self._index_read = True
        saved = derived.load(self._index_path(self.path), CACHE_VERSION, 2)
        if saved is None or not isinstance(saved[1], dict):
            return None
        self._token = saved[0]
        try:
            with self.path.open("rb") as f:
                if not self._named(f):
                    return None
        except (OSError, EOFError, ValueError, TypeError):
            return None
        self._index = saved[1]
        return self._index

    @staticmethod
    def _index_path(path: Path) -> Path:
        """The index of the cache file ``path``."""
        return path.with_name(path.name + INDEX_SUFFIX)

    def _named(self, f: BinaryIO) -> bool:
        """The cache file open in ``f`` is the one the index was written with."""
        return bool(marshal.load(f) == CACHE_VERSION and marshal.load(f) == self._token)

    def _forget(self, blob: str) -> None:
        self._appended.pop(blob, None)
        for entries in (self._raw, self._some, self._new):
            if entries is not None:
                entries.pop(blob, None)

    def get(self, blob: str, keep: bool = True) -> tuple[Model, Point] | None:
        """The model parsed from ``blob`` and where appended versions go, None if not
        cached; the model object is kept for the next call if ``keep``."""
        fresh = self._fresh.get(blob)
        if fresh is not None:
            self.used.add(blob)
            return fresh
        found = self._found(blob)
        if found is None:
            return None
        self.used.add(blob)
        model = self.models.get(blob)
        if model is None:
            # pydantic's models only when one is asked for
            from modelreg.manifest import SCANNED, Model

            try:
                model = Model.model_validate_json(found[0], context=SCANNED)
            except ValueError:  # written by other code: parse the YAML again
                self._forget(blob)
                return None
            if keep:
                self.models[blob] = model
        return model, found[1]

    def head(self, blob: str) -> Head | None:
        """What appending versions needs of the manifest ``blob``, None if not cached:
        read from its entry, without building the model."""
        fresh = self._fresh.get(blob)
        if fresh is not None:
            self.used.add(blob)
            return Head.of(blob, *fresh)
        appended = self._appended.get(blob)
        if appended is not None:
            base, versions, point = appended
            before = self.head(base)
            return None if before is None else before.appended(blob, versions, point)
        found = self._found(blob)
        if found is None:
            return None
        self.used.add(blob)
        return Head.of_entry(blob, found)

    def entry(self, blob: str) -> tuple[bytes, Summary] | None:
        """The manifest's JSON and summary, without validating it (for listing)."""
        if blob in self._fresh:
            self._encode(blob)
        found = self.raw.get(blob)
        if found is None:
            return None
        self.used.add(blob)
        return found[0], Summary.from_tuple(found[2])

    def put(
        self,
        blob: str,
        model: Model,
        append_at: Point,
        keep: bool = True,
        *,
        written: bool = False,
        replaces: str | None = None,
    ) -> None:
        """Cache ``model``, parsed from ``blob`` (or ``written`` as it by this run over
        the state ``replaces``: such a state is dropped when this run writes the model
        again); ``keep`` the model object for the next call (else only its JSON, once
        encoded: a listing of thousands of manifests must not hold them all)."""
        if keep:
            self.models[blob] = model
        self.used.add(blob)
        self._fresh[blob] = (model, append_at)
        if written:
            self._wrote(model.id, blob)
            if replaces is not None:
                self._replaced.add(replaces)
        self.dirty = True
        if not keep:
            self._encode(blob)

    def put_appended(
        self, blob: str, base: str, versions: Sequence[Version], append_at: Point, model_id: str
    ) -> None:
        """Cache the manifest ``blob`` this run wrote for ``model_id``: the one of ``base``
        with ``versions`` appended (none of them in production). Its entry is made from
        ``base``'s when saved or asked for, without building either model; none is made
        when ``base`` has none."""
        if base in self._appended:  # appended to again: one step from the cached blob
            base, before, _ = self._appended[base]
            versions = [*before, *versions]
        self._wrote(model_id, blob, keep=base)
        self._replaced.add(base)
        self._appended[blob] = (base, list(versions), append_at)
        self.used.add(blob)
        self.dirty = True

    def _settle(self, blob: str) -> None:
        """Make the entry of versions appended this run (see :meth:`put_appended`)."""
        base, versions, append_at = self._appended.pop(blob)
        if base in self._fresh:
            self._encode(base)
        found = self._found(base)
        if found is None or not all(_plain(v.hyperparameters) for v in versions):
            return
        data, _, summary, (end, count, *_) = found
        dumped = (v.model_dump_json(by_alias=True, exclude_none=True).encode() for v in versions)
        added = (b"," if count else b"") + b",".join(dumped)
        head = Head.of_entry(base, found).appended(blob, versions, append_at)
        self._add(
            blob,
            (
                data[:end] + added + data[end:],
                append_at,
                Summary.from_tuple(summary).appended(versions).to_tuple(),
                _tail(end + len(added), head),
            ),
        )

    def _add(self, blob: str, entry: Entry) -> None:
        """An entry this run made."""
        self._new[blob] = entry
        if self._raw is not None:
            self._raw[blob] = entry
        self._added += len(entry[0])

    def _wrote(self, model_id: str, blob: str, keep: str | None = None) -> None:
        """``blob`` is the state of ``model_id`` this run wrote last: the state it wrote
        before, if another, is not kept (unless it is ``keep``, what ``blob`` is made from)."""
        before = self._written.get(model_id)
        if before is not None and before not in (blob, keep):
            self._fresh.pop(before, None)
            self._forget(before)
        self._written[model_id] = blob

    def _encode(self, blob: str) -> None:
        model, append_at = self._fresh.pop(blob)
        # only what reads back as the same manifest may be served from the cache: typed
        # fields always do; free-form hyperparameters only when they hold plain JSON values
        if all(_plain(v.hyperparameters) for v in model.versions):
            data, end = _json(model)
            tail = _tail(end, Head.of(blob, model, append_at))
            self._add(blob, (data, append_at, Summary.of(model).to_tuple(), tail))

    def save(self) -> None:
        for blob in list(self._appended):
            self._settle(blob)
        for blob in list(self._fresh):
            self._encode(blob)
        stale = self._replaced - set(self._written.values())
        self._written.clear()
        self._replaced.clear()
        if self.path is None or not self.dirty:
            return
        added, self._added = self._added, 0
        if self._raw is None:  # what is there is measured by the file, not loaded for it
            try:
                there = self.path.stat().st_size
            except OSError:
                there = 0
        else:
            there = sum(len(entry[0]) for entry in self._raw.values())
        if added < REWRITE_FRACTION * there:
            self.dirty = False
            return
        raw = {k: v for k, v in self.raw.items() if k not in stale}
        if len(raw) > 2 * max(len(self.used), 1000):  # forget what this run never asked for
            raw = {k: v for k, v in raw.items() if k in self.used}
        # in chunks: the whole file is never one object in memory, written or read
        items = list(raw.items())
        token = os.urandom(8).hex()
        offsets: dict[str, int] = {}

        def write(f: BinaryIO) -> None:
            marshal.dump(CACHE_VERSION, f)
            marshal.dump(token, f)
            for start in range(0, len(items), CHUNK):
                chunk = items[start : start + CHUNK]
                offsets.update(dict.fromkeys((blob for blob, _ in chunk), f.tell()))
                marshal.dump(chunk, f)
            marshal.dump(None, f)

        derived.replace(self.path, write)
        # the index last: one naming another file's token is never used
        derived.dump(self._index_path(self.path), CACHE_VERSION, token, offsets)
        self._new.clear()
        self.dirty = False
