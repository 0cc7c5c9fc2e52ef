"""Version references: ``churn-xgb@3``, ``@latest``, ``@production``, ``@champion``
(an alias), ``@v1.2.0`` (a version label). Pure."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from modelreg.errors import NotFoundError, UsageError
from modelreg.vocabulary import Stage

if TYPE_CHECKING:
    from modelreg.manifest import Artifact, Model, Version


@dataclass(frozen=True)
class VersionRef:
    model_id: str
    selector: str | None  # None: the model itself

    @classmethod
    def parse(cls, text: str) -> VersionRef:
        model_id, at, selector = text.partition("@")
        if not model_id:
            raise UsageError(f"{text!r} names no model (expected MODEL or MODEL@VERSION)")
        if at and not selector:
            raise UsageError(
                f"{text!r} names no version after '@' (e.g. {model_id}@3, {model_id}@latest, "
                f"{model_id}@production, {model_id}@v1.2.0)"
            )
        return cls(model_id, selector or None)

    def __str__(self) -> str:
        return f"{self.model_id}@{self.selector}" if self.selector else self.model_id


def select(model: Model, selector: str | None) -> Version:
    """The version a selector means: a number, ``latest``, a stage name, an alias, or a
    version label (an alias wins over a label of the same name)."""
    versions = model.versions
    if not versions:
        raise NotFoundError(f"{model.id} has no versions yet")
    if selector is None or selector == "latest":
        live = [v for v in versions if v.stage != Stage.ARCHIVED]
        return (live or versions)[-1]
    if selector.isdigit():
        found = model.version(int(selector))
        if found is None:
            raise NotFoundError(
                f"{model.id} has no version {selector} (latest is {model.latest_version})"
            )
        return found
    stages = {s.value for s in Stage}
    if selector in stages:
        in_stage = model.in_stage(Stage(selector))
        if not in_stage:
            raise NotFoundError(f"{model.id} has no version in stage {selector}")
        return in_stage[-1]
    if selector in model.aliases:
        number = model.aliases[selector]
        found = model.version(number)
        if found is None:
            raise NotFoundError(
                f"{model.id}: alias {selector} names version {number}, which does not exist"
            )
        return found
    labelled = [v for v in versions if v.label == selector]
    if not labelled:
        known = ", ".join(sorted(model.aliases)) or "none"
        raise NotFoundError(
            f"{model.id} has no version, stage, alias or label {selector!r} (aliases: {known})"
        )
    return labelled[-1]


def artifacts(
    spec: str | None, get: Callable[[str], Model], every: Callable[[], Iterable[Model]]
) -> list[tuple[str, Artifact]]:
    """``("model@version/role", artifact)`` for every artifact (``spec`` None), of one
    model (``"churn-xgb"``) or of one version (``"churn-xgb@production"``)."""
    ref = VersionRef.parse(spec) if spec is not None else None
    models = list(every()) if ref is None else [get(ref.model_id)]
    chosen = [
        (m, v)
        for m in models
        for v in (m.versions if ref is None or ref.selector is None else [select(m, ref.selector)])
    ]
    return [
        (artifact_label(m.id, v.version, r), a) for m, v in chosen for r, a in v.artifacts.items()
    ]


def artifact_label(model_id: str, number: int, role: str) -> str:
    """How an artifact is named in listings and results: ``churn-xgb@3/model``."""
    return f"{model_id}@{number}/{role}"


def parse_artifact_label(label: str) -> tuple[str, int, str]:
    """``churn-xgb@3/model`` -> (model id, version number, role). Raises :class:`UsageError`."""
    model_id, _, rest = label.partition("@")
    number, _, role = rest.partition("/")
    if not (model_id and number.isdigit() and role):
        raise UsageError(f"{label!r} names no artifact (expected MODEL@NUMBER/ROLE)")
    return model_id, int(number), role


def downloads(
    model: Model, version: Version, roles: Sequence[str], dest: Path
) -> list[tuple[Artifact, Path]]:
    """Each artifact of ``roles`` (all when empty) with where it goes below ``dest``:
    ``dest/<role>/<file name>``. Raises :class:`NotFoundError` for an unknown role."""
    unknown = [r for r in roles if r not in version.artifacts]
    if unknown:
        have = ", ".join(version.artifacts) or "none"
        raise NotFoundError(
            f"{model.id}@{version.version} has no artifact {', '.join(unknown)} (has: {have})"
        )
    out = []
    for role in list(roles) or list(version.artifacts):
        artifact = version.artifacts[role]
        out.append((artifact, dest / role / artifact.uri.rstrip("/").rsplit("/", 1)[-1]))
    return out
