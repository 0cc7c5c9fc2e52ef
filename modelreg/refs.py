"""Version references: ``churn-xgb@3``, ``@latest``, ``@production``, ``@v1.2.0``. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from modelreg.errors import NotFoundError, UsageError
from modelreg.manifest import Model, Stage, Version


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
    """The version a selector means: a number, ``latest``, a stage name, or a label."""
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
    labelled = [v for v in versions if v.label == selector]
    if not labelled:
        raise NotFoundError(f"{model.id} has no version labelled {selector!r}")
    return labelled[-1]
