"""Aliases: free names (``champion``, ``shadow``, ``eu-prod``) pointing at one version
each, beside the fixed stages. Pure: a manifest in, the changed manifest out.

``MODEL@ALIAS`` resolves wherever a version reference is taken (see
:mod:`modelreg.refs`). A name is never both a stage and an alias; an alias that
names a deployed version is not removed without ``force``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelreg.errors import NotFoundError, RuleViolationError
from modelreg.vocabulary import check_alias_name

if TYPE_CHECKING:
    from modelreg.manifest import Model


def deployed_as(model: Model, number: int) -> str | None:
    """``deployed on kserve`` (or as challenger) when version ``number`` is deployed."""
    d = model.deployment
    if d is None:
        return None
    if d.version == number:
        return f"deployed on {d.target}"
    if d.challenger is not None and d.challenger.version == number:
        return f"deployed on {d.target} as challenger"
    return None


def set_alias(model: Model, name: str, number: int) -> tuple[Model, str]:
    """``model`` with ``name`` pointing at version ``number``, and what changed (a commit
    message). Raises :class:`RuleViolationError` for a bad name, :class:`NotFoundError`
    for a version that does not exist."""
    try:
        check_alias_name(name)
    except ValueError as exc:
        raise RuleViolationError(str(exc)) from None
    if model.version(number) is None:
        raise NotFoundError(
            f"{model.id} has no version {number} (latest is {model.latest_version})"
        )
    was = model.aliases.get(name)
    aliases = {**model.aliases, name: number}
    new = model.model_copy(update={"aliases": dict(sorted(aliases.items()))})
    how = f"moved from version {was} to {number}" if was is not None else f"set to version {number}"
    return new, f"{model.id}: alias {name} {how}"


def remove_alias(model: Model, name: str, *, force: bool = False) -> tuple[Model, str]:
    """``model`` without alias ``name``. Raises :class:`NotFoundError` if it has no such
    alias, :class:`RuleViolationError` if its version is deployed and not ``force``."""
    number = model.aliases.get(name)
    if number is None:
        known = ", ".join(sorted(model.aliases)) or "none"
        raise NotFoundError(f"{model.id} has no alias {name!r} (aliases: {known})")
    deployed = deployed_as(model, number)
    if deployed is not None and not force:
        raise RuleViolationError(
            f"alias {name} names version {number} of {model.id}, which is {deployed}: "
            "whoever refers to it by that name would lose it; move the alias to another "
            "version, or remove it with force (--force)"
        )
    aliases = {k: v for k, v in model.aliases.items() if k != name}
    note = f" ({deployed})" if deployed else ""
    return (
        model.model_copy(update={"aliases": aliases}),
        f"{model.id}: alias {name} removed (was version {number}){note}",
    )
