"""Write the catalog as static JSON files to a folder or any fsspec URL.

Layout under DEST::

    catalog.json                          every manifest + derived fields + commit
    models/<id>.json                      one RegisteredModel each (seed 003)
    api/v1/model-registry/models.json     the list response of seed 003 (all models)
    api/v1/model-registry/versions.json   every version, as GET .../versions answers
    terminal/ml-models.json               the response of seed 000
    index.html, models/<id>.html, assets/ the HTML catalog (unless --no-html; see modelreg.site)
    .modelreg-export.json                 what this export wrote: {path: sha256}

Local folders get temp-file + rename (readers never see half a file);
other filesystems get a plain put. A file whose bytes did not change is not
written again; files a previous export wrote that are gone now are removed.
Object stores get each file's ``Content-Type`` and ``Cache-Control`` (pages and
JSON are revalidated on every visit, assets cached for an hour).

Remote destinations get their filesystem from :mod:`modelreg.artifacts` (the one
home of fsspec), but not the artifact store: the catalog is not an artifact, and
its layout, hashing and removal rules are its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from modelreg.catalog import Catalog, dumps
from modelreg.errors import ArtifactError

if TYPE_CHECKING:
    from modelreg.registry import Registry
    from modelreg.site import SiteInput

INDEX = ".modelreg-export.json"
LIST_PATH = "api/v1/model-registry/models.json"
VERSIONS_PATH = "api/v1/model-registry/versions.json"
TERMINAL_PATH = "terminal/ml-models.json"
CONTENT_TYPES = {
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}
SITE_FILES = ("index.html", "assets/site.css", "assets/site.js")


def content_type(path: str) -> str:
    """The ``Content-Type`` of an exported file, by its suffix."""
    return CONTENT_TYPES.get(Path(path).suffix, "application/octet-stream")


def cache_control(path: str) -> str:
    """``Cache-Control``: assets an hour; pages and JSON revalidated (they change per commit)."""
    return "public, max-age=3600" if path.startswith("assets/") else "no-cache"


@dataclass(frozen=True)
class ExportResult:
    """What an export did."""

    dest: str
    commit: str | None
    models: int
    written: tuple[str, ...]
    unchanged: int
    removed: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "dest": self.dest,
            "commit": self.commit,
            "models": self.models,
            "written": list(self.written),
            "unchanged": self.unchanged,
            "removed": list(self.removed),
        }


def render(catalog: Catalog, site: SiteInput | None = None) -> dict[str, bytes]:
    """Every file of an export, path -> bytes (pure); the HTML pages too when ``site``."""
    files: dict[str, bytes] = {}
    if site is not None:
        from modelreg.site import render as render_site

        files.update(render_site(site))
    for e in catalog.entries:
        files[f"models/{e.id}.json"] = dumps(e.registered_model()) + b"\n"
    files[LIST_PATH] = dumps(catalog.model_list()) + b"\n"
    files[VERSIONS_PATH] = dumps(catalog.version_list()) + b"\n"
    files[TERMINAL_PATH] = dumps(catalog.terminal()) + b"\n"
    files["catalog.json"] = catalog.document_bytes() + b"\n"  # last: readers poll this one
    return files


class _Target(Protocol):
    def read(self, path: str) -> bytes | None: ...
    def write(self, path: str, data: bytes) -> None: ...
    def remove(self, path: str) -> None: ...
    def same(self, path: str, data: bytes, recorded: str | None) -> bool: ...


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Local:
    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, path: str) -> bytes | None:
        try:
            return (self.root / path).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def same(self, path: str, data: bytes, recorded: str | None) -> bool:
        # Compare the bytes on disk, not the index: a hand-edited file is put right.
        return self.read(path) == data

    def write(self, path: str, data: bytes) -> None:
        full = self.root / path
        full.parent.mkdir(parents=True, exist_ok=True)
        tmp = full.with_name(f".{full.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, full)

    def remove(self, path: str) -> None:
        (self.root / path).unlink(missing_ok=True)


class _Remote:
    def __init__(self, url: str, storage_options: Mapping[str, Any]) -> None:
        from modelreg.artifacts import filesystem

        self.fs, root = filesystem(url, storage_options)
        self.root = root.rstrip("/")

    def _p(self, path: str) -> str:
        return f"{self.root}/{path}"

    def read(self, path: str) -> bytes | None:
        try:
            data: bytes = self.fs.cat_file(self._p(path))
        except FileNotFoundError:
            return None
        return data

    def same(self, path: str, data: bytes, recorded: str | None) -> bool:
        # One GET of the index instead of one per file; trust it for remote stores.
        return recorded == _sha(data)

    def write(self, path: str, data: bytes) -> None:
        if "s3" in _protocols(self.fs):
            # s3fs hands these to PutObject: what a static host serves the file with.
            self.fs.pipe_file(
                self._p(path),
                data,
                ContentType=content_type(path),
                CacheControl=cache_control(path),
            )
        else:
            self.fs.pipe_file(self._p(path), data)

    def remove(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self._p(path))


def _protocols(fs: Any) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def _ours(path: str) -> bool:
    if path in (LIST_PATH, VERSIONS_PATH, TERMINAL_PATH, "catalog.json", *SITE_FILES):
        return True
    name = path[len("models/") :]
    return (
        path.startswith("models/")
        and name.endswith((".json", ".html"))
        and "/" not in name
        and not name.startswith(".")
    )


def read_catalog(registry: Registry) -> Catalog:
    """The catalog of a registry as it reads (at its ref, or the working tree)."""
    times = registry.past().model_times() if registry.commit else None
    return Catalog.build(registry.models(), commit=registry.commit, ref=registry.ref, times=times)


def _target(dest: str, storage_options: Mapping[str, Any]) -> _Target:
    scheme, sep, rest = dest.partition("://")
    if not sep:
        return _Local(Path(dest))
    if scheme == "file":
        return _Local(Path(rest))
    return _Remote(dest, storage_options)


def export(
    catalog: Catalog,
    dest: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    site: SiteInput | None = None,
) -> ExportResult:
    """Write ``catalog`` under ``dest`` (folder or fsspec URL), with the HTML pages of
    ``site`` when given. Raises :class:`ArtifactError`."""
    files = render(catalog, site)
    try:
        target = _target(dest, storage_options or {})
        raw = target.read(INDEX)
        previous: dict[str, str] = {}
        if raw:
            try:
                loaded = json.loads(raw)
                previous = dict(loaded.get("files", {}))
            except (ValueError, AttributeError, TypeError):
                previous = {}
        index = {path: _sha(data) for path, data in files.items()}

        def sync(item: tuple[str, bytes]) -> str | None:
            path, data = item
            if target.same(path, data, previous.get(path)):
                return None
            target.write(path, data)
            return path

        # Model files in parallel (file systems and object stores wait on I/O, not the
        # GIL); the shared documents after them, catalog.json last.
        singles = [p for p in files if not p.startswith("models/") and p != "index.html"]
        with ThreadPoolExecutor(max_workers=8) as pool:
            done = list(
                pool.map(sync, [(p, d) for p, d in files.items() if p.startswith("models/")])
            )
        done += [sync((p, files[p])) for p in singles]
        if "index.html" in files:
            done.append(sync(("index.html", files["index.html"])))
        written = [p for p in done if p is not None]
        unchanged = len(done) - len(written)
        # Only ever remove what looks like a file this module writes (the index is input).
        removed = sorted(p for p in previous if p not in files and _ours(p))
        for path in removed:
            target.remove(path)
        new_index = dumps({"commit": catalog.commit, "files": index}) + b"\n"
        if new_index != raw:
            target.write(INDEX, new_index)
    except OSError as exc:
        raise ArtifactError(f"cannot export the catalog to {dest}: {exc}") from exc
    return ExportResult(
        dest, catalog.commit, len(catalog.entries), tuple(written), unchanged, tuple(removed)
    )
