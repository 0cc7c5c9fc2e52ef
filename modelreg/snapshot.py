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
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from modelreg import cards, retired, yamlio
from modelreg.cache import ManifestCache
from modelreg.config import CONFIG_FILE, MANIFEST_FILE, MODELS_DIR, RegistryConfig
from modelreg.errors import InvalidManifestError, NotFoundError, Problem
from modelreg.gitstore import GitStore, blob_id
from modelreg.lineage import check_parents, parent_of
from modelreg.location import cache_file, find_registry, prefix
from modelreg.manifest import Model, Version
from modelreg.query import Page, Query, Summary, apply
from modelreg.refs import VersionRef, select
from modelreg.rules import check_model, problems_at
from modelreg.schema import parse_config
from modelreg.versions import document
from modelreg.wording import did_you_mean

if TYPE_CHECKING:
    from modelreg.schema import Reading

T = TypeVar("T")
Point = tuple[int, int] | None


def manifest_path(model_id: str) -> str:
    return f"{MODELS_DIR}/{model_id}/{MANIFEST_FILE}"


class Snapshot:
    """The registry at ``commit`` (read from git), or in the working tree (``commit``
    None: read from disk). ``ref`` is the name it was opened at, for messages."""

    def __init__(
        self,
        root: Path,
        config: RegistryConfig,
        cache: ManifestCache,
        *,
        store: GitStore | None = None,
        commit: str | None = None,
        ref: str | None = None,
        prefix: str = "",
    ) -> None:
        if commit is not None and store is None:
            raise ValueError("a snapshot at a commit needs the git store")
        self.prefix = prefix  # where the registry sits in its git repository: "" or "sub/"
        self.root = root
        self.config = config
        self.cache = cache
        self.store = store
        self.commit = commit
        self.ref = ref
        self._models: dict[str, Model] | None = None
        self._broken: dict[tuple[str, str], Reading] = {}  # (model id, blob) -> reading

    @classmethod
    def open(cls, path: Path, ref: str | None = None) -> Snapshot:
        """The registry holding ``path``: its working tree, or with ``ref`` the commit that
        names (read-only). Raises :class:`NotFoundError` where there is no registry."""
        root = find_registry(path)
        cache = ManifestCache(cache_file(root))
        if ref is None:
            where = prefix(root)
            data = (root / CONFIG_FILE).read_bytes()
            with _located(root, where, None):
                config = parse_config(data, where + CONFIG_FILE)
            return cls(root, config, cache, prefix=where)
        store = GitStore.open(root)
        commit = store.resolve(ref)
        blob = store.blob_at(commit, CONFIG_FILE)
        if blob is None:
            raise NotFoundError(f"no {CONFIG_FILE} at {ref} ({commit[:12]})")
        with _located(root, store.prefix, ref):
            config = parse_config(store.read_blob(blob), store.prefix + CONFIG_FILE)
        return cls(root, config, cache, store=store, commit=commit, ref=ref, prefix=store.prefix)

    def at(
        self, commit: str | None, ref: str | None = None, store: GitStore | None = None
    ) -> Snapshot:
        """The same registry at ``commit`` (None: the working tree, read afresh), sharing
        the cache and the git store."""
        store = store or self.store
        return Snapshot(
            self.root,
            self.config,
            self.cache,
            store=store,
            commit=commit,
            ref=ref,
            prefix=self.prefix,
        )

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
            return (self.root / relpath).read_bytes()
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

    def parse(self, model_id: str, data: bytes) -> Model:
        """The manifest in ``data``. Raises :class:`InvalidManifestError`."""
        return self.parse_full(model_id, data)[0]

    def parse_full(self, model_id: str, data: bytes) -> tuple[Model, Point]:
        """The manifest in ``data`` (from the cache when these exact bytes were seen), and
        where appended versions go in its text."""
        blob = blob_id(data)
        cached = self.cache.get(blob)
        if cached is not None and cached[0].id == model_id:
            return cached
        reading = self.reading(model_id, data, blob)
        if reading.problems:
            raise InvalidManifestError(reading.problems, self.top)
        model, loaded = reading.model, reading.loaded
        assert model is not None and loaded is not None
        point = yamlio.append_point(loaded.text, loaded.root, ("versions",))
        self.cache.put(blob, model, point)
        return model, point

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

    def each(self, read: Callable[[str], T | None]) -> dict[str, T]:
        """``read`` for every model folder; every broken manifest is reported, not the first."""
        out: dict[str, T] = {}
        problems: list[Problem] = []
        for model_id in self.model_ids():
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

    def list_json(self, query: Query | None = None) -> tuple[Page[Summary], list[bytes]]:
        """Like :meth:`list`, with each model of the page as JSON bytes (by alias, no
        nulls), served from the cache without building the models."""
        listing = self.listing()
        page = apply((s for s, _ in listing.values()), query or Query())
        return page, [listing[s.id][1] or dump(self.get(s.id)) for s in page.items]

    def listing(self) -> dict[str, tuple[Summary, bytes | None]]:
        """Every model's summary, with its cached JSON when the cache has it."""
        if self._models is not None:
            return {m.id: (Summary.of(m), None) for m in self._models.values()}
        return self.each(self._entry)

    def _entry(self, model_id: str) -> tuple[Summary, bytes | None] | None:
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
            return cached[1], cached[0]
        if data is None:
            assert self.store is not None
            data = self.store.read_blob(blob)
        return Summary.of(self.parse(model_id, data)), None

    # ------------------------------------------------------------- checks

    def validate(self, only: Collection[str] | None = None) -> list[Problem]:
        """Every schema and rule problem of the config and every manifest (all, not the
        first), and what is wrong with the artifact store's options; with ``only``, of
        the manifests of those model ids alone."""
        problems: list[Problem] = []
        parsed: dict[str, Model] = {}
        readable: dict[str, Model] = {}  # what can be read of those that do not load
        ids = self.model_ids()
        for model_id in ids if only is None else [m for m in ids if m in only]:
            path = manifest_path(model_id)
            data = self.read_bytes(path)
            if data is None:
                where = self.repo_path(f"{MODELS_DIR}/{model_id}")
                message = f"folder has no {MANIFEST_FILE}"
                problems += self.located([Problem(where, None, None, "", message)])
                continue
            try:
                parsed[model_id] = model = self.parse(model_id, data)
            except InvalidManifestError:
                problems += self.check_broken(model_id, data)
                partial = self.reading(model_id, data).partial
                if partial is not None:
                    readable[model_id] = partial.model
            else:
                violations = check_model(model, self.config)
                if violations:
                    loaded = yamlio.loads(data, self.repo_path(path))
                    problems.extend(self.located(problems_at(loaded, violations)))
            card = self.read_bytes(cards.card_path(model_id))
            wrong = cards.size_problem(card) if card is not None else None
            if wrong is not None:
                where = self.repo_path(cards.card_path(model_id))
                problems += self.located([Problem(where, None, None, "", wrong)])
        if only is None:  # parents resolve also among what can be read of broken manifests
            problems += self._lineage_problems({**readable, **parsed}, parsed)
        elif set(only) <= set(ids):
            problems += self._lineage_problems(self._with_parents(parsed), parsed)
        else:  # a model gone may have been the parent of any other
            problems += self._lineage_problems(self._loadable(ids))
        try:
            self.retired_numbers()
        except InvalidManifestError as exc:
            problems.extend(exc.problems)
        self.cache.save()
        with contextlib.suppress(ImportError):
            from modelreg.artifacts import check_storage_options  # its fsspec only when needed

            for message in check_storage_options(self.config.artifacts.storage_options):
                where, field = self.repo_path(CONFIG_FILE), "artifacts.storage_options"
                problems += self.located([Problem(where, None, None, field, message)])
        return problems

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

    def search_documents(self, full: bool) -> Iterator[Mapping[str, Any]]:
        """Every model as the JSON data version search reads, sorted by id: from the
        listing summaries, or (``full``) the whole manifests, both from the cache."""
        for model_id, (summary, raw) in sorted(self.listing().items()):
            if not full:
                yield document(summary)
            else:
                yield json.loads(raw or dump(self.get(model_id)))


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
