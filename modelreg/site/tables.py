"""The two big tables (a model's versions, the index's models) as HTML, built in Python.

They are most of a page's markup and of an export's time: joining escaped strings
here costs a third of the same loop in a template. Every value goes through
``markupsafe.escape`` (what Jinja2's autoescaping calls); the result is Markup.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

if TYPE_CHECKING:
    from modelreg.manifest import Model


def when(value: dt.datetime | int | None) -> str:
    """``2025-02-01 09:00`` (UTC), from a datetime or epoch seconds."""
    if value is None:
        return ""
    if isinstance(value, int):
        value = dt.datetime.fromtimestamp(value, dt.timezone.utc)
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M")


def size(value: int | None) -> str:
    """``6.8 KiB``: bytes in binary units."""
    if value is None:
        return ""
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024:
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TiB"


def num(value: float) -> str:
    return f"{value:.4g}"


def version_rows(
    model: Model, metric_names: Sequence[str], aliases: Mapping[int, Sequence[str]]
) -> Markup:
    """The ``<tr>`` of every version, newest first."""
    out: list[str] = []
    for v in reversed(model.versions):
        desc = f'<div class="desc">{escape(v.description)}</div>' if v.description else ""
        stage = v.stage.value
        cells = [
            f'<tr data-version="{v.version}"><td>v{v.version}{desc}</td>',
            f"<td>{escape(v.label or '')}</td>",
            f'<td><span class="stage stage-{stage}">{stage}</span></td><td>',
        ]
        cells.extend(f'<span class="alias">{escape(a)}</span> ' for a in aliases.get(v.version, ()))
        cells.append(f"</td><td>{when(v.created_at)}</td>")
        metrics = v.metrics
        cells.extend(
            f'<td class="num">{num(metrics[n]) if n in metrics else ""}</td>' for n in metric_names
        )
        cells.append("<td>")
        for role, a in v.artifacts.items():
            extra = f" · {size(a.size)}" if a.size is not None else ""
            if a.sha256:
                extra += f' · <code title="sha256:{a.sha256}">sha256:{a.sha256[:12]}</code>'
            cells.append(
                f'<div class="artifact"><b>{escape(role)}</b> '
                f'<code class="uri">{escape(a.uri)}</code>{extra}</div>'
            )
        cells.append("</td></tr>\n")
        out.append("".join(cells))
    return Markup("".join(out))


def index_rows(rows: Sequence[Mapping[str, Any]]) -> Markup:
    """The ``<tr>`` of every model of the index (``rows`` as the embedded JSON has them)."""
    out: list[str] = []
    for r in rows:
        model_id = escape(r["id"])
        desc = r["description"]
        if len(desc) > 160:
            desc = desc[:157] + "..."
        desc_html = f'<div class="desc">{escape(desc)}</div>' if desc else ""
        tags = "".join(f'<span class="tag">{escape(t)}</span> ' for t in r["tags"])
        labels = "".join(f'<span class="label">{escape(x)}</span> ' for x in r["labels"])
        status = escape(r["status"])
        production = f"v{r['production']}" if r["production"] else ""
        out.append(
            f'<tr data-id="{model_id}"><td><a href="models/{model_id}.html">{escape(r["name"])}'
            f"</a><br><code>{model_id}</code>{desc_html}</td>"
            f"<td>{escape(r['framework'])}</td><td>{escape(r['source'])}</td>"
            f'<td><span class="status status-{status}">{status}</span></td>'
            f"<td>{production}</td><td>{r['versions']}</td><td>{escape(r['updated'][:10])}</td>"
            f"<td>{tags}{labels}</td></tr>\n"
        )
    return Markup("".join(out))
