"""Model cards: the optional ``models/<id>/README.md`` beside a manifest. Pure.

Rendered as CommonMark by markdown-it-py with raw HTML disabled (a card's ``<script>``
shows as text) and links limited to safe schemes by its link validator, so a card can
hold no markup of its own; sizes are checked by ``modelreg validate``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

CARD_FILE = "README.md"
MAX_CARD_BYTES = 64 * 1024


def card_path(model_id: str) -> str:
    """Where a model's card lives, relative to the registry root."""
    return f"models/{model_id}/{CARD_FILE}"


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # "commonmark" with html off: raw HTML blocks and inline tags are escaped as text.
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def to_html(text: str) -> str:
    """The card as safe HTML (raw HTML escaped, javascript:/data: links dropped)."""
    html: str = _parser().render(text)
    return html


def size_problem(data: bytes) -> str | None:
    """Why a card is not acceptable (too large, not UTF-8), or None."""
    if len(data) > MAX_CARD_BYTES:
        return (
            f"the model card is {len(data)} bytes, over the limit of {MAX_CARD_BYTES}: "
            "shorten it and link to longer documents"
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"the model card is not UTF-8 (byte {exc.start}): save it as UTF-8"
    return None


def template(name: str, description: str) -> str:
    """The short card ``modelreg create`` writes (shown on the catalog page and by show)."""
    intro = description.strip() or "What this model does, in one or two sentences."
    return (
        f"# {name}\n\n{intro}\n\n"
        "## Intended use\n\nWho should use it, for what, and what it must not be used for.\n\n"
        "## Training data\n\nThe data sets each version was trained on (see the lineage).\n\n"
        "## Evaluation\n\nHow versions are compared; the metrics are in the manifest.\n\n"
        "## Limitations\n\nKnown weaknesses, biases and failure modes.\n"
    )
