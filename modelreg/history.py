"""What changed when: a model's past states and events, read from git.

Facts git already knows (who changed a model, when, every past state) come from
git; manifests are parsed through a snapshot's cache, so each past state is
parsed once for all the commits that share it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelreg import derived
from modelreg.checked import code_stamp
from modelreg.errors import InvalidManifestError, ModelregError, NotFoundError
from modelreg.events import Event, StagePeriod, alias_periods, between, stage_periods
from modelreg.gitstore import CommitInfo, GitStore
from modelreg.gitstore.logindex import LogIndex
from modelreg.layout import MANIFEST_FILE, MODELS_DIR, manifest_path
from modelreg.snapshot import Snapshot
from modelreg.vocabulary import Stage

if TYPE_CHECKING:
    from modelreg.manifest import Model


@dataclass(frozen=True)
class Change:
    """One commit in a model's history and what it did to the model."""

    commit: CommitInfo
    events: tuple[Event, ...]
    # the manifest after the commit (None: deleted or broken), parsed when first asked for
    state: Callable[[], Model | None] = field(repr=False, compare=False)

    @functools.cached_property
    def model(self) -> Model | None:
        return self.state()

    def to_dict(self) -> dict[str, Any]:
        c = self.commit
        return {
            "commit": c.sha,
            "author": c.author,
            "email": c.email,
            "time": dt.datetime.fromtimestamp(c.time, dt.timezone.utc)
            .isoformat()
            .replace("+00:00", "Z"),
            "message": c.message,
            "events": [e.to_dict() for e in self.events],
        }


