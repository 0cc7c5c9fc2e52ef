"""A cache of parsed manifests, keyed by git blob id, kept in the git folder.

Parsing YAML is the cost to avoid repeating: a blob id names exact bytes, so
an entry is valid for as long as the code that parsed it. Entries are the
manifest as JSON (validated again, in pydantic-core, only when a command asks
for that model) in one ``marshal`` file: loading it costs milliseconds even
for thousands of models, and a command that touches one model validates one.
"""

from __future__ import annotations

import marshal
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from modelreg import derived
from modelreg.query import Summary

if TYPE_CHECKING:
    from modelreg.manifest import Model

# Bump when parsing or the models change, so old entries are never trusted.
CACHE_VERSION = "modelreg-cache-12"
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


Entry = tuple[bytes, Point, tuple[Any, ...]]


class ManifestCache:
    """The cache in ``path`` (None: in memory only). Its owner saves it (:meth:`save`):
    a :class:`~modelreg.registry.Registry` does when closed."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        # blob id -> (manifest as JSON, where appended versions go in its text, summary);
        # read from disk on first use
        self._raw: dict[str, Entry] | None = None
        self.models: dict[str, Model] = {}
        self.used: set[str] = set()
        self.dirty = False
        # put this run, encoded only when saved or listed (a big manifest written many
        # times costs one encoding): blob id -> (model, append point); and per model id
        # the blob last written (a state this run wrote and then wrote over is not saved)
        self._fresh: dict[str, tuple[Model, Point]] = {}
        self._written: dict[str, str] = {}
        self._added = 0  # bytes of JSON this run added

    @property
    def raw(self) -> dict[str, Entry]:
        if self._raw is None:
            self._raw = self._load()
        return self._raw

    def _load(self) -> dict[str, Entry]:
        if self.path is None:
            return {}
        out: dict[str, Entry] = {}
        try:
            with self.path.open("rb") as f:
                if marshal.load(f) != CACHE_VERSION:
                    return {}
                while (chunk := marshal.load(f)) is not None:
                    out.update(chunk)
        except (OSError, EOFError, ValueError, TypeError):
            return {}
        return out

    def get(self, blob: str, keep: bool = True) -> tuple[Model, Point] | None:
        """The model parsed from ``blob`` and where appended versions go, None if not
        cached; the model object is kept for the next call if ``keep``."""
        fresh = self._fresh.get(blob)
        if fresh is not None:
            self.used.add(blob)
            return fresh
        found = self.raw.get(blob)
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
                del self.raw[blob]
                return None
            if keep:
                self.models[blob] = model
        return model, found[1]

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
        self, blob: str, model: Model, append_at: Point, keep: bool = True, *, written: bool = False
    ) -> None:
        """Cache ``model``, parsed from ``blob`` (or ``written`` as it by this run: such a
        state is dropped when this run writes the model again); ``keep`` the model object
        for the next call (else only its JSON, once encoded: a listing of thousands of
        manifests must not hold them all)."""
        if keep:
            self.models[blob] = model
        self.used.add(blob)
        self._fresh[blob] = (model, append_at)
        if written:
            before = self._written.get(model.id)
            if before is not None and before != blob:
                self._fresh.pop(before, None)
            self._written[model.id] = blob
        self.dirty = True
        if not keep:
            self._encode(blob)

    def _encode(self, blob: str) -> None:
        model, append_at = self._fresh.pop(blob)
        # only what reads back as the same manifest may be served from the cache: typed
        # fields always do; free-form hyperparameters only when they hold plain JSON values
        if all(_plain(v.hyperparameters) for v in model.versions):
            data = model.model_dump_json(by_alias=True, exclude_none=True).encode()
            self.raw[blob] = (data, append_at, Summary.of(model).to_tuple())
            self._added += len(data)

    def save(self) -> None:
        for blob in list(self._fresh):
            self._encode(blob)
        self._written.clear()
        if self.path is None or not self.dirty:
            return
        raw = self.raw
        added, self._added = self._added, 0
        if added < REWRITE_FRACTION * sum(len(entry[0]) for entry in raw.values()):
            self.dirty = False
            return
        if len(raw) > 2 * max(len(self.used), 1000):  # forget what this run never asked for
            raw = {k: v for k, v in raw.items() if k in self.used}
        # in chunks: the whole file is never one object in memory, written or read
        items = list(raw.items())

        def write(f: BinaryIO) -> None:
            marshal.dump(CACHE_VERSION, f)
            for start in range(0, len(items), CHUNK):
                marshal.dump(items[start : start + CHUNK], f)
            marshal.dump(None, f)

        derived.replace(self.path, write)
        self.dirty = False
