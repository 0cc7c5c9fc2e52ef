"""``modelreg import mlflow``: bring an MLflow Model Registry along, idempotently.

The only module that imports MLflow (and only when an import runs). It reads
the MLflow registry through MLflow's own client into plain values
(:class:`MlflowModel`), plans what is new (:func:`plan`), and writes it through
the registry's transactions (:func:`apply`): one commit per model, or one for all.

How MLflow maps onto modelreg:

- a registered model becomes a manifest: ``name`` is the MLflow name as it is,
  ``description`` its description, its aliases ``aliases`` (a name modelreg cannot
  take is reported), and its tags are kept whole in the annotation
  ``mlflow.org/tags`` and, where they are valid Kubernetes-style labels, as
  ``labels`` too (to filter on); ``mlflow.org/name`` keeps the name; the id is made
  from the name (below);
- a model version keeps its number, description, creation time and tags (as for
  models), ``mlflow.org/source`` its source URI; its legacy stage becomes the
  stage (Production -> production, Staging -> staging, Archived -> archived,
  None -> none; of several Production versions the latest stays production, the
  others become none, as modelreg has one production version); the run's metrics
  become ``metrics``, its params ``hyperparameters`` (as MLflow stores them: text),
  its id ``lineage.run`` (tracker ``mlflow``), its ``mlflow.source.git.commit``
  tag (with ``mlflow.source.git.repoURL`` and ``mlflow.source.name``) ``lineage.code``;
- the files at the version's source are recorded where they are, with size and
  sha256 (``hash=False``: size only), or copied into the registry's artifact store
  (``copy=True``), checked on the way. A source that is one file is the ``model``
  role; a folder gives one role per file, named from its path inside the folder
  (``MLmodel`` -> ``mlmodel``, ``model.pkl`` -> ``model-pkl``).

Ids: a name that is already a valid id (``fraud_detector``) is the id. Any other
is lowercased, each run of characters outside ``[a-z0-9._-]`` becomes one ``-``,
leading and trailing ``-._`` go, it is cut to 100 characters, and ``-`` plus the
first 8 hex digits of the name's sha256 is appended (``Churn Model`` ->
``churn-model-ad818ec4``): two names never meet, and an id never depends on which
other models exist. Every name that did not map to itself is reported. A second
run finds models by that same rule and adds only versions whose numbers the
manifest does not have yet; nothing else changes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import math
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelreg.errors import ArtifactError, MlflowImportError, NotFoundError
from modelreg.manifest import Artifact, Version
from modelreg.vocabulary import (
    ID_PATTERN,
    LABEL_KEY_PATTERN,
    LABEL_VALUE_PATTERN,
    ROLE_PATTERN,
    Stage,
    check_alias_name,
)

if TYPE_CHECKING:
    from modelreg.artifacts import ProgressFactory
    from modelreg.manifest import Model
    from modelreg.registry import Registry

ID_MAX = 100
STAGES = {
    "production": Stage.PRODUCTION,
    "staging": Stage.STAGING,
    "archived": Stage.ARCHIVED,
    "none": Stage.NONE,
}
GIT_COMMIT = "mlflow.source.git.commit"
GIT_REPO = ("mlflow.source.git.repoURL", "mlflow.gitRepoURL")
SOURCE_NAME = "mlflow.source.name"
COMMIT = re.compile(r"^[0-9a-f]{7,64}$")
PREFIX = "mlflow.org/"  # annotation keys: mlflow.org/name, mlflow.org/tags, mlflow.org/source


# ------------------------------------------------------------- what MLflow holds


@dataclass(frozen=True)
class MlflowVersion:
    number: int
    description: str
    stage: str  # MLflow's legacy stage: None, Staging, Production, Archived
    source: str
    location: str  # where the files are (the source resolved by MLflow)
    run_id: str | None
    created_ms: int
    tags: dict[str, str]
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    run_tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MlflowModel:
    name: str
    description: str
    tags: dict[str, str]
    aliases: dict[str, int]
    created_ms: int
    versions: tuple[MlflowVersion, ...]


def read(
    tracking_uri: str,
    *,
    names: Sequence[str] = (),
    registry_uri: str | None = None,
    since: dt.datetime | None = None,
) -> list[MlflowModel]:
    """Every registered model of an MLflow registry (or those in ``names``), with its
    versions and their runs, through MLflow's client. ``since``: only versions created
    or changed at or after that time. Raises :class:`MlflowImportError` when MLflow is not
    installed or cannot be read, :class:`NotFoundError` for a name it does not have."""
    try:
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException
    except ImportError:
        raise MlflowImportError("MLflow is not installed: pip install 'modelreg[mlflow]'") from None
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri or tracking_uri)
    since_ms = int(since.timestamp() * 1000) if since is not None else None
    try:
        if names:
            registered = [_get_model(client, n, MlflowException) for n in names]
        else:
            registered = list(
                _pages(
                    lambda token: client.search_registered_models(max_results=500, page_token=token)
                )
            )
        out = []
        for rm in sorted(registered, key=lambda m: m.name):
            versions = []
            for mv in sorted(_versions_of(client, rm.name), key=lambda v: int(v.version)):
                changed = int(mv.last_updated_timestamp or mv.creation_timestamp or 0)
                if since_ms is not None and changed < since_ms:
                    continue
                versions.append(_read_version(client, rm.name, mv))
            out.append(
                MlflowModel(
                    name=rm.name,
                    description=rm.description or "",
                    tags=dict(rm.tags or {}),
                    aliases={a: int(v) for a, v in (rm.aliases or {}).items()},
                    created_ms=int(rm.creation_timestamp or 0),
                    versions=tuple(versions),
                )
            )
        return out
    except MlflowException as exc:
        raise MlflowImportError(f"MLflow at {tracking_uri}: {exc.message}") from None


def _versions_of(client: Any, name: str) -> Iterator[Any]:
    escaped = name.replace("'", "\\'")

    def search(token: str | None) -> Any:
        return client.search_model_versions(f"name='{escaped}'", max_results=1000, page_token=token)

    return _pages(search)


def _get_model(client: Any, name: str, mlflow_exception: type[Exception]) -> Any:
    try:
        return client.get_registered_model(name)
    except mlflow_exception:
        raise NotFoundError(f"MLflow has no registered model {name!r}") from None


def _pages(search: Callable[[str | None], Any]) -> Iterator[Any]:
    token = None
    while True:
        page = search(token)
        yield from page
        token = page.token
        if not token:
            return


def _read_version(client: Any, name: str, mv: Any) -> MlflowVersion:
    metrics: dict[str, float] = {}
    params: dict[str, str] = {}
    run_tags: dict[str, str] = {}
    if mv.run_id:
        run = client.get_run(mv.run_id)
        metrics = dict(run.data.metrics)
        params = dict(run.data.params)
        run_tags = dict(run.data.tags)
    return MlflowVersion(
        number=int(mv.version),
        description=mv.description or "",
        stage=str(mv.current_stage or "None"),
        source=str(mv.source or ""),
        location=str(client.get_model_version_download_uri(name, str(mv.version))),
        run_id=mv.run_id or None,
        created_ms=int(mv.creation_timestamp or 0),
        tags=dict(mv.tags or {}),
        metrics=metrics,
        params=params,
        run_tags=run_tags,
    )


# ------------------------------------------------------------- names to ids


def slug(name: str) -> str:
    """The id rule without its collision suffix (see the module docstring)."""
    text = re.sub(r"[^a-z0-9._-]+", "-", name.lower())
    return text.strip("-._")[:ID_MAX].strip("-._")


def model_ids(names: Sequence[str]) -> dict[str, str]:
    """MLflow name -> modelreg id, deterministically (see the module docstring): a name
    that is already a valid id is kept; any other gets its slug and a digest of itself,
    so no two names meet and no id depends on the other names."""
    out = {}
    for n in names:
        s = slug(n)
        if s != n or not re.match(ID_PATTERN, s):
            digest = hashlib.sha256(n.encode()).hexdigest()[:8]
            s = f"{s}-{digest}" if s else f"model-{digest}"
        out[n] = s
    return out


def role_of(relative: str, taken: set[str]) -> str:
    """An artifact role from a file's path inside the version's folder."""
    text = re.sub(r"[^a-z0-9_-]+", "-", relative.lower()).strip("-_") or "file"
    if not re.match(ROLE_PATTERN, text):
        text = f"f-{text}"
    role, n = text, 2
    while role in taken:
        role, n = f"{text}-{n}", n + 1
    return role


# ------------------------------------------------------------- planning


@dataclass(frozen=True)
class PlannedModel:
    source: MlflowModel
    model_id: str
    exists: bool
    new_versions: tuple[MlflowVersion, ...]
    new_aliases: dict[str, int]  # aliases the manifest does not have yet
    skipped: tuple[int, ...]  # versions the manifest already has
    problems: tuple[str, ...]  # versions and aliases that cannot be added, and why

    def to_dict(self) -> dict[str, Any]:
        return {
            "mlflow_name": self.source.name,
            "id": self.model_id,
            "create": not self.exists,
            "add_versions": [v.number for v in self.new_versions],
            "add_aliases": dict(self.new_aliases),
            "already_imported": list(self.skipped),
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class Plan:
    models: tuple[PlannedModel, ...]
    renamed: dict[str, str]  # MLflow names that did not map to themselves -> id

    @property
    def changes(self) -> int:
        return sum((not m.exists) + len(m.new_versions) + len(m.new_aliases) for m in self.models)

    def to_dict(self) -> dict[str, Any]:
        return {
            "models": [m.to_dict() for m in self.models],
            "renamed": dict(self.renamed),
            "changes": self.changes,
        }


def plan(reg: Registry, models: Sequence[MlflowModel]) -> Plan:
    """What an import of ``models`` would change in ``reg`` (nothing is written)."""
    ids = model_ids([m.name for m in models])
    out = []
    for m in models:
        model_id = ids[m.name]
        try:
            existing: Model | None = reg.get(model_id)
        except NotFoundError:
            existing = None
        have = {v.version for v in existing.versions} if existing else set()
        top = max(have, default=0)
        new, skipped, problems = [], [], []
        for v in m.versions:
            if v.number in have:
                skipped.append(v.number)
            elif v.number <= top:
                problems.append(
                    f"{m.name} version {v.number}: {model_id} already has version {top}, "
                    "and numbers only grow"
                )
            else:
                new.append(v)
        numbers = have | {v.number for v in new}
        aliases = {}
        for alias, number in sorted(m.aliases.items()):
            if not _alias_ok(alias):
                problems.append(
                    f"{m.name} alias {alias!r} is not a valid modelreg alias (a lower-case "
                    "letter, then lower-case letters, digits, '-' or '_'): not imported"
                )
            # one the manifest has stays where it is, even if moved in modelreg
            elif number in numbers and (existing is None or alias not in existing.aliases):
                aliases[alias] = number
        out.append(
            PlannedModel(
                m,
                model_id,
                existing is not None,
                tuple(new),
                aliases,
                tuple(skipped),
                tuple(problems),
            )
        )
    renamed = {n: i for n, i in ids.items() if i != n}
    return Plan(tuple(out), renamed)


# ------------------------------------------------------------- writing


@dataclass(frozen=True)
class ImportResult:
    plan: Plan
    commits: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**self.plan.to_dict(), "commits": list(self.commits)}


def apply(
    reg: Registry,
    the_plan: Plan,
    *,
    tracking_uri: str,
    hash: bool = True,
    copy: bool = False,
    one_commit: bool = False,
    progress: ProgressFactory | None = None,
) -> ImportResult:
    """Write ``the_plan``: one commit per model (``one_commit``: one for all). Each
    version's files are read for size and sha256 (``hash=False``: size only), or
    copied into the artifact store (``copy``). Raises :class:`ArtifactError` naming the
    file that could not be read or copied; the model's commit is then not made (with
    ``one_commit``: no commit at all)."""
    commits: list[str] = []
    todo = [m for m in the_plan.models if not m.exists or m.new_versions or m.new_aliases]
    if one_commit and todo:
        with reg.transaction(f"Import {len(todo)} model(s) from MLflow"):
            for m in todo:
                _write_model(reg, m, tracking_uri, hash, copy, progress)
        commits.append(str(reg.commit))
    else:
        for m in todo:
            with reg.transaction(f"{m.model_id}: import from MLflow ({m.source.name})"):
                _write_model(reg, m, tracking_uri, hash, copy, progress)
            commits.append(str(reg.commit))
    return ImportResult(the_plan, tuple(commits))


def _write_model(
    reg: Registry,
    m: PlannedModel,
    tracking_uri: str,
    hash: bool,
    copy: bool,
    progress: ProgressFactory | None,
) -> None:
    if not m.exists:
        reg.create_model(
            m.model_id,
            name=m.source.name[:256] or m.model_id,
            framework="custom",
            description=m.source.description,
            source="experiment",
            labels=_labels(m.source.tags),
            annotations=_annotations(m.source.tags, name=m.source.name),
        )
    production = [
        v.number for v in m.new_versions if STAGES.get(v.stage.lower()) == Stage.PRODUCTION
    ]
    for v in m.new_versions:
        artifacts = _artifacts(reg, m.model_id, v, hash, copy, progress)
        stage = STAGES.get(v.stage.lower(), Stage.NONE)
        if stage == Stage.PRODUCTION and v.number != max(production):
            stage = Stage.NONE  # MLflow allowed several; modelreg keeps one: the latest
        reg.add_version(m.model_id, _to_version(v, stage, artifacts, tracking_uri))
    for alias, number in m.new_aliases.items():
        reg.set_alias(f"{m.model_id}@{number}", alias)


def _alias_ok(name: str) -> bool:
    try:
        check_alias_name(name)
    except ValueError:
        return False
    return True


def _annotations(tags: dict[str, str], **extra: str) -> dict[str, Any]:
    """MLflow's tags, whole, under ``mlflow.org/tags``, beside ``mlflow.org/<extra>``."""
    out: dict[str, Any] = {PREFIX + k: v for k, v in extra.items()}
    if tags:
        out[PREFIX + "tags"] = dict(sorted(tags.items()))
    return out


