"""The registry: the friendly façade of the README, composing the pieces that do the work.

Reads go to a :class:`Snapshot` (or, in a transaction, to the :class:`Transaction` and
its pending changes), history to :class:`History`; every write is one commit. ``with
Registry.open(path) as reg:`` saves the cache and ends git processes when the block ends.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from modelreg import deploy as deploying
from modelreg import publish as publishing
from modelreg import refs, scaffold
from modelreg.errors import ConflictError, InvalidManifestError, ReadOnlyError
from modelreg.events import StagePeriod
from modelreg.gitstore import GitStore
from modelreg.history import Change, History
from modelreg.lineage import Graph, graph
from modelreg.manifest import Artifact, Model, Stage, Version
from modelreg.query import Page, Query, Summary
from modelreg.snapshot import Snapshot
from modelreg.transaction import ModelFields, Transaction, VersionFields
from modelreg.versions import Hit, VersionQuery, hits, needs_manifests, search

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from modelreg import artifacts as stored
    from modelreg.deploy import DeployRequest, DeployResult, UndeployResult
    from modelreg.errors import Problem
    from modelreg.publish import Published

List = list  # the builtin, where Registry.list shadows it
T = TypeVar("T")
R = TypeVar("R", "DeployResult", "UndeployResult")


class Registry:
    """A model registry in a git working tree (or, read-only, at a commit), read through
    ``base``. Build one with :meth:`open` or :meth:`init`."""

    def __init__(self, base: Snapshot) -> None:
        self.base = base
        self.root, self.config, self.ref, self.cache = base.root, base.config, base.ref, base.cache
        self.read_only = base.ref is not None
        self._tx: Transaction | None = None
        self._artifact_store: stored.ArtifactStore | None = None

    @classmethod
    def init(
        cls,
        path: str | os.PathLike[str],
        *,
        name: str | None = None,
        artifact_root: str | None = None,
    ) -> Registry:
        """Create a registry in ``path`` (a new git repository unless inside one), one commit."""
        return cls.open(scaffold.create(Path(path), name, artifact_root))

    @classmethod
    def open(cls, path: str | os.PathLike[str] = ".", ref: str | None = None) -> Registry:
        """Open the registry holding ``path``; with ``ref``, read-only as of that commit."""
        return cls(Snapshot.open(Path(path), ref))

    def close(self) -> None:
        """Save what this registry parsed for the next process (the manifest cache), and
        end the git processes it started."""
        self.cache.save()
        if self.base.store is not None:
            self.base.store.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError(f"the registry is open read-only at {self.ref}")

    @property
    def store(self) -> GitStore:
        return self.base.git()

    @property
    def commit(self) -> str | None:
        """The commit the registry is read at (HEAD for the working tree)."""
        return self.base.commit if self.base.commit is not None else self.store.head()

    @property
    def reader(self) -> Snapshot | Transaction:
        """The open transaction (pending changes included), else the snapshot."""
        return self._tx if self._tx is not None else self.base

    @property
    def artifact_store(self) -> stored.ArtifactStore:
        if self._artifact_store is None:
            from modelreg.artifacts import ArtifactStore  # fsspec is slow to import: on demand

            self._artifact_store = ArtifactStore.from_config(self.config.artifacts, self.root)
        return self._artifact_store

    # ------------------------------------------------------------- reading

    def get(self, model_id: str) -> Model:
        """The model's manifest. Raises :class:`NotFoundError`."""
        return self.reader.get(model_id)

    def models(self) -> List[Model]:
        """Every model, sorted by id. Raises :class:`InvalidManifestError` if any is broken."""
        return [m for _, m in sorted(self.reader.all().items())]

    def list(self, query: Query | None = None) -> Page[Model]:
        """One page of the models that match ``query``, with the total count."""
        return self.reader.page(query)

    def list_json(self, query: Query | None = None) -> tuple[Page[Summary], List[bytes]]:
        """Like :meth:`list`, with each model of the page as JSON bytes (by alias, no nulls)."""
        return self.reader.list_json(query)

    def resolve(self, spec: str) -> tuple[Model, Version]:
        """``id@3``, ``id@latest``, ``id@production``, ``id@champion`` (an alias),
        ``id@v1.2.0`` -> (model, version). Raises :class:`NotFoundError`."""
        return self.reader.resolve(spec)

    def versions(self, query: VersionQuery | None = None) -> Page[Hit]:
        """One page of the versions, across models, that match ``query`` (filters, ``where``
        conditions, sort, limit/offset), with the total. Filters and sort read the cached
        listing summaries (or manifests' JSON); only the models of the page are built."""
        query = query or VersionQuery()
        reader = self.reader
        page = search(reader.search_documents(needs_manifests(query)), query)
        models = {model_id: reader.get(model_id) for model_id, _ in page.items}
        return Page(hits(models, page.items), page.total, page.limit, page.offset)

    def lineage(self, spec: str) -> Graph:
        """The parents (nearest first) and the descendants of one version (``churn-xgb@3``,
        ``churn-xgb@champion``). Raises :class:`NotFoundError`."""
        model, version = self.resolve(spec)
        return graph(self.reader.all(), model.id, version.version)

    def validate(self) -> List[Problem]:
        """Every schema and rule problem of the config and every manifest (all, not the first)."""
        return self.base.validate()

    # ------------------------------------------------------------- history

    def past(self, rev: str | None = None) -> History:
        """The history of ``rev`` (default: the commit read at, else HEAD), from git."""
        return History(self.store, self.base, rev or self.base.commit or "HEAD")

    def history(self, model_id: str) -> List[Change]:
        """Every commit that changed the model, newest first, with what it changed."""
        return self.past().changes(model_id)

    def stage_history(
        self, model_id: str, stage: Stage | str = Stage.PRODUCTION
    ) -> List[StagePeriod]:
        """Which version held ``stage`` from when to when, and by which commit (audit)."""
        return self.past().stage_periods(model_id, Stage(stage))

    def alias_history(self, model_id: str, alias: str) -> List[StagePeriod]:
        """Which version held ``alias`` from when to when, and by which commit (audit)."""
        return self.past().alias_periods(model_id, alias)

    # ------------------------------------------------------------- writing

    @contextlib.contextmanager
    def transaction(self, message: str | None = None) -> Iterator[Transaction]:
        """Group writes into one commit (titled ``message``), made when the block ends;
        nothing is committed, and uploads are removed, if the block raises. Inside, this
        registry and the transaction yielded read and write the same pending state."""
        if self._tx is not None:
            yield self._tx
            return
        self._writable()
        # a fresh view, read once the lock is held: another writer may have committed
        with (
            self.store.lock(),
            Transaction(
                self.base.at(None), self.store, artifacts=lambda: self.artifact_store, title=message
            ) as tx,
        ):
            self._tx, self.base = tx, tx.base
            try:
                yield tx
            finally:
                self._tx, self.base = None, self.base.at(None)

    def publish(
        self,
        op: Callable[[Registry], T],
        *,
        push: bool | None = None,
        branch: str | None = None,
        retries: int = 5,
        message: str | None = None,
    ) -> Published[T]:
        """Run ``op(self)`` as one commit and push it to ``git.remote`` (``push``, default
        ``git.push``), or put it on a new ``branch`` for a pull request. ``op`` may run
        again on a newer remote tip (at most ``retries`` times). See :mod:`modelreg.publish`."""
        self._writable()
        if self._tx is not None:
            raise ConflictError("publish runs its own transaction: call it outside of one")
        writer = publishing.Writer(
            self.store,
            self.config.git.remote,
            lambda: self.transaction(message),
            lambda tx: op(self),
            self.get,
        )
        push = self.config.git.push if push is None else push
        return publishing.publish(writer, push=push, branch=branch, retries=retries)

    # Each write below is one commit; the transaction's method of the same name says more.

    def create_model(self, model_id: str, **fields: Unpack[ModelFields]) -> Model:
        """Add a new model manifest (``name`` and ``framework`` are needed). Raises
        :class:`ConflictError` if it exists."""
        with self.transaction() as tx:
            return tx.create_model(model_id, **fields)

    def register_version(self, model_id: str, **fields: Unpack[VersionFields]) -> Version:
        """Append a new version, numbered by the registry, uploading local artifacts
        (see :meth:`Transaction.register_version`)."""
        with self.transaction() as tx:
            return tx.register_version(model_id, **fields)

    def update(self, model_id: str, **fields: Any) -> Model:
        """Change metadata (name, description, tags, ...); ``None`` removes a field."""
        with self.transaction() as tx:
            return tx.update(model_id, **fields)

    def set_stage(self, model_id: str, version: int, stage: Stage | str) -> Model:
        """Move a version to a stage (production demotes the previous one, same commit)."""
        with self.transaction() as tx:
            return tx.set_stage(model_id, version, stage)

    def set_alias(self, spec: str, alias: str) -> Model:
        """Point ``alias`` at the version ``spec`` names, moving it if it pointed elsewhere."""
        with self.transaction() as tx:
            return tx.set_alias(spec, alias)

    def remove_alias(self, model_id: str, alias: str, *, force: bool = False) -> Model:
        """Remove ``alias`` (refused while its version is deployed, unless ``force``)."""
        with self.transaction() as tx:
            return tx.remove_alias(model_id, alias, force=force)

    def update_version(
        self,
        spec: str,
        *,
        description: str | None = None,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, Any] | None = None,
    ) -> Model:
        """Change a released version's description, labels or annotations."""
        with self.transaction() as tx:
            return tx.update_version(
                spec, description=description, labels=labels, annotations=annotations
            )

    def archive(self, model_id: str) -> Model:
        """Mark the whole model archived (its status becomes archived)."""
        with self.transaction() as tx:
            return tx.archive(model_id)

    def unarchive(self, model_id: str) -> Model:
        """Bring an archived model back (its status becomes registered again). One commit."""
        with self.transaction() as tx:
            return tx.unarchive(model_id)

    def delete(self, model_id: str) -> None:
        """Remove the manifest (git history keeps it). Refused while the model is deployed."""
        with self.transaction() as tx:
            tx.delete(model_id)

    def deploy(
        self,
        spec: str,
        request: DeployRequest | None = None,
        *,
        target: str | None = None,
        dry_run: bool = False,
    ) -> DeployResult:
        """Render ``spec``'s deployment for a target into ``deploy/<target>/<model-id>/`` and
        record it, one commit (none with ``dry_run``). See :func:`modelreg.deploy.deploy`."""
        if dry_run:
            return deploying.plan(self.reader, spec, request, target=target)
        return self._recorded(lambda tx: deploying.deploy(tx, spec, request, target=target))

    def undeploy(self, model_id: str) -> UndeployResult:
        """Remove the deployment block and the spec files, in one commit."""
        return self._recorded(lambda tx: deploying.undeploy(tx, model_id))

    def _recorded(self, write: Callable[[Transaction], R]) -> R:
        """``write``'s result, with the commit made (none inside a larger transaction)."""
        nested = self._tx is not None
        with self.transaction() as tx:
            result = write(tx)
        return result if nested else replace(result, commit=tx.committed)

    # ------------------------------------------------------------- artifacts

    def artifacts(self, spec: str | None = None) -> List[tuple[str, Artifact]]:
        """``("model@version/role", artifact)`` of the registry, of one model (``spec=
        "churn-xgb"``) or of one version (``"churn-xgb@production"``)."""
        return refs.artifacts(spec, self.get, self.models)

    def verify_artifacts(
        self,
        spec: str | None = None,
        *,
        quick: bool = False,
        workers: int = 8,
        checked: Callable[[stored.VerifyResult], None] | None = None,
    ) -> List[stored.VerifyResult]:
        """Check the artifacts of ``spec`` (see :meth:`artifacts`) exist with their recorded
        size and sha256 (``quick``: size only); each result says what was found. ``checked``
        gets each result as it comes (for progress)."""
        return self.artifact_store.verify(
            self.artifacts(spec), quick=quick, workers=workers, checked=checked
        )

    def pull(
        self,
        spec: str,
        dest: str | os.PathLike[str],
        *,
        roles: Sequence[str] = (),
        force: bool = False,
        progress: stored.ProgressFactory | None = None,
    ) -> List[stored.PullResult]:
        """Download one version's artifacts into ``dest/<role>/<file name>``, each checked
        on the way. Raises :class:`ArtifactError` for a failed or corrupt download."""
        model, version = self.resolve(spec)
        return [
            self.artifact_store.pull(artifact, target, force=force, progress=progress)
            for artifact, target in refs.downloads(model, version, roles, Path(dest))
        ]

    def artifact_orphans(
        self, *, min_age: dt.timedelta = dt.timedelta(hours=1)
    ) -> List[stored.StoredObject]:
        """Objects under the artifact root that no manifest refers to, at any commit of the
        configured branch (else HEAD) or in the working tree, older than ``min_age``."""
        uris = self.past(self.config.git.branch or "HEAD").artifact_uris()
        with contextlib.suppress(InvalidManifestError):
            uris.update(a.uri for _, a in self.artifacts())
        return self.artifact_store.orphans(uris, min_age=min_age)
