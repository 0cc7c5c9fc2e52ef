"""The catalog: what the rest of a company reads, built from manifests. Pure.

Three vocabularies come out of the same :class:`Model` objects:

- ``catalog.json`` — every manifest as stored (snake_case, all versions,
  stages, deployment) plus derived fields and the commit it was read at;
- the ``RegisteredModel`` shape of the model-registry API (camelCase, seed 003);
- the ``model_metrics`` entries of the terminal API (snake_case, seed 000),
  one per model *version*.

No I/O here: :mod:`modelreg.export` writes these documents, :mod:`modelreg.http`
serves them. The mapping is documented in ``docs/catalog.md``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydantic_core

from modelreg.vocabulary import Stage

if TYPE_CHECKING:
    from modelreg.manifest import Model, Version

SCHEMA_FILE = Path(__file__).parent / "schemas" / "catalog.schema.json"

# Terminal API statuses (seed 000). `staging` is a version under evaluation, like a
# challenger; `none` has no status in that vocabulary, so such versions are left out.
TERMINAL_STATUS: dict[Stage, str | None] = {
    Stage.PRODUCTION: "production",
    Stage.CHALLENGER: "challenger",
    Stage.STAGING: "challenger",
    Stage.ARCHIVED: "archived",
    Stage.NONE: None,
}
ARTIFACT_ROLES = ("model", "encoders", "config")

Times = Mapping[str, tuple[dt.datetime, dt.datetime]]


def iso(value: dt.datetime | None) -> str | None:
    """``2025-01-15T10:30:00Z``: UTC, ``Z`` suffix, microseconds only when present."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    return value.replace(tzinfo=None).isoformat() + "Z"


def camel(key: str) -> str:
    """``f1_score`` -> ``f1Score`` (metric names in the registry API)."""
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def dumps(data: Any) -> bytes:
    """Compact, deterministic JSON bytes (what is served and hashed), via pydantic-core."""
    return pydantic_core.to_json(data)


def terminal_status(model: Model, version: Version) -> str | None:
    """A version's status in the terminal API, or None when it has none (left out)."""
    if model.archived:
        return "archived"
    deployment = model.deployment
    if (
        deployment is not None
        and deployment.challenger is not None
        and deployment.challenger.version == version.version
        and version.stage in (Stage.NONE, Stage.STAGING)
    ):
        return "challenger"
    return TERMINAL_STATUS[version.stage]


@dataclass(frozen=True)
class Entry:
    """One model and the times the catalog shows for it."""

    model: Model
    created: dt.datetime | None
    updated: dt.datetime | None
    from_git: bool = False  # times are the manifest's first/last commit, not its own fields

    @property
    def id(self) -> str:
        return self.model.id

    def summary(self) -> dict[str, Any]:
        """The ``RegisteredModel`` of a list response (seed 003: no versions, no deployment)."""
        m = self.model
        return {
            "id": m.id,
            "name": m.name,
            "description": m.description,
            "owner": m.owner,
            "organizationId": m.organization,
            "workspaceId": m.workspace,
            "framework": m.framework.value,
            "source": m.source.value if m.source else None,
            "latestVersion": m.latest_version,
            "tags": list(m.tags),
            "status": m.status.value,
            "deleted": False,
            "createdAt": iso(self.created),
            "updatedAt": iso(self.updated),
        }

    def registered_model(self) -> dict[str, Any]:
        """The full ``RegisteredModel`` (seed 003), field order as in the seed."""
        m = self.model
        out = self.summary()
        tail = {k: out.pop(k) for k in ("tags", "status", "deleted", "createdAt", "updatedAt")}
        out["versions"] = [
            {
                "version": v.version,
                "description": v.description,
                "metrics": {camel(k): value for k, value in v.metrics.items()},
                "artifactUri": v.primary_artifact.uri if v.primary_artifact else None,
                "createdAt": iso(v.created_at),
            }
            for v in m.versions
        ]
        out["tags"] = tail["tags"]
        out["status"] = tail["status"]
        d = m.deployment
        out["deployment"] = (
            None
            if d is None
            else {
                "endpointUrl": d.endpoint_url,
                "replicas": d.replicas,
                "hardware": d.hardware,
                "deployedAt": iso(d.deployed_at),
            }
        )
        for key in ("deleted", "createdAt", "updatedAt"):
            out[key] = tail[key]
        return out

    def version_record(self, v: Version) -> dict[str, Any]:
        """One version in the registry API's camelCase style (``GET .../versions``): the
        seed's ``ModelVersion`` fields plus stage, aliases, tags, labels and lineage."""
        m = self.model
        lineage = v.lineage.model_dump(mode="json", exclude_none=True) if v.lineage else None
        if lineage is not None and lineage.get("run") is not None:
            lineage["run"] = {camel(k): x for k, x in lineage["run"].items()}
        return {
            "modelId": m.id,
            "modelName": m.name,
            "version": v.version,
            "label": v.label,
            "description": v.description,
            "stage": v.stage.value,
            "aliases": m.aliases_of(v.version),
            "metrics": {camel(k): value for k, value in v.metrics.items()},
            "tags": list(v.tags),
            "labels": dict(v.labels),
            "annotations": dict(v.annotations),
            "lineage": lineage,
            "artifactUri": v.primary_artifact.uri if v.primary_artifact else None,
            "createdAt": iso(v.created_at),
        }

    def model_metrics(self) -> list[dict[str, Any]]:
        """One terminal-API entry (seed 000) per version that has a status there."""
        m = self.model
        out = []
        for v in m.versions:
            status = terminal_status(m, v)
            if status is None:
                continue
            t = v.training
            window = t.data_window if t else None
            out.append(
                {
                    "model_name": m.id,
                    "model_version": v.label or f"v{v.version}",
                    "model_type": m.type,
                    "status": status,
                    "last_trained_at": iso(t.trained_at) if t else None,
                    "training_data_window": None
                    if window is None
                    else {"start": iso(window.start), "end": iso(window.end)},
                    "hyperparameters": dict(v.hyperparameters),
                    "training_metrics": {
                        "epochs": t.epochs if t else None,
                        "train_loss": t.train_loss if t else None,
                        "validation_loss": t.validation_loss if t else None,
                        "early_stop_epoch": t.early_stop_epoch if t else None,
                    },
                    "artifact_locations": {
                        role: (v.artifacts[role].uri if role in v.artifacts else None)
                        for role in ARTIFACT_ROLES
                    },
                }
            )
        return out

    def derived(self) -> dict[str, Any]:
        """What ``catalog.json`` adds to the manifest."""
        prod = self.model.production
        return {
            "status": self.model.status.value,
            "latest_version": self.model.latest_version,
            "production_version": prod.version if prod else None,
            "times": {
                "created": iso(self.created),
                "updated": iso(self.updated),
                "source": "git" if self.from_git else "manifest",
            },
        }

    def record(self) -> dict[str, Any]:
        """The model's entry in ``catalog.json``: the manifest plus what is derived."""
        data: dict[str, Any] = json.loads(self.record_bytes())
        return data

    def record_bytes(self) -> bytes:
        """:meth:`record` as JSON bytes, serialised by pydantic-core (fast for 10,000s)."""
        manifest = self.model.model_dump_json(by_alias=True, exclude_none=True).encode()
        return manifest[:-1] + b"," + dumps(self.derived())[1:]


