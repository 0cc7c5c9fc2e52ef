"""Listing: filters, sort, pagination over manifests. Pure."""

from __future__ import annotations

import datetime as dt
import marshal
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from modelreg.errors import UsageError
from modelreg.vocabulary import Framework, Source, Stage, Status
from modelreg.where import WhereError, label_holds, label_selector

if TYPE_CHECKING:
    from modelreg.manifest import Model, Version

T = TypeVar("T")


@dataclass(frozen=True)
class Summary:
    """What listing needs of a model (filters, sort keys), without its versions."""

    id: str
    name: str
    description: str
    framework: str
    source: str | None
    type: str | None
    status: str
    owner: str | None
    organization: str | None
    workspace: str | None
    customer: str | None
    tags: tuple[str, ...]
    stages: frozenset[str]
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    latest_version: int
    # for version search: the model's labels and aliases, and each version's searchable
    # fields as JSON data (see ``ROW_FIELDS``), so no manifest is parsed to search them
    labels: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, int] = field(default_factory=dict)
    rows: tuple[dict[str, Any], ...] = field(default=(), compare=False)
    production: int | None = None  # the number of the version in production

    @classmethod
    def of(cls, model: Model) -> Summary:
        rows = model.model_dump(mode="json", include={"versions": {"__all__": set(ROW_FIELDS)}})
        return cls(
            model.id,
            model.name,
            model.description,
            model.framework.value,
            model.source.value if model.source else None,
            model.type,
            model.status.value,
            model.owner,
            model.organization,
            model.workspace,
            model.customer,
            tuple(model.tags),
            frozenset(model.stages),
            model.created_at,
            model.updated_at,
            model.latest_version,
            dict(model.labels),
            dict(model.aliases),
            tuple(rows["versions"]),
            model.production.version if model.production else None,
        )

    def appended(self, versions: Sequence[Version]) -> Summary:
        """The summary of this model with ``versions`` appended, none of them in
        production (the model's status, production version and aliases stay as they are):
        what :meth:`of` gives for the longer model, without building it."""
        rows = tuple(v.model_dump(mode="json", include=set(ROW_FIELDS)) for v in versions)
        times = [t for t in (self.updated_at, *(v.created_at for v in versions)) if t]
        return replace(
            self,
            stages=self.stages | {v.stage.value for v in versions},
            updated_at=max(times) if times else None,
            latest_version=max((self.latest_version, *(v.version for v in versions))),
            rows=self.rows + rows,
        )

    def to_tuple(self, rows: bool = True) -> tuple[Any, ...]:
        """Plain values only (for ``marshal``): times as epoch seconds; the version rows
        (unless not asked for) packed as bytes: thousands of small dicts would cost many
        times their size in memory, and in time to load."""
        return (
            *(getattr(self, f) for f in _PLAIN),
            tuple(self.tags),
            tuple(self.stages),
            _epoch(self.created_at),
            _epoch(self.updated_at),
            self.latest_version,
            dict(self.labels),
            dict(self.aliases),
            marshal.dumps(list(self.rows)) if rows else b"",
            self.production,
        )

    @classmethod
    def from_tuple(cls, data: tuple[Any, ...]) -> Summary:
        n = len(_PLAIN)
        plain = dict(zip(_PLAIN, data[:n], strict=True))
        return cls(
            **plain,
            tags=tuple(data[n]),
            stages=frozenset(data[n + 1]),
            created_at=_time(data[n + 2]),
            updated_at=_time(data[n + 3]),
            latest_version=data[n + 4],
            labels=data[n + 5],
            aliases=data[n + 6],
            rows=tuple(marshal.loads(data[n + 7])) if data[n + 7] else (),
            production=data[n + 8],
        )


# the fields of a version a summary keeps for version search
ROW_FIELDS = (
    "version",
    "label",
    "description",
    "stage",
    "created_at",
    "metrics",
    "tags",
    "labels",
)

