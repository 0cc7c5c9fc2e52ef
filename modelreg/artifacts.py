"""Artifacts through fsspec: upload with checksums, record, verify, pull, collect garbage.

The only module that imports fsspec (and, through it, s3fs). Every error of
the storage stack (``OSError``, botocore and aiohttp errors alike) becomes an
:class:`ArtifactError` that names the URI.

Bytes are hashed while they move: sha256 runs in a second thread beside the
transfer (hashlib releases the GIL), so a checksum costs little more than the
copy itself, and memory stays at a few chunks whatever the file's size.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelreg import limits
from modelreg.config import ArtifactStoreConfig
from modelreg.errors import ArtifactError, ArtifactExistsError, ModelregError
from modelreg.manifest import Artifact

CHUNK = 8 * 1024 * 1024
# Reads from object stores ask for big ranges (each request has a fixed cost), and at most
# LARGE_STREAMS of them run at once per store, whatever the number of verify workers.
REMOTE_BLOCK = 64 * 1024 * 1024
LARGE_STREAMS = 2
SECRET_KEY = re.compile(
    r"(secret|password|passwd|token|credential|private|session|^key$|access_key)", re.IGNORECASE
)
LOCAL_PROTOCOLS = {"file", "local"}
# Stores without folders: an object's key is its whole path.
OBJECT_STORES = {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oss"}
PART_SIZE = 8 * 1024 * 1024
PART_CONCURRENCY = 4
MAX_PARTS = 10_000
# Downloads: few, large ranges (each request has a fixed cost), two at a time.
DOWNLOAD_PART = 64 * 1024 * 1024
DOWNLOAD_CONCURRENCY = 2

Progress = Callable[[int], None]  # called with the bytes moved since the last call
ProgressFactory = Callable[[str, int], "Progress | None"]  # (what, total bytes) -> progress


def check_storage_options(options: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Messages for options that look like credentials, at any depth (``client_kwargs``
    too): those never belong in git."""
    out = []
    for key, value in options.items():
        name = f"{prefix}{key}"
        if SECRET_KEY.search(str(key)):
            out.append(
                f"{name!r} looks like a credential; keep secrets out of modelreg.yaml "
                "(use the environment or an AWS profile)"
            )
        elif isinstance(value, Mapping):
            out.extend(check_storage_options(value, f"{name}."))
    return out


def filesystem(url: str, options: Mapping[str, Any]) -> tuple[Any, str]:
    """The fsspec filesystem of ``url`` and the path on it; an unknown protocol (or one
    whose package is missing) is an :class:`ArtifactError` naming the URL."""
    import fsspec

    try:
        fs, path = fsspec.core.url_to_fs(url, **options)
    except (ImportError, ValueError, TypeError) as exc:
        raise ArtifactError(f"{url}: no filesystem for this URL ({exc})") from None
    return fs, path


@contextlib.contextmanager
def storage_errors(uri: str, action: str) -> Iterator[None]:
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
        detail = str(exc) or "no detail"
        raise ArtifactError(f"{uri}: could not {action}: {kind}: {detail}") from None


def copy_hashing(
    read: Callable[[int], bytes],
    write: Callable[[bytes], Any] | None = None,
    progress: Progress | None = None,
    chunk: int = CHUNK,
) -> tuple[str, int]:
    """Move ``read``'s bytes to ``write`` (if any); returns (sha256 hex, size).

    The hash of one chunk runs in a second thread while the next one is read
    and written, so hashing overlaps the transfer instead of adding to it.
    """
    h = hashlib.sha256()
    size = 0
    pending: Future[None] | None = None
    pool: ThreadPoolExecutor | None = None
    try:
        while data := read(chunk):
            if pending is not None:
                pending.result()
            if len(data) < chunk and pool is None:
                h.update(data)  # small: not worth a thread
            else:
                pool = pool or ThreadPoolExecutor(1, thread_name_prefix="sha256")
                pending = pool.submit(h.update, data)
            if write is not None:
                write(data)
            size += len(data)
            if progress is not None:
                progress(len(data))
        if pending is not None:
            pending.result()
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return h.hexdigest(), size


