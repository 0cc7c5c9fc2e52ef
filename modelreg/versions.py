"""Version search across models: filters, conditions, sort, pagination. Pure.

Works on manifests as plain JSON data (what the manifest cache holds), so that a
search over thousands of versions validates no model: only the versions of the
page are built by the registry afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from modelreg.query import ROW_FIELDS, Page, Summary
from modelreg.vocabulary import Stage
from modelreg.where import (
    MODEL_FIELDS,
    Condition,
    WhereError,
    check_field,
    label_holds,
    label_selector,
    lookup,
)

if TYPE_CHECKING:
    from modelreg.manifest import Model, Version

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
            label_selector(label)
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
    return getter(name)(model, version)


Getter = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]


def getter(name: str) -> Getter:
    """A function reading field ``name`` from (model, version) JSON data: built once
    per query, so the loop over thousands of versions does no parsing of names."""
    if name.startswith("model."):
        name = "model" if name == "model.id" else name[6:]
    if name == "model":
        return lambda m, v: m.get("id")
    if name == "status":
        return lambda m, v: _status(m)
    if name in MODEL_FIELDS:
        return lambda m, v: m.get(name)
    if name == "stage":
        return lambda m, v: v.get("stage", "none")
    if name.startswith("labels."):  # keys hold dots and slashes: no path walk
        key = name[7:]

        def label(m: Mapping[str, Any], v: Mapping[str, Any]) -> Any:
            found = (v.get("labels") or {}).get(key)
            return (m.get("labels") or {}).get(key) if found is None else found

        return label
    head, _, rest = name.partition(".")
    if rest and "." not in rest:

        def one_step(m: Mapping[str, Any], v: Mapping[str, Any]) -> Any:
            inner = v.get(head)
            return inner.get(rest) if isinstance(inner, dict) else None

        return one_step
    return lambda m, v: lookup(v, name)


def needs_manifests(query: VersionQuery) -> bool:
    """Whether ``query`` reads fields a :class:`~modelreg.query.Summary` does not keep
    (hyperparameters, training, lineage): then search the full manifests."""
    kept = {*ROW_FIELDS, *MODEL_FIELDS, "model", "status"}
    for name in [c.field for c in query.where] + [parse_sort(query.sort)[0]]:
        if not (name in kept or name.startswith(("labels.", "metrics.", "model."))):
            return True
    return False


def document(summary: Summary) -> dict[str, Any]:
    """The JSON data search reads, from a listing summary (no manifest parsed)."""
    return {
        "id": summary.id,
        "name": summary.name,
        "framework": summary.framework,
        "source": summary.source,
        "type": summary.type,
        "status": summary.status,
        "owner": summary.owner,
        "organization": summary.organization,
        "workspace": summary.workspace,
        "customer": summary.customer,
        "tags": summary.tags,
        "labels": summary.labels,
        "aliases": summary.aliases,
        "versions": summary.rows,
    }


def _status(model: Mapping[str, Any]) -> str:
    if "status" in model:
        return str(model["status"])
    if model.get("archived"):
        return "archived"
    return "deployed" if model.get("deployment") else "registered"


def _sort_key(value: Any) -> tuple[int, Any]:
    # numbers, then text, then what is missing (or not comparable)
    if isinstance(value, bool):
        return (1, str(value).lower())
    if isinstance(value, (int, float)):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, "")


def _model_test(query: VersionQuery) -> Callable[[Mapping[str, Any]], bool]:
    """What a model must hold for any of its versions to match."""
    f = query.filters
    wanted = [(getter(n), set(f[n])) for n in ("model", *MODEL_FIELDS[1:]) if f.get(n)]

    def test(model: Mapping[str, Any]) -> bool:
        return all(get(model, model) in values for get, values in wanted)

    return test


def search(models: Iterable[Mapping[str, Any]], query: VersionQuery) -> Page[tuple[str, int]]:
    """One page of (model id, version number) that match ``query``, with the total.

    ``models`` are manifests as JSON data (``Model.model_dump(mode="json", by_alias=True)``,
    or :func:`document` of a summary).
    """
    name, desc = parse_sort(query.sort)
    sort_get = None if name == DEFAULT_SORT else getter(name)
    conditions = [(c.test, getter(c.field)) for c in query.where]
    f = query.filters
    stages = set(f.get("stage", ()))
    wanted_aliases = set(f.get("alias", ()))
    tags = set(f.get("tag", ()))
    labels = [
        (getter("labels." + k), v) for k, v in (label_selector(x) for x in f.get("label", ()))
    ]
    needle = query.search.lower() if query.search else None
    model_ok = _model_test(query)
    found: list[tuple[tuple[str, int], Any]] = []
    for model in models:
        if not model_ok(model):
            continue
        model_id = model["id"]
        chosen: set[int] | None = None
        if wanted_aliases:
            chosen = {n for a, n in (model.get("aliases") or {}).items() if a in wanted_aliases}
            if not chosen:
                continue
        model_tags = set(model.get("tags") or ())
        model_text = f"{model_id}\n{model.get('name') or ''}".lower() if needle else ""
        for version in model.get("versions") or ():
            number = version["version"]
            if chosen is not None and number not in chosen:
                continue
            if stages and version.get("stage", "none") not in stages:
                continue
            if tags and not tags & (model_tags | set(version.get("tags") or ())):
                continue
            if labels and not all(label_holds(get(model, version), v) for get, v in labels):
                continue
            if needle:
                label, about = version.get("label") or "", version.get("description") or ""
                if needle not in f"{model_text}\n{label}\n{about}".lower():
                    continue
            if conditions and not all(test(get(model, version)) for test, get in conditions):
                continue
            found.append(((model_id, number), sort_get(model, version) if sort_get else None))
    found.sort(key=lambda item: item[0])
    if sort_get is not None:
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


class Reader(Protocol):
    """What a search reads: a snapshot, or a transaction with its pending changes."""

    def search_documents(self, full: bool) -> Iterable[Mapping[str, Any]]: ...

    def get(self, model_id: str) -> Model: ...

    def documents(self, ids: Iterable[str]) -> dict[str, Mapping[str, Any]]: ...


def find(reader: Reader, query: VersionQuery) -> Page[Hit]:
    """One page of the versions that match ``query``, with the total. Filters and sort
    read ``reader``'s documents; only the models of the page are built."""
    page = search(reader.search_documents(needs_manifests(query)), query)
    models = {model_id: reader.get(model_id) for model_id, _ in page.items}
    return Page(hits(models, page.items), page.total, page.limit, page.offset)


def find_json(reader: Reader, query: VersionQuery) -> Page[dict[str, Any]]:
    """Like :func:`find`, each version found as :meth:`Hit.to_dict` gives it, made from
    the manifests' JSON data: no model is built."""
    page = search(reader.search_documents(needs_manifests(query)), query)
    docs = reader.documents({model_id for model_id, _ in page.items})
    found = [hit_json(docs[model_id], number) for model_id, number in page.items]
    return Page(found, page.total, page.limit, page.offset)


def hit_json(doc: Mapping[str, Any], number: int) -> dict[str, Any]:
    """Version ``number`` of the model whose manifest's JSON data is ``doc``, as
    :meth:`Hit.to_dict` gives it."""
    version = next(v for v in doc["versions"] if v["version"] == number)
    aliases = sorted(a for a, n in doc.get("aliases", {}).items() if n == number)
    model_id = doc["id"]
    ref = f"{model_id}@{number}"
    return {"model": model_id, "model_name": doc["name"], "ref": ref, "aliases": aliases, **version}
