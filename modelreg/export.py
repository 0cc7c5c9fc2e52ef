"""Write the catalog as static JSON files to a folder or any fsspec URL.

Layout under DEST::

    catalog.json                          every manifest + derived fields + commit
    models/<id>.json                      one RegisteredModel each (seed 003)
    api/v1/model-registry/models.json     the list response of seed 003 (all models)
    terminal/ml-models.json               the response of seed 000
    .modelreg-export.json                 what this export wrote: {path: sha256}

Local folders get temp-file + rename (readers never see half a file);
other filesystems get a plain put. A file whose bytes did not change is not
written again; files a previous export wrote that are gone now are removed.

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

INDEX = ".modelreg-export.json"
LIST_PATH = "api/v1/model-registry/models.json"
TERMINAL_PATH = "terminal/ml-models.json"


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


def render(catalog: Catalog) -> dict[str, bytes]:
    """Every file of an export, path -> bytes (pure)."""
    files: dict[str, bytes] = {}
    for e in catalog.entries:
        files[f"models/{e.id}.json"] = dumps(e.registered_model()) + b"\n"
    files[LIST_PATH] = dumps(catalog.model_list()) + b"\n"
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
        self.fs.pipe_file(self._p(path), data)

    def remove(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self._p(path))


def _ours(path: str) -> bool:
    if path in (LIST_PATH, TERMINAL_PATH, "catalog.json"):
        return True
    name = path[len("models/") :]
    return (
        path.startswith("models/")
        and name.endswith(".json")
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
    catalog: Catalog, dest: str, *, storage_options: Mapping[str, Any] | None = None
) -> ExportResult:
    """Write ``catalog`` under ``dest`` (folder or fsspec URL). Raises :class:`ArtifactError`."""
    files = render(catalog)
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
        singles = [p for p in files if not p.startswith("models/")]
        with ThreadPoolExecutor(max_workers=8) as pool:
            done = list(
                pool.map(sync, [(p, d) for p, d in files.items() if p.startswith("models/")])
            )
        done += [sync((p, files[p])) for p in singles]
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