def copy_file_hashing(src: Path, dest: Path, progress: Progress | None = None) -> tuple[str, int]:
    """Copy a local file by the kernel's fastest path while hashing it beside the copy;
    returns (sha256 hex, size). Raises :class:`ArtifactError` if ``src`` changed meanwhile,
    since the hash would then not describe the copy."""
    before = src.stat()
    with ThreadPoolExecutor(1, thread_name_prefix="copy") as pool:
        copying = pool.submit(shutil.copyfile, src, dest)
        try:
            with open(src, "rb") as fh:
                result = copy_hashing(fh.read, None, progress)
        finally:
            copying.result()
    _check_unchanged(src, before, "copied")
    return result


def _check_unchanged(path: Path, before: os.stat_result, what: str) -> None:
    """Raise :class:`ArtifactError` if ``path`` changed since ``before`` was taken: a hash
    computed meanwhile would not describe the bytes that moved."""
    after = path.stat()
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise ArtifactError(f"{path}: changed while it was being {what}")


def _callback(progress: Progress | None) -> Any:
    """An fsspec callback that reports bytes moved to ``progress``."""
    from fsspec.callbacks import Callback

    class _Report(Callback):  # type: ignore[misc]
        last = 0

        def call(self, *args: Any, **kwargs: Any) -> None:
            if progress is not None and self.value > self.last:
                progress(self.value - self.last)
                self.last = self.value

    return _Report()


@dataclass(frozen=True)
class StoredObject:
    """One object under the artifact root, or (``upload_id`` set) the parts of an S3
    multipart upload that never completed: no object, but stored and billed."""

    uri: str
    size: int
    modified: dt.datetime | None
    upload_id: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "uri": self.uri,
            "size": self.size,
            "modified": self.modified.isoformat() if self.modified else None,
            "incomplete_upload": self.upload_id,
        }


