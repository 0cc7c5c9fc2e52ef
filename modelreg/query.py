"""Listing: filters, sort, pagination over manifests. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from modelreg.errors import ModelregError
from modelreg.manifest import Model

T = TypeVar("T")

FILTERS = (
    "framework",
    "source",
    "type",
    "status",
    "stage",
    "tag",
    "owner",
    "organization",
    "workspace",
    "customer",
)
SORT_FIELDS = (
    "id",
    "name",
    "framework",
    "source",
    "type",
    "status",
    "owner",
    "organization",
    "workspace",
    "customer",
    "created_at",
    "updated_at",
    "latest_version",
)


class QueryError(ModelregError):
    exit_code = 2


@dataclass(frozen=True)
class Query:
    """What to list. Several values of one filter mean OR; different filters mean AND."""

    search: str | None = None
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str = "id"
    limit: int | None = None
    offset: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.filters) - set(FILTERS)
        if unknown:
            raise QueryError(f"unknown filter {sorted(unknown)[0]!r} (known: {', '.join(FILTERS)})")
        key, _ = parse_sort(self.sort)
        if self.offset < 0 or (self.limit is not None and self.limit < 0):
            raise QueryError("limit and offset must not be negative")
        del key


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    limit: int | None
    offset: int


def parse_sort(spec: str) -> tuple[str, bool]:
    """``name``, ``-name``, ``name:desc``, ``createdAt:asc`` -> (field, descending)."""
    desc = spec.startswith("-")
    spec = spec.lstrip("-")
    name, _, direction = spec.partition(":")
    if direction not in ("", "asc", "desc"):
        raise QueryError(f"sort direction must be asc or desc, not {direction!r}")
    desc = desc or direction == "desc"
    snake = "".join("_" + c.lower() if c.isupper() else c for c in name)
    if snake not in SORT_FIELDS:
        raise QueryError(f"cannot sort on {name!r} (fields: {', '.join(SORT_FIELDS)})")
    return snake, desc


def _values(model: Model, name: str) -> set[str]:
    if name == "tag":
        return set(model.tags)
    if name == "stage":
        return {v.stage.value for v in model.versions}
    value = getattr(model, name)
    if value is None:
        return set()
    return {getattr(value, "value", str(value))}


def matches(model: Model, query: Query) -> bool:
    if query.search:
        needle = query.search.lower()
        hay = f"{model.id}\n{model.name}\n{model.description}".lower()
        if needle not in hay:
            return False
    for name, wanted in query.filters.items():
        if wanted and not (_values(model, name) & set(wanted)):
            return False
    return True


def _sort_key(model: Model, name: str) -> tuple[int, Any]:
    value = getattr(model, name)
    value = getattr(value, "value", value)
    return (1, "") if value is None else (0, value)


def apply(models: Iterable[Model], query: Query) -> Page[Model]:
    """Filter, sort (ties broken by id, so pages are stable) and cut one page."""
    name, desc = parse_sort(query.sort)
    found = sorted((m for m in models if matches(m, query)), key=lambda m: m.id)
    found.sort(key=lambda m: _sort_key(m, name), reverse=desc)
    if desc:  # keep ids ascending among equals, missing values last
        found.sort(key=lambda m: _sort_key(m, name)[0])
    end = None if query.limit is None else query.offset + query.limit
    return Page(found[query.offset : end], len(found), query.limit, query.offset)
