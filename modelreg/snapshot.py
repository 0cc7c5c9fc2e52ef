"""The registry as of one commit (or as the working tree holds it): read-only.

A snapshot reads files, parses manifests through the manifest cache (keyed by
git blob id, so a manifest read at any commit is parsed once), and lists them
through :mod:`modelreg.query`. At a commit the blob ids come from git's trees,
so a cached manifest is found without reading its bytes at all.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from modelreg import cards, retired, yamlio
from modelreg.cache import CACHE_VERSION, Head, ManifestCache
from modelreg.checked import Checked, CheckedRecord
from modelreg.errors import InvalidManifestError, NotFoundError, Problem
from modelreg.gitstore import GitStore, blob_id
from modelreg.gitstore.worktree import read_file
from modelreg.layout import CONFIG_FILE, MANIFEST_FILE, MODELS_DIR, manifest_path
from modelreg.lineage import check_parents, parent_of
from modelreg.listing import Entry, Listed, ListingIndex, Stat, Table, now, stat_of
from modelreg.location import cache_file, find_registry, prefix
from modelreg.query import Page, Query, Summary, apply
from modelreg.refs import VersionRef, select
from modelreg.rules import check_model, problems_at
from modelreg.versions import document
from modelreg.wording import did_you_mean

if TYPE_CHECKING:
    from modelreg.config import RegistryConfig
    from modelreg.manifest import Model, Version
    from modelreg.schema import Reading

T = TypeVar("T")


@dataclass(frozen=True)
class ConfigText:
    """``modelreg.yaml`` as read, not yet parsed, and how messages name it."""

    data: bytes
    shown: str


Point = tuple[int, int] | None


class Snapshot:
    """The registry at ``commit`` (read from git), or in the working tree (``commit``
    None: read from disk). ``ref`` is the name it was opened at, for messages."""

    def __init__(
        self,
        root: Path,
        config: RegistryConfig | ConfigText,
        cache: ManifestCache,
        *,
        store: GitStore | None = None,
        commit: str | None = None,
        ref: str | None = None,
        prefix: str = "",
        config_id: str | None = None,
    ) -> None:
        if commit is not None and store is None:
            raise ValueError("a snapshot at a commit needs the git store")
        self.prefix = prefix  # where the registry sits in its git repository: "" or "sub/"
        self.root = root
        # parsed on first use: a listing served from the cache needs no config
        self._config = config
        # the blob id of the config's text (None: not known), for what is derived under it
        self.config_id = blob_id(config.data) if isinstance(config, ConfigText) else config_id
        self.cache = cache
        self.store = store
        self.commit = commit
        self.ref = ref
        self._models: dict[str, Model] | None = None
        self._broken: dict[tuple[str, str], Reading] = {}  # (model id, blob) -> reading
        self._listed: Table | None = None  # the listing index, read once per snapshot

    @classmethod
    def open(cls, path: Path, ref: str | None = None) -> Snapshot:
        """The registry holding ``path``: its working tree, or with ``ref`` the commit that
        names (read-only). Raises :class:`NotFoundError` where there is no registry."""
        root = find_registry(path)
        cache = ManifestCache(cache_file(root))
        if ref is None:
            where = prefix(root)
            text = ConfigText((root / CONFIG_FILE).read_bytes(), where + CONFIG_FILE)
            return cls(root, text, cache, prefix=where)
        store = GitStore.open(root)
        commit = store.resolve(ref)
        blob = store.blob_at(commit, CONFIG_FILE)
        if blob is None:
            raise NotFoundError(f"no {CONFIG_FILE} at {ref} ({commit[:12]})")
        text = ConfigText(store.read_blob(blob), store.prefix + CONFIG_FILE)
        return cls(root, text, cache, store=store, commit=commit, ref=ref, prefix=store.prefix)

    def at(
        self, commit: str | None, ref: str | None = None, store: GitStore | None = None
    ) -> Snapshot:
        """The same registry at ``commit`` (None: the working tree, read afresh), sharing
        the cache and the git store."""
        store = store or self.store
        return Snapshot(
            self.root,
            self._config,
            self.cache,
            store=store,
            commit=commit,
            ref=ref,
            prefix=self.prefix,
            config_id=self.config_id,
        )

    @property
    def config(self) -> RegistryConfig:
        """The registry's config (``modelreg.yaml``), parsed on first use. Raises
        :class:`InvalidManifestError` naming the line of what is wrong."""
        if isinstance(self._config, ConfigText):
            from modelreg.schema import parse_config  # pydantic's models only when needed

            with _located(self.root, self.prefix, self.ref if self.commit else None):
                self._config = parse_config(self._config.data, self._config.shown)
        return self._config

    def git(self) -> GitStore:
        """The git store (opened on first use: reading the working tree needs none)."""
        if self.store is None:
            self.store = GitStore.open(self.root)
        return self.store

    # ------------------------------------------------------------- files

    def read_bytes(self, relpath: str) -> bytes | None:
        """A file of the registry (relative to its root), None if there is none."""
        if self.commit is not None:
            assert self.store is not None
            blob = self.store.blob_at(self.commit, relpath)
            return None if blob is None else self.store.read_blob(blob)
        try:
            return read_file(os.path.join(self.root, relpath))
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:  # no file can have that name
                return None
            raise

    def retired_numbers(self) -> dict[str, int] | None:
        """The record of retired version numbers (None: the registry has none; see
        :mod:`modelreg.retired`). Raises :class:`InvalidManifestError` naming the line."""
        data = self.read_bytes(retired.RETIRED_FILE)
        if data is None:
            return None
        with _located(self.root, self.prefix, self.ref if self.commit else None):
            return retired.load(data, self.prefix + retired.RETIRED_FILE)[0]

    def files_under(self, folder: str) -> list[str]:
        """The files below ``folder`` (relative to the registry root), sorted."""
        if self.commit is not None:
            assert self.store is not None
            out: list[str] = []
            for name, (_, is_dir) in sorted(self.store.listdir(self.commit, folder).items()):
                path = f"{folder}/{name}"
                out += self.files_under(path) if is_dir else [path]
            return out
        base = self.root / folder
        if not base.is_dir():
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())

    def model_ids(self) -> list[str]:
        """The model folders, sorted (a folder may lack its manifest: see :meth:`validate`)."""
        if self.commit is not None:
            assert self.store is not None
            entries = self.store.listdir(self.commit, MODELS_DIR)
            return sorted(name for name, (_, is_dir) in entries.items() if is_dir)
        try:
            return sorted(
                e.name
                for e in os.scandir(self.root / MODELS_DIR)
                if e.is_dir() and not e.name.startswith(".")
            )
        except FileNotFoundError:
            return []

    def located(self, problems: Iterable[Problem]) -> list[Problem]:
        """``problems`` of files read here, with the ref they were read at."""
        ref = self.ref if self.commit is not None else None
        return list(problems) if ref is None else [replace(p, ref=ref) for p in problems]

    def repo_path(self, relpath: str) -> str:
        """A file of the registry named by its path in the git repository, as problems
        name it."""
        return self.prefix + relpath

    @property
    def top(self) -> Path:
        """The top of the git repository (the registry folder outside git): where the
        paths of problems start."""
        return repository_top(self.root, self.prefix)

    # ------------------------------------------------------------- manifests

    def parse(self, model_id: str, data: bytes, keep: bool = True) -> Model:
        """The manifest in ``data``. Raises :class:`InvalidManifestError`."""
        return self.parse_full(model_id, data, keep)[0]

    def parse_full(self, model_id: str, data: bytes, keep: bool = True) -> tuple[Model, Point]:
        """The manifest in ``data`` (from the cache when these exact bytes were seen), and
        where appended versions go in its text; the cache keeps the model if ``keep``."""
        blob = blob_id(data)
        cached = self.cache.get(blob, keep)
        # a manifest over the size limit is refused by loading it, cached or not
        big = len(data) > self.config.policy.max_manifest_bytes
        if cached is not None and cached[0].id == model_id and not big:
            return cached
        reading = self.reading(model_id, data, blob)
        if reading.problems:
            raise InvalidManifestError(reading.problems, self.top)
        model, loaded = reading.model, reading.loaded
        assert model is not None and loaded is not None
        point = yamlio.append_point(loaded.text, loaded.root, ("versions",))
        self.cache.put(blob, model, point, keep)
        return model, point

    def head(self, model_id: str, data: bytes) -> Head:
        """What appending versions needs of the manifest in ``data``: read from the cache
        without building the model when these exact bytes were seen, else parsed."""
        blob = blob_id(data)
        if len(data) <= self.config.policy.max_manifest_bytes:
            found = self.cache.head(blob)
            if found is not None and found.model_id == model_id:
                return found
        model, point = self.parse_full(model_id, data)
        return Head.of(blob, model, point)

    def reparse(self, model_id: str) -> Callable[[bytes], Model | None]:
        """``parse`` for ``model_id`` that answers None for bytes that do not load."""

        def read(data: bytes) -> Model | None:
            try:
                return self.parse(model_id, data)
            except InvalidManifestError:
                return None

        return read

    def manifest(self, model_id: str) -> Model | None:
        """One manifest as stored, None if there is none."""
        if self._models is not None:
            return self._models.get(model_id)
        path = manifest_path(model_id)
        if self.commit is not None:
            assert self.store is not None
            blob = self.store.blob_at(self.commit, path)
            if blob is None:
                return None
            cached = self.cache.get(blob)
            if cached is not None and cached[0].id == model_id:
                return cached[0]
            return self.parse(model_id, self.store.read_blob(blob))
        data = self.read_bytes(path)
        return None if data is None else self.parse(model_id, data)

    def get(self, model_id: str) -> Model:
        """The model's manifest. Raises :class:`NotFoundError`."""
        found = self.manifest(model_id)
        if found is None:
            hint = did_you_mean(model_id, self.model_ids())
            raise NotFoundError(f"no model {model_id!r} in the registry{hint}")
        return found

    def all(self) -> dict[str, Model]:
        """Every model by id. Raises :class:`InvalidManifestError` naming every broken one."""
        if self._models is None:
            self._models = self.each(self.manifest)
        return self._models

    def models(self) -> list[Model]:
        """Every model, sorted by id."""
        return [m for _, m in sorted(self.all().items())]

    def each(
        self, read: Callable[[str], T | None], ids: Iterable[str] | None = None
    ) -> dict[str, T]:
        """``read`` for every model folder (or those of ``ids``); every broken manifest is
        reported, not the first."""
        out: dict[str, T] = {}
        problems: list[Problem] = []
        for model_id in self.model_ids() if ids is None else ids:
            try:
                found = read(model_id)
            except InvalidManifestError as exc:
                problems.extend(exc.problems)
                continue
            if found is not None:
                out[model_id] = found
        self.cache.save()
        if problems:
            raise InvalidManifestError(problems, self.top)
        return out

    def resolve(self, spec: str) -> tuple[Model, Version]:
        """``id@3``, ``id@latest``, ``id@production``, ``id@v1.2.0`` -> (model, version)."""
        ref = VersionRef.parse(spec)
        model = self.get(ref.model_id)
        return model, select(model, ref.selector)

    # ------------------------------------------------------------- listing

    def page(self, query: Query | None = None) -> Page[Model]:
        """One page of the models that match ``query``, with the total count.
        Filters and sort work on summaries; only the models of the page are built."""
        page = apply((s for s, _ in self.listing().values()), query or Query())
        return Page([self.get(s.id) for s in page.items], page.total, page.limit, page.offset)

    def summaries(self, query: Query | None = None) -> Page[Summary]:
        """Like :meth:`page`, the models' summaries: from the listing index or the cache,
        without building the models."""
        return apply((s for s, _ in self.listing().values()), query or Query())

    def list_json(self, query: Query | None = None) -> Listed:
        """The ids of one page of the models that match ``query`` (with the total), and
        their JSON as ``list --json`` prints each (status and latest version first, then
        the manifest by alias, no nulls): from the listing index or the cache, without
        building the models (see :class:`~modelreg.listing.Listed`)."""
        query = query or Query()
        if self._indexable() and is_plain(query):
            table = self._table()
            if table.complete:
                end = None if query.limit is None else query.offset + query.limit
                ids = table.ids[query.offset : end]
                page = Page(ids, len(table.ids), query.limit, query.offset)
                return Listed(page, table, query.offset)
        listing = self.listing()
        found = apply((s for s, _ in listing.values()), query)
        parts = tuple(listing[s.id][1] or listed(s, dump(self.get(s.id))) for s in found.items)
        ids = [s.id for s in found.items]
        return Listed(Page(ids, found.total, found.limit, found.offset), parts=parts)

    def listing(self, rows: bool = False) -> dict[str, tuple[Summary, bytes | None]]:
        """Every model's summary, with its JSON as listed when the cache has it; the
        summaries hold their version rows (for version search) when ``rows`` is asked for."""
        if self._models is not None:
            return {m.id: (Summary.of(m), None) for m in self._models.values()}
        if self._indexable() and not rows:
            table = self._table()
            return {
                model_id: (Summary.from_tuple(table.summaries[n]), table.json(n))
                for n, model_id in enumerate(table.ids)
            }
        found = self.each(self._entry)
        return {i: (s, None if raw is None else listed(s, raw)) for i, (_, s, raw) in found.items()}

    def _indexable(self) -> bool:
        return self.commit is None and self._models is None and self.cache.path is not None

    def _table(self) -> Table:
        """Every model of the working tree through the listing index: only manifests whose
        file status changed since it was saved are read (see :mod:`modelreg.listing`).
        Read once per snapshot, as its models are (a version search asks twice)."""
        if self._listed is None:
            self._listed = self._read_table()
        return self._listed

    def _read_table(self) -> Table:
        assert self.cache.path is not None
        index = ListingIndex(self.cache.path.with_name("listing"), self.root, CACHE_VERSION)
        saved = index.load()
        taken = now()
        folder = os.path.join(self.root, MODELS_DIR)
        ids = self.model_ids()
        stats = {i: stat_of(os.path.join(folder, i, MANIFEST_FILE)) for i in ids}
        at = {model_id: n for n, model_id in enumerate(saved.ids)}

        def trusted(model_id: str) -> bool:
            stat, n = stats[model_id], at.get(model_id)
            return stat is not None and n is not None and index.trusted(stat, saved.stats[n])

        changed = [i for i in ids if not trusted(i)]
        if not changed and len(ids) == len(saved.ids):
            return saved
        entries = {i: e for i, e in saved.entries().items() if i in stats}

        def read(model_id: str) -> Entry | None:
            found = self._entry(model_id)
            if found is None:
                return None
            blob, summary, raw = found
            stat = stats[model_id] or (0, 0, 0, 0)
            old = entries.get(model_id)
            if old is not None and old.blob == blob:  # the same bytes, touched
                return Entry(blob, stat, old.summary, old.json)
            pieces = () if raw is None else listed_pieces(summary, raw)
            return Entry(blob, stat, summary.to_tuple(rows=False), pieces)

        fresh = self.each(read, changed)
        for model_id in changed:
            entries.pop(model_id, None)
        entries.update(fresh)
        table = Table.of(entries)
        index.save(table, taken)
        return table

    def _entry(self, model_id: str) -> tuple[str, Summary, bytes | None] | None:
        """The manifest's blob id, summary and cached JSON (None when not cached)."""
        path = manifest_path(model_id)
        data: bytes | None = None
        if self.commit is not None:
            assert self.store is not None
            blob = self.store.blob_at(self.commit, path)
        else:
            data = self.read_bytes(path)
            blob = None if data is None else blob_id(data)
        if blob is None:
            return None
        cached = self.cache.entry(blob)
        if cached is not None and cached[1].id == model_id:
            return blob, cached[1], cached[0]
        if data is None:
            assert self.store is not None
            data = self.store.read_blob(blob)
        model = self.parse(model_id, data, keep=False)
        cached = self.cache.entry(blob)  # parsing filled it, when it may keep the model
        return blob, Summary.of(model), None if cached is None else cached[0]

    # ------------------------------------------------------------- checks

    def validate(self, only: Collection[str] | None = None) -> list[Problem]:
        """Every schema and rule problem of the config and every manifest (all, not the
        first), and what is wrong with the artifact store's options; with ``only``, of
        the manifests of those model ids alone."""
        problems: list[Problem] = []
        # the models parsed that name parents (lineage is checked from these alone: the
        # others are not kept, so ten thousand manifests are not all held at once)
        lineal: dict[str, Model] = {}
        readable: dict[str, Model] = {}  # what can be read of those that do not load
        ids = self.model_ids()
        record = self._checked_record() if only is None else None
        known = record.load() if record is not None else {}
        if not known:  # else the config is as a run found it valid (the record's key)
            self.config  # noqa: B018  (parsed: a broken config raises here)
        clean: dict[str, Checked] = {}
        taken = now()
        for model_id in ids if only is None else [m for m in ids if m in only]:
            path = manifest_path(model_id)
            stat, card = self._stats(model_id) if record is not None else (None, None)
            prior = known.get(model_id)
            if prior is not None and record is not None and record.unchanged(stat, prior.stat):
                # found valid, and not touched since
                if not record.unchanged(card, prior.card):
                    problems += self._card_problems(model_id)
                clean[model_id] = prior if prior.card == card else replace(prior, card=card)
                continue
            data = self.read_bytes(path)
            if data is None:
                where = self.repo_path(f"{MODELS_DIR}/{model_id}")
                message = f"folder has no {MANIFEST_FILE}"
                problems += self.located([Problem(where, None, None, "", message)])
                continue
            blob, before = blob_id(data), len(problems)
            if prior is not None and prior.blob == blob:  # found valid, and the same bytes
                problems += self._card_problems(model_id)
                clean[model_id] = replace(prior, stat=stat, card=card)
                continue
            try:
                model = self.parse(model_id, data, keep=False)
            except InvalidManifestError:
                problems += self.check_broken(model_id, data)
                partial = self.reading(model_id, data).partial
                if partial is not None:
                    readable[model_id] = partial.model
                problems += self._card_problems(model_id)
                continue
            violations = check_model(model, self.config)
            if violations:
                loaded = yamlio.loads(data, self.repo_path(path))
                problems.extend(self.located(problems_at(loaded, violations)))
            problems += self._card_problems(model_id)
            parents = frozenset(p[0] for v in model.versions if (p := parent_of(v)))
            if parents:
                lineal[model_id] = model
            if len(problems) == before:
                clean[model_id] = Checked(blob, parents, stat, card)
        if only is None and known and not known.keys() - set(ids):
            # only what changed, and the models naming a changed one as parent, again
            changed = {m for m in ids if m not in clean or known.get(m) is not clean[m]}
            dependents = {m for m, c in clean.items() if c.parents & changed}
            targets = {**lineal, **self._loadable(dependents - lineal.keys())}
            among = {**readable, **self._with_parents(targets)}
            problems += self._lineage_problems(among, targets)
        elif only is None and known:  # a model gone may have been the parent of any other
            problems += self._lineage_problems(self._loadable(ids))
        elif only is None:  # parents resolve also among what can be read of broken manifests
            problems += self._lineage_problems({**readable, **self._with_parents(lineal)}, lineal)
        elif set(only) <= set(ids):
            problems += self._lineage_problems(self._with_parents(lineal), lineal)
        else:
            problems += self._lineage_problems(self._loadable(ids))
        try:
            self.retired_numbers()
        except InvalidManifestError as exc:
            problems.extend(exc.problems)
        self.cache.save()
        if not known:  # (else checked with this config already)
            problems += self._storage_problems()
        # models with a problem are not recorded as valid; a problem outside the models
        # (the config, the record of retired numbers) records nothing
        broken = {self._model_of(p.path) for p in problems}
        if record is not None and None not in broken:
            clean = {m: c for m, c in clean.items() if m not in broken}
            same = clean.keys() == known.keys() and all(clean[m] is known[m] for m in clean)
            if not same:
                record.save(clean, taken)
        return problems

    def _model_of(self, path: str) -> str | None:
        """The model whose folder holds the file ``path`` (repository-relative), if any."""
        folder = f"{self.prefix}{MODELS_DIR}/"
        if not path.startswith(folder):
            return None
        return path[len(folder) :].split("/", 1)[0] or None

    def reading(self, model_id: str, data: bytes, blob: str | None = None) -> Reading:
        """The manifest of ``model_id`` in ``data`` read as far as it can be (see
        :func:`modelreg.schema.read_manifest`), its problems located here. The reading
        of a broken manifest is kept for the snapshot's life: validate and the change
        rules ask for it again."""
        key = (model_id, blob or blob_id(data))
        found = self._broken.get(key)
        if found is not None:
            return found
        from modelreg.schema import read_manifest  # pydantic's models only when parsing

        reading = read_manifest(
            data,
            self.repo_path(manifest_path(model_id)),
            folder_id=model_id,
            max_bytes=self.config.policy.max_manifest_bytes,
        )
        if reading.problems:
            reading = replace(reading, problems=tuple(self.located(reading.problems)))
            self._broken[key] = reading
        return reading

    def check_broken(self, model_id: str, data: bytes) -> list[Problem]:
        """Every problem of a manifest that does not load: its text's, its schema's, and
        the rules' on the part of it that can be read."""
        reading = self.reading(model_id, data)
        problems = list(reading.problems)
        if reading.partial is not None and reading.loaded is not None:
            violations = check_model(reading.partial.model, self.config)
            problems += self.located(problems_at(reading.loaded, violations, reading.partial))
        return problems

    def _storage_problems(self) -> list[Problem]:
        """What is wrong with the artifact store's options (fsspec's own check)."""
        if not self.config.artifacts.storage_options:
            return []
        try:
            from modelreg.artifacts import check_storage_options  # its fsspec only when needed
        except ImportError:
            return []
        where, field = self.repo_path(CONFIG_FILE), "artifacts.storage_options"
        return self.located(
            Problem(where, None, None, field, message)
            for message in check_storage_options(self.config.artifacts.storage_options)
        )

    def _stats(self, model_id: str) -> tuple[Stat | None, Stat | None]:
        """The file status of a model's manifest and of its card (working tree)."""
        folder = os.path.join(self.root, MODELS_DIR, model_id)
        card = os.path.join(self.root, cards.card_path(model_id))
        return stat_of(os.path.join(folder, MANIFEST_FILE)), stat_of(card)

    def _card_problems(self, model_id: str) -> list[Problem]:
        where = cards.card_path(model_id)
        card = self.read_bytes(where)
        wrong = cards.size_problem(card) if card is not None else None
        if wrong is None:
            return []
        return self.located([Problem(self.repo_path(where), None, None, "", wrong)])

    def _checked_record(self) -> CheckedRecord | None:
        """The record of manifests found valid (None: none is kept for this snapshot)."""
        if self.commit is not None or self.cache.path is None:
            return None
        config = blob_id((self.root / CONFIG_FILE).read_bytes())
        key = (str(self.root), config, CACHE_VERSION)
        return CheckedRecord(self.cache.path.with_name("checked"), key)

    def _loadable(self, ids: Iterable[str]) -> dict[str, Model]:
        """The models of ``ids`` that load (validate reports the others)."""
        out: dict[str, Model] = {}
        for model_id in ids:
            with contextlib.suppress(InvalidManifestError):
                model = self.manifest(model_id)
                if model is not None:
                    out[model_id] = model
        return out

    def _with_parents(self, models: Mapping[str, Model]) -> dict[str, Model]:
        """``models`` and every model their parents lead to (a scoped check resolves
        parents, and finds cycles, among these alone)."""
        out = dict(models)
        todo = list(models.values())
        while todo:
            wanted = {p[0] for v in todo.pop().versions if (p := parent_of(v)) is not None}
            found = self._loadable(wanted - out.keys())
            out.update(found)
            todo += found.values()
        return out

    def _lineage_problems(
        self, models: Mapping[str, Model], only: Iterable[str] | None = None
    ) -> list[Problem]:
        """Parents that do not resolve (or loop), located in their manifests: of every
        model in ``models``, or of those in ``only``."""
        out: list[Problem] = []
        for model_id, violation in check_parents(models, only):
            path = manifest_path(model_id)
            data = self.read_bytes(path)
            assert data is not None
            loaded = yamlio.loads(data, self.repo_path(path))
            out += self.located(problems_at(loaded, [violation]))
        return out

    def documents(self, ids: Iterable[str]) -> dict[str, Mapping[str, Any]]:
        """The models of ``ids`` as their manifests' JSON data, from the listing index or
        the cache (besides ``status`` and ``latest_version``), without building them."""
        if self._indexable():
            table = self._table()
            at = {model_id: n for n, model_id in enumerate(table.ids)}
            raw = {i: table.json(at[i]) for i in ids}
        else:
            listing = self.listing()
            raw = {i: listing[i][1] for i in ids}
        return {i: json.loads(data or dump(self.get(i))) for i, data in raw.items()}

    def search_documents(self, full: bool) -> Iterator[Mapping[str, Any]]:
        """Every model as the JSON data version search reads, sorted by id: from the
        listing summaries, or (``full``) the whole manifests, both from the cache. In the
        working tree the listing index names the manifests' blobs: none is read."""
        if self._indexable():
            table = self._table()
            for n, model_id in enumerate(table.ids):
                if full:
                    yield json.loads(table.json(n) or dump(self.get(model_id)))
                    continue
                cached = self.cache.entry(table.blobs[n])
                summary = cached[1] if cached is not None else Summary.of(self.get(model_id))
                yield document(summary)
            return
        for model_id, (summary, raw) in sorted(self.listing(rows=not full).items()):
            if not full:
                yield document(summary)
            else:
                yield json.loads(raw or dump(self.get(model_id)))


