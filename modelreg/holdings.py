"""The registry's artifacts: listing, verifying, filling in, pulling, and finding orphans.

A part of the :class:`~modelreg.registry.Registry` façade (a mixin), kept here so the
façade stays one page: each call composes :mod:`modelreg.refs` (which artifacts) with
the artifact store (:mod:`modelreg.artifacts`, fsspec's one home, imported on first use).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from modelreg import refs
from modelreg.errors import InvalidManifestError

if TYPE_CHECKING:
    from modelreg import artifacts as stored
    from modelreg.config import RegistryConfig
    from modelreg.history import History
    from modelreg.manifest import Artifact, Model, Version
    from modelreg.transaction import Transaction


class Holder(Protocol):
    """What the artifact calls need of the registry."""

    root: Path

    @property
    def config(self) -> RegistryConfig: ...

    @property
    def artifact_store(self) -> stored.ArtifactStore: ...

    def get(self, model_id: str) -> Model: ...
    def models(self) -> list[Model]: ...
    def resolve(self, spec: str) -> tuple[Model, Version]: ...
    def past(self, rev: str | None = None) -> History: ...
    def transaction(self, message: str | None = None) -> AbstractContextManager[Transaction]: ...
    def artifacts(self, spec: str | None = None) -> list[tuple[str, Artifact]]: ...


class Holdings:
    """The artifact calls of the registry (see :class:`Holder` for what they use)."""

    @functools.cached_property
    def artifact_store(self: Holder) -> stored.ArtifactStore:
        """The artifact store the config names, made on first use (fsspec is slow to
        import)."""
        from modelreg.artifacts import ArtifactStore

        return ArtifactStore.from_config(self.config.artifacts, self.root)

    def artifacts(self: Holder, spec: str | None = None) -> list[tuple[str, Artifact]]:
        """``("model@version/role", artifact)`` of the registry, of one model (``spec=
        "churn-xgb"``) or of one version (``"churn-xgb@production"``)."""
        return refs.artifacts(spec, self.get, self.models)

    def verify_artifacts(
        self: Holder,
        spec: str | None = None,
        *,
        quick: bool = False,
        measure: bool = False,
        workers: int = 8,
        checked: Callable[[stored.VerifyResult], None] | None = None,
    ) -> list[stored.VerifyResult]:
        """Check the artifacts of ``spec`` (see :meth:`artifacts`) exist with their recorded
        size and sha256 (``quick``: size only); each result says what was found. ``checked``
        gets each result as it comes (for progress). ``measure`` reads the sha256 of
        artifacts that record none too, for :meth:`fill_artifacts`."""
        return self.artifact_store.verify(
            self.artifacts(spec), quick=quick, measure=measure, workers=workers, checked=checked
        )

    def fill_artifacts(self: Holder, results: Collection[stored.VerifyResult]) -> list[str]:
        """Record the size and sha256 that :meth:`verify_artifacts` (``measure=True``)
        read for artifacts that lacked them (registered as given), one commit; returns
        the labels filled (none: no commit). Raises :class:`RuleViolationError` where the
        manifest records a size or sha256 other than the one read, :class:`ConflictError`
        where it changed since (nothing is written then)."""
        from modelreg import backfill  # a write: its code loads with it, not with the reads

        found = {r.label: a for r in results if (a := r.measured) is not None}
        with self.transaction() as tx:
            return backfill.record(tx, found)

    def pull(
        self: Holder,
        spec: str,
        dest: str | os.PathLike[str],
        *,
        roles: Sequence[str] = (),
        force: bool = False,
        progress: stored.ProgressFactory | None = None,
    ) -> list[stored.PullResult]:
        """Download one version's artifacts into ``dest/<role>/<file name>``, each checked
        on the way. Raises :class:`ArtifactError` for a failed or corrupt download."""
        model, version = self.resolve(spec)
        return [
            self.artifact_store.pull(artifact, target, force=force, progress=progress)
            for artifact, target in refs.downloads(model, version, roles, Path(dest))
        ]

    def artifact_orphans(
        self: Holder, *, min_age: dt.timedelta = dt.timedelta(hours=1)
    ) -> list[stored.StoredObject]:
        """Objects under the artifact root that no manifest refers to, at any commit of the
        configured branch (else HEAD) or in the working tree, older than ``min_age``."""
        uris = self.past(self.config.git.branch or "HEAD").artifact_uris()
        with contextlib.suppress(InvalidManifestError):
            uris.update(a.uri for _, a in self.artifacts())
        return self.artifact_store.orphans(uris, min_age=min_age)
