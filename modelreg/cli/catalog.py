"""``modelreg export``, ``modelreg serve`` and ``modelreg keys``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from modelreg.cli._common import emit_json, emit_table, json_option, open_registry, ref_option


def _keys_path(explicit: str | None) -> Path:
    """--keys-file, else $MODELREG_KEYS_FILE, else .modelreg/keys.yaml in the registry."""
    from modelreg.keys import DEFAULT_KEYS_FILE

    if explicit:
        return Path(explicit)
    env = os.environ.get("MODELREG_KEYS_FILE")
    if env:
        return Path(env)
    return open_registry().root / DEFAULT_KEYS_FILE


@click.command()
@click.argument("dest", metavar="DEST|-")
@ref_option
@click.option(
    "--storage-option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="fsspec option for DEST (endpoint_url=..., repeat for several).",
)
@click.option("--no-html", is_flag=True, help="Write the JSON only, not the HTML catalog.")
@click.option(
    "--no-history",
    is_flag=True,
    help="Skip the stage timelines on the model pages (they read each manifest's git history).",
)
@json_option
def export(
    dest: str,
    ref: str | None,
    options: tuple[str, ...],
    no_html: bool,
    no_history: bool,
    as_json: bool,
) -> None:
    """Write the static catalog to DEST (a folder or any fsspec URL).

    JSON: catalog.json, models/<id>.json, api/v1/model-registry/models.json and
    terminal/ml-models.json. HTML (unless --no-html): index.html with search and
    filters, models/<id>.html per model and assets/, a site that works offline or
    from any static host (open DEST/index.html). Unchanged files are not rewritten;
    object stores get each file's Content-Type and Cache-Control. DEST `-` prints
    catalog.json alone on standard output (modelreg export - | jq .models).
    """
    from modelreg.cli._common import parse_pairs
    from modelreg.export import export as run_export
    from modelreg.export import read_catalog, render

    reg = open_registry(ref)
    catalog = read_catalog(reg)
    if dest == "-":
        if options:
            raise click.UsageError("--storage-option does not apply to standard output")
        sys.stdout.buffer.write(render(catalog)["catalog.json"])
        sys.stdout.flush()
        return
    site = None
    if not no_html:
        from modelreg.site.sources import gather

        site = gather(reg, catalog, history=not no_history)
    result = run_export(
        catalog, dest, storage_options=parse_pairs(options, "--storage-option"), site=site
    )
    if as_json:
        emit_json(result.to_dict())
        return
    commit = (result.commit or "working tree")[:12]
    click.echo(
        f"Exported {result.models} models at {commit} to {dest}: "
        f"{len(result.written)} written, {result.unchanged} unchanged, "
        f"{len(result.removed)} removed"
    )
    if site is not None:
        click.echo(f"Open {_index_location(dest)} in a browser to see the catalog.")


def _index_location(dest: str) -> str:
    if "://" in dest and not dest.startswith("file://"):
        return dest.rstrip("/") + "/index.html"
    folder = Path(dest.removeprefix("file://")).resolve()
    return (folder / "index.html").as_uri()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--ref",
    default="HEAD",
    show_default=True,
    help="Branch, tag or commit to serve; a branch is followed as it moves.",
)
@click.option(
    "--keys",
    "keys_file",
    metavar="FILE",
    help="Keys file (default: $MODELREG_KEYS_FILE or .modelreg/keys.yaml in the "
    "registry, when it exists). Without keys every request is allowed.",
)
@click.option(
    "--allow-anonymous", is_flag=True, help="Allow serving without keys on a non-loopback address."
)
@click.option(
    "--reload-interval",
    default=1000,
    show_default=True,
    type=click.IntRange(10, 3_600_000),
    metavar="MS",
    help="How often to check whether the ref moved.",
)
@click.option(
    "--follow",
    metavar="REMOTE/BRANCH",
    help="Fetch BRANCH from REMOTE (e.g. origin/main) every --fetch-interval and serve it, "
    "switching to a new commit atomically: how N replicas serve one registry.",
)
@click.option(
    "--fetch-interval",
    default="30s",
    show_default=True,
    metavar="DURATION",
    help="How often --follow fetches: 30s, 2m, 500ms, or seconds.",
)
@click.option(
    "--head-timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1, 600),
    metavar="SECONDS",
    help="Time a client has to send a request's headers (slow clients are cut off, 408).",
)
@click.option(
    "--max-concurrency",
    default=512,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Connections and requests in flight; past it the server answers 503.",
)
def serve(
    host: str,
    port: int,
    ref: str,
    keys_file: str | None,
    allow_anonymous: bool,
    reload_interval: int,
    follow: str | None,
    fetch_interval: str,
    head_timeout: float,
    max_concurrency: int,
) -> None:
    """Serve the catalog read-only over HTTP: the HTML catalog at /, the seed APIs,
    /catalog.json, /openapi.json and /healthz (the commit served).

    The server runs within explicit bounds (request head 16 KB and --head-timeout,
    body 64 KB, keep-alive 5 s, --max-concurrency): see docs/security.md.
    """
    import importlib.util
    from dataclasses import replace

    from modelreg.errors import ModelregError

    if importlib.util.find_spec("uvicorn") is None:
        raise ModelregError(
            "serving needs the server extra, which is not installed: pip install 'modelreg[server]'"
        )
    from modelreg.http import serve as run_server
    from modelreg.http.bounds import DEFAULT

    interval = _duration(fetch_interval)
    followed = None
    if follow is not None:
        remote_name, sep, branch = follow.partition("/")
        if not (sep and remote_name and branch):
            raise click.BadParameter("give REMOTE/BRANCH, e.g. origin/main", param_hint="--follow")
        followed = (remote_name, branch)
        ref = f"refs/remotes/{remote_name}/{branch}"
    reg = open_registry()
    path = Path(keys_file) if keys_file else _keys_path(None)
    # A keys file that is named (--keys or $MODELREG_KEYS_FILE) must exist: serving
    # open because of a typo in a path would be the worst way to fail.
    named = keys_file or os.environ.get("MODELREG_KEYS_FILE")
    chosen = path if (named or path.exists()) else None
    who = f"keys from {chosen}" if chosen else "no keys: every request allowed"
    what = f"{follow} (fetched every {fetch_interval})" if follow else ref
    click.echo(f"Serving {reg.root} at {what} on http://{host}:{port} ({who})", err=True)
    run_server(
        reg.root,
        host=host,
        port=port,
        ref=ref,
        keys_file=chosen,
        allow_anonymous=allow_anonymous,
        interval=reload_interval / 1000,
        follow=followed,
        fetch_interval=interval,
        bounds=replace(DEFAULT, head_timeout=head_timeout, max_concurrency=max_concurrency),
    )


def _duration(text: str) -> float:
    """``30s``, ``2m``, ``500ms``, ``1h`` or plain seconds, as seconds (at least 0.01)."""
    import re

    found = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*", text)
    if found is None:
        raise click.BadParameter(
            f"{text!r} is not a duration: 30s, 2m, 500ms or seconds", param_hint="--fetch-interval"
        )
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[found[2] or "s"]
    seconds = float(found[1]) * scale
    if seconds < 0.01:
        raise click.BadParameter("must be at least 10ms", param_hint="--fetch-interval")
    return seconds


@click.group()
def keys() -> None:
    """API keys of the HTTP API (stored hashed; a key is shown once)."""


@keys.command("add")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    default=("model-registry:read",),
    show_default=True,
    type=click.Choice(["model-registry:read"]),
    help="What the key may do. The server is read-only, so reading is the only scope; "
    "writes go through pull requests, the CLI or the library.",
)
@click.option("--organization", help="Bind the key to this organization.")
@click.option("--workspace", help="Bind the key to this workspace.")
@click.option("--customer", help="Bind the key to this customer.")
@click.option("--keys-file", metavar="FILE", help="Default: .modelreg/keys.yaml in the registry.")
@json_option
def add(
    name: str,
    scopes: tuple[str, ...],
    organization: str | None,
    workspace: str | None,
    customer: str | None,
    keys_file: str | None,
    as_json: bool,
) -> None:
    """Create key NAME and print it (once: only its hash is stored)."""
    from modelreg.keys import Tenant, load, save

    path = _keys_path(keys_file)
    ring, key = load(path).add(name, scopes, Tenant(organization, workspace, customer))
    save(ring, path)
    if as_json:
        emit_json({"name": name, "key": key, "keys_file": str(path), "scopes": list(scopes)})
    else:
        click.echo(key)
        click.echo(
            f"Stored the hash of key {name!r} in {path}; the key is not shown again.", err=True
        )


@keys.command("list")
@click.option("--keys-file", metavar="FILE", help="Default: .modelreg/keys.yaml in the registry.")
@json_option
def list_(keys_file: str | None, as_json: bool) -> None:
    """The stored keys (names, ids, scopes, bindings; never the keys)."""
    from modelreg.keys import load

    ring = load(_keys_path(keys_file))
    rows = [k.to_dict() for k in ring.keys]
    for row in rows:
        row.pop("hash")
    if as_json:
        emit_json(rows)
        return
    emit_table(
        [
            (
                r["name"],
                r["id"],
                ",".join(r["scopes"]),
                r.get("organization"),
                r.get("workspace"),
                r.get("customer"),
            )
            for r in rows
        ],
        ["NAME", "ID", "SCOPES", "ORGANIZATION", "WORKSPACE", "CUSTOMER"],
    )


@keys.command("remove")
@click.argument("name")
@click.option("--keys-file", metavar="FILE", help="Default: .modelreg/keys.yaml in the registry.")
def remove(name: str, keys_file: str | None) -> None:
    """Revoke key NAME (a running server notices within its reload interval)."""
    from modelreg.keys import load, save

    path = _keys_path(keys_file)
    save(load(path).remove(name), path)
    click.echo(f"Removed key {name!r} from {path}")
