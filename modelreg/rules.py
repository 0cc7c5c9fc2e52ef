"""Every rule of the registry, in one place. Pure: manifests in, violations out.

State rules look at one manifest (:func:`check_model`): numbers only grow, at
most one production version, a deployment names a live version. Transition
rules look at a change, old -> new (:func:`check_change`): a released version
is immutable (only ``stage`` and ``description`` may change; an artifact's missing
size and sha256 may be recorded once read), versions are
never removed and numbers never reused, a deployed model is not deleted, and
the optional ``policy.promotion.production_from``. The writes, ``validate`` and
``validate --base`` all ask the functions here; none has a copy of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelreg.errors import Problem, RuleViolationError
from modelreg.vocabulary import Stage
from modelreg.yamlio import Loaded

if TYPE_CHECKING:
    from modelreg.config import RegistryConfig
    from modelreg.manifest import Model, Version
    from modelreg.partial import Partial


@dataclass(frozen=True)
class Violation:
    """A broken rule, at a field path of the manifest.

    ``also`` is a second place the message is about (the other of two duplicates);
    ``in_base`` marks a change rule whose path is in the state before the change.
    """

    path: tuple[str | int, ...]
    message: str
    also: tuple[str | int, ...] | None = None
    in_base: bool = False


def problems_at(
    loaded: Loaded, violations: Iterable[Violation], partial: Partial[Any] | None = None
) -> list[Problem]:
    """Violations placed at the line and column of their field in ``loaded``. With
    ``partial`` (the violations were found in the part of the file the schema accepts),
    their paths are mapped back into the file, and those about a part left out dropped."""
    out = []
    for v in violations:
        path, also = v.path, v.also
        if partial is not None:
            placed = partial.place(path)
            if placed is None:
                continue
            path, also = placed, None if also is None else partial.place(also)
        message = v.message
        if also is not None:
            message += f" (the other is at line {loaded.locate(also)[0]})"
        out.append(loaded.problem(path, message))
    return out


def check_model(model: Model, config: RegistryConfig | None = None) -> list[Violation]:
    """Every rule the manifest breaks, in file order."""
    out: list[Violation] = []
    seen: dict[int, int] = {}
    previous = 0
    for i, v in enumerate(model.versions):
        if v.version in seen:
            out.append(
                Violation(
                    ("versions", i, "version"),
                    f"version {v.version} appears twice;"
                    " two changes registered the same number: renumber one",
                    also=("versions", seen[v.version], "version"),
                )
            )
        elif v.version < previous:
            out.append(
                Violation(
                    ("versions", i, "version"),
                    f"version {v.version} comes after {previous}: versions are listed "
                    "in the order they were registered and numbers only grow",
                )
            )
        out += _below_first(model.first_version, v, i)
        seen.setdefault(v.version, i)
        previous = max(previous, v.version)
    production = [i for i, v in enumerate(model.versions) if v.stage == Stage.PRODUCTION]
    listed = ", ".join(str(model.versions[j].version) for j in production)
    for i in production[1:]:
        out.append(
            Violation(
                ("versions", i, "stage"),
                f"more than one production version ({listed}); "
                "at most one version may be in production",
            )
        )
    numbers = {v.version for v in model.versions}
    for alias, number in model.aliases.items():
        if number not in numbers:
            out.append(
                Violation(
                    ("aliases", alias),
                    f"alias {alias} names version {number}, which does not exist "
                    f"(versions: {', '.join(str(n) for n in sorted(numbers)) or 'none'})",
                )
            )
    d = model.deployment
    if d is not None:
        out += deployment_rules(
            model, d.version, d.challenger.version if d.challenger else None, d.hardware, config
        )
    if config is not None:
        policy = config.policy.promotion
        if policy.max_challengers is not None:
            challengers = [i for i, v in enumerate(model.versions) if v.stage == Stage.CHALLENGER]
            if len(challengers) > policy.max_challengers:
                out.append(
                    Violation(
                        ("versions", challengers[-1], "stage"),
                        f"{len(challengers)} challenger versions; the policy allows "
                        f"{policy.max_challengers}",
                    )
                )
    return out


def check_added(model: Model, added: int, config: RegistryConfig | None = None) -> list[Violation]:
    """The rules the last ``added`` versions of ``model`` break, as :func:`check_model`
    words them, when appending them is the whole change: a new version is checked
    against those before it, not the whole model again. A version added in production
    or as a challenger (which may involve every other version) gets :func:`check_model`.
    """
    cut = len(model.versions) - added
    before, new = model.versions[:cut], model.versions[cut:]
    if any(v.stage in (Stage.PRODUCTION, Stage.CHALLENGER) for v in new):
        return check_model(model, config)
    previous = max((v.version for v in before), default=0)
    out = check_appended(cut, previous, model.first_version, new)
    if out is None:
        # rare (numbers are assigned above the last): word it as check_model does
        return [x for x in check_model(model, config) if _at_or_after(x.path, cut)]
    return out


def check_appended(
    count: int, latest: int, first_version: int | None, new: Sequence[Version]
) -> list[Violation] | None:
    """The rules versions ``new`` break, appended after ``count`` versions whose highest
    number is ``latest``, none of them in production or a challenger (see
    :func:`check_added`): None when their numbers do not rise, which only the whole
    model's check words well."""
    out: list[Violation] = []
    previous = latest
    for i, v in enumerate(new, start=count):
        if v.version <= previous:
            return None
        out += _below_first(first_version, v, i)
        previous = v.version
    return out


