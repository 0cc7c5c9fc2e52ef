"""``modelreg history``: a model's changes, or who held a stage or an alias, from git.

A module of its own so that a history read back from the lookups loads this command
and nothing of the others.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

from modelreg.cli import completion
from modelreg.cli._common import emit_plain_json, emit_table, open_registry, registry_options
from modelreg.vocabulary import Stage

if TYPE_CHECKING:
    from modelreg.registry import Registry

STAGES = [s.value for s in Stage]


@click.command()
@click.argument("model_id", shell_complete=completion.model_ids)
@click.option(
    "--stage",
    type=click.Choice(STAGES),
    help="Audit view: which version held STAGE, from when to when, by which commit.",
)
@click.option(
    "--alias",
    metavar="NAME",
    help="Audit view: which version held alias NAME, from when to when, by which commit.",
)
@registry_options
def history(
    model_id: str, stage: str | None, alias: str | None, ref: str | None, as_json: bool
) -> None:
    """Every change of a model, from git, newest first: each commit that touched its
    manifest, who made it and when, and what it did (created, registered, moved a
    stage, moved an alias, deployed...).

    With --stage or --alias, the audit view instead: which version held that stage or
    alias, from which commit until which.

    \b
    Examples:
      modelreg history churn-xgb
      modelreg history churn-xgb --stage production --json
      modelreg history churn-xgb --alias champion
      modelreg history churn-xgb --ref v1.0      # as of a tag

    What a history derives is kept in the git folder (.git/modelreg/), keyed by commit
    and blob ids so it is never stale: asked again, a history is a lookup.
    """
    reg = open_registry(ref)
    if stage is not None and alias is not None:
        raise click.UsageError("give --stage or --alias, not both")
    if stage is not None or alias is not None:
        _stage_history(reg, model_id, stage, alias, as_json)
        return
    changes = reg.history(model_id)
    if as_json:
        emit_plain_json([c.to_dict() for c in changes])
        return
    for c in changes:
        when = dt.datetime.fromtimestamp(c.commit.time, dt.timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%S"
        )
        what = "; ".join(str(e) for e in c.events) or "(no change to the manifest)"
        click.echo(f"{c.commit.sha[:10]}  {when}  {c.commit.author:<16}  {what}")


def _stage_history(
    reg: Registry, model_id: str, stage: str | None, alias: str | None, as_json: bool
) -> None:
    found = (
        reg.alias_history(model_id, alias)
        if alias is not None
        else reg.stage_history(model_id, stage or "")
    )
    if not found:
        reg.history(model_id)  # an unknown model is an error, not an empty table
    periods = [p.to_dict() for p in found]
    if as_json:
        emit_plain_json(periods)
        return
    emit_table(
        (
            [p["version"], p["since"], p["until"] or "now", str(p["commit"])[:10], p["author"]]
            for p in periods
        ),
        ["VERSION", "FROM", "UNTIL", "COMMIT", "BY"],
    )
