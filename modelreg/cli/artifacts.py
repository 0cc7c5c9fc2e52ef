"""``modelreg artifacts``: verify, pull and collect garbage in the artifact store."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

import click

from modelreg.cli import completion
from modelreg.cli._common import (
    emit_json,
    emit_table,
    human_size,
    json_option,
    open_registry,
    publish_write,
    ref_option,
    transfer_progress,
    verify_bar,
    write_options,
)

if TYPE_CHECKING:
    from modelreg.artifacts import VerifyResult

ARTIFACT_ERROR_EXIT = 6
AGE = re.compile(r"^(\d+)([smhd])$")
AGE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@click.group()
def artifacts() -> None:
    """The bytes behind the manifests: list, verify, pull and garbage-collect artifacts.

    Every artifact a manifest records has a URI, a size and a sha256. These
    commands check that the store still holds exactly those bytes.
    """


@artifacts.command("list")
@click.argument(
    "spec",
    metavar="[MODEL[@VERSION]]",
    required=False,
    shell_complete=completion.version_refs,
)
@ref_option
@json_option
def list_(spec: str | None, ref: str | None, as_json: bool) -> None:
    """The artifacts the manifests record: of the registry, a model, or one version.

    \b
    Example:
      modelreg artifacts list churn-xgb@production
    """
    items = open_registry(ref).artifacts(spec)
    if as_json:
        emit_json([{"label": label, **a.model_dump(mode="json")} for label, a in items])
        return
    emit_table(
        ([label, human_size(a.size), (a.sha256 or "")[:12], a.uri] for label, a in items),
        ["ARTIFACT", "SIZE", "SHA256", "URI"],
    )


@artifacts.command()
@click.argument(
    "spec",
    metavar="[MODEL[@VERSION]]",
    required=False,
    shell_complete=completion.version_refs,
)
@click.option("--quick", is_flag=True, help="Check existence and size only, not the sha256.")
@click.option(
    "--fill",
    is_flag=True,
    help="Record the size and sha256 of artifacts registered without them (--as-given, "
    "--no-hash), read from their store, in one commit. Artifacts that record them are "
    "checked as usual, never changed.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Artifacts checked at the same time.",
)
@ref_option
@write_options
@json_option
def verify(
    spec: str | None,
    quick: bool,
    fill: bool,
    jobs: int,
    ref: str | None,
    push: bool | None,
    branch: str | None,
    as_json: bool,
) -> None:
    """Check that every artifact exists with its recorded size and sha256.

    Without MODEL[@VERSION] every artifact of the registry is checked; with MODEL,
    all its versions; with MODEL@VERSION (3, latest, production, a label), that one.
    Exits with 6 when any artifact is missing or differs.

    With --fill, artifacts registered without size or sha256 (`register --as-given`
    in a job that could not read the store) are read, and what was found is
    recorded in one commit (--push and --branch as for any write). Only what is
    missing is written: an artifact whose recorded size differs from its bytes is
    reported as a problem and left as it is.

    \b
    Examples:
      modelreg artifacts verify
      modelreg artifacts verify churn-xgb@production --json
      modelreg artifacts verify churn-xgb --fill --push
    """
    if fill and quick:
        raise click.UsageError("--fill records the sha256, which --quick does not read")
    if fill and ref:
        raise click.UsageError("--fill writes a commit: it cannot run at --ref")
    if not fill and (push is not None or branch):
        raise click.UsageError("--push and --branch go with --fill (the only write of verify)")
    reg = open_registry(ref)
    listed = reg.artifacts(spec)
    # an artifact registered as given has no size: then the bar counts bytes, no percentage
    sizes = [a.size for _, a in listed]
    total = None if None in sizes else sum(s or 0 for s in sizes)
    with verify_bar(not as_json, total, len(listed)) as feed:
        results = reg.verify_artifacts(
            spec,
            quick=quick,
            measure=fill,
            workers=jobs,
            checked=None if feed is None else lambda r: feed(_bytes(r)),
        )
    bad = [r for r in results if not r.ok]
    fillable = [r for r in results if r.measured is not None]

    def show(filled: list[str], commit: str | None) -> None:
        if as_json:
            data: dict[str, object] = {
                "ok": not bad,
                "checked": len(results),
                "results": [r.to_dict() for r in results],
            }
            if fill:
                data.update(filled=filled, commit=commit)
            emit_json(data)
            return
        done = set(filled)
        emit_table(
            (
                [
                    r.label,
                    "filled" if r.label in done else r.status,
                    human_size(r.actual_size),
                    "size and sha256 recorded" if r.label in done else r.detail,
                ]
                for r in results
            ),
            ["ARTIFACT", "STATUS", "SIZE", "DETAIL"],
        )
        what = "existence and size" if quick else "size and sha256"
        summary = f"{len(results)} artifact(s) checked ({what}), {len(bad)} problem(s)"
        if fill:
            summary += f"; size and sha256 recorded for {len(filled)}"
        click.echo(summary, err=bool(bad))

    if fillable:
        publish_write(
            lambda r: r.fill_artifacts(fillable),
            lambda done: show(done.value, done.commit),
            push=push,
            branch=branch,
            as_json=as_json,
        )
    else:
        show([], None)
    if bad:
        raise SystemExit(ARTIFACT_ERROR_EXIT)


@artifacts.command()
@click.argument("spec", metavar="MODEL@VERSION", shell_complete=completion.version_refs)
@click.argument("dest", type=click.Path(file_okay=False))
@click.option("--role", "roles", multiple=True, help="Only this artifact role (repeat).")
@click.option("--force", is_flag=True, help="Replace local files that hold other bytes.")
@click.option("--offline", is_flag=True, help="Use only the local cache (also MODELREG_OFFLINE=1).")
@ref_option
@json_option
def pull(
    spec: str,
    dest: str,
    roles: tuple[str, ...],
    force: bool,
    offline: bool,
    ref: str | None,
    as_json: bool,
) -> None:
    """Download a version's artifacts into DEST/<role>/<file name>, checked on the way.

    The bytes go through the local cache (see `modelreg fetch` and `modelreg
    cache`): what is already there, from any version or model, is not
    downloaded again. A download whose size or sha256 differs from the manifest
    is an error and is not left behind; files already present with the right
    bytes are kept.

    \b
    Example:
      modelreg artifacts pull churn-xgb@production ./serving/model
    """
    from modelreg.fetcher import fetch

    result = fetch(
        spec,
        open_registry(ref),
        dest=dest,
        roles=roles,
        force=force,
        offline=True if offline else None,
        progress=transfer_progress(not as_json),
    )
    if as_json:
        emit_json([f.to_dict() for f in result.files])
        return
    for f in result.files:
        how = "downloaded" if f.downloaded else "from the cache"
        click.echo(f"{f.path}  {human_size(f.size)}  sha256 {f.sha256[:12]}  {how}")


def _bytes(result: VerifyResult) -> int:
    """The bytes a checked artifact counts for on the bar: its recorded size, else the
    size found."""
    if result.expected_size is not None:
        return result.expected_size
    return result.actual_size or 0


def _age(text: str) -> dt.timedelta:
    m = AGE.match(text)
    if not m:
        raise click.BadParameter(f"{text!r}: expected a number and s, m, h or d (e.g. 24h)")
    return dt.timedelta(**{AGE_UNITS[m.group(2)]: int(m.group(1))})


@artifacts.command()
@click.option("--delete", is_flag=True, help="Remove the unreferenced objects (default: list).")
@click.option(
    "--min-age",
    default="1h",
    show_default=True,
    metavar="AGE",
    help="Leave objects younger than this (an upload whose commit is on its way): 30m, 24h, 7d.",
)
@json_option
def gc(delete: bool, min_age: str, as_json: bool) -> None:
    """Objects under the artifact root that no manifest refers to.

    Interrupted S3 multipart uploads under the root are listed too (and
    aborted with --delete). Referenced means: named by a manifest at any commit of the configured
    branch (git.branch in modelreg.yaml, else HEAD) or in the working tree, so
    history and time travel keep their bytes. Lists them; --delete removes them.

    \b
    Example:
      modelreg artifacts gc --min-age 7d --delete
    """
    reg = open_registry()
    orphans = reg.artifact_orphans(min_age=_age(min_age))
    if delete:
        reg.artifact_store.remove(orphans)
    total = sum(o.size for o in orphans)
    if as_json:
        emit_json(
            {
                "deleted": delete,
                "bytes": total,
                "objects": [o.to_dict() for o in orphans],
            }
        )
        return
    for o in orphans:
        state = "deleted" if delete else "unreferenced"
        if o.upload_id:
            state = "aborted" if delete else "incomplete upload"
        click.echo(f"{state:<17}  {human_size(o.size):>10}  {o.uri}")
    verb = "deleted" if delete else "unreferenced (run with --delete to remove)"
    click.echo(f"{len(orphans)} object(s), {human_size(total)}, {verb}")
