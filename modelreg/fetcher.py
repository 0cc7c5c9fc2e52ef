"""Using a model by reference: ``fetch("churn-xgb@production")`` gives a local folder of
the version's artifacts, checked, from the content-addressed cache (:mod:`modelreg.cachedir`).

The registry is a :class:`~modelreg.registry.Registry`, a folder, or a git URL
(``git+https://host/org/registry.git@main``, cloned shallowly into the cache).
Each artifact is looked up by its sha256 (one ``stat``); only missing bytes
are downloaded, through the registry's artifact store, checked, and admitted
into the cache. Offline (``offline=True`` or ``MODELREG_OFFLINE=1``) nothing is
downloaded and what is missing is named.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelreg.cachedir import CacheDir
from modelreg.errors import ArtifactError, NotFoundError
from modelreg.gitstore import clone

if TYPE_CHECKING:
    from modelreg.artifacts import ProgressFactory
    from modelreg.manifest import Artifact, Model, Version
    from modelreg.registry import Registry

TRUE = {"1", "true", "yes", "on"}


def offline_default() -> bool:
    """``MODELREG_OFFLINE`` set to 1/true/yes/on."""
    return os.environ.get("MODELREG_OFFLINE", "").strip().lower() in TRUE


@dataclass(frozen=True)
class FetchedFile:
    """One artifact of a fetched version: where it is on disk, and whether this fetch
    had to download it."""

    role: str
    uri: str
    path: Path
    sha256: str
    size: int
    downloaded: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "role": self.role,
            "uri": self.uri,
            "path": str(self.path),
            "sha256": self.sha256,
            "size": self.size,
            "downloaded": self.downloaded,
        }


@dataclass(frozen=True)
class Fetched:
    """A fetched version: ``path`` holds ``<role>/<file name>`` for each artifact."""

    model_id: str
    version: int
    framework: str
    path: Path
    files: tuple[FetchedFile, ...]

    def file(self, role: str = "model") -> Path:
        """The file of one role (default ``model``, else the only one there is).
        Raises :class:`NotFoundError` when there is no such role."""
        for f in self.files:
            if f.role == role:
                return f.path
        if role == "model" and len(self.files) == 1:
            return self.files[0].path
        have = ", ".join(f.role for f in self.files) or "none"
        raise NotFoundError(f"{self.model_id}@{self.version} has no artifact {role!r} ({have})")

    @property
    def downloaded(self) -> int:
        """Bytes this fetch downloaded (0 when all came from the cache)."""
        return sum(f.size for f in self.files if f.downloaded)

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model_id,
            "version": self.version,
            "framework": self.framework,
            "path": str(self.path),
            "files": [f.to_dict() for f in self.files],
        }


@contextmanager
def open_registry(
    registry: Registry | str | os.PathLike[str] | None,
    *,
    cache: CacheDir,
    offline: bool,
) -> Iterator[Registry]:
    """The registry a fetch reads: the one given, a folder, or the shallow clone of a git
    URL kept in the cache (fetched again unless offline). ``None``: ``$MODELREG_REGISTRY``,
    else the registry around the current folder."""
    from modelreg.registry import Registry

    if registry is not None and not isinstance(registry, str | os.PathLike):
        yield registry
        return
    where = os.fspath(registry) if registry is not None else os.environ.get("MODELREG_REGISTRY")
    if where and clone.is_git_url(where):
        remote = clone.RemoteRegistry.parse(where)
        folder = cache.registry_folder(str(remote))
        with cache.locked(f"registry-{folder.name}"):
            clone.sync(remote, folder, offline=offline)
        reg = Registry.open(folder / remote.subfolder)
    else:
        reg = Registry.open(where or ".")
    try:
        yield reg
    finally:
        reg.close()


def fetch(
    ref: str,
    registry: Registry | str | os.PathLike[str] | None = None,
    *,
    dest: str | os.PathLike[str] | None = None,
    roles: Sequence[str] = (),
    offline: bool | None = None,
    cache: CacheDir | str | os.PathLike[str] | None = None,
    progress: ProgressFactory | None = None,
    force: bool = False,
) -> Fetched:
    """The artifacts of version ``ref`` (``churn-xgb@production``, ``@3``, a label) as
    local files, each checked against the manifest's sha256 and size.

    Returns a :class:`Fetched` whose ``path`` is a read-only snapshot folder in the
    cache (``<role>/<file name>`` links to the cached bytes) or, with ``dest``,
    that folder, holding copies (``force``: replacing files with other bytes).
    ``offline`` (default: ``MODELREG_OFFLINE``) reads only the cache.

    Raises :class:`NotFoundError` for an unknown model, version or role,
    :class:`ArtifactError` for a failed or corrupt download or, offline, naming every
    artifact that is not in the cache.
    """
    cache_dir = cache if isinstance(cache, CacheDir) else CacheDir(cache)
    offline = offline_default() if offline is None else offline
    with open_registry(registry, cache=cache_dir, offline=offline) as reg:
        model, version = reg.resolve(ref)
        chosen = _roles(model, version, roles)
        found = _from_cache(cache_dir, chosen)
        missing = [role for role in chosen if role not in found]
        if missing and offline:
            raise ArtifactError(_offline_message(model, version, chosen, missing, cache_dir))
        for role in missing:
            found[role] = _download(reg, cache_dir, chosen[role], progress)
    files = {f"{role}/{_name(a)}": found[role][1] for role, a in chosen.items()}
    snap = cache_dir.snapshot(model.id, version.version, files)
    out = []
    for role, artifact in chosen.items():
        obj, sha, downloaded = found[role]
        cache_dir.touch(obj)
        path = snap / role / _name(artifact)
        out.append(FetchedFile(role, artifact.uri, path, sha, obj.stat().st_size, downloaded))
    result = Fetched(model.id, version.version, model.framework.value, snap, tuple(out))
    return _copied(result, Path(dest), force) if dest is not None else result


def _roles(model: Model, version: Version, roles: Sequence[str]) -> dict[str, Artifact]:
    if not version.artifacts:
        raise NotFoundError(f"{model.id}@{version.version} has no artifacts")
    wanted = list(roles) or list(version.artifacts)
    unknown = [r for r in wanted if r not in version.artifacts]
    if unknown:
        have = ", ".join(version.artifacts)
        raise NotFoundError(
            f"{model.id}@{version.version} has no artifact {', '.join(unknown)} (has: {have})"
        )
    return {r: version.artifacts[r] for r in wanted}


def _name(artifact: Artifact) -> str:
    return artifact.uri.rstrip("/").rsplit("/", 1)[-1] or "artifact"


def _from_cache(cache: CacheDir, chosen: dict[str, Artifact]) -> dict[str, tuple[Path, str, bool]]:
    found = {}
    for role, artifact in chosen.items():
        if artifact.sha256 is None:  # bytes unknown until read: never served from the cache
            continue
        obj = cache.lookup(artifact.sha256, artifact.size)
        if obj is not None:
            found[role] = (obj, artifact.sha256, False)
    return found


def _download(
    reg: Registry, cache: CacheDir, artifact: Artifact, progress: ProgressFactory | None
) -> tuple[Path, str, bool]:
    if artifact.sha256 is None:
        return _pull_into(reg, cache, artifact, progress)
    with cache.locked(artifact.sha256):
        obj = cache.lookup(artifact.sha256, artifact.size)
        if obj is not None:  # another process downloaded it while we waited
            return obj, artifact.sha256, False
        return _pull_into(reg, cache, artifact, progress)


def _pull_into(
    reg: Registry, cache: CacheDir, artifact: Artifact, progress: ProgressFactory | None
) -> tuple[Path, str, bool]:
    tmp = cache.tmp_file(_name(artifact))
    try:
        # checked against the manifest's size and sha256 before it gets its name
        pulled = reg.artifact_store.pull(artifact, tmp, progress=progress)
        return cache.admit(tmp, pulled.sha256), pulled.sha256, True
    finally:
        tmp.unlink(missing_ok=True)


def _offline_message(
    model: Model,
    version: Version,
    chosen: dict[str, Artifact],
    missing: list[str],
    cache: CacheDir,
) -> str:
    lines = [
        f"offline: {len(missing)} of {len(chosen)} artifact(s) of "
        f"{model.id}@{version.version} are not in the cache {cache.root}:"
    ]
    for role in missing:
        a = chosen[role]
        why = "no sha256 recorded" if a.sha256 is None else f"sha256 {a.sha256[:12]}"
        lines.append(f"  {role}: {a.uri} ({why})")
    lines.append("fetch once online (without --offline / MODELREG_OFFLINE) to fill the cache")
    return "\n".join(lines)


def _copied(result: Fetched, dest: Path, force: bool) -> Fetched:
    """The fetched files copied into ``dest/<role>/<name>`` (writable copies the cache
    cannot be damaged through). A file already there with other bytes is an error."""
    files = []
    for f in result.files:
        target = dest / f.role / f.path.name
        if target.exists() and not target.is_file():
            raise ArtifactError(f"{target}: exists and is not a file")
        present = target.exists() and _same(target, f.path)
        if target.exists() and not present and not force:
            raise ArtifactError(
                f"{target}: already exists with other bytes; remove it or use --force"
            )
        if not present:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.copying-{os.getpid()}")
            shutil.copyfile(f.path, tmp)
            os.replace(tmp, target)
        files.append(FetchedFile(f.role, f.uri, target, f.sha256, f.size, f.downloaded))
    return Fetched(result.model_id, result.version, result.framework, dest, tuple(files))


def _same(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def load(
    ref: str,
    registry: Registry | str | os.PathLike[str] | None = None,
    *,
    loader: str | None = None,
    role: str = "model",
    offline: bool | None = None,
    cache: CacheDir | str | os.PathLike[str] | None = None,
) -> Any:
    """The live model of version ``ref``: its ``role`` artifact fetched and checked (see
    :func:`fetch`), then read by the loader named ``loader``, else by the installed
    loader serving the model's framework (group ``modelreg.loaders``: built in,
    ``sklearn`` through joblib and ``onnx`` through ONNX Runtime).

    Raises what :func:`fetch` raises, :class:`NotFoundError` when no loader fits, and
    :class:`LoaderError` when the loader fails.
    """
    from modelreg import loaders

    fetched = fetch(ref, registry, offline=offline, cache=cache)
    chosen = loaders.loader_named(loader) if loader else loaders.loader_for(fetched.framework)
    return loaders.run_loader(chosen, fetched.file(role))
