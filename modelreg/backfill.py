"""Backfill: recording the size and sha256 of artifacts registered without them.

An artifact recorded as given (``register --as-given``, or ``--no-hash`` for the
sha256) names a URI the registering job could not, or did not, read. Where the
store can be read, ``artifacts verify --fill`` reads the bytes
(:meth:`ArtifactStore.verify` with ``measure``) and :func:`record` writes what
it found into the manifests: only into artifacts that lack it, and only when the
bytes agree with what the manifest does record. The rules accept exactly this
change of a released version (:mod:`modelreg.rules`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from modelreg.errors import ConflictError, RuleViolationError
from modelreg.manifest import Artifact, Model
from modelreg.refs import artifact_label, parse_artifact_label

if TYPE_CHECKING:
    from modelreg.transaction import Transaction


def record(tx: Transaction, measured: Mapping[str, Artifact]) -> list[str]:
    """Write each measured artifact (``{"churn-xgb@3/model": Artifact(uri, size,
    sha256)}``) over the one its label names, in ``tx``; returns the labels filled, in
    order (one already holding these values is left alone). Raises
    :class:`ConflictError` when the manifest now names another URI there (it changed
    since the bytes were read), :class:`RuleViolationError` when it records a size or
    sha256 other than the one read."""
    wanted: dict[str, dict[int, dict[str, Artifact]]] = {}
    for label, artifact in measured.items():
        model_id, number, role = parse_artifact_label(label)
        wanted.setdefault(model_id, {}).setdefault(number, {})[role] = artifact
    filled: list[str] = []
    for model_id, versions in sorted(wanted.items()):
        model, done = fill(tx.get(model_id), versions)
        if done:
            which = ", ".join(label.partition("@")[2] for label in done)
            tx.put(model_id, model, f"{model_id}: record the size and sha256 of {which}")
            filled += done
    return filled


def fill(model: Model, found: Mapping[int, Mapping[str, Artifact]]) -> tuple[Model, list[str]]:
    """``model`` with the artifacts of ``found`` (version -> role -> artifact read)
    recorded, and the labels of those that changed. Pure; raises as :func:`record`."""
    done: list[str] = []
    versions = []
    for v in model.versions:
        roles = found.get(v.version, {})
        artifacts = dict(v.artifacts)
        for role, read in sorted(roles.items()):
            label = artifact_label(model.id, v.version, role)
            now = artifacts.get(role)
            if now is None or now.uri != read.uri:
                raise ConflictError(
                    f"{label}: the manifest now records "
                    f"{now.uri if now else 'no such artifact'}, not {read.uri}: verify again"
                )
            for key in ("size", "sha256"):
                recorded, actual = getattr(now, key), getattr(read, key)
                if recorded is not None and recorded != actual:
                    raise RuleViolationError(
                        f"{label}: the manifest records {key} {recorded}, the store holds "
                        f"{actual}: a released version's artifacts never change; register "
                        "a new version for these bytes"
                    )
            if (now.size, now.sha256) != (read.size, read.sha256):
                artifacts[role] = Artifact(uri=now.uri, size=read.size, sha256=read.sha256)
                done.append(label)
        versions.append(v.model_copy(update={"artifacts": artifacts}) if roles else v)
    missing = sorted(set(found) - {v.version for v in model.versions})
    if missing:
        raise ConflictError(f"{model.id} has no version {missing[0]} any more: verify again")
    return (model.model_copy(update={"versions": versions}) if done else model), done
