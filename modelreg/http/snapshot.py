"""The catalog at one commit, pre-serialised for serving, and the thread that follows a ref.

Everything a request needs is computed once per commit: each model's full
``RegisteredModel`` as JSON bytes, each list summary as bytes, each version's
terminal entry as bytes, and sort orders (lazily, once per sort). A list request
filters through :mod:`modelreg.query`, as the CLI and the library do, and joins
bytes; it never serialises a model.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from modelreg import query
from modelreg.catalog import Catalog, Entry, dumps
from modelreg.errors import ModelregError, NotFoundError
from modelreg.export import read_catalog
from modelreg.keys import Keyring, load
from modelreg.query import Summary
from modelreg.registry import Registry

LOG = logging.getLogger("modelreg.http")
GZIP_MIN = 1024  # smaller bodies are not worth a compressor round trip


def gz(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=5, mtime=0)


@dataclass
class Item:
    """One model of a snapshot: its pre-serialised answers, and what listing looks at
    (with the times the catalog shows, which may come from git)."""

    entry: Entry
    full: bytes
    summary: bytes
    metrics: tuple[bytes, ...]
    listed: Summary
    full_gz: bytes | None = None

    @classmethod
    def of(cls, e: Entry) -> Item:
        listed = replace(Summary.of(e.model), created_at=e.created, updated_at=e.updated)
        return cls(
            entry=e,
            full=dumps(e.registered_model()),
            summary=dumps(e.summary()),
            metrics=tuple(dumps(x) for x in e.model_metrics()),
            listed=listed,
        )

    def gzipped(self) -> bytes:
        if self.full_gz is None:
            self.full_gz = gz(self.full)
        return self.full_gz


class Snapshot:
    """The catalog at one commit, ready to serve."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.commit = catalog.commit or "working-tree"
        self.items = [Item.of(e) for e in catalog.entries]  # sorted by id
        self.by_id = {i.entry.id: i for i in self.items}
        self._orders: dict[str, list[Item]] = {}
        # Responses that are costly to assemble, per (tenant, request); bounded.
        self.cache: dict[Any, tuple[bytes, bytes | None]] = {}
        self._documents: list[tuple[Item, dict[str, Any]]] | None = None
        self._lock = threading.Lock()
        # The HTML catalog of this commit, rendered on its first request (path -> bytes).
        self.site_source: Callable[[], dict[str, bytes]] | None = None
        self._site: dict[str, bytes] | None = None
        self._site_lock = threading.Lock()

    def site(self) -> dict[str, bytes]:
        """The HTML catalog of this snapshot's commit, path -> bytes (built once)."""
        with self._site_lock:
            if self._site is None:
                self._site = self.site_source() if self.site_source is not None else {}
            return self._site

    def ordered(self, sort: str) -> list[Item]:
        """Every item in the order of ``sort`` (a :class:`query.Query` sort), computed once."""
        found = self._orders.get(sort)
        if found is None:
            found = [self.by_id[s.id] for s in query.order((i.listed for i in self.items), sort)]
            self._orders[sort] = found
        return found

    def remember(self, key: Any, body: bytes) -> tuple[bytes, bytes | None]:
        value = (body, gz(body) if len(body) >= GZIP_MIN else None)
        with self._lock:
            if len(self.cache) >= 4096:
                self.cache.clear()
            self.cache[key] = value
        return value

    def version_documents(self) -> list[tuple[Item, dict[str, Any]]]:
        """Each model as JSON data (what version search filters on), built once."""
        if self._documents is None:
            import json

            self._documents = [
                (i, json.loads(i.entry.model.model_dump_json(by_alias=True, exclude_none=True)))
                for i in self.items
            ]
        return self._documents

    def version_record(self, model_id: str, number: int) -> bytes:
        item = self.by_id[model_id]
        version = item.entry.model.version(number)
        assert version is not None
        return dumps(item.entry.version_record(version))

    def catalog_document(self, items: Sequence[Item]) -> bytes:
        return self.catalog.document_bytes([i.entry for i in items])


def _site_files(path: str, ref: str | None, catalog: Catalog) -> dict[str, bytes]:
    from modelreg.registry import Registry
    from modelreg.site import render
    from modelreg.site.sources import gather

    with Registry.open(path, ref=ref) as reg:
        return render(gather(reg, catalog))