def _at_or_after(path: tuple[str | int, ...], cut: int) -> bool:
    return len(path) > 1 and path[0] == "versions" and isinstance(path[1], int) and path[1] >= cut


def deployment_rules(
    model: Model,
    version: int,
    challenger: int | None = None,
    hardware: str | None = None,
    config: RegistryConfig | None = None,
) -> list[Violation]:
    """What keeps ``model`` from being deployed at ``version`` (with a challenger and a
    hardware profile): an archived model or version, a missing one, a challenger that
    is the version itself, a hardware profile modelreg.yaml does not have."""
    out: list[Violation] = []
    if model.archived:
        out.append(
            Violation(("archived",), f"{model.id} is archived; archived models are not deployed")
        )
    names: list[tuple[str, int, tuple[str | int, ...]]] = [
        ("version", version, ("deployment", "version"))
    ]
    if challenger is not None:
        names.append(("challenger", challenger, ("deployment", "challenger", "version")))
        if challenger == version:
            out.append(
                Violation(
                    ("deployment", "challenger", "version"),
                    f"the challenger must be another version than {model.id}@{version}",
                )
            )
    for what, number, path in names:
        found = model.version(number)
        if found is None:
            out.append(Violation(path, f"deployment names version {number}, which does not exist"))
        elif found.stage == Stage.ARCHIVED:
            out.append(
                Violation(
                    path,
                    f"{what} {model.id}@{number} is archived; archived versions are not deployed",
                )
            )
    known = config.hardware if config is not None else {}
    if hardware is not None and known and hardware not in known:
        out.append(
            Violation(
                ("deployment", "hardware"),
                f"unknown hardware profile {hardware!r} "
                f"(modelreg.yaml has: {', '.join(sorted(known))})",
            )
        )
    return out


def enforce(violations: Sequence[Violation], subject: str = "") -> None:
    """Raise :class:`RuleViolationError` with every message of ``violations`` (if any)."""
    if violations:
        prefix = f"{subject}: " if subject else ""
        raise RuleViolationError("; ".join(prefix + v.message for v in violations))


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
        return deletion(old) if old is not None else []
    out: list[Violation] = []
    floor = max(retired, old.latest_version if old is not None else 0)
    if old is not None:
        out += _kept_versions(old, new)
        out += _kept_aliases(old, new)
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
        out += promotion(config, None, v, i)
    if old is not None:
        for i, v in enumerate(new.versions):
            before = old.version(v.version)
            if before is not None:
                out += promotion(config, before, v, i)
    return out