class EventCache:
    """The events between two states of a manifest, by the two blob ids (derived from
    immutable bytes, so never stale; keyed by the code that derived them)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.key = ("modelreg-events-1", code_stamp())
        self.fresh = False
        self.entries: dict[tuple[str, str], tuple[tuple[Any, ...], ...]] = {}
        found = derived.load(path, self.key, 1)
        if found is not None:
            self.entries = found[0]

    def get(self, old: str | None, new: str | None) -> tuple[Event, ...] | None:
        found = self.entries.get((old or "", new or ""))
        return None if found is None else tuple(Event(k, v, b, a, f) for k, v, b, a, f in found)

    def put(self, old: str | None, new: str | None, events: Sequence[Event]) -> None:
        rows = tuple((e.kind, e.version, e.before, e.after, tuple(e.fields)) for e in events)
        self.entries[(old or "", new or "")] = rows
        self.fresh = True

    def save(self) -> None:
        if self.fresh:
            derived.dump(self.path, self.key, self.entries)
            self.fresh = False


class History:
    """The history of ``rev`` in ``store``, parsing through ``snapshot``'s cache."""

    def __init__(self, store: GitStore, snapshot: Snapshot, rev: str = "HEAD") -> None:
        self.store = store
        self.snapshot = snapshot
        self.rev = rev

    def states(self, model_id: str) -> list[tuple[CommitInfo, Model | None]]:
        """The manifest after every commit that touched it, oldest first."""
        store, path = self.store, manifest_path(model_id)
        out: list[tuple[CommitInfo, Model | None]] = []
        commit = store.head() if self.rev == "HEAD" else store.resolve(self.rev)
        if commit is None:
            return out
        logs = LogIndex.of(store)
        infos = logs.log(path, commit)
        logs.save()
        for info in reversed(infos):
            blob = store.blob_at(info.sha, path)
            model = None
            if blob is not None:
                try:
                    model = self.snapshot.parse(model_id, store.read_blob(blob))
                except InvalidManifestError:
                    model = None  # a broken state in history: shown as an event-less commit
            out.append((info, model))
        self.snapshot.cache.save()
        return out

    def changes(self, model_id: str) -> list[Change]:
        """Every commit that changed the model, newest first, with what it changed. The
        events of two states are kept by their blob ids (:class:`EventCache`): a history
        seen before needs no manifest parsed."""
        store, path = self.store, manifest_path(model_id)
        commit = store.head() if self.rev == "HEAD" else store.resolve(self.rev)
        logs = LogIndex.of(store)
        infos = logs.log(path, commit) if commit is not None else []
        logs.save()
        if not infos:
            raise NotFoundError(f"no history for model {model_id!r}")
        cache = EventCache(store.git_dir / "modelreg" / "events")

        def state(blob: str | None) -> Callable[[], Model | None]:
            return lambda: self._parsed(model_id, blob)

        out = []
        previous: str | None = None
        for info in reversed(infos):
            blob = store.blob_at(info.sha, path)
            events = cache.get(previous, blob)
            if events is None:
                events = tuple(between(state(previous)(), state(blob)()))
                cache.put(previous, blob, events)
            out.append(Change(info, events, state(blob)))
            previous = blob
        cache.save()
        self.snapshot.cache.save()
        return list(reversed(out))

    def _parsed(self, model_id: str, blob: str | None) -> Model | None:
        """The state of ``model_id`` in ``blob`` (None: no manifest, or a broken one)."""
        if blob is None:
            return None
        try:
            return self.snapshot.parse(model_id, self.store.read_blob(blob))
        except InvalidManifestError:
            return None  # a broken state in history: shown as an event-less commit

    def stage_periods(self, model_id: str, stage: Stage) -> list[StagePeriod]:
        """Which version held ``stage`` from when to when, and by which commit."""
        return stage_periods(self.states(model_id), stage)

    def alias_periods(self, model_id: str, alias: str) -> list[StagePeriod]:
        """Which version held ``alias`` from when to when, and by which commit."""
        return alias_periods(self.states(model_id), alias)

    def retired_versions(self, model_id: str) -> int:
        """The highest version number a deleted model with this id had (0 if none):
        numbers a re-created model must not reuse. Read from the record of retired
        numbers at ``rev`` (:mod:`modelreg.retired`); in a registry without one, from the
        history of the manifest."""
        store, path = self.store, manifest_path(model_id)
        if store.head() is None:
            return 0
        numbers = self.snapshot.at(store.resolve(self.rev), store=store).retired_numbers()
        if numbers is not None:
            return numbers.get(model_id, 0)
        for info in store.log(path, self.rev):
            blob = store.blob_at(info.sha, path)
            if blob is None:
                continue
            with contextlib.suppress(ModelregError):
                return self.snapshot.parse(model_id, store.read_blob(blob)).latest_version
            break  # the newest surviving manifest holds the highest number
        return 0

    def artifact_uris(self) -> set[str]:
        """Every artifact URI that any manifest refers to at any commit of ``rev``."""
        store = self.store
        blobs: dict[str, str] = {}  # blob id -> model id
        for sha in store.commits_touching(MODELS_DIR, self.rev):
            for model_id, (_, is_dir) in store.listdir(sha, MODELS_DIR).items():
                if is_dir:
                    blob = store.blob_at(sha, manifest_path(model_id))
                    if blob is not None:
                        blobs.setdefault(blob, model_id)
        uris: set[str] = set()
        for blob, model_id in blobs.items():
            with contextlib.suppress(InvalidManifestError):
                model = self.snapshot.parse(model_id, store.read_blob(blob))
                uris.update(a.uri for v in model.versions for a in v.artifacts.values())
        return uris

    def model_times(self) -> dict[str, tuple[dt.datetime, dt.datetime]]:
        """Per model id: (first, last) commit time of its manifest, from one git call."""
        out = {}
        for rel, (first, last) in self.store.path_times(MODELS_DIR, self.rev).items():
            parts = rel.split("/")
            if len(parts) == 3 and parts[2] == MANIFEST_FILE:
                out[parts[1]] = (
                    dt.datetime.fromtimestamp(first, dt.timezone.utc),
                    dt.datetime.fromtimestamp(last, dt.timezone.utc),
                )
        return out
