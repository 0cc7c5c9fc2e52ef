"""A metric across versions as an inline SVG line chart, drawn at export time. Pure.

No JavaScript and no chart library: a polyline and one circle per version that has
the metric, each with a ``<title>`` tooltip. Every text is escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH = 320
HEIGHT = 140
PAD_LEFT = 44
PAD_RIGHT = 12
PAD_TOP = 12
PAD_BOTTOM = 26


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def line_chart(metric: str, points: Sequence[tuple[int, float]]) -> str:
    """An SVG of ``points`` (version number, value), in version order: one point each."""
    name = escape(metric)
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    values = [v for _, v in points]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high == low:
        low, high = low - 0.5, high + 0.5
    step = inner_w / (len(points) - 1) if len(points) > 1 else 0.0

    def x(i: int) -> float:
        return PAD_LEFT + (i * step if len(points) > 1 else inner_w / 2)

    def y(value: float) -> float:
        return PAD_TOP + inner_h - (value - low) / (high - low) * inner_h

    coords = [(x(i), y(v)) for i, (_, v) in enumerate(points)]
    out = [
        f'<svg class="chart" role="img" aria-label="{name} by version" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg" data-metric="{name}">',
        f"<title>{name} by version</title>",
        f'<line class="axis" x1="{PAD_LEFT}" y1="{PAD_TOP + inner_h}" '
        f'x2="{WIDTH - PAD_RIGHT}" y2="{PAD_TOP + inner_h}"/>',
        f'<line class="axis" x1="{PAD_LEFT}" y1="{PAD_TOP}" x2="{PAD_LEFT}" '
        f'y2="{PAD_TOP + inner_h}"/>',
        f'<text class="tick" x="{PAD_LEFT - 4}" y="{PAD_TOP + 4}" '
        f'text-anchor="end">{_fmt(high)}</text>',
        f'<text class="tick" x="{PAD_LEFT - 4}" y="{PAD_TOP + inner_h}" '
        f'text-anchor="end">{_fmt(low)}</text>',
    ]
    if len(coords) > 1:
        path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
        out.append(f'<polyline class="line" points="{path}"/>')
    for (version, value), (cx, cy) in zip(points, coords, strict=True):
        out.append(
            f'<circle class="point" cx="{cx:.1f}" cy="{cy:.1f}" r="3.5" '
            f'data-version="{version}" data-value="{value!r}">'
            f"<title>v{version}: {name} = {_fmt(value)}</title></circle>"
        )
        out.append(
            f'<text class="tick" x="{cx:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
            f"v{version}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def split_bar(parts: Sequence[tuple[str, int]]) -> str:
    """A horizontal bar of traffic shares (label, percent), as SVG."""
    width, height = 320, 28
    out = [
        f'<svg class="split" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    left = 0.0
    for i, (label, percent) in enumerate(parts):
        w = width * percent / 100
        text = escape(f"{label} {percent}%")
        out.append(
            f'<rect class="share share-{i}" x="{left:.1f}" y="0" width="{w:.1f}" '
            f'height="{height}"><title>{text}</title></rect>'
        )
        out.append(
            f'<text x="{left + 6:.1f}" y="{height / 2 + 4:.1f}" class="share-label">{text}</text>'
        )
        left += w
    out.append("</svg>")
    return "".join(out)
