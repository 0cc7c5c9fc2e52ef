"""What every command shares: finding the registry, --json/--ref, printing tables."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from modelreg.manifest import Model, Version
    from modelreg.query import Summary
    from modelreg.registry import Registry

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Ctx:
    registry: str | None = None
    traceback: bool = False


def open_registry(ref: str | None = None) -> Registry:
    """The registry named by -R/--registry or $MODELREG_REGISTRY, else found upwards from here."""
    from modelreg.registry import Registry

    ctx = click.get_current_context()
    obj = ctx.find_object(Ctx)
    path = obj.registry if obj and obj.registry else "."
    reg = Registry.open(path, ref=ref)
    ctx.call_on_close(reg.close)  # save what was parsed, for the next command
    return reg


def json_option(f: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table."
    )(f)


def ref_option(f: F) -> F:
    return click.option(
        "--ref",
        metavar="REF",
        help="Read the registry as of a commit, tag or branch (time travel).",
    )(f)


def registry_options(f: F) -> F:
    """--ref and --json, for read commands."""
    return ref_option(json_option(f))


def emit_json(data: Any) -> None:
    """Indented JSON. pydantic-core's serializer: the stdlib's falls back to pure Python
    when asked to indent, ten times slower on a big catalog."""
    from pydantic_core import to_json

    click.echo(to_json(data, indent=2, fallback=str).decode("utf-8"))


def emit_table(rows: Iterable[Sequence[Any]], columns: Sequence[str]) -> None:
    """Aligned columns for people; empty cells as '-'."""
    cells = [[("-" if v is None or v == "" else str(v)) for v in row] for row in rows]
    widths = [len(c) for c in columns]
    for row in cells:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=False)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    click.echo(fmt.format(*columns).rstrip())
    for row in cells:
        click.echo(fmt.format(*row).rstrip())


def is_tty() -> bool:
    return sys.stdout.isatty()


def model_json(model: Model) -> dict[str, Any]:
    data = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["status"] = model.status.value
    data["latest_version"] = model.latest_version
    return data


def models_json_bytes(
    summaries: Sequence[Summary], blobs: Sequence[bytes], head: dict[str, Any]
) -> bytes:
    """``{**head, "models": [...]}`` as compact JSON from each model's JSON bytes (as the
    registry's cache keeps them: no model is built or serialised again)."""
    from pydantic_core import to_json

    parts = [
        b'{"status":"%s","latest_version":%d,' % (s.status.encode(), s.latest_version) + raw[1:]
        for s, raw in zip(summaries, blobs, strict=True)
    ]
    return to_json(head)[:-1] + b',"models":[' + b",".join(parts) + b"]}"


def emit_json_bytes(data: bytes) -> None:
    """Compact JSON for scripts; indented when a person reads it at a terminal."""
    if is_tty():
        import json

        emit_json(json.loads(data))
        return
    click.echo(data.decode("utf-8"))


def version_json(model: Model, version: Version) -> dict[str, Any]:
    data = version.model_dump(mode="json", exclude_none=True)
    data["model"] = model.id
    return data


def parse_pairs(pairs: Sequence[str], what: str) -> dict[str, str]:
    """``k=v`` options into a dict; a clear usage error otherwise."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint=what)
        out[key] = value
    return out


def human_size(n: int | None) -> str:
    """1536 -> '1.5 KiB'."""
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # unreachable


def transfer_progress(enabled: bool = True) -> Callable[[str, int], Callable[[int], None]] | None:
    """A progress bar per transfer on stderr, for people at a terminal; None (silent) when
    ``enabled`` is false (``--json``) or stderr is not a terminal."""
    if not enabled or not sys.stderr.isatty():
        return None

    def start(uri: str, total: int) -> Callable[[int], None]:
        name = uri.rstrip("/").rsplit("/", 1)[-1]
        bar = click.progressbar(
            length=max(total, 1), label=f"{name} ({human_size(total)})", file=sys.stderr
        )
        bar.__enter__()
        moved = 0

        def update(n: int) -> None:
            nonlocal moved
            moved += n
            bar.update(n)
            if moved >= total:
                bar.__exit__(None, None, None)

        if total == 0:
            bar.__exit__(None, None, None)
        return update

    return start
