"""What happened to a model between two states: the vocabulary of history. Pure.

Each event reads as an audit line: ``str(event)`` -> "version 4 moved staging -> production".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from modelreg.vocabulary import METADATA_FIELDS, Stage

if TYPE_CHECKING:
    from modelreg.manifest import Model


@dataclass(frozen=True)
class Event:
    kind: str
    version: int | None = None
    before: str | None = None
    after: str | None = None
    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.kind == "created":
            return "model created"
        if self.kind == "deleted":
            return "model deleted"
        if self.kind == "registered":
            return f"version {self.version} registered" + (
                f" in {self.after}" if self.after and self.after != "none" else ""
            )
        if self.kind == "stage":
            return f"version {self.version} moved {self.before} -> {self.after}"
        if self.kind == "metadata":
            return "metadata edited: " + ", ".join(self.fields)
        if self.kind == "version-edited":
            return f"version {self.version} edited: " + ", ".join(self.fields)
        if self.kind == "alias":
            name = self.fields[0] if self.fields else "?"
            if self.before is None:
                return f"alias {name} set to version {self.after}"
            if self.after is None:
                deployed = ", which is deployed" if "deployed" in self.fields[1:] else ""
                return f"alias {name} removed (was version {self.before}{deployed})"
            return f"alias {name} moved {self.before} -> {self.after}"
        if self.kind == "deployed":
            return f"version {self.version} deployed to {self.after}"
        if self.kind == "undeployed":
            return "undeployed"
        if self.kind == "archived":
            return "model archived"
        if self.kind == "unarchived":
            return "model unarchived"
        return self.kind

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"kind": self.kind, "text": str(self)}
        for k in ("version", "before", "after"):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        if self.fields:
            d["fields"] = list(self.fields)
        return d


def between(old: Model | None, new: Model | None) -> list[Event]:
    """The events that turn ``old`` into ``new`` (either may be None: absent)."""
    if old is None and new is None:
        return []
    if new is None:
        return [Event("deleted")]
    out: list[Event] = []
    if old is None:
        out.append(Event("created"))
        before_versions: dict[int, object] = {}
    else:
        changed = tuple(f for f in METADATA_FIELDS if getattr(old, f) != getattr(new, f))
        if changed:
            out.append(Event("metadata", fields=changed))
        before_versions = {v.version: v for v in old.versions}
    for v in new.versions:
        prev = before_versions.get(v.version)
        if prev is None:
            out.append(Event("registered", v.version, after=v.stage.value))
            continue
        assert old is not None
        pv = old.version(v.version)
        assert pv is not None
        if pv.stage != v.stage:
            out.append(Event("stage", v.version, pv.stage.value, v.stage.value))
        edited = tuple(
            f
            for f in (
                "description",
                "label",
                "metrics",
                "hyperparameters",
                "training",
                "artifacts",
                "created_at",
                "tags",
                "labels",
                "annotations",
                "lineage",
            )
            if getattr(pv, f) != getattr(v, f)
        )
        if edited:
            out.append(Event("version-edited", v.version, fields=edited))
    out += alias_moves(old, new)
    was = old.deployment if old is not None else None
    if new.deployment is not None and new.deployment != was:
        out.append(Event("deployed", new.deployment.version, after=new.deployment.target))
    elif new.deployment is None and was is not None:
        out.append(Event("undeployed"))
    if old is not None and old.archived != new.archived:
        out.append(Event("archived" if new.archived else "unarchived"))
    return out


def alias_moves(old: Model | None, new: Model | None) -> list[Event]:
    """One ``alias`` event per alias set, moved or removed, by alias name."""
    before = old.aliases if old is not None else {}
    after = new.aliases if new is not None else {}
    out = []
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name), after.get(name)
        d = new.deployment if new is not None else None
        live = {d.version, d.challenger.version if d.challenger else None} if d else set()
        # removing the name people deploy by is worth a reviewer's attention
        note = ("deployed",) if a is None and b in live else ()
        if b != a:
            out.append(
                Event(
                    "alias",
                    a if a is not None else b,
                    None if b is None else str(b),
                    None if a is None else str(a),
                    (name, *note),
                )
            )
    return out


@dataclass(frozen=True)
class Holders:
    """What one state of a manifest gives to which version: per stage, the version
    holding it (the last listed, as :meth:`Model.in_stage` orders them); per alias,
    the version it names (in the manifest's order)."""

    stages: tuple[tuple[str, int], ...] = ()
    aliases: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of(cls, model: Model | None) -> Holders:
        """Those of ``model`` (None: absent or broken, holding nothing)."""
        if model is None:
            return cls()
        stages = []
        for stage in Stage:
            found = model.in_stage(stage)
            if found:
                stages.append((stage.value, found[-1].version))
        return cls(tuple(stages), tuple(model.aliases.items()))

    def stage(self, stage: Stage | str) -> int | None:
        return dict(self.stages).get(str(stage))

    def alias(self, name: str) -> int | None:
        return dict(self.aliases).get(name)


@dataclass(frozen=True)
class StagePeriod:
    """One version holding one stage, from the commit that put it there to the one that
    took it away (None: it still holds it)."""

    version: int
    since: int  # commit time, seconds since the epoch
    commit: str
    author: str
    until: int | None = None
    ended_by: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "since": _iso(self.since),
            "commit": self.commit,
            "author": self.author,
            "until": _iso(self.until) if self.until else None,
            "ended_by": self.ended_by,
        }


def _iso(t: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat().replace("+00:00", "Z")


def stage_periods(held: Sequence[tuple[Any, Holders]], stage: Stage | str) -> list[StagePeriod]:
    """Who held ``stage`` when, from (commit info, :class:`Holders`) pairs oldest first.

    Ordered by commit topology (the order of the pairs), never by timestamps.
    """
    return periods([(info, holders.stage(stage)) for info, holders in held])


def alias_periods(held: Sequence[tuple[Any, Holders]], alias: str) -> list[StagePeriod]:
    """Which version held ``alias`` when, like :func:`stage_periods`."""
    return periods([(info, holders.alias(alias)) for info, holders in held])


def periods(held: Sequence[tuple[Any, int | None]]) -> list[StagePeriod]:
    """The periods of (commit info, the version holding a stage or an alias after it, or
    None) pairs, oldest first."""
    out: list[StagePeriod] = []
    current: StagePeriod | None = None
    for info, holder in held:
        if current is not None and current.version != holder:
            out.append(replace(current, until=info.time, ended_by=info.sha))
            current = None
        if holder is not None and current is None:
            current = StagePeriod(holder, info.time, info.sha, info.author)
    if current is not None:
        out.append(current)
    return out
