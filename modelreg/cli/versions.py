"""Commands about versions across models: versions (search), alias, lineage."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from modelreg.cli._common import (
    emit_json,
    emit_table,
    json_option,
    model_json,
    open_registry,
    registry_options,
    run_write,
    write_options,
)
from modelreg.vocabulary import Stage
from modelreg.where import MODEL_FIELDS

if TYPE_CHECKING:
    from modelreg.lineage import Node
    from modelreg.manifest import Model
    from modelreg.registry import Registry

F = TypeVar("F", bound=Callable[..., Any])
STAGES = [s.value for s in Stage]
MODEL_FILTERS = tuple(f for f in MODEL_FIELDS if f != "name")  # name is searched, not filtered


def _filters(f: F) -> F:
    helps = {
        "model": ("ID", "Only versions of model ID (repeat for OR)."),
        "stage": ("STAGE", "Only versions in STAGE (repeat for OR)."),
        "alias": ("NAME", "Only versions alias NAME points at (repeat for OR)."),
        "label": (
            "KEY[=VALUE]",
            "Only versions with this label, on the version or its model (repeat: all must hold).",
        ),
        "tag": ("TAG", "Only versions tagged TAG, on the version or its model (repeat for OR)."),
    }
    for name in reversed(MODEL_FILTERS):
        f = click.option(
            f"--{name}",
            f"f_{name}",
            multiple=True,
            metavar="VALUE",
            help=f"Only versions of models whose {name} is VALUE (repeat for OR).",
        )(f)
    for name, (metavar, text) in reversed(helps.items()):
        f = click.option(f"--{name}", f"f_{name}", multiple=True, metavar=metavar, help=text)(f)
    return f


@click.command()
@_filters
@click.option(
    "--where",
    "-w",
    "conditions",
    multiple=True,
    metavar="CONDITION",
    help="FIELD OP VALUE (repeat: all must hold), OP one of == != >= <= > <: "
    "'metrics.accuracy >= 0.9', 'framework == xgboost', 'lineage.run.tracker == mlflow', "
    "'created_at >= 2025-01-01'.",
)
@click.option(
    "--search", "-s", help="Text to find in model id, name, version label or description."
)
@click.option(
    "--sort",
    default="model",
    show_default=True,
    help="Field to sort on, ascending; -FIELD or FIELD:desc for descending. Any field a "
    "condition takes: -metrics.accuracy, created_at, version, model (then version).",
)
@click.option("--limit", type=click.IntRange(min=0), help="At most this many versions.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many versions.")
@registry_options
def versions(
    conditions: tuple[str, ...],
    search: str | None,
    sort: str,
    limit: int | None,
    offset: int,
    ref: str | None,
    as_json: bool,
    **filters: tuple[str, ...],
) -> None:
    """Search versions across models.

    Filters of one kind are OR-ed (--stage staging --stage production), different
    ones AND-ed, and so are the --where conditions. A version that lacks a field
    a condition names does not match.

    \b
    Examples:
      modelreg versions --where 'metrics.accuracy >= 0.9' --sort -metrics.accuracy
      modelreg versions --alias champion --label team=risk --json
      modelreg versions --framework xgboost --stage production --limit 10
    """
    from modelreg.versions import VersionQuery
    from modelreg.where import parse

    query = VersionQuery(
        filters={k[2:]: v for k, v in filters.items() if v},
        where=tuple(parse(c) for c in conditions),
        search=search,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    page = open_registry(ref).versions_json(query)
    if as_json:
        emit_json(
            {
                "count": page.total,
                "limit": page.limit,
                "offset": page.offset,
                "versions": page.items,
            }
        )
        return
    metric = sort.lstrip("-").split(":")[0]
    extra = metric if metric.startswith("metrics.") else None
    emit_table(
        (
            [
                h["ref"],
                h.get("label"),
                h["stage"],
                ",".join(h["aliases"]),
                h["created_at"][:10],
                *([h.get("metrics", {}).get(extra[8:])] if extra else []),
                " ".join(f"{k}={v:g}" for k, v in list(h.get("metrics", {}).items())[:3]),
            ]
            for h in page.items
        ),
        [
            "VERSION",
            "LABEL",
            "STAGE",
            "ALIASES",
            "CREATED",
            *([extra.upper()] if extra else []),
            "METRICS",
        ],
    )
    shown = len(page.items)
    if shown < page.total:
        click.echo(f"({shown} of {page.total}; --offset {offset + shown} for more)")


@click.command()
@click.argument("target", metavar="MODEL@VERSION | MODEL")
@click.argument("name")
@click.option(
    "--remove",
    is_flag=True,
    help="Remove alias NAME from MODEL instead (refused while its version is deployed, "
    "unless --force).",
)
@click.option("--force", is_flag=True, help="With --remove: remove it even while deployed.")
@write_options
@json_option
def alias(
    target: str,
    name: str,
    remove: bool,
    force: bool,
    push: bool | None,
    branch: str | None,
    as_json: bool,
) -> None:
    """Point alias NAME at a version (moving it if it pointed elsewhere), one commit.

    An alias is a free name beside the stages (champion, shadow, eu-prod); after
    this, MODEL@NAME works wherever a version is taken (show, deploy, pull, ...).

    \b
    Examples:
      modelreg alias churn-xgb@7 champion
      modelreg alias churn-xgb champion --remove
      modelreg history churn-xgb --alias champion
    """
    if force and not remove:
        raise click.UsageError("--force goes with --remove")
    if remove and "@" in target:
        raise click.UsageError(
            "with --remove, name the model alone: modelreg alias MODEL NAME --remove"
        )
    if not remove and "@" not in target:
        raise click.UsageError(f"which version? e.g. modelreg alias {target}@3 {name}")

    def op(reg: Registry) -> Model:
        if remove:
            return reg.remove_alias(target, name, force=force)
        return reg.set_alias(target, name)

    def show(model: Model) -> None:
        if as_json:
            emit_json(model_json(model))
        elif remove:
            click.echo(f"Removed alias {model.id}@{name}")
        else:
            click.echo(f"{model.id}@{name} -> version {model.aliases[name]}")

    run_write(op, show, push=push, branch=branch, as_json=as_json)


@click.command()
@click.argument("spec", metavar="MODEL@VERSION")
@registry_options
def lineage(spec: str, ref: str | None, as_json: bool) -> None:
    """The lineage of a version: the chain of parents it was fine-tuned from, and the
    versions fine-tuned from it (and from those)."""
    reg = open_registry(ref)
    graph = reg.lineage(spec)
    if as_json:
        emit_json(graph.to_dict())
        return
    version = reg.resolve(spec)[1]

    def line(node: Node, indent: int) -> str:
        if node.missing:
            return " " * indent + f"{node.ref} (does not exist)"
        return " " * indent + f"{node.ref}  {node.name}  [{node.stage}]"

    for node in reversed(graph.parents):
        click.echo(line(node, 0))
        click.echo("  ↓ fine-tuned into")
    click.echo(line(graph.subject, 0) + "  ← this version")
    lin = version.lineage
    if lin is not None:
        if lin.run is not None:
            click.echo(
                f"  run: {lin.run.id}"
                + (f" ({lin.run.tracker})" if lin.run.tracker else "")
                + (f" {lin.run.url}" if lin.run.url else "")
            )
        if lin.code is not None:
            click.echo(
                "  code: "
                + " ".join(x for x in (lin.code.repository, lin.code.commit, lin.code.path) if x)
            )
        for d in lin.datasets:
            click.echo(f"  {d.role.value} data: {d.uri}")
    if graph.children:
        click.echo("  fine-tuned from it:")
        for node in graph.children:
            click.echo(line(node, 2 + 2 * node.depth))
