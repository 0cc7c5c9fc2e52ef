"""The change rules: what a change may do to a model. Pure: two states in, violations out.

The rules on one manifest alone (single production, deployment names a live
version, ...) are in :mod:`modelreg.rules`; these need the state before the change:

- a released version is immutable: only ``stage``, ``description``, ``labels`` and
  ``annotations`` may change (its ``tags`` and ``lineage`` are fixed like its metrics);
- versions are never removed (archive them) and numbers are never reused, also
  across a model that was deleted and created again;
- a deployed model cannot be deleted;
- with ``policy.promotion.production_from`` set, a version reaches production
  only from one of those stages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modelreg.config import RegistryConfig
from modelreg.manifest import Model, Stage, Version
from modelreg.rules import Violation

# the parts of a version that never change once it is committed, in manifest order
RELEASED_FIELDS = (
    "version",
    "label",
    "created_at",
    "metrics",
    "hyperparameters",
    "training",
    "tags",
    "lineage",
    "artifacts",
)


def check_change(
    old: Model | None,
    new: Model | None,
    config: RegistryConfig | None = None,
    *,
    retired: int = 0,
) -> list[Violation]:
    """Every change rule that turning ``old`` into ``new`` breaks (None: no manifest).

    ``retired`` is the highest version number the model id ever had before ``old``
    (a model deleted and created again); numbers up to it are never reused.
    Violations point into ``new``, except those with ``in_base=True`` (a removed
    model), which point into ``old``.
    """
    if new is None:
        if old is not None and old.deployment is not None:
            d = old.deployment
            return [
                Violation(
                    ("deployment",),
                    f"model {old.id} was deleted while deployed (version {d.version} on "
                    f"{d.target}); undeploy it first (line of the base version of the file)",
                    in_base=True,
                )
            ]
        return []
    out: list[Violation] = []
    floor = max(retired, old.latest_version if old is not None else 0)
    if old is not None:
        out += _kept_versions(old, new)
        if old.id != new.id:
            out.append(
                Violation(("id",), f"the model id changed from {old.id!r}: ids never change")
            )
        if (old.first_version or 0) > (new.first_version or 0):
            out.append(
                Violation(
                    ("first_version",),
                    f"first_version went down from {old.first_version}: "
                    "numbers of a deleted model are never reused",
                )
            )
    known = {v.version for v in old.versions} if old is not None else set()
    for i, v in enumerate(new.versions):
        if v.version in known:
            continue
        if v.version <= floor:
            why = (
                f"the base already has versions up to {old.latest_version}"
                if old is not None and v.version <= old.latest_version
                else f"an earlier model {new.id} (since deleted) had versions up to {retired}"
            )
            out.append(
                Violation(
                    ("versions", i, "version"),
                    f"version {v.version} is new but its number is taken: {why}; "
                    f"numbers are never reused (use {floor + 1})",
                )
            )
        out += _promotion(config, None, v, i)
    if old is not None:
        for i, v in enumerate(new.versions):
            before = old.version(v.version)
            if before is not None:
                out += _promotion(config, before, v, i)
    return out


def check_renames(removed: Sequence[Model], added: Sequence[Model]) -> list[tuple[str, Violation]]:
    """(model id, violation) for each added model that is a removed one under a new id:
    one of its versions is the very same released version (same numbers, artifacts,
    metrics, creation time). Ids never change: a folder renamed is a model renamed."""
    out = []
    released = {(v.version, repr(v.released_part())): m.id for m in removed for v in m.versions}
    for m in added:
        for v in m.versions:
            was = released.get((v.version, repr(v.released_part())))
            if was is not None:
                out.append(
                    (
                        m.id,
                        Violation(
                            ("id",),
                            f"model {m.id} is model {was} renamed (version {v.version} is the "
                            f"same): a model id never changes; keep {was}, or register the "
                            "versions anew in a new model",
                        ),
                    )
                )
                break
    return out


def _kept_versions(old: Model, new: Model) -> list[Violation]:
    """Versions of ``old`` must all be in ``new``, unchanged but for their mutable fields."""
    out: list[Violation] = []
    index: dict[int, list[int]] = {}
    for i, v in enumerate(new.versions):
        index.setdefault(v.version, []).append(i)
    for v in old.versions:
        found = index.get(v.version)
        if found is None:
            out.append(
                Violation(
                    ("versions",),
                    f"version {v.version} was removed: versions are never removed "
                    "(set its stage to archived instead)",
                )
            )
            continue
        # a number listed twice (two merged branches) is the duplicate rule's to report:
        # here it is enough that one of the entries is the released version unchanged
        if any(new.versions[j].released_part() == v.released_part() for j in found):
            continue
        i = found[0]
        after = new.versions[i]
        before_doc, after_doc = v.released_part(), after.released_part()
        for name in RELEASED_FIELDS:
            if before_doc.get(name) != after_doc.get(name):
                where = _first_difference(before_doc.get(name), after_doc.get(name))
                out.append(
                    Violation(
                        ("versions", i, name, *where),
                        f"version {v.version} is released: its {name} cannot change "
                        "(only stage, description, labels and annotations may); register a new "
                        "version instead",
                    )
                )
    return out


def _first_difference(before: Any, after: Any) -> tuple[str, ...]:
    """The key path, inside two mappings, of the first entry of ``after`` that differs
    (so a problem points at the changed line, not at the start of the block)."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ()
    for key, value in after.items():
        if before.get(key) != value:
            return (key, *_first_difference(before.get(key), value))
    return ()


def _promotion(
    config: RegistryConfig | None, before: Version | None, after: Version, i: int
) -> list[Violation]:
    """The optional production_from policy, for one version that may have moved."""
    allowed = config.policy.promotion.production_from if config is not None else None
    if allowed is None or after.stage != Stage.PRODUCTION:
        return []
    was = before.stage if before is not None else Stage.NONE
    if was == Stage.PRODUCTION or was in allowed:
        return []
    how = f"moved from {was.value}" if before is not None else "registered directly in production"
    return [
        Violation(
            ("versions", i, "stage"),
            f"version {after.version} {how}: the policy allows production only from "
            f"{', '.join(s.value for s in allowed)}",
        )
    ]