class ArtifactStore:
    """The artifact root of a registry: ``<root>/<model-id>/<version>/<role>/<file name>``."""

    def __init__(self, root: str, storage_options: Mapping[str, Any] | None = None) -> None:
        self.storage_options = dict(storage_options or {})
        self.fs, self._root_path = filesystem(root, self.storage_options)
        self.root = self.fs.unstrip_protocol(self._root_path).rstrip("/")
        self._streams = threading.BoundedSemaphore(LARGE_STREAMS)

    @classmethod
    def from_config(cls, config: ArtifactStoreConfig, registry_root: Path) -> ArtifactStore:
        root = config.root
        if "://" not in root:  # a folder, relative to the registry
            root = (registry_root / root).resolve().as_uri()
        return cls(root, config.storage_options)

    def batch(self, *, progress: ProgressFactory | None = None) -> ArtifactBatch:
        """Uploads for one pending commit (see :class:`ArtifactBatch`)."""
        return ArtifactBatch(self, progress)

    def fs_for(self, uri: str) -> tuple[Any, str]:
        """The filesystem and path of any artifact URI (the store's options for its protocol)."""
        if uri.startswith(self.root.split("://")[0] + "://"):
            return self.fs, self.fs._strip_protocol(uri)
        return filesystem(uri, {})

    def key(self, uri: str) -> str:
        """A URI as the store's filesystem names it, to compare URIs written differently."""
        fs, path = self.fs_for(uri)
        return str(fs.unstrip_protocol(path)) if fs is self.fs else uri

    def files_under(self, uri: str) -> list[tuple[str, int]]:
        """``(URI, size)`` of the file at ``uri``, or of every file below it when it is a
        folder (recursively, sorted); a local path without a scheme is a file path. Read
        with the store's options for its protocol. Raises :class:`ArtifactError` naming
        the URI when there is nothing there."""
        if "://" not in uri:
            uri = Path(uri).resolve().as_uri()
        fs, path = self.fs_for(uri)
        with storage_errors(uri, "list"):
            if fs.isfile(path):
                return [(uri, int(fs.size(path)))]
            found = fs.find(path, detail=True)
        out = [
            (str(fs.unstrip_protocol(sub)), int(info.get("size") or 0))
            for sub, info in sorted(found.items())
            if info.get("type", "file") == "file"
        ]
        if not out:
            raise ArtifactError(f"{uri}: not found, or an empty folder")
        return out

    # ------------------------------------------------------------- reading back

    def verify(
        self,
        artifacts: Iterable[tuple[str, Artifact]],
        *,
        quick: bool = False,
        measure: bool = False,
        workers: int = 8,
        checked: Callable[[VerifyResult], None] | None = None,
    ) -> list[VerifyResult]:
        """Check that every artifact exists with its size and sha256 (``quick``: existence
        and size only), ``workers`` at a time. ``measure``: also read the sha256 of an
        artifact that records none (see :attr:`VerifyResult.measured`). Never raises for a
        bad artifact: each result says what was found. ``checked`` is called with each
        result as it comes (from the worker threads)."""
        items = list(artifacts)
        if _is_local(self.fs):  # beyond the cores, threads only queue for the disk and GIL
            workers = min(workers, os.cpu_count() or 1)

        def one(item: tuple[str, Artifact]) -> VerifyResult:
            result = self._verify_one(item[0], item[1], quick, measure)
            if checked is not None:
                checked(result)
            return result

        if len(items) <= 1 or workers <= 1:
            return [one(it) for it in items]
        with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
            return list(pool.map(one, items))

    def _verify_one(
        self, label: str, artifact: Artifact, quick: bool, measure: bool
    ) -> VerifyResult:
        base: dict[str, Any] = {
            "label": label,
            "uri": artifact.uri,
            "expected_size": artifact.size,
            "expected_sha256": artifact.sha256,
        }
        try:
            fs, path = self.fs_for(artifact.uri)
            with storage_errors(artifact.uri, "verify"):
                try:
                    size = int(fs.size(path))
                except FileNotFoundError:
                    return VerifyResult(status="missing", **base)
                if artifact.size is not None and size != artifact.size:
                    return VerifyResult(status="size-mismatch", actual_size=size, **base)
                if quick or (artifact.sha256 is None and not measure):
                    return VerifyResult(status="ok", actual_size=size, **base)
                if size <= CHUNK:  # one request, not an open (which asks again)
                    data = fs.cat_file(path)
                    digest, size = hashlib.sha256(data).hexdigest(), len(data)
                else:
                    with self._streams:
                        digest, size = _hash_object(fs, path)
        except ArtifactError as exc:
            return VerifyResult(status="error", message=str(exc), **base)
        if artifact.sha256 is not None and digest != artifact.sha256:
            return VerifyResult(
                status="sha-mismatch", actual_size=size, actual_sha256=digest, **base
            )
        return VerifyResult(status="ok", actual_size=size, actual_sha256=digest, **base)

    def pull(
        self,
        artifact: Artifact,
        dest: Path,
        *,
        force: bool = False,
        progress: ProgressFactory | None = None,
    ) -> PullResult:
        """Download ``artifact`` to the local file ``dest`` and check it on the way.

        The bytes go to a temporary file beside ``dest`` that replaces it only when size
        and sha256 match the manifest; a corrupt download raises :class:`ArtifactError`
        naming the URI and the difference, and leaves nothing behind. A ``dest`` that
        already holds the same bytes is kept; other bytes are replaced only with ``force``.
        """
        uri = artifact.uri
        if dest.exists() and not dest.is_file():
            raise ArtifactError(f"{dest}: exists and is not a file")
        if dest.is_file():
            digest, size = _hash_file(dest)
            if not _difference(artifact, digest, size):
                return PullResult(uri, dest, size, digest, downloaded=False)
            if not force:
                raise ArtifactError(
                    f"{dest}: already exists with other bytes than {uri}; "
                    "remove it or pull with --force"
                )
        fs, path = self.fs_for(uri)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.pulling-{uuid.uuid4().hex[:8]}")
        try:
            with storage_errors(uri, "download"):
                total = artifact.size if artifact.size is not None else int(fs.size(path))
                report = progress(uri, total) if progress else None
                if _is_local(fs):
                    digest, size = copy_file_hashing(Path(path), tmp, report)
                else:
                    # the store's own (concurrent, ranged) download, then the local bytes
                    # are hashed: what is checked is what landed on disk
                    fs.get_file(path, str(tmp), callback=_callback(report), **_get_options(fs))
                    digest, size = _hash_file(tmp)
            problem = _difference(artifact, digest, size)
            if problem:
                raise ArtifactError(f"{uri}: downloaded bytes do not match the manifest: {problem}")
            os.replace(tmp, dest)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return PullResult(uri, dest, size, digest, downloaded=True)

    # ------------------------------------------------------------- garbage

    def objects(self) -> list[StoredObject]:
        """Every object under the root (in-flight uploads included), sorted by URI."""
        with storage_errors(self.root, "list"):
            found = (
                self.fs.find(self._root_path, detail=True)
                if self.fs.exists(self._root_path)
                else {}
            )
        out = []
        for path, info in found.items():
            if info.get("type", "file") != "file":
                continue
            out.append(
                StoredObject(
                    uri=self.fs.unstrip_protocol(path),
                    size=int(info.get("size") or 0),
                    modified=_modified(info),
                )
            )
        return sorted(out + self._incomplete_uploads(), key=lambda o: o.uri)

    def _incomplete_uploads(self) -> list[StoredObject]:
        if "s3" not in _protocols(self.fs):
            return []
        bucket, _, prefix = self._root_path.partition("/")
        with storage_errors(self.root, "list incomplete uploads"):
            uploads = self.fs.list_multipart_uploads(bucket)
        return [
            StoredObject(
                uri=f"s3://{bucket}/{u['Key']}",
                size=0,
                modified=_modified({"LastModified": u.get("Initiated")}),
                upload_id=u["UploadId"],
            )
            for u in uploads
            if u["Key"].startswith(prefix.rstrip("/") + "/")
        ]

    def orphans(
        self,
        referenced: Iterable[str],
        *,
        min_age: dt.timedelta = dt.timedelta(hours=1),
        now: dt.datetime | None = None,
    ) -> list[StoredObject]:
        """Objects under the root that no URI in ``referenced`` names and that are older
        than ``min_age`` (younger ones may belong to an upload whose commit is on its way)."""
        keep = {self.key(uri) for uri in referenced}
        now = now or dt.datetime.now(dt.timezone.utc)
        return [
            o
            for o in self.objects()
            if o.uri not in keep and (o.modified is None or now - o.modified >= min_age)
        ]

    def remove(self, objects: Iterable[StoredObject]) -> None:
        """Delete objects (abort incomplete uploads); raises :class:`ArtifactError` naming
        the first that fails."""
        for o in objects:
            fs, path = self.fs_for(o.uri)
            with storage_errors(o.uri, "delete"):
                if o.upload_id is not None:
                    bucket, _, key = path.partition("/")
                    fs.abort_mpu(bucket, key, o.upload_id)
                else:
                    fs.rm_file(path)


