"""``modelreg import``: bring another registry's models along."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

from modelreg.cli._common import emit_json, json_option, open_registry, transfer_progress

if TYPE_CHECKING:
    from modelreg.importers.mlflow import Plan


@click.group("import")
def import_() -> None:
    """Bring models from another registry into this one, idempotently."""


@import_.command()
@click.option(
    "--tracking-uri",
    required=True,
    envvar="MLFLOW_TRACKING_URI",
    help="MLflow tracking URI (sqlite:///mlflow.db, http://mlflow:5000, ...; "
    "default: $MLFLOW_TRACKING_URI).",
)
@click.option("--registry-uri", help="MLflow registry URI, when not the tracking URI.")
@click.option("--model", "names", multiple=True, help="Only this registered model (repeat).")
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]),
    help="Only versions created or changed since then (UTC unless a zone is given).",
)
@click.option("--no-hash", is_flag=True, help="Record artifact sizes only; do not read the bytes.")
@click.option(
    "--copy-artifacts",
    is_flag=True,
    help="Copy the files into this registry's artifact store (checked) instead of "
    "recording them where they are.",
)
@click.option("--one-commit", is_flag=True, help="One commit for the whole import.")
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
@json_option
def mlflow(
    tracking_uri: str,
    registry_uri: str | None,
    names: tuple[str, ...],
    since: dt.datetime | None,
    no_hash: bool,
    copy_artifacts: bool,
    one_commit: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Import an MLflow Model Registry: models, versions (numbers kept), runs, aliases.

    Each registered model becomes a manifest, each version a version with its
    number, description, tags, stage, the run's metrics and params, its run id
    and git commit (lineage). Artifacts stay where they are and are recorded
    with size and sha256, unless --copy-artifacts. Running it again adds only
    what is new. A name that is a valid id is the id; any other is lowercased,
    other characters become '-', and 8 hex digits of the name's sha256 are
    appended ('Churn Model' -> churn-model-ad818ec4); such names are listed.
    See the README, "Coming from MLflow".

    \b
    Examples:
      modelreg import mlflow --tracking-uri sqlite:///mlflow.db --dry-run
      modelreg import mlflow --tracking-uri http://mlflow:5000 --model churn --one-commit
    """
    from modelreg.importers import mlflow as importer

    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=dt.timezone.utc)
    reg = open_registry()
    models = importer.read(tracking_uri, names=names, registry_uri=registry_uri, since=since)
    plan = importer.plan(reg, models)
    if dry_run:
        if as_json:
            emit_json({"dry_run": True, **plan.to_dict()})
        else:
            _print_plan(plan, "would")
        return
    result = importer.apply(
        reg,
        plan,
        tracking_uri=tracking_uri,
        hash=not no_hash,
        copy=copy_artifacts,
        one_commit=one_commit,
        progress=transfer_progress(not as_json),
    )
    if as_json:
        emit_json({"dry_run": False, **result.to_dict()})
        return
    _print_plan(plan, "did")
    click.echo(f"{len(result.commits)} commit(s)")


def _print_plan(plan: Plan, mood: str) -> None:
    for m in plan.models:
        verb = ("would create" if mood == "would" else "created") if not m.exists else "has"
        added = ", ".join(str(v.number) for v in m.new_versions) or "none"
        aliases = ", ".join(f"{a}={n}" for a, n in m.new_aliases.items()) or "none"
        click.echo(f"{m.model_id}: {verb} model; new versions: {added}; new aliases: {aliases}")
        for problem in m.problems:
            click.echo(f"  warning: {problem}", err=True)
    for name, model_id in sorted(plan.renamed.items()):
        click.echo(f"  note: MLflow name {name!r} -> id {model_id}", err=True)
    click.echo(f"{plan.changes} change(s)" + (" (dry run)" if mood == "would" else ""))
