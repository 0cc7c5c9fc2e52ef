"""The registry: the friendly façade of the README, composing the pieces that do the work.

Reads go to a :class:`Snapshot` (or, in a transaction, to the :class:`Transaction` and
its pending changes), history to :class:`History`; every write is one commit. ``with
Registry.open(path) as reg:`` saves the cache and ends git processes when the block ends.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Collection, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from modelreg import writes
from modelreg.errors import ConflictError, ReadOnlyError
from modelreg.events import StagePeriod
from modelreg.gitstore import GitStore
from modelreg.holdings import Holdings
from modelreg.lineage import Graph, graph
from modelreg.listing import Listed
from modelreg.query import Page, Query, Summary
from modelreg.snapshot import Snapshot
from modelreg.versions import Hit, VersionQuery, find, find_json
from modelreg.vocabulary import Stage

if TYPE_CHECKING:
    from modelreg.config import RegistryConfig
    from modelreg.deploy import DeployRequest, DeployResult, UndeployResult
    from modelreg.errors import Problem
    from modelreg.history import Change, History
    from modelreg.manifest import Model, Version
    from modelreg.publish import Published
    from modelreg.transaction import Transaction
    from modelreg.writes import one_commit

List = list  # the builtin, where Registry.list shadows it
T = TypeVar("T")
R = TypeVar("R", "DeployResult", "UndeployResult")
P = ParamSpec("P")


class Registry(Holdings):
    """A model registry in a git working tree (or, read-only, at a commit), read through
    ``base``. Build one with :meth:`open` or :meth:`init`."""

    def __init__(self, base: Snapshot) -> None:
        self.base = base
        self.root, self.ref, self.cache = base.root, base.ref, base.cache
        self.read_only = base.ref is not None
        self._tx: Transaction | None = None

    @classmethod
    def init(
        cls,
        path: str | os.PathLike[str],
        *,
        name: str | None = None,
        artifact_root: str | None = None,
        install_from: str | None = None,
    ) -> Registry:
        """Create a registry in ``path`` (a new git repository unless inside one), one commit,
        with CI workflows installing modelreg from ``install_from`` (a pip requirement;
        default: where this modelreg came from, when known) and the other examples of
        :mod:`modelreg.scaffold`. Raises ValueError for a bad ``install_from``."""
        from modelreg import scaffold  # the templates only when creating a registry

        return cls.open(scaffold.create(Path(path), name, artifact_root, install_from))

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
    def config(self) -> RegistryConfig:
        """The registry's config (``modelreg.yaml``)."""
        return self.base.config

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

    def summaries(self, query: Query | None = None) -> Page[Summary]:
        """Like :meth:`list`, each model's summary (what listing shows and filters on)."""
        return self.reader.summaries(query)

    def list_json(self, query: Query | None = None) -> Listed:
        """Like :meth:`list`: the page's ids and the models as ``list --json`` prints them
        (status and latest version first, then the manifest by alias, no nulls), from
        the listing index and the cache, without building the models: ``.write(out)``
        streams them joined by commas, ``.body()`` gives those bytes."""
        return self.reader.list_json(query)

    def resolve(self, spec: str) -> tuple[Model, Version]:
        """``id@3``, ``id@latest``, ``id@production``, ``id@champion`` (an alias),
        ``id@v1.2.0`` -> (model, version). Raises :class:`NotFoundError`."""
        return self.reader.resolve(spec)

    def versions(self, query: VersionQuery | None = None) -> Page[Hit]:
        """One page of the versions, across models, that match ``query`` (filters, ``where``
        conditions, sort, limit/offset), with the total. Filters and sort read the cached
        listing summaries (or manifests' JSON); only the models of the page are built."""
        return find(self.reader, query or VersionQuery())

    def versions_json(self, query: VersionQuery | None = None) -> Page[dict[str, Any]]:
        """Like :meth:`versions`, each version as :meth:`Hit.to_dict` gives it, made from
        the manifests' JSON (cached) without building the models."""
        return find_json(self.reader, query or VersionQuery())

    def lineage(self, spec: str) -> Graph:
        """The parents (nearest first) and the descendants of one version (``churn-xgb@3``,
        ``churn-xgb@champion``). Raises :class:`NotFoundError`."""
        model, version = self.resolve(spec)
        return graph(self.reader.all(), model.id, version.version)

    def validate(self, only: Collection[str] | None = None) -> List[Problem]:
        """Every schema and rule problem of the config and every manifest (all, not the
        first); with ``only``, of the manifests of those model ids alone."""
        return self.base.validate(only)

    # ------------------------------------------------------------- history

    def past(self, rev: str | None = None) -> History:
        """The history of ``rev`` (default: the commit read at, else HEAD), from git (the
        store only if open: a history seen before is read without loading libgit2)."""
        from modelreg.history import History  # git's log, when history is asked for

        return History(self.base.store, self.base, rev or self.base.commit or "HEAD")

    def history(self, model_id: str) -> List[Change]:
        """Every commit that changed the model, newest first, with what it changed."""
        return self.past().changes(model_id)

    def stage_history(
        self, model_id: str, stage: Stage | str = Stage.PRODUCTION
    ) -> List[StagePeriod]:
        """Which version held ``stage`` from when to when, and by which commit (audit)."""
        return self.past().stage_periods(model_id, Stage.named(stage))

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
        from modelreg.transaction import Transaction  # the writing code, on the first write

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
        retries: int | None = None,
        timeout: float | None = None,
        message: str | None = None,
    ) -> Published[T]:
        """Run ``op(self)`` as one commit and push it to ``git.remote`` (``push``, default
        ``git.push``), or put it on a new ``branch`` for a pull request. ``op`` may run
        again on a newer remote tip, after a jittered wait, until ``timeout`` seconds
        (default ``git.push_timeout``) have passed, and at most ``retries`` times if
        given. See :mod:`modelreg.publish`."""
        self._writable()
        if self._tx is not None:
            raise ConflictError("publish runs its own transaction: call it outside of one")
        from modelreg import publish as publishing  # remotes, when publishing

        writer = publishing.Writer(
            self.store,
            self.config.git,
            lambda: self.transaction(message),
            lambda _: op(self),
            self.get,
        )
        return publishing.publish(
            writer, push=push, branch=branch, retries=retries, timeout=timeout
        )

    # Each write below is one commit (none of its own inside a larger transaction), with
    # the arguments and documentation of the transaction's method of the same name (made
    # by :func:`modelreg.writes.install`, below, importing the writing code on first use).
    if TYPE_CHECKING:
        create_model = one_commit(Transaction.create_model)
        register_version = one_commit(Transaction.register_version)
        add_version = one_commit(Transaction.add_version)
        update = one_commit(Transaction.update)
        set_stage = one_commit(Transaction.set_stage)
        set_alias = one_commit(Transaction.set_alias)
        remove_alias = one_commit(Transaction.remove_alias)
        update_version = one_commit(Transaction.update_version)
        archive = one_commit(Transaction.archive)
        unarchive = one_commit(Transaction.unarchive)
        delete = one_commit(Transaction.delete)

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
        from modelreg import deploy as deploying  # its targets' templates only when deploying

        if dry_run:
            return deploying.plan(self.reader, spec, request, target=target)
        return self._recorded(lambda tx: deploying.deploy(tx, spec, request, target=target))

    def undeploy(self, model_id: str) -> UndeployResult:
        """Remove the deployment block and the spec files, in one commit."""
        from modelreg import deploy as deploying

        return self._recorded(lambda tx: deploying.undeploy(tx, model_id))

    def _recorded(self, write: Callable[[Transaction], R]) -> R:
        """``write``'s result, with the commit made (none inside a larger transaction)."""
        nested = self._tx is not None
        with self.transaction() as tx:
            result = write(tx)
        return result if nested else replace(result, commit=tx.committed)


writes.install(Registry)
