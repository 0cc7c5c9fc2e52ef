"""The registry's rules on one manifest. Pure: a manifest in, violations out.

The change rules between two states of a registry (immutability of released
versions, numbers never reused) live in :mod:`modelreg.changes`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from modelreg.config import RegistryConfig
from modelreg.errors import Problem
from modelreg.manifest import Model, Stage
from modelreg.yamlio import Loaded


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


def problems_at(loaded: Loaded, violations: Iterable[Violation]) -> list[Problem]:
    """Violations placed at the line and column of their field in ``loaded``."""
    out = []
    for v in violations:
        message = v.message
        if v.also is not None:
            message += f" (the other is at line {loaded.locate(v.also)[0]})"
        out.append(loaded.problem(v.path, message))
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
                    f"version {v.version} appears twice (also versions[{seen[v.version]}]);"
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
        if model.first_version is not None and v.version < model.first_version:
            out.append(
                Violation(
                    ("versions", i, "version"),
                    f"version {v.version} is below first_version "
                    f"{model.first_version}: numbers of a deleted model are never reused",
                )
            )
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
        if model.archived:
            out.append(
                Violation(("archived",), "an archived model cannot be deployed; undeploy it first")
            )
        names = [("version", d.version)]
        if d.challenger is not None:
            names.append(("challenger", d.challenger.version))
            if d.challenger.version == d.version:
                out.append(
                    Violation(
                        ("deployment", "challenger", "version"),
                        "the challenger must be another version than the one deployed",
                    )
                )
        for field, number in names:
            path: tuple[str | int, ...] = (
                ("deployment", "version")
                if field == "version"
                else ("deployment", "challenger", "version")
            )
            found = model.version(number)
            if found is None:
                out.append(
                    Violation(path, f"deployment names version {number}, which does not exist")
                )
            elif found.stage == Stage.ARCHIVED:
                out.append(Violation(path, f"deployment names version {number}, which is archived"))
        if (
            config is not None
            and d.hardware is not None
            and config.hardware
            and d.hardware not in config.hardware
        ):
            out.append(
                Violation(
                    ("deployment", "hardware"),
                    f"unknown hardware profile {d.hardware!r} "
                    f"(modelreg.yaml has: {', '.join(sorted(config.hardware))})",
                )
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
