"""Shell completion of the registry's own names: model ids, MODEL@VERSION (numbers,
stages, labels, aliases of ``latest``), stages, deploy targets and hardware profiles.

Enable it once per shell (bash; zsh and fish alike with ``zsh_source``/``fish_source``)::

    eval "$(_MODELREG_COMPLETE=bash_source modelreg)"

A completion never fails: a folder that is not a registry completes to nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.shell_completion import CompletionItem

if TYPE_CHECKING:
    from modelreg.registry import Registry

STAGES = ("none", "staging", "challenger", "production", "archived")


def _registry(ctx: click.Context) -> Registry | None:
    from modelreg.errors import ModelregError
    from modelreg.registry import Registry

    path = ctx.find_root().params.get("registry") or os.environ.get("MODELREG_REGISTRY") or "."
    try:
        return Registry.open(Path(path))
    except (ModelregError, OSError):
        return None


def _quiet(
    fn: Callable[[click.Context, str], list[CompletionItem]],
) -> Callable[[click.Context, click.Parameter, str], list[CompletionItem]]:
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        try:
            return fn(ctx, incomplete)
        except Exception:  # a half-typed command line must never print a traceback
            return []

    return complete


def _model_ids(ctx: click.Context) -> list[str]:
    reg = _registry(ctx)
    if reg is None:
        return []
    folder = reg.root / "models"
    return sorted(p.name for p in folder.iterdir() if (p / "model.yaml").is_file())


@_quiet
def model_ids(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(m) for m in _model_ids(ctx) if m.startswith(incomplete)]


@_quiet
def version_refs(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
    """``MODEL`` and, after ``MODEL@``, the names of its versions."""
    if "@" not in incomplete:
        ids = [m for m in _model_ids(ctx) if m.startswith(incomplete)]
        return [CompletionItem(m) for m in ids] + [
            CompletionItem(f"{m}@", help="a version of it") for m in ids if m == incomplete
        ]
    model_id, _, selector = incomplete.partition("@")
    reg = _registry(ctx)
    if reg is None:
        return []
    model = reg.get(model_id)
    names: list[tuple[str, str]] = [("latest", "newest non-archived version")]
    names += [
        (v.stage.value, f"version {v.version}") for v in model.versions if v.stage.value != "none"
    ]
    names += [(str(v.version), v.label or v.stage.value) for v in model.versions]
    names += [(v.label, f"version {v.version}") for v in model.versions if v.label]
    seen: set[str] = set()
    out = []
    for name, help_ in names:
        if name.startswith(selector) and name not in seen:
            seen.add(name)
            out.append(CompletionItem(f"{model_id}@{name}", help=help_))
    return out


@_quiet
def stages(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(s) for s in STAGES if s.startswith(incomplete)]


@_quiet
def targets(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
    from importlib import metadata

    from modelreg.deploy.target import ENTRY_POINT_GROUP

    names = sorted({ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)})
    return [CompletionItem(n) for n in names if n.startswith(incomplete)]


@_quiet
def hardware(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
    reg = _registry(ctx)
    if reg is None:
        return []
    return [
        CompletionItem(name, help=profile.description)
        for name, profile in sorted(reg.config.hardware.items())
        if name.startswith(incomplete)
    ]
