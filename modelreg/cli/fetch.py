"""``modelreg fetch``, ``modelreg cache`` and ``modelreg loaders``: using a model by reference."""

from __future__ import annotations

from typing import Any

import click

from modelreg.cli._common import (
    Ctx,
    emit_json,
    emit_table,
    human_size,
    json_option,
    transfer_progress,
)

OFFLINE_HELP = "Use only the local cache; fail naming what is missing (also: MODELREG_OFFLINE=1)."
CACHE_HELP = "Cache folder (default: $MODELREG_CACHE, else ~/.cache/modelreg)."


def cache_option(f: Any) -> Any:
    return click.option(
        "--cache", "cache", metavar="DIR", envvar="MODELREG_CACHE", help=CACHE_HELP
    )(f)


def _registry() -> str | None:
    obj = click.get_current_context().find_object(Ctx)
    return obj.registry if obj and obj.registry else None


@click.command()
@click.argument("ref", metavar="MODEL@VERSION")
@click.option(
    "--dest",
    type=click.Path(file_okay=False),
    help="Copy the files into DEST/<role>/<file name> (default: print the cache folder).",
)
@click.option("--role", "roles", multiple=True, help="Only this artifact role (repeat).")
@click.option("--force", is_flag=True, help="With --dest: replace files holding other bytes.")
@click.option("--offline", is_flag=True, help=OFFLINE_HELP)
@cache_option
@json_option
def fetch(
    ref: str,
    dest: str | None,
    roles: tuple[str, ...],
    force: bool,
    offline: bool,
    cache: str | None,
    as_json: bool,
) -> None:
    """Fetch a version's artifacts into the local cache and print where they are.

    MODEL@VERSION is a number, latest, a stage (production...), or a label. Each
    artifact is checked against the manifest's sha256 and size; bytes already in
    the cache (from any version or model) are not downloaded again. The registry
    is -R PATH, or a git URL (-R git+https://host/org/registry.git@main),
    cloned shallowly into the cache.

    \b
    Examples:
      modelreg fetch churn-xgb@production
      modelreg -R git+https://github.com/acme/models.git@main fetch churn-xgb@3 --dest ./model
      MODELREG_OFFLINE=1 modelreg fetch churn-xgb@production
    """
    from modelreg.fetcher import fetch as fetch_version

    result = fetch_version(
        ref,
        _registry(),
        dest=dest,
        roles=roles,
        force=force,
        offline=True if offline else None,  # else MODELREG_OFFLINE decides
        cache=cache,
        progress=transfer_progress(not as_json),
    )
    if as_json:
        emit_json(result.to_dict())
        return
    for f in result.files:
        how = "downloaded" if f.downloaded else "cached"
        click.echo(
            f"{f.role}: {f.path}  {human_size(f.size)}  sha256 {f.sha256[:12]}  {how}", err=True
        )
    click.echo(str(result.path))


@click.group()
def cache() -> None:
    """The local cache of fetched artifacts (content-addressed by sha256).

    One copy of each distinct file serves every version and model that holds it.
    The cache is $MODELREG_CACHE, else ~/.cache/modelreg.
    """


@cache.command("ls")
@cache_option
@json_option
def ls(cache: str | None, as_json: bool) -> None:
    """The cached objects, most recently used first, with the versions that use them."""
    from modelreg.cachedir import CacheDir

    folder = CacheDir(cache)
    objects = folder.objects()
    if as_json:
        emit_json(
            {
                "root": str(folder.root),
                "bytes": sum(o.size for o in objects),
                "objects": [o.to_dict() for o in objects],
            }
        )
        return
    emit_table(
        ([o.sha256[:12], human_size(o.size), ", ".join(o.snapshots)] for o in objects),
        ["SHA256", "SIZE", "USED BY"],
    )
    total = sum(o.size for o in objects)
    click.echo(f"{len(objects)} object(s), {human_size(total)} in {folder.root}", err=True)


@cache.command()
@click.option(
    "--max-size",
    metavar="SIZE",
    help="Drop the least recently used objects until the cache holds at most SIZE (500M, 10G).",
)
@click.option("--dry-run", is_flag=True, help="Say what would go, remove nothing.")
@cache_option
@json_option
def prune(max_size: str | None, dry_run: bool, cache: str | None, as_json: bool) -> None:
    """Free space: leftovers of interrupted downloads, and with --max-size the least
    recently used objects (a later fetch downloads them again).

    \b
    Example:
      modelreg cache prune --max-size 10G
    """
    from modelreg.cachedir import CacheDir, parse_size

    limit = parse_size(max_size) if max_size is not None else None
    result = CacheDir(cache).prune(limit, dry_run=dry_run)
    if as_json:
        emit_json({"dry_run": dry_run, **result.to_dict()})
        return
    verb = "would remove" if dry_run else "removed"
    for o in result.removed:
        click.echo(f"{verb} {o.sha256[:12]}  {human_size(o.size)}")
    click.echo(
        f"{verb} {len(result.removed)} object(s), {human_size(result.freed)}; "
        f"{human_size(result.kept)} kept"
    )


@click.command()
@json_option
def loaders(as_json: bool) -> None:
    """The model loaders installed for modelreg.load (entry-point group modelreg.loaders)."""
    from modelreg.loaders import installed_loaders

    found = installed_loaders()
    if as_json:
        emit_json([i.to_dict() for i in found])
        return
    emit_table(
        ([i.name, ", ".join(i.frameworks), i.error or i.description] for i in found),
        ["LOADER", "FRAMEWORKS", "DESCRIPTION"],
    )
