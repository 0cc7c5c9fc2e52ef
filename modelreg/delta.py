"""What a change does to one model, for a reviewer: the body of ``modelreg diff``. Pure.

Built on :func:`modelreg.events.between` (the audit vocabulary), with the details a
pull request review needs: the metrics of each new version and their delta against
the production version of the base, stage moves, the deployment before and after,
and metadata edits with their old and new values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelreg.events import Event, between
from modelreg.vocabulary import METADATA_FIELDS

if TYPE_CHECKING:
    from modelreg.manifest import Deployment, Model

if TYPE_CHECKING:
    from modelreg.errors import Problem


@dataclass(frozen=True)
class AddedVersion:
    """A version the change registers, with metric deltas against ``baseline``
    (the production version of the base, None if it had none)."""

    version: int
    label: str | None
    stage: str
    metrics: tuple[tuple[str, float], ...]
    baseline: int | None
    deltas: tuple[tuple[str, float], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "label": self.label,
            "stage": self.stage,
            "metrics": dict(self.metrics),
            "baseline_version": self.baseline,
            "metric_deltas": dict(self.deltas),
        }


@dataclass(frozen=True)
class Edit:
    """One field of the model (or of a version) with its value before and after."""

    field: str
    before: Any
    after: Any

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class ModelDelta:
    """The change to one model: ``kind`` is added, removed, changed or invalid (a side
    that does not load; ``problems`` says why)."""

    model_id: str
    kind: str
    added: tuple[AddedVersion, ...] = ()
    moves: tuple[Event, ...] = ()  # stage events: version, before, after
    deployment: tuple[str | None, str | None] | None = None  # described before/after
    metadata: tuple[Edit, ...] = ()
    events: tuple[Event, ...] = ()  # every audit line, in order
    problems: tuple[Problem, ...] = ()
    aliases: tuple[Event, ...] = ()  # alias events: name, version before, after

    @property
    def version_edits(self) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.kind == "version-edited")

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "kind": self.kind,
            "versions_added": [v.to_dict() for v in self.added],
            "stage_moves": [
                {"version": e.version, "before": e.before, "after": e.after} for e in self.moves
            ],
            "deployment": (
                {"before": self.deployment[0], "after": self.deployment[1]}
                if self.deployment
                else None
            ),
            "metadata": [e.to_dict() for e in self.metadata],
            "alias_moves": [
                {"alias": e.fields[0], "before": _number(e.before), "after": _number(e.after)}
                for e in self.aliases
            ],
            "events": [str(e) for e in self.events],
            "problems": [str(p) for p in self.problems],
        }


def describe_deployment(d: Deployment | None) -> str | None:
    """``version 3 on kserve (challenger 4 at 10 %, gpu-a100-40gb, 2 replicas)``."""
    if d is None:
        return None
    extra = []
    if d.challenger is not None:
        extra.append(f"challenger {d.challenger.version} at {d.challenger.traffic_percent} %")
    if d.hardware:
        extra.append(d.hardware)
    extra.append(f"{d.replicas} replica{'s' if d.replicas != 1 else ''}")
    return f"version {d.version} on {d.target} ({', '.join(extra)})"


def delta(old: Model | None, new: Model | None, model_id: str) -> ModelDelta:
    """What turning ``old`` into ``new`` does (either may be None: absent)."""
    events = tuple(between(old, new))
    kind = "added" if old is None else "removed" if new is None else "changed"
    if new is None:
        return ModelDelta(model_id, kind, events=events)
    baseline = old.production if old is not None else None
    known = {v.version for v in old.versions} if old is not None else set()
    added = []
    for v in new.versions:
        if v.version in known:
            continue
        deltas: tuple[tuple[str, float], ...] = ()
        if baseline is not None:
            deltas = tuple(
                (k, round(value - baseline.metrics[k], 10))
                for k, value in v.metrics.items()
                if k in baseline.metrics
            )
        added.append(
            AddedVersion(
                v.version,
                v.label,
                v.stage.value,
                tuple(v.metrics.items()),
                baseline.version if baseline is not None else None,
                deltas,
            )
        )
    moves = tuple(e for e in events if e.kind == "stage")
    before_d = describe_deployment(old.deployment) if old is not None else None
    after_d = describe_deployment(new.deployment)
    deployment = (before_d, after_d) if before_d != after_d else None
    metadata: tuple[Edit, ...] = ()
    if old is not None:
        metadata = tuple(
            edit
            for f in (*METADATA_FIELDS, "archived")
            if getattr(old, f) != getattr(new, f)
            for edit in _edits(f, getattr(old, f), getattr(new, f))
        )
    aliases = tuple(e for e in events if e.kind == "alias")
    return ModelDelta(
        model_id, kind, tuple(added), moves, deployment, metadata, events, aliases=aliases
    )


def _edits(name: str, before: Any, after: Any) -> list[Edit]:
    """One edit per changed key of a mapping (``labels.team``), else one for the field."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [
            Edit(f"{name}.{key}", before.get(key), after.get(key))
            for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)
        ]
    return [Edit(name, _plain(before), _plain(after))]


def _number(text: str | None) -> int | None:
    return None if text is None else int(text)


def _plain(value: Any) -> Any:
    """Enums as their value, lists as lists: JSON- and Markdown-ready."""
    if hasattr(value, "value"):
        return value.value
    return list(value) if isinstance(value, (list, tuple)) else value
