"""The static HTML catalog: an index page and one page per model, beside the JSON.

The one home of Jinja2. Templates autoescape everything; the only markup that is
not escaped is what this package builds itself (SVG charts from numbers, cards
rendered by :mod:`modelreg.cards` with raw HTML disabled). The index embeds its
data as JSON in a ``<script type="application/json">`` with ``<``, ``>`` and ``&``
escaped, so no value can close the element. Works offline and from any static
host: no CDN, no framework, relative links only.

Layout under the export's DEST::

    index.html              search, filters, sortable table (assets/site.js)
    models/<id>.html        card, versions, charts, timeline, lineage, deployment
    assets/site.css, assets/site.js
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from modelreg import cards
from modelreg.catalog import Catalog, Entry, dumps, iso
from modelreg.events import StagePeriod
from modelreg.site import tables
from modelreg.site.chart import line_chart, split_bar
from modelreg.vocabulary import ID_PATTERN, Stage

if TYPE_CHECKING:
    from modelreg.manifest import Model

ASSETS = ("assets/site.css", "assets/site.js")
TIMELINE_STAGES = (Stage.PRODUCTION, Stage.CHALLENGER, Stage.STAGING)


@dataclass(frozen=True)
class Timeline:
    """Who held a stage (or an alias) from when to when, for one model."""

    name: str  # "production", or "alias champion"
    periods: tuple[StagePeriod, ...]


@dataclass(frozen=True)
class SiteInput:
    """What the pages show besides the catalog: cards, timelines, links to the git host.

    ``history_url`` is a URL prefix to which ``models/<id>/model.yaml`` is appended
    (the manifest's history on the git host), or None when the remote is not known.
    """

    catalog: Catalog
    cards: Mapping[str, str] = field(default_factory=dict)
    timelines: Mapping[str, Sequence[Timeline]] = field(default_factory=dict)
    history_url: str | None = None
    commit_url: str | None = None  # prefix for a commit sha
    generated: str | None = None


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("modelreg.site", "templates"),
        autoescape=True,  # every template, whatever its name
        auto_reload=False,  # templates are package data: no stat per render
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = tables.when
    return env


def _json_for_html(data: Any) -> Markup:
    """JSON safe inside a ``<script type="application/json">`` element."""
    raw = dumps(data).decode()
    raw = raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(raw)


def _labels(model: Model) -> list[str]:
    return [f"{k}={v}" for k, v in sorted(model.labels.items())]


def _stages(model: Model) -> list[str]:
    return sorted({v.stage.value for v in model.versions})


def _row(e: Entry) -> dict[str, Any]:
    m = e.model
    prod = m.production
    return {
        "id": m.id,
        "name": m.name,
        "description": m.description,
        "framework": m.framework.value,
        "source": m.source.value if m.source else "",
        "status": m.status.value,
        "stages": _stages(m),
        "tags": list(m.tags),
        "labels": _labels(m),
        "customer": m.customer or "",
        "versions": len(m.versions),
        "latest": m.latest_version,
        "production": prod.version if prod else None,
        "updated": iso(e.updated) or "",
    }


def _options(rows: Sequence[dict[str, Any]], key: str) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for row in rows:
        value = row[key]
        for v in value if isinstance(value, list) else [value]:
            if v:
                counts[v] = counts.get(v, 0) + 1
    return sorted(counts.items())


FILTERS = (
    ("framework", "Framework"),
    ("source", "Source"),
    ("status", "Status"),
    ("stages", "Stage"),
    ("tags", "Tag"),
    ("labels", "Label"),
    ("customer", "Customer"),
)


def _charts(model: Model, names: Sequence[str]) -> list[tuple[str, Markup]]:
    out = []
    for name in names:
        points = [(v.version, v.metrics[name]) for v in model.versions if name in v.metrics]
        out.append((name, Markup(line_chart(name, points))))  # built escaped
    return out


def _children(catalog: Catalog) -> dict[str, list[tuple[str, int, int]]]:
    """model id -> (child model id, child version, parent version), from lineage parents."""
    out: dict[str, list[tuple[str, int, int]]] = {}
    for e in catalog.entries:
        for v in e.model.versions:
            parent = v.lineage.parent if v.lineage is not None else None
            if parent:
                pid, _, number = parent.partition("@")
                out.setdefault(pid, []).append((e.id, v.version, int(number)))
    return out


def _lineage(model: Model) -> list[dict[str, Any]]:
    """Per version (newest first) what its lineage records; a parent (``MODEL@NUMBER``,
    checked by the manifest's schema) gets a link to its page."""
    out: list[dict[str, Any]] = []
    for v in reversed(model.versions):
        lin = v.lineage
        if lin is None:
            continue
        parent_id = lin.parent.partition("@")[0] if lin.parent else None
        out.append(
            {
                "version": v.version,
                "parent": lin.parent,
                "parent_page": f"{parent_id}.html"
                if parent_id and re.fullmatch(ID_PATTERN, parent_id)
                else None,
                "code": lin.code,
                "run": lin.run,
                "datasets": lin.datasets,
            }
        )
    return out


def _aliases(model: Model) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for name, number in sorted(model.aliases.items()):
        out.setdefault(number, []).append(name)
    return out


def render(site: SiteInput) -> dict[str, bytes]:
    """Every file of the HTML catalog, path -> bytes."""
    env = _env()
    catalog = site.catalog
    rows = [_row(e) for e in catalog.entries]
    files: dict[str, bytes] = {}
    for asset in ASSETS:
        files[asset] = (
            resources.files("modelreg.site") / "static" / asset.split("/")[1]
        ).read_bytes()
    common = {"commit": catalog.commit, "ref": catalog.ref, "generated": site.generated}
    filters = [(key, title, _options(rows, key)) for key, title in FILTERS]
    files["index.html"] = (
        env.get_template("index.html")
        .render(
            root="",
            rows=rows,
            index_rows=tables.index_rows(rows),
            filters=filters,
            data=_json_for_html({"models": rows}),
            **common,
        )
        .encode()
    )
    page = env.get_template("model.html")
    children = _children(catalog)
    for e in catalog.entries:
        m = e.model
        card = site.cards.get(m.id)
        names = _metric_names(m)
        aliases = _aliases(m)
        files[f"models/{m.id}.html"] = page.render(
            root="../",
            entry=e,
            m=m,
            labels=_labels(m),
            version_rows=tables.version_rows(m, names, aliases),
            lineage=_lineage(m),
            card=Markup(cards.to_html(card)) if card else None,
            metric_names=names,
            charts=_charts(m, names),
            timelines=site.timelines.get(m.id, ()),
            children=children.get(m.id, []),
            split=_split(m),
            history_url=f"{site.history_url}models/{m.id}/model.yaml" if site.history_url else None,
            commit_url=site.commit_url,
            # no commit on a model's page: it changes only when the model does, so a
            # re-export uploads the pages of changed models only
            commit=None,
            ref=None,
            generated=None,
        ).encode()
    return files


def _metric_names(model: Model) -> list[str]:
    names: list[str] = []
    for v in model.versions:
        names.extend(k for k in v.metrics if k not in names)
    return names


def _split(model: Model) -> Markup | None:
    d = model.deployment
    if d is None:
        return None
    if d.challenger is None:
        return Markup(split_bar([(f"v{d.version}", 100)]))
    share = d.challenger.traffic_percent
    return Markup(split_bar([(f"v{d.version}", 100 - share), (f"v{d.challenger.version}", share)]))


__all__ = ["SiteInput", "Timeline", "render"]
