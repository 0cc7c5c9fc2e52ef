"""What the HTML pages need from a registry besides its catalog: cards, timelines, links.

Reads through the Registry's public API only (and the remote's URL through
:mod:`modelreg.gitstore`); :func:`modelreg.site.render` stays free of I/O.
"""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING

from modelreg import cards
from modelreg.catalog import Catalog
from modelreg.errors import ModelregError
from modelreg.events import alias_periods, stage_periods
from modelreg.site import TIMELINE_STAGES, SiteInput, Timeline

if TYPE_CHECKING:
    from modelreg.registry import Registry

_HOSTED = re.compile(
    r"^(?:(?:https?|ssh)://)?(?:[^@/]+@)?(?P<host>github\.com|gitlab\.com)[:/]"
    r"(?P<path>[A-Za-z0-9._/-]+?)(?:\.git)?/?$"
)


def host_links(remote_url: str, branch: str, prefix: str = "") -> tuple[str, str] | None:
    """(history prefix, commit prefix) on github.com or gitlab.com; None for other hosts.

    ``models/<id>/model.yaml`` appended to the first gives a manifest's history page,
    a sha appended to the second a commit's page.
    """
    found = _HOSTED.match(remote_url)
    if found is None or not re.fullmatch(r"[A-Za-z0-9._/-]+", branch + prefix):
        return None
    host, path = found["host"], found["path"]
    if host == "github.com":
        base = f"https://github.com/{path}"
        return f"{base}/commits/{branch}/{prefix}", f"{base}/commit/"
    base = f"https://gitlab.com/{path}"
    return f"{base}/-/commits/{branch}/{prefix}", f"{base}/-/commit/"


def read_cards(registry: Registry, catalog: Catalog) -> dict[str, str]:
    """model id -> card text, for the models that have a readable card."""
    out = {}
    for e in catalog.entries:
        data = registry.base.read_bytes(cards.card_path(e.id))
        if data is not None and cards.size_problem(data) is None:
            out[e.id] = data.decode("utf-8")
    return out


def read_timelines(registry: Registry, catalog: Catalog) -> dict[str, list[Timeline]]:
    """model id -> which version held each stage and each alias from when to when (from
    the manifest's git history; for a working tree, the history up to HEAD)."""
    out: dict[str, list[Timeline]] = {}
    past = registry.past()
    for e in catalog.entries:
        held = past.holders(e.id)  # kept by blob id: a history seen before parses nothing
        lines = [
            Timeline(stage.value, tuple(stage_periods(held, stage))) for stage in TIMELINE_STAGES
        ]
        # every alias the model ever had, in the order they first appeared
        names: dict[str, None] = {}
        for _, h in held:
            names.update(dict.fromkeys(name for name, _ in h.aliases))
        lines += [Timeline(f"alias {a}", tuple(alias_periods(held, a))) for a in names]
        out[e.id] = lines
    return out


def gather(registry: Registry, catalog: Catalog, *, history: bool = True) -> SiteInput:
    """The site's inputs for ``catalog`` as read from ``registry``.

    ``history`` reads each manifest's git history for the stage timelines (one git
    call per model); without it the pages say no history is known.
    """
    from modelreg.gitstore import remote

    links = None
    with contextlib.suppress(ModelregError, OSError):
        if registry.commit is not None:
            url = remote.remote_url(registry.store, registry.config.git.remote)
            branch = registry.config.git.branch or remote.current_branch(registry.store)
            links = host_links(url, branch, registry.store.prefix)
    return SiteInput(
        catalog,
        cards=read_cards(registry, catalog),
        timelines=read_timelines(registry, catalog) if history else {},
        history_url=links[0] if links else None,
        commit_url=links[1] if links else None,
    )