def _protocols(fs: Any) -> set[str]:
    return set(fs.protocol) if isinstance(fs.protocol, tuple | list) else {fs.protocol}


def _is_local(fs: Any) -> bool:
    return bool(_protocols(fs) & LOCAL_PROTOCOLS)


def _put_options(fs: Any, size: int) -> dict[str, int]:
    # s3fs sends parts concurrently; bounding part size and concurrency bounds memory
    # (PART_SIZE * PART_CONCURRENCY bytes in flight, whatever the file's size) while
    # S3's limit of 10,000 parts still fits any object up to its 5 TiB maximum
    if "s3" in _protocols(fs):
        part = max(PART_SIZE, -(-size // MAX_PARTS))
        return {"chunksize": part, "max_concurrency": PART_CONCURRENCY}
    return {}


def _get_options(fs: Any) -> dict[str, int]:
    # s3fs downloads ranges concurrently: bounded like uploads
    if "s3" in _protocols(fs):
        return {"chunksize": DOWNLOAD_PART, "max_concurrency": DOWNLOAD_CONCURRENCY}
    return {}


def _modified(info: Mapping[str, Any]) -> dt.datetime | None:
    value = info.get("LastModified") or info.get("mtime") or info.get("created")
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.timezone.utc)
    return None


def _difference(artifact: Artifact, digest: str, size: int) -> str:
    if artifact.size is not None and size != artifact.size:
        return f"{size} bytes, expected {artifact.size}"
    if artifact.sha256 is not None and digest != artifact.sha256:
        return f"sha256 {digest}, expected {artifact.sha256}"
    return ""


ALTERNATE = "sha256-"  # folder of bytes uploaded beside other bytes of the same name


@dataclass
class ArtifactBatch:
    """Uploads for one pending commit; :meth:`rollback` removes what it wrote."""

    store: ArtifactStore
    progress: ProgressFactory | None = None
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
        """Upload a local file (or record a URL) as the ``role`` artifact of a version.

        A URL (``s3://...``, ``file:///...``, any fsspec URL) is not copied: it is read
        from its store for size and sha256 (``hash=False``: size only).
        Raises :class:`ArtifactError` naming the URI when the bytes cannot be stored or
        read, or when other bytes already sit at the destination.
        """
        text = os.fspath(source)
        if "://" in text:
            secret = limits.url(text)
            if secret is not None:  # refused before the URL is even read: it names no secret
                raise ArtifactError(f"the {role!r} artifact: {secret}")
            return self._record(text, hash)
        local = Path(text)
        if not local.is_file():
            raise ArtifactError(f"{local}: no such file to upload as {role!r}")
        _inside_or_plain(local, role)
        dest = f"{self.store.root}/{model_id}/{version}/{role}/{local.name}"
        return self._upload(local, dest)

    def _record(self, uri: str, hash: bool) -> Artifact:
        fs, path = self.store.fs_for(uri)
        with storage_errors(uri, "read"):
            size = int(fs.size(path))
            if not hash:
                return Artifact(uri=uri, size=size)
            report = self.progress(uri, size) if self.progress else None
            digest, size = _hash_object(fs, path, report)
        return Artifact(uri=uri, sha256=digest, size=size)

    def _upload(self, local: Path, dest: str) -> Artifact:
        fs, path = self.store.fs_for(dest)
        before = local.stat()
        with storage_errors(dest, "check"):
            exists = fs.exists(path)
        if exists:
            # never overwrite other bytes; the same bytes are simply reused
            digest, size = _hash_file(local)
            with storage_errors(dest, "read"):
                there = _hash_object(fs, path)
            if there == (digest, size):
                return Artifact(uri=dest, sha256=digest, size=size)
            if dest.rsplit("/", 2)[-2].startswith(ALTERNATE):
                raise ArtifactExistsError(
                    f"{dest}: already exists with other bytes; "
                    "modelreg never overwrites an artifact"
                )
            # Other bytes left by an upload whose commit never happened (a crash), or
            # committed by another clone not yet pulled: neither is overwritten, and
            # neither may block this write, so these bytes go beside them, named by
            # their digest.
            head, name = dest.rsplit("/", 1)
            return self._upload(local, f"{head}/{ALTERNATE}{digest[:16]}/{name}")
        self.uploaded.append(dest)
        report = self.progress(dest, before.st_size) if self.progress else None
        if _is_local(fs):
            digest, size = self._copy_local(local, fs, path, dest, report)
        else:
            digest, size = self._put_remote(local, fs, path, dest, report)
        _check_unchanged(local, before, "uploaded")
        return Artifact(uri=dest, sha256=digest, size=size)

    @staticmethod
    def _copy_local(
        local: Path, fs: Any, path: str, dest: str, report: Progress | None
    ) -> tuple[str, int]:
        # a temporary name, renamed when complete: nobody sees half a file
        tmp = f"{path}.uploading-{uuid.uuid4().hex[:8]}"
        try:
            with storage_errors(dest, "upload"):
                fs.makedirs(fs._parent(path), exist_ok=True)
                result = copy_file_hashing(local, Path(tmp), report)
                os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return result

    @staticmethod
    def _put_remote(
        local: Path, fs: Any, path: str, dest: str, report: Progress | None
    ) -> tuple[str, int]:
        # Object stores show an object only once its upload completes (a failed multipart
        # upload is aborted by s3fs), so the native, concurrent put goes straight to the key
        # while the local bytes are hashed beside it.
        with ThreadPoolExecutor(1, thread_name_prefix="sha256") as pool:
            hashing = pool.submit(_hash_file, local)
            with storage_errors(dest, "upload"):
                if not _protocols(fs) & OBJECT_STORES:  # s3fs would even create a bucket
                    fs.makedirs(fs._parent(path), exist_ok=True)
                fs.put_file(
                    os.fspath(local),
                    path,
                    callback=_callback(report),
                    **_put_options(fs, local.stat().st_size),
                )
            return hashing.result()

    def rollback(self, keep: Collection[str] = ()) -> None:
        """Remove what this batch uploaded (best effort: the store may be gone), except
        the URIs in ``keep`` (which a commit of someone else refers to)."""
        for uri in reversed(self.uploaded):
            if uri in keep:
                continue
            with contextlib.suppress(Exception):
                fs, path = self.store.fs_for(uri)
                if fs.exists(path):
                    fs.rm_file(path)
        self.uploaded.clear()


def _inside_or_plain(local: Path, role: str) -> None:
    """Refuse a path that a symlink leads out of the working folder (``model.bin``
    linking to ``/etc/passwd`` would upload the target, unseen)."""
    real = Path(os.path.realpath(local))
    if real == Path(os.path.abspath(local)):
        return  # no link on the way: the user named this very file
    cwd = Path(os.path.realpath(Path.cwd()))
    if not real.is_relative_to(cwd):
        raise ArtifactError(
            f"{local}: a symbolic link to {real}, outside the working folder {cwd}; "
            f"name the file itself to upload it as {role!r}"
        )


def _hash_file(path: Path) -> tuple[str, int]:
    with open(path, "rb") as fh:
        return copy_hashing(fh.read)


def _hash_object(fs: Any, path: str, progress: Progress | None = None) -> tuple[str, int]:
    """sha256 and size of a stored object, streamed (object stores: in large ranges)."""
    if _is_local(fs):
        with fs.open(path, "rb") as fh:
            return copy_hashing(fh.read, None, progress)
    with fs.open(path, "rb", block_size=REMOTE_BLOCK, cache_type="none") as fh:
        return copy_hashing(fh.read, None, progress, REMOTE_BLOCK)


@dataclass(frozen=True)
class PullResult:
    """One downloaded (or already present) artifact."""

    uri: str
    path: Path
    size: int
    sha256: str
    downloaded: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "uri": self.uri,
            "path": str(self.path),
            "size": self.size,
            "sha256": self.sha256,
            "downloaded": self.downloaded,
        }


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

    @property
    def measured(self) -> Artifact | None:
        """The artifact with the size and sha256 read from its store, when the manifest
        lacks either and the bytes agree with what it does record (None otherwise): what
        ``modelreg artifacts verify --fill`` records."""
        complete = self.expected_size is not None and self.expected_sha256 is not None
        if not self.ok or complete or self.actual_size is None or self.actual_sha256 is None:
            return None
        return Artifact(uri=self.uri, size=self.actual_size, sha256=self.actual_sha256)

    @property
    def detail(self) -> str:
        """How it differs, for people; empty when all is well."""
        if self.status == "ok":
            if self.expected_sha256:
                return ""
            what = "size and sha256" if self.expected_size is None else "sha256"
            if self.actual_sha256:
                return f"no {what} recorded: read, sha256 {self.actual_sha256[:12]}"
            return f"no {what} recorded (verify --fill records them)"
        if self.status == "missing":
            return f"{self.uri} does not exist"
        if self.status == "size-mismatch":
            return f"{self.actual_size} bytes, expected {self.expected_size}"
        if self.status == "sha-mismatch":
            return f"sha256 {self.actual_sha256}, expected {self.expected_sha256}"
        return self.message

    def __str__(self) -> str:
        return f"{self.label}: {self.status}" + (f": {self.detail}" if self.detail else "")

    def to_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "uri": self.uri,
            "status": self.status,
            "expected_size": self.expected_size,
            "actual_size": self.actual_size,
            "expected_sha256": self.expected_sha256,
            "actual_sha256": self.actual_sha256,
            "message": self.detail,
        }