def _labels(tags: dict[str, str]) -> dict[str, str]:
    """The tags that are valid Kubernetes-style labels too (so they can be filtered on)."""
    return {
        k: v
        for k, v in sorted(tags.items())
        if re.match(LABEL_KEY_PATTERN, k) and re.match(LABEL_VALUE_PATTERN, v) and len(k) <= 317
    }


def _to_version(
    v: MlflowVersion, stage: Stage, artifacts: dict[str, Artifact], tracking_uri: str
) -> Version:
    created = dt.datetime.fromtimestamp(v.created_ms / 1000, dt.timezone.utc)
    lineage: dict[str, Any] = {}
    if v.run_id:
        run: dict[str, Any] = {"id": v.run_id, "tracker": "mlflow"}
        if tracking_uri.startswith(("http://", "https://")):
            run["url"] = f"{tracking_uri.rstrip('/')}/#/runs/{v.run_id}"
        lineage["run"] = run
    commit = v.run_tags.get(GIT_COMMIT, "").lower()
    if COMMIT.match(commit):
        code: dict[str, Any] = {"commit": commit}
        repo = next((v.run_tags[k] for k in GIT_REPO if v.run_tags.get(k)), None)
        if repo:
            code["repository"] = repo
        if v.run_tags.get(SOURCE_NAME):
            code["path"] = v.run_tags[SOURCE_NAME]
        lineage["code"] = code
    data: dict[str, Any] = {
        "version": v.number,
        "description": v.description or None,
        "stage": stage,
        "created_at": created,
        "metrics": {k: x for k, x in v.metrics.items() if math.isfinite(x)},
        "hyperparameters": dict(v.params),
        "labels": _labels(v.tags),
        "annotations": _annotations(v.tags, source=v.source),
        "lineage": lineage or None,
        "artifacts": artifacts,
    }
    return Version.model_validate(data)