def _kept_aliases(old: Model, new: Model) -> list[Violation]:
    """An alias of the deployed version removed by editing the manifest: the library
    refuses that without ``force``, and a pull request may not do it unseen."""
    from modelreg.aliases import deployed_as

    out = []
    for name, number in sorted(old.aliases.items()):
        deployed = deployed_as(new, number) if name not in new.aliases else None
        if deployed is not None:
            out.append(
                Violation(
                    ("aliases",) if new.aliases else ("deployment",),
                    f"alias {name} was removed, but it names version {number}, which is "
                    f"{deployed}: keep the alias, move it (modelreg alias), or deploy "
                    "another version first",
                )
            )
    return out


def _below_first(first_version: int | None, v: Version, i: int) -> list[Violation]:
    """Version ``v`` (the ``i``-th) numbered below the model's ``first_version``."""
    if first_version is None or v.version >= first_version:
        return []
    why = (
        f"version {v.version} is below first_version {first_version}: "
        "numbers of a deleted model are never reused"
    )
    return [Violation(("versions", i, "version"), why)]


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
        if any(new.versions[j].released_part() == _filled(v, new.versions[j]) for j in found):
            continue
        i = found[0]
        after = new.versions[i]
        before_doc, after_doc = _filled(v, after), after.released_part()
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


def _filled(before: Version, after: Version) -> dict[str, Any]:
    """``before``'s released part, with the size and sha256 ``after`` records for an
    artifact (same URI) where ``before`` recorded none: recording them later (an
    artifact registered as given, then read by ``artifacts verify --fill``) describes
    the same bytes, so it is no change; any other difference still is."""
    doc = before.released_part()
    for role, artifact in (doc.get("artifacts") or {}).items():
        later = after.artifacts.get(role)
        if later is None or later.uri != artifact["uri"]:
            continue
        for key in ("size", "sha256"):
            if artifact.get(key) is None:
                artifact[key] = getattr(later, key)
    return doc


def _first_difference(before: Any, after: Any) -> tuple[str, ...]:
    """The key path, inside two mappings, of the first entry of ``after`` that differs
    (so a problem points at the changed line, not at the start of the block)."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ()
    for key, value in after.items():
        if before.get(key) != value:
            return (key, *_first_difference(before.get(key), value))
    return ()


def promotion(
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


def deletion(model: Model) -> list[Violation]:
    """What keeps ``model`` from being deleted: a deployment (the path is in ``model``,
    the state before the deletion)."""
    d = model.deployment
    if d is None:
        return []
    return [
        Violation(
            ("deployment",),
            f"model {model.id} cannot be deleted while deployed (version {d.version} on "
            f"{d.target}); undeploy it before deleting",
            in_base=True,
        )
    ]


def archiving(model: Model) -> list[Violation]:
    """What keeps ``model`` from being archived: a deployment."""
    if model.deployment is None:
        return []
    return [Violation(("archived",), f"{model.id} is deployed; undeploy it before archiving")]


def stage_move(
    model: Model, number: int, stage: Stage, config: RegistryConfig | None = None
) -> list[Violation]:
    """What keeps version ``number`` from moving to ``stage`` (the version exists): the
    promotion policy, and a deployed version cannot be archived."""
    i, before = next((i, v) for i, v in enumerate(model.versions) if v.version == number)
    d = model.deployment
    deployed = (d.version, d.challenger.version if d.challenger else None) if d else ()
    if stage == Stage.ARCHIVED and number in deployed:
        return [
            Violation(
                ("versions", i, "stage"),
                f"{model.id}@{number} is deployed; undeploy it before archiving",
            )
        ]
    return promotion(config, before, before.model_copy(update={"stage": stage}), i)
