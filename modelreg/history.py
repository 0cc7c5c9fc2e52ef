"""What changed when: a model's past states and events, read from git.

Facts git already knows (who changed a model, when, every past state) come from
git, through the log index (:mod:`modelreg.gitstore.logindex`): the commits that
changed a manifest and its blob id after each. What a history derives from the
manifests (the events between two states, who holds each stage and alias in a
state) is kept per model by blob ids (:class:`Derived`), so a history seen
before is a lookup: no manifest parsed, no tree opened, and where no git store
is open yet, neither libgit2 nor GitPython loaded (HEAD is read from the
repository's files, :mod:`modelreg.gitstore.repository`). Manifests are parsed
only for states not seen before, through a snapshot's cache.
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
from modelreg.events import Event, Holders, StagePeriod, alias_periods, between, stage_periods
from modelreg.gitstore import CommitInfo, GitStore
from modelreg.gitstore.logindex import LogIndex
from modelreg.gitstore.repository import Readable, Repository
from modelreg.layout import MANIFEST_FILE, MODELS_DIR, manifest_path
from modelreg.snapshot import Snapshot
from modelreg.vocabulary import Stage

if TYPE_CHECKING:
    from modelreg.manifest import Model

VERSION = "modelreg-history-2"
FOLDER = "modelreg/history"  # inside the worktree's git folder: one file per model id


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


class Derived:
    """What one model's history derived from its manifests: the events between two
    states, by the two blob ids, and who holds what in a state, by its blob id. Blob ids
    name immutable bytes, and the key holds everything else a manifest's reading
    depends on (the model id, the registry's config, the code that read it), so an
    entry is never stale. Kept in ``folder``, one file per model; ``config_id`` None
    (unknown) keeps nothing."""

    def __init__(self, folder: Path, model_id: str, config_id: str | None) -> None:
        # a model id names one file in ``folder``, or nothing is kept
        one_name = model_id == Path(model_id).name and model_id not in ("", ".", "..")
        self.path = folder / model_id if config_id is not None and one_name else None
        self.key = (VERSION, code_stamp(), model_id, config_id)
        self.fresh = False
        self.events: dict[tuple[str, str], tuple[tuple[Any, ...], ...]] = {}
        self.holders: dict[str, tuple[Any, Any]] = {}
        found = derived.load(self.path, self.key, 2) if self.path is not None else None
        if found is not None:
            self.events, self.holders = found

    def events_between(self, old: str | None, new: str | None) -> tuple[Event, ...] | None:
        found = self.events.get((old or "", new or ""))
        return None if found is None else tuple(Event(k, v, b, a, f) for k, v, b, a, f in found)

    def put_events(self, old: str | None, new: str | None, events: Sequence[Event]) -> None:
        rows = tuple((e.kind, e.version, e.before, e.after, tuple(e.fields)) for e in events)
        self.events[(old or "", new or "")] = rows
        self.fresh = True

    def holders_of(self, blob: str | None) -> Holders | None:
        if blob is None:
            return Holders()  # no manifest holds nothing
        found = self.holders.get(blob)
        return None if found is None else Holders(*found)

    def put_holders(self, blob: str, holders: Holders) -> None:
        self.holders[blob] = (holders.stages, holders.aliases)
        self.fresh = True

    def save(self) -> None:
        if self.fresh and self.path is not None:
            derived.dump(self.path, self.key, self.events, self.holders)
            self.fresh = False


class History:
    """The history of ``rev`` in ``store``, parsing through ``snapshot``'s cache. With
    ``store`` None, the snapshot's store is opened only if a manifest must be read."""

    def __init__(self, store: GitStore | None, snapshot: Snapshot, rev: str = "HEAD") -> None:
        self._store = store
        self.snapshot = snapshot
        self.rev = rev
        self._files: Repository | None = None

    @property
    def store(self) -> GitStore:
        if self._store is None:
            self._store = self.snapshot.git()
        return self._store

    def _repository(self) -> Readable:
        """Where history is read: the git store when one is open, else the repository's
        files (opening the store loads libgit2)."""
        if self._store is None and self.snapshot.store is None:
            if self._files is None:
                self._files = Repository.find(self.snapshot.root)
            if self._files is not None:
                return self._files
        return self.store

    def _states(self, model_id: str) -> list[tuple[CommitInfo, str | None]]:
        """Every commit of ``rev`` that changed the manifest, with its blob id after it,
        oldest first."""
        repo = self._repository()
        if self.rev == "HEAD":
            commit = repo.head()
        elif self.rev == self.snapshot.commit:
            commit = self.rev  # resolved when the snapshot was opened
        else:
            commit = self.store.resolve(self.rev)
        if commit is None:
            return []
        logs = LogIndex.of(repo)
        found = logs.states(manifest_path(model_id), commit)
        logs.save()
        return found[::-1]

    def _derived(self, model_id: str) -> Derived:
        return Derived(self._repository().git_dir / FOLDER, model_id, self.snapshot.config_id)

    def states(self, model_id: str) -> list[tuple[CommitInfo, Model | None]]:
        """The manifest after every commit that touched it, oldest first."""
        out = [(info, self._parsed(model_id, blob)) for info, blob in self._states(model_id)]
        self.snapshot.cache.save()
        return out

    def changes(self, model_id: str) -> list[Change]:
        """Every commit that changed the model, newest first, with what it changed. The
        events of two states are kept by their blob ids (:class:`Derived`): a history
        seen before needs no manifest parsed."""
        found = self._states(model_id)
        if not found:
            raise NotFoundError(f"no history for model {model_id!r}")
        cache = self._derived(model_id)

        def state(blob: str | None) -> Callable[[], Model | None]:
            return lambda: self._parsed(model_id, blob)

        out = []
        previous: str | None = None
        for info, blob in found:
            events = cache.events_between(previous, blob)
            if events is None:
                events = tuple(between(state(previous)(), state(blob)()))
                cache.put_events(previous, blob, events)
            out.append(Change(info, events, state(blob)))
            previous = blob
        cache.save()
        self.snapshot.cache.save()
        return out[::-1]

    def holders(self, model_id: str) -> list[tuple[CommitInfo, Holders]]:
        """Who held each stage and alias after every commit that touched the manifest,
        oldest first (kept by blob id, :class:`Derived`: a history seen before needs
        no manifest parsed)."""
        found = self._states(model_id)
        if not found:
            return []
        cache = self._derived(model_id)
        out = []
        for info, blob in found:
            holders = cache.holders_of(blob)
            if holders is None:
                assert blob is not None
                holders = Holders.of(self._parsed(model_id, blob))
                cache.put_holders(blob, holders)
            out.append((info, holders))
        cache.save()
        self.snapshot.cache.save()
        return out

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
        return stage_periods(self.holders(model_id), stage)

    def alias_periods(self, model_id: str, alias: str) -> list[StagePeriod]:
        """Which version held ``alias`` from when to when, and by which commit."""
        return alias_periods(self.holders(model_id), alias)

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
