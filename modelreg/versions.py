"""Version search across models: filters, conditions, sort, pagination. Pure.

Works on manifests as plain JSON data (what the manifest cache holds), so that a
search over thousands of versions validates no model: only the versions of the
page are built by the registry afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelreg.manifest import Model, Stage, Version
from modelreg.query import Page
from modelreg.where import MODEL_FIELDS, Condition, WhereError, check_field, lookup

# the filters of a version search besides --where; values of one filter are OR-ed,
# different filters AND-ed; ``label`` values are all required (a label selector)
FILTERS = ("model", "stage", "alias", "label", "tag", *MODEL_FIELDS[1:])
DEFAULT_SORT = "model"  # model id, then version number


@dataclass(frozen=True)
class VersionQuery:
    """Which versions to list. ``where`` conditions are AND-ed; ``sort`` is any field a
    condition may use (``-metrics.accuracy``: descending), ties by model id and version."""

    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    where: tuple[Condition, ...] = ()
    search: str | None = None
    sort: str = DEFAULT_SORT
    limit: int | None = None
    offset: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.filters) - set(FILTERS)
        if unknown:
            raise WhereError(f"unknown filter {sorted(unknown)[0]!r} (known: {', '.join(FILTERS)})")
        bad = [s for s in self.filters.get("stage", ()) if s not in {x.value for x in Stage}]
        if bad:
            raise WhereError(
                f"unknown stage {bad[0]!r} (stages: {', '.join(s.value for s in Stage)})"
            )
        for label in self.filters.get("label", ()):
            key, _, _ = label.partition("=")
            if not key:
                raise WhereError(f"label filter {label!r} names no key (use KEY or KEY=VALUE)")
        parse_sort(self.sort)
        if self.offset < 0 or (self.limit is not None and self.limit < 0):
            raise WhereError("limit and offset must not be negative")


@dataclass(frozen=True)
class Hit:
    """One version found, with its model."""

    model: Model
    version: Version

    @property
    def ref(self) -> str:
        return f"{self.model.id}@{self.version.version}"

    @property
    def aliases(self) -> list[str]:
        return self.model.aliases_of(self.version.version)

    def to_dict(self) -> dict[str, Any]:
        """The version as in the manifest, with its model's id, name and aliases."""
        doc = self.version.model_dump(mode="json", exclude_none=True)
        return {
            "model": self.model.id,
            "model_name": self.model.name,
            "ref": self.ref,
            "aliases": self.aliases,
            **doc,
        }


def parse_sort(spec: str) -> tuple[str, bool]:
    """``metrics.accuracy``, ``-metrics.accuracy``, ``created_at:desc`` -> (field, descending)."""
    desc = spec.startswith("-")
    name, _, direction = spec.lstrip("-").partition(":")
    if direction not in ("", "asc", "desc"):
        raise WhereError(f"sort direction must be asc or desc, not {direction!r}")
    snake = name if "." in name else "".join("_" + c.lower() if c.isupper() else c for c in name)
    return check_field(snake), desc or direction == "desc"


def value_of(model: Mapping[str, Any], version: Mapping[str, Any], name: str) -> Any:
    """A field of one version (model fields come from its model), ``None`` if missing."""
    if name.startswith("model."):
        name = name[6:]
        if name == "id":
            return model.get("id")
    if name == "model":
        return model.get("id")
    if name == "status":
        return _status(model)
    if name in MODEL_FIELDS:
        return model.get(name)
    if name == "stage":
        return version.get("stage", "none")
    if name.startswith("labels."):  # keys hold dots and slashes: no path walk
        key = name[7:]
        found = version.get("labels", {}).get(key)
        return model.get("labels", {}).get(key) if found is None else found
    return lookup(version, name)


def _status(model: Mapping[str, Any]) -> str:
    if model.get("archived"):
        return "archived"
    return "deployed" if model.get("deployment") else "registered"


def _matches(
    model: Mapping[str, Any], version: Mapping[str, Any], query: VersionQuery, aliases: set[str]
) -> bool:
    f = query.filters
    if f.get("model") and model["id"] not in f["model"]:
        return False
    if f.get("stage") and version.get("stage", "none") not in f["stage"]:
        return False
    if f.get("alias") and not aliases & set(f["alias"]):
        return False
    if f.get("tag") and not set(f["tag"]) & {*version.get("tags", ()), *model.get("tags", ())}:
        return False
    for label in f.get("label", ()):
        key, has_value, wanted = label.partition("=")
        found = value_of(model, version, "labels." + key)
        if found is None or (has_value and found != wanted):
            return False
    for name in MODEL_FIELDS[1:]:
        wanted_values = f.get(name)
        if wanted_values and value_of(model, version, name) not in wanted_values:
            return False
    if query.search:
        needle = query.search.lower()
        hay = "\n".join(
            str(x or "")
            for x in (
                model["id"],
                model.get("name"),
                version.get("label"),
                version.get("description"),
            )
        ).lower()
        if needle not in hay:
            return False
    return all(c.test(value_of(model, version, c.field)) for c in query.where)


def _sort_key(value: Any) -> tuple[int, Any]:
    # numbers, then text, then what is missing (or not comparable)
    if isinstance(value, bool):
        return (1, str(value).lower())
    if isinstance(value, (int, float)):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, "")


def search(models: Iterable[Mapping[str, Any]], query: VersionQuery) -> Page[tuple[str, int]]:
    """One page of (model id, version number) that match ``query``, with the total.

    ``models`` are manifests as JSON data (``Model.model_dump(mode="json", by_alias=True)``).
    """
    name, desc = parse_sort(query.sort)
    found: list[tuple[tuple[str, int], Any]] = []
    for model in models:
        by_number: dict[int, set[str]] = {}
        for alias, n in model.get("aliases", {}).items():
            by_number.setdefault(n, set()).add(alias)
        for version in model.get("versions", ()):
            number = version["version"]
            if _matches(model, version, query, by_number.get(number, set())):
                key = None if name == DEFAULT_SORT else value_of(model, version, name)
                found.append(((model["id"], number), key))
    found.sort(key=lambda item: item[0])
    if name != DEFAULT_SORT:
        found.sort(key=lambda item: _sort_key(item[1]), reverse=desc)
        if desc:  # missing values last, ties still by model and version ascending
            found.sort(key=lambda item: _sort_key(item[1])[0] == 2)
    elif desc:
        found.reverse()
    end = None if query.limit is None else query.offset + query.limit
    items = [ref for ref, _ in found[query.offset : end]]
    return Page(items, len(found), query.limit, query.offset)


def hits(models: Mapping[str, Model], refs: Sequence[tuple[str, int]]) -> list[Hit]:
    """The found versions as (model, version) objects."""
    out = []
    for model_id, number in refs:
        model = models[model_id]
        version = model.version(number)
        assert version is not None
        out.append(Hit(model, version))
    return out
