"""Artifacts through fsspec: upload with checksums, record, verify, fetch.

The only module that imports fsspec (and, through it, s3fs). Every error of
the storage stack (``OSError``, botocore and aiohttp errors alike) becomes an
:class:`ArtifactError` that names the URI.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelreg.config import ArtifactStoreConfig
from modelreg.errors import ArtifactError, ModelregError
from modelreg.manifest import Artifact

CHUNK = 8 * 1024 * 1024
SECRET_KEY = re.compile(
    r"(secret|password|passwd|token|credential|private|session|^key$|access_key)", re.IGNORECASE
)

Progress = Callable[[int], None]  # called with the bytes moved since the last call


def check_storage_options(options: Mapping[str, Any]) -> list[str]:
    """Messages for options that look like credentials: those never belong in git."""
    out = []
    for key in options:
        if SECRET_KEY.search(key):
            out.append(
                f"{key!r} looks like a credential; keep secrets out of modelreg.yaml "
                "(use the environment or an AWS profile)"
            )
    return out


def _fs(url: str, options: Mapping[str, Any]) -> tuple[Any, str]:
    import fsspec

    try:
        fs, path = fsspec.core.url_to_fs(url, **options)
    except (ImportError, ValueError) as exc:
        raise ArtifactError(f"{url}: no filesystem for this URL ({exc})") from None
    return fs, path


@contextlib.contextmanager
def storage_errors(uri: str, action: str):  # type: ignore[no-untyped-def]
    """Translate whatever the storage stack raises into one ArtifactError naming the URI."""
    try:
        yield
    except ModelregError:
        raise
    except FileNotFoundError:
        raise ArtifactError(f"{uri}: not found (while trying to {action})") from None
    except PermissionError as exc:
        raise ArtifactError(f"{uri}: permission denied ({exc})") from None
    except Exception as exc:  # botocore/aiohttp errors are not OSError
        kind = type(exc).__name__
        raise ArtifactError(f"{uri}: could not {action}: {kind}: {exc}") from None


def hash_stream(read: Callable[[int], bytes], progress: Progress | None = None) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    while chunk := read(CHUNK):
        h.update(chunk)
        size += len(chunk)
        if progress:
            progress(len(chunk))
    return h.hexdigest(), size


class ArtifactStore:
    """The artifact root of a registry: ``<root>/<model-id>/<version>/<role>/<file name>``."""

    def __init__(self, root: str, storage_options: Mapping[str, Any] | None = None) -> None:
        self.storage_options = dict(storage_options or {})
        self.fs, self._root_path = _fs(root, self.storage_options)
        self.root = self.fs.unstrip_protocol(self._root_path).rstrip("/")

    @classmethod
    def from_config(cls, config: ArtifactStoreConfig, registry_root: Path) -> ArtifactStore:
        root = config.root
        if "://" not in root:  # a folder, relative to the registry
            root = (registry_root / root).resolve().as_uri()
        return cls(root, config.storage_options)

    def batch(
        self, *, progress: Callable[[str, int], Progress | None] | None = None
    ) -> ArtifactBatch:
        return ArtifactBatch(self, progress)

    def fs_for(self, uri: str) -> tuple[Any, str]:
        """The filesystem and path of any artifact URI (the store's options for its protocol)."""
        if uri.startswith(self.root.split("://")[0] + "://"):
            return self.fs, self.fs._strip_protocol(uri)
        return _fs(uri, {})


@dataclass
class ArtifactBatch:
    """Uploads for one pending commit; :meth:`rollback` removes what it wrote."""

    store: ArtifactStore
    progress: Callable[[str, int], Progress | None] | None = None
    uploaded: list[str] = field(default_factory=list)

    def add(
        self,
        model_id: str,
        version: int,
        role: str,
        source: str | os.PathLike[str],
        *,
        hash: bool = True,
    ) -> Artifact:
        """Upload a local file (or record a URL) as the ``role`` artifact of a version."""
        text = os.fspath(source)
        if "://" in text and not text.startswith("file://"):
            return self._record(text, hash)
        local = Path(text[len("file://") :] if text.startswith("file://") else text)
        if not local.is_file():
            raise ArtifactError(f"{local}: no such file to upload as {role!r}")
        dest = f"{self.store.root}/{model_id}/{version}/{role}/{local.name}"
        return self._upload(local, dest)

    def _record(self, uri: str, hash: bool) -> Artifact:
        fs, path = self.store.fs_for(uri)
        with storage_errors(uri, "read"):
            if not hash:
                return Artifact(uri=uri, size=int(fs.size(path)))
            with fs.open(path, "rb") as fh:
                digest, size = hash_stream(fh.read)
        return Artifact(uri=uri, sha256=digest, size=size)

    def _upload(self, local: Path, dest: str) -> Artifact:
        fs, path = self.store.fs_for(dest)
        total = local.stat().st_size
        progress = self.progress(dest, total) if self.progress else None
        with open(local, "rb") as src:
            digest, size = hash_stream(src.read)
        with storage_errors(dest, "check"):
            exists = fs.exists(path)
        if exists:
            # never overwrite other bytes; the same bytes are simply reused
            with storage_errors(dest, "read"), fs.open(path, "rb") as fh:
                there, there_size = hash_stream(fh.read)
            if (there, there_size) != (digest, size):
                raise ArtifactError(
                    f"{dest}: already exists with other bytes; "
                    "modelreg never overwrites an artifact"
                )
            return Artifact(uri=dest, sha256=digest, size=size)
        tmp = f"{path}.uploading-{uuid.uuid4().hex[:8]}"
        self.uploaded.append(dest)
        try:
            with storage_errors(dest, "upload"):
                h = hashlib.sha256()
                moved = 0
                fs.makedirs(fs._parent(path), exist_ok=True)
                with open(local, "rb") as src, fs.open(tmp, "wb") as out:
                    while chunk := src.read(CHUNK):
                        h.update(chunk)
                        out.write(chunk)
                        moved += len(chunk)
                        if progress:
                            progress(len(chunk))
                if h.hexdigest() != digest:
                    raise ArtifactError(f"{local}: changed while it was being uploaded")
                fs.mv(tmp, path)
        except BaseException:
            with contextlib.suppress(Exception):
                if fs.exists(tmp):
                    fs.rm(tmp)
            raise
        return Artifact(uri=dest, sha256=digest, size=size)

    def rollback(self, keep: Collection[str] = ()) -> None:
        """Remove what this batch uploaded, except the URIs in ``keep`` (which a
        commit of someone else refers to)."""
        for uri in reversed(self.uploaded):
            if uri in keep:
                continue
            with contextlib.suppress(Exception):
                fs, path = self.store.fs_for(uri)
                if fs.exists(path):
                    fs.rm(path)
        self.uploaded.clear()


@dataclass(frozen=True)
class VerifyResult:
    """What ``verify`` found for one artifact."""

    label: str
    uri: str
    status: str  # ok | missing | size-mismatch | sha-mismatch | error
    expected_size: int | None = None
    actual_size: int | None = None
    expected_sha256: str | None = None
    actual_sha256: str | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def __str__(self) -> str:
        if self.status == "ok":
            return f"{self.label}: ok"
        if self.status == "size-mismatch":
            return (
                f"{self.label}: {self.uri} is {self.actual_size} bytes, "
                f"expected {self.expected_size}"
            )
        if self.status == "sha-mismatch":
            return (
                f"{self.label}: {self.uri} has sha256 {self.actual_sha256}, "
                f"expected {self.expected_sha256}"
            )
        return f"{self.label}: {self.uri}: {self.status} {self.message}".rstrip()

    def to_dict(self) -> dict[str, object]:
        return {
            k: getattr(self, k)
            for k in (
                "label",
                "uri",
                "status",
                "expected_size",
                "actual_size",
                "expected_sha256",
                "actual_sha256",
                "message",
            )
        }


def verify_one(
    store: ArtifactStore, label: str, artifact: Artifact, *, quick: bool = False
) -> VerifyResult:
    base: dict[str, Any] = {
        "label": label,
        "uri": artifact.uri,
        "expected_size": artifact.size,
        "expected_sha256": artifact.sha256,
    }
    try:
        fs, path = store.fs_for(artifact.uri)
        with storage_errors(artifact.uri, "verify"):
            if not fs.exists(path):
                return VerifyResult(status="missing", **base)
            size = int(fs.size(path))
            if artifact.size is not None and size != artifact.size:
                return VerifyResult(status="size-mismatch", actual_size=size, **base)
            if quick or artifact.sha256 is None:
                return VerifyResult(status="ok", actual_size=size, **base)
            with fs.open(path, "rb") as fh:
                digest, size = hash_stream(fh.read)
    except ArtifactError as exc:
        return VerifyResult(status="error", message=str(exc), **base)
    if digest != artifact.sha256:
        return VerifyResult(status="sha-mismatch", actual_size=size, actual_sha256=digest, **base)
    return VerifyResult(status="ok", actual_size=size, actual_sha256=digest, **base)


def verify(
    store: ArtifactStore,
    artifacts: Iterable[tuple[str, Artifact]],
    *,
    quick: bool = False,
    workers: int = 8,
) -> list[VerifyResult]:
    """Check that every artifact exists with its size and sha256, concurrently."""
    items = list(artifacts)
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items) or 1))) as pool:
        return list(pool.map(lambda it: verify_one(store, it[0], it[1], quick=quick), items))