class Follower:
    """Holds the current snapshot and keyring; a thread re-reads them when they change.

    The ref is re-resolved every ``interval`` seconds (a few ms of git), and a new
    snapshot is built off the request path and swapped in whole. If the new commit
    cannot be read (a broken manifest merged), the old snapshot stays and
    ``error`` says why. ``on_swap`` runs after each snapshot is built (the server
    process uses it to tune its garbage collector; a library caller need not).
    """

    def __init__(
        self,
        path: str | Path,
        ref: str | None = "HEAD",
        *,
        keys_file: Path | None = None,
        interval: float = 1.0,
        on_swap: Callable[[], None] | None = None,
        fetch: tuple[str, str] | None = None,
        fetch_interval: float = 30.0,
    ) -> None:
        self.path = str(path)
        self.on_swap = on_swap
        # Following a remote: fetch REMOTE's BRANCH every fetch_interval seconds into its
        # remote-tracking ref and serve that ref (a snapshot is swapped in whole).
        self.fetch = fetch
        self.fetch_interval = fetch_interval
        self.fetched_at: float | None = None
        if fetch is not None:
            ref = f"refs/remotes/{fetch[0]}/{fetch[1]}"
            self._fetch()
        self.ref = ref
        self.keys_file = keys_file
        self.interval = interval
        self.error: str | None = None
        self.checked_at = 0.0
        self._keys_stamp: tuple[int, int, int] | None = None
        self._keys_error: str | None = None
        self.keyring: Keyring | None = None
        if keys_file is not None and not keys_file.is_file():
            # Never start open (or shut) by mistake: a named keys file must exist.
            raise NotFoundError(
                f"keys file {keys_file} does not exist (create it with `modelreg keys add`)"
            )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.snapshot = self._build(self._resolve())
        if keys_file is not None:
            self.keyring = load(keys_file)  # a broken file at start-up is an error, raised

    def _fetch(self) -> None:
        from modelreg.gitstore import remote
        from modelreg.registry import Registry

        assert self.fetch is not None
        name, branch = self.fetch
        with Registry.open(self.path) as reg:
            remote.fetch(reg.store, name, branch)
        self.fetched_at = time.monotonic()

    def _resolve(self) -> str | None:
        with Registry.open(self.path, ref=self.ref) as reg:
            return reg.commit

    def _build(self, commit: str | None) -> Snapshot:
        # Open at the resolved sha, not the ref name, so the snapshot is one commit.
        with Registry.open(self.path, ref=commit or self.ref) as reg:
            catalog = read_catalog(reg)
        catalog = Catalog(catalog.commit, self.ref, catalog.entries)
        snapshot = Snapshot(catalog)
        snapshot.site_source = lambda: _site_files(self.path, commit or self.ref, catalog)
        if self.on_swap is not None:
            self.on_swap()
        return snapshot

    def _reload_keys(self) -> str | None:
        """Re-read the keys file when it changed; what is wrong with it, or None.

        Fails closed: a keys file that stops parsing, or disappears, leaves no key
        in force (every request 401) until it is fixed, never the previous keys.
        """
        if self.keys_file is None:
            return None
        try:
            st = self.keys_file.stat()
            stamp: tuple[int, int, int] | None = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = None
        if stamp == self._keys_stamp and self.keyring is not None:
            return self._keys_error
        self._keys_stamp = stamp
        try:
            self.keyring = load(self.keys_file) if stamp is not None else Keyring()
            self._keys_error = None if stamp is not None else f"{self.keys_file}: no such file"
        except ModelregError as exc:
            self.keyring = Keyring()
            self._keys_error = f"keys file refused, no key is in force: {exc}"
        return self._keys_error

    def check(self) -> bool:
        """Re-resolve the ref and reload keys; True if a new snapshot was swapped in."""
        self.checked_at = time.time()
        keys_error = self._reload_keys()
        swapped, error = False, None
        try:
            if self.fetch is not None and (
                self.fetched_at is None or time.monotonic() - self.fetched_at >= self.fetch_interval
            ):
                self._fetch()
            commit = self._resolve()
            if commit != self.snapshot.catalog.commit:
                self.snapshot = self._build(commit)
                swapped = True
        except Exception as exc:  # keep serving the last good snapshot, and say why
            error = f"{type(exc).__name__}: {exc}"
        self._report(keys_error or error)
        return swapped

    def _report(self, error: str | None) -> None:
        if error != self.error and error is not None:
            LOG.warning("modelreg serve: %s", error)
        self.error = error

    def _run(self) -> None:
        wait = min(self.interval, self.fetch_interval) if self.fetch else self.interval
        while not self._stop.wait(wait):
            self.check()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="modelreg-follow", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            with contextlib.suppress(RuntimeError):
                self._thread.join(timeout=5)
            self._thread = None
