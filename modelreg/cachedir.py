"""The local cache of fetched artifacts: content-addressed by sha256, shared by every
registry, model and version on the machine.

```
$MODELREG_CACHE (default ~/.cache/modelreg, or $XDG_CACHE_HOME/modelreg)
  objects/sha256/ab/abcdef...        the bytes, read-only, named by their digest
  snapshots/<model>/<version>-<key>/<role>/<file name>   symlinks into objects/
  registries/<key>/                  shallow clones of registries given by git URL
  locks/  tmp/
```

An object is written to ``tmp/`` by the downloader, checked there, and renamed
into place only when its digest is the one it is named after, so whatever sits
under ``objects/`` is trusted by name: a warm lookup is one ``stat``, never a
re-hash. A snapshot is the folder a fetch returns; it is built aside and
renamed into place, so readers never see half of one. Several processes may
fetch at once: one lock file per object makes the second wait for the first
download and then find the bytes there. No I/O beyond the local disk happens
here (downloads are :mod:`modelreg.artifacts`' business).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from modelreg import lockfile
from modelreg.errors import ArtifactError

LOCK_TIMEOUT_S = 3600.0  # a download of a large object may hold its lock this long
TMP_MAX_AGE_S = 24 * 3600  # leftovers of a killed download, removed by prune


def default_root() -> Path:
    """``$MODELREG_CACHE``, else ``$XDG_CACHE_HOME/modelreg``, else ``~/.cache/modelreg``."""
    env = os.environ.get("MODELREG_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "modelreg"


@dataclass(frozen=True)
class CachedObject:
    """One object of the cache: its digest, size and when a fetch last used it."""

    sha256: str
    size: int
    path: Path
    used: float  # seconds since the epoch
    snapshots: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "sha256": self.sha256,
            "size": self.size,
            "path": str(self.path),
            "last_used": self.used,
            "snapshots": list(self.snapshots),
        }


@dataclass(frozen=True)
class PruneResult:
    removed: tuple[CachedObject, ...]
    freed: int
    kept: int  # bytes left in the cache

    def to_dict(self) -> dict[str, object]:
        return {
            "removed": [o.to_dict() for o in self.removed],
            "freed": self.freed,
            "kept": self.kept,
        }


class CacheDir:
    """A cache folder (see the module docstring). Creates its folders when first written."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_root()

    # ------------------------------------------------------------- objects

    def object_path(self, sha256: str) -> Path:
        return self.root / "objects" / "sha256" / sha256[:2] / sha256

    def lookup(self, sha256: str, size: int | None = None) -> Path | None:
        """The cached file of these bytes, or None. One ``stat``: the name was checked when
        the object came in. An object of the wrong size (damaged by hand) counts as absent."""
        path = self.object_path(sha256)
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        if size is not None and st.st_size != size:
            return None
        return path

    def tmp_file(self, hint: str = "") -> Path:
        """A fresh path under ``tmp/`` (same file system as the objects, so a rename moves it)."""
        folder = self.root / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{uuid.uuid4().hex}{'-' + hint if hint else ''}"

    def admit(self, tmp: Path, sha256: str) -> Path:
        """Move a downloaded and checked file into ``objects/`` under its digest, read-only.
        The caller has compared the digest with the manifest; this is the only way in."""
        dest = self.object_path(sha256)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, 0o444)
        os.replace(tmp, dest)  # same bytes if a racing writer got there first
        return dest

    @contextlib.contextmanager
    def locked(self, sha256: str, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
        """Hold the lock of one object (processes and threads alike), so that only one
        downloads it while the others wait and then find it."""
        folder = self.root / "locks"
        folder.mkdir(parents=True, exist_ok=True)
        with lockfile.exclusive(folder / f"{sha256}.lock", timeout, what="another fetch"):
            yield

    @staticmethod
    def touch(path: Path) -> None:
        """Mark an object as just used (``prune --max-size`` drops the least recent first)."""
        with contextlib.suppress(OSError):
            os.utime(path, follow_symlinks=False)

    # ------------------------------------------------------------- snapshots

    def snapshot_path(self, model_id: str, version: int, files: Mapping[str, str]) -> Path:
        """The folder of one version's files; ``files`` maps ``role/name`` to sha256. The
        key is derived from the contents, so two registries that disagree on what
        ``churn@3`` holds get two folders."""
        key = hashlib.sha256(json.dumps(sorted(files.items())).encode()).hexdigest()[:16]
        return self.root / "snapshots" / model_id / f"{version}-{key}"

    def snapshot(self, model_id: str, version: int, files: Mapping[str, str]) -> Path:
        """The snapshot folder of these files (every object must be in the cache), built
        aside and renamed into place if it is not there yet."""
        path = self.snapshot_path(model_id, version, files)
        if path.is_dir():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        building = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}"
        try:
            for rel, sha in files.items():
                link = building / rel
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(os.path.relpath(self.object_path(sha), link.parent))
            try:
                os.rename(building, path)
            except OSError:
                if not path.is_dir():  # not merely another fetch that finished first
                    raise
        finally:
            shutil.rmtree(building, ignore_errors=True)
        return path

    # ------------------------------------------------------------- listing

    def objects(self) -> list[CachedObject]:
        """Every object of the cache, most recently used first, with the snapshots that
        link to it."""
        linked: dict[str, list[str]] = {}
        snapshots = self.root / "snapshots"
        if snapshots.is_dir():
            for link in snapshots.rglob("*"):
                if link.is_symlink():
                    sha = os.readlink(link).rsplit("/", 1)[-1]
                    model, folder = link.relative_to(snapshots).parts[:2]
                    linked.setdefault(sha, []).append(f"{model}@{folder.split('-')[0]}")
        out = []
        base = self.root / "objects" / "sha256"
        if base.is_dir():
            for path in base.glob("*/*"):
                st = path.stat()
                refs = tuple(sorted(set(linked.get(path.name, ()))))
                out.append(CachedObject(path.name, st.st_size, path, st.st_mtime, refs))
        return sorted(out, key=lambda o: (-o.used, o.sha256))

    def size(self) -> int:
        return sum(o.size for o in self.objects())

    # ------------------------------------------------------------- pruning

    def prune(self, max_size: int | None = None, *, dry_run: bool = False) -> PruneResult:
        """Free space: leftovers of interrupted downloads always go; with ``max_size``, the
        least recently used objects go too until the cache holds at most that many bytes,
        and so do the snapshots that link to them (a later fetch downloads them again)."""
        objects = self.objects()
        total = sum(o.size for o in objects)
        removed: list[CachedObject] = []
        if max_size is not None:
            for o in reversed(objects):  # least recently used first
                if total <= max_size:
                    break
                removed.append(o)
                total -= o.size
        if not dry_run:
            self._clean_tmp()
            gone = {o.sha256 for o in removed}
            self._drop_snapshots(gone)
            for o in removed:
                with contextlib.suppress(FileNotFoundError):
                    o.path.unlink()
        return PruneResult(tuple(removed), sum(o.size for o in removed), total)

    def _clean_tmp(self) -> None:
        folder = self.root / "tmp"
        if not folder.is_dir():
            return
        cutoff = time.time() - TMP_MAX_AGE_S
        for path in folder.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()

    def _drop_snapshots(self, shas: set[str]) -> None:
        snapshots = self.root / "snapshots"
        if not shas or not snapshots.is_dir():
            return
        for folder in snapshots.glob("*/*"):
            links = [p for p in folder.rglob("*") if p.is_symlink()]
            if any(os.readlink(p).rsplit("/", 1)[-1] in shas for p in links):
                shutil.rmtree(folder, ignore_errors=True)

    # ------------------------------------------------------------- registries

    def registry_folder(self, url: str) -> Path:
        """Where the shallow clone of a registry given by URL lives."""
        key = hashlib.sha256(url.encode()).hexdigest()[:16]
        return self.root / "registries" / key


def parse_size(text: str) -> int:
    """``10G``, ``512M``, ``1.5GiB``, ``2000`` -> bytes (powers of 1024). Raises
    :class:`ArtifactError` on anything else."""
    units = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
    s = text.strip().upper().removesuffix("B").removesuffix("I")
    number, unit = (s[:-1], s[-1]) if s and s[-1] in units else (s, "")
    try:
        value = float(number)
    except ValueError:
        raise ArtifactError(f"{text!r} is not a size (e.g. 500M, 10G)") from None
    if value < 0:
        raise ArtifactError(f"{text!r}: a size cannot be negative")
    return int(value * units[unit])