def entry(model: Model, times: Times | None = None) -> Entry:
    """``created``: the manifest's ``created_at`` (what ``modelreg show`` prints; a deleted
    and re-created model starts again), else the manifest's first commit. ``updated``:
    the manifest's last commit when git knows it, else the manifest's own times."""
    known = (times or {}).get(model.id)
    if known is not None:
        return Entry(model, model.created_at or known[0], known[1], from_git=True)
    return Entry(model, model.created_at, model.updated_at)


@dataclass(frozen=True)
class Catalog:
    """Every model of a registry as read at one commit."""

    commit: str | None
    ref: str | None
    entries: tuple[Entry, ...]

    @classmethod
    def build(
        cls,
        models: Iterable[Model],
        *,
        commit: str | None = None,
        ref: str | None = None,
        times: Times | None = None,
    ) -> Catalog:
        """Entries sorted by id; ``times`` is ``History.model_times()`` (optional)."""
        entries = sorted((entry(m, times) for m in models), key=lambda e: e.id)
        return cls(commit, ref, tuple(entries))

    def document(self, entries: Sequence[Entry] | None = None) -> dict[str, Any]:
        """``catalog.json``."""
        data: dict[str, Any] = json.loads(self.document_bytes(entries))
        return data

    def document_bytes(self, entries: Sequence[Entry] | None = None) -> bytes:
        """``catalog.json`` as bytes, assembled from per-model bytes."""
        chosen = self.entries if entries is None else entries
        head = dumps(
            {
                "apiVersion": "modelreg/v1",
                "kind": "Catalog",
                "commit": self.commit,
                "ref": self.ref,
                "count": len(chosen),
            }
        )
        return head[:-1] + b',"models":[' + b",".join(e.record_bytes() for e in chosen) + b"]}"

    def model_list(
        self,
        entries: Sequence[Entry] | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
        count: int | None = None,
    ) -> dict[str, Any]:
        """The list response of seed 003; the static export lists everything (limit = count)."""
        chosen = self.entries if entries is None else entries
        total = len(chosen) if count is None else count
        return {
            "count": total,
            "limit": total if limit is None else limit,
            "offset": offset,
            "models": [e.summary() for e in chosen],
        }

    def version_list(self) -> dict[str, Any]:
        """Every version (by model id, then number) as ``GET .../versions`` answers."""
        records = [e.version_record(v) for e in self.entries for v in e.model.versions]
        count = len(records)
        return {"count": count, "limit": count, "offset": 0, "versions": records}

    def terminal(self, entries: Sequence[Entry] | None = None) -> dict[str, Any]:
        """The ``POST /terminal/ml-models`` response of seed 000."""
        chosen = self.entries if entries is None else entries
        metrics = [item for e in chosen for item in e.model_metrics()]
        return {"success": True, "model_metrics": metrics, "count": len(metrics)}


def load_schema() -> dict[str, Any]:
    """``schemas/catalog.schema.json``: catalog.json and, in ``$defs``, the seed shapes."""
    data: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
    return data