def _artifacts(
    reg: Registry,
    model_id: str,
    v: MlflowVersion,
    hash: bool,
    copy: bool,
    progress: ProgressFactory | None,
) -> dict[str, Artifact]:
    store = reg.artifact_store
    files = store.files_under(v.location)
    base = files[0][0] if len(files) == 1 else _as_uri(v.location).rstrip("/") + "/"
    batch = store.batch(progress=progress)
    out: dict[str, Artifact] = {}
    taken: set[str] = set()
    for uri, _size in files:
        role = "model" if len(files) == 1 else role_of(uri[len(base) :], taken)
        taken.add(role)
        if not copy:
            out[role] = batch.add(model_id, v.number, role, uri, hash=hash)
            continue
        with _downloaded(reg, uri, progress) as (local, digest):
            stored = batch.add(model_id, v.number, role, local)
        if stored.sha256 != digest:
            raise ArtifactError(f"{uri}: the copy in {stored.uri} does not hold the same bytes")
        out[role] = stored
    return out


def _as_uri(location: str) -> str:
    return location if "://" in location else Path(location).resolve().as_uri()


@contextlib.contextmanager
def _downloaded(
    reg: Registry, uri: str, progress: ProgressFactory | None
) -> Iterator[tuple[Path, str]]:
    """The file at ``uri`` downloaded into a temporary folder, with the sha256 of what was
    read; the upload that follows is hashed again, and the two must agree."""
    name = uri.rstrip("/").rsplit("/", 1)[-1] or "artifact"
    with tempfile.TemporaryDirectory(prefix="modelreg-import-") as tmp:
        local = Path(tmp) / name
        pulled = reg.artifact_store.pull(Artifact(uri=uri), local, progress=progress)
        yield local, pulled.sha256