def is_plain(query: Query) -> bool:
    """Whether ``query`` lists the models as they are sorted (by id), unfiltered."""
    return not query.search and not any(query.filters.values()) and query.sort in ("id", "id:asc")


def listed(summary: Summary, raw: bytes) -> bytes:
    """A model's JSON as ``list --json`` prints it: its status and latest version first,
    then the manifest's JSON ``raw``."""
    return b"".join(listed_pieces(summary, raw))


def listed_pieces(summary: Summary, raw: bytes) -> tuple[bytes, memoryview]:
    """:func:`listed` in two pieces, the second a view of ``raw`` (nothing copied)."""
    head = b'{"status":"%s","latest_version":%d' % (summary.status.encode(), summary.latest_version)
    return head + (b"" if raw == b"{}" else b","), memoryview(raw)[1:]


def dump(model: Model) -> bytes:
    """A model as the JSON ``list --json`` prints (by alias, no nulls)."""
    return model.model_dump_json(by_alias=True, exclude_none=True).encode()


@contextlib.contextmanager
def _located(root: Path, prefix: str, ref: str | None) -> Iterator[None]:
    """Problems raised inside, of files of the registry in ``root`` read at ``ref``, with
    that ref and the top of the repository."""
    try:
        yield
    except InvalidManifestError as exc:
        problems = exc.problems if ref is None else [replace(p, ref=ref) for p in exc.problems]
        raise InvalidManifestError(problems, repository_top(root, prefix)) from None


def repository_top(root: Path, prefix: str) -> Path:
    """The top of the git repository holding the registry in ``root`` at ``prefix``."""
    depth = prefix.count("/")
    return root.parents[depth - 1] if depth else root