_PLAIN = (
    "id",
    "name",
    "description",
    "framework",
    "source",
    "type",
    "status",
    "owner",
    "organization",
    "workspace",
    "customer",
)


# every listed field but the description
SORT_FIELDS = (*_PLAIN[:2], *_PLAIN[3:], "created_at", "updated_at", "latest_version")


def _epoch(t: dt.datetime | None) -> float | None:
    return None if t is None else t.timestamp()


def _time(t: float | None) -> dt.datetime | None:
    return None if t is None else dt.datetime.fromtimestamp(t, dt.timezone.utc)


Listable = TypeVar("Listable", "Model", "Summary")

FILTERS = (
    "framework",
    "source",
    "type",
    "status",
    "stage",
    "tag",
    "label",
    "owner",
    "organization",
    "workspace",
    "customer",
)


class QueryError(UsageError):
    """A query that cannot be right: an unknown filter, sort key or value."""


# filters over closed vocabularies: a value outside them is a mistake, not an empty result
CLOSED_FILTERS: dict[str, tuple[str, ...]] = {
    "framework": tuple(f.value for f in Framework),
    "source": tuple(s.value for s in Source),
    "status": tuple(s.value for s in Status),
    "stage": tuple(s.value for s in Stage),
}


@dataclass(frozen=True)
class Query:
    """What to list. Several values of one filter mean OR; different filters mean AND.
    ``label`` values (``KEY=VALUE`` or ``KEY``: set to anything) are a selector: all hold."""

    search: str | None = None
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str = "id"
    limit: int | None = None
    offset: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.filters) - set(FILTERS)
        if unknown:
            raise QueryError(f"unknown filter {sorted(unknown)[0]!r} (known: {', '.join(FILTERS)})")
        for name, known in CLOSED_FILTERS.items():
            for value in self.filters.get(name, ()):
                if value not in known:
                    raise QueryError(f"no {name} is {value!r} (known: {', '.join(known)})")
        for text in self.filters.get("label", ()):
            try:
                label_selector(text)
            except WhereError as exc:
                raise QueryError(str(exc)) from None
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


def _has(model: Model | Summary, name: str, wanted: tuple[str, ...]) -> bool:
    if name == "tag":
        return any(t in wanted for t in model.tags)
    if name == "stage":
        return any(s in wanted for s in model.stages)
    if name == "label":  # a selector: every requirement holds
        return all(
            label_holds(model.labels.get(key), value)
            for key, value in (label_selector(text) for text in wanted)
        )
    value = getattr(model, name)
    return value is not None and getattr(value, "value", value) in wanted


def matches(model: Model | Summary, query: Query) -> bool:
    """The model passes every filter of ``query`` (and its search, in id, name, description)."""
    if query.search:
        needle = query.search.lower()
        hay = f"{model.id}\n{model.name}\n{model.description}".lower()
        if needle not in hay:
            return False
    return all(not wanted or _has(model, name, wanted) for name, wanted in query.filters.items())


def _sort_key(model: Model | Summary, name: str) -> tuple[int, Any]:
    value = getattr(model, name)
    value = getattr(value, "value", value)
    if value is None:
        return (1, "")
    return (0, value.casefold() if name == "name" else value)


def order(models: Iterable[Listable], sort: str) -> list[Listable]:
    """``models`` sorted by ``sort`` (see :func:`parse_sort`): ties broken by id, so pages
    are stable, and models without the field last in either direction."""
    name, desc = parse_sort(sort)
    found = sorted(models, key=lambda m: m.id)
    found.sort(key=lambda m: _sort_key(m, name), reverse=desc)
    if desc:  # keep ids ascending among equals, missing values last
        found.sort(key=lambda m: _sort_key(m, name)[0])
    return found


def apply(models: Iterable[Listable], query: Query) -> Page[Listable]:
    """Filter, sort and cut one page."""
    found = order((m for m in models if matches(m, query)), query.sort)
    end = None if query.limit is None else query.offset + query.limit
    return Page(found[query.offset : end], len(found), query.limit, query.offset)
