"""What every command shares: finding the registry, --json/--ref, printing tables."""

from __future__ import annotations

import contextlib
import functools
import io
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, TypeVar, cast

import click

if TYPE_CHECKING:
    from modelreg.errors import Problem
    from modelreg.manifest import Model, Version
    from modelreg.publish import Published
    from modelreg.registry import Registry

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


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


def problem_line(problem: Problem, top: Path | None = None) -> str:
    """A problem as the CLI prints it. Its file, in the repository whose top is ``top``,
    is named relative to the current folder when it is inside it (as compilers name
    files, for a terminal or an editor to open), else by its full path; a file read at
    a ref, or of an unknown repository, by its path in the repository (``path@ref``)."""
    if problem.ref is not None or top is None:
        return problem.format()
    full = top / problem.path
    try:
        shown = str(full.relative_to(Path.cwd()))
    except ValueError:
        shown = str(full)
    return problem.format(shown)


def json_option(f: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table."
    )(f)


def format_option(*choices: str, help: str) -> Callable[[F], F]:
    """``--format CHOICE`` (the first is the default) and ``--json``, its alias for
    ``--format json``; the command receives ``fmt`` alone."""

    def deco(f: F) -> F:
        @functools.wraps(f)
        def run(*args: Any, fmt: str, as_json: bool, **kwargs: Any) -> Any:
            return f(*args, fmt="json" if as_json else fmt, **kwargs)

        with_json = click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
        with_format = click.option(
            "--format",
            "fmt",
            type=click.Choice(list(choices)),
            default=choices[0],
            show_default=True,
            help=help,
        )
        return cast(F, with_format(with_json(run)))

    return deco


def ref_option(f: F) -> F:
    return click.option(
        "--ref",
        metavar="REF",
        help="Read the registry as of a commit, tag or branch (time travel).",
    )(f)


def registry_options(f: F) -> F:
    """--ref and --json, for read commands."""
    return ref_option(json_option(f))


def write_options(f: F) -> F:
    """--push/--no-push and --branch NAME, for every command that writes (see :func:`run_write`)."""
    f = click.option(
        "--branch",
        metavar="NAME",
        help="Commit on a new branch NAME (made from the current one) for a pull request; "
        "your checkout stays where it was. Pushed with --push.",
    )(f)
    f = click.option(
        "--push-timeout",
        type=click.FloatRange(min=0),
        metavar="SECONDS",
        expose_value=False,
        callback=_remember_push_timeout,
        help="With --push: how long to keep re-applying the change on a newer remote tip, "
        "with a random, growing wait between attempts, before giving up with nothing "
        "published (default: git.push_timeout in modelreg.yaml, else 120).",
    )(f)
    return click.option(
        "--push/--no-push",
        default=None,
        help="Push the commit to the git remote (default: git.push in modelreg.yaml). "
        "If someone pushed first, the change is re-applied on their tip and pushed "
        "again; never forced.",
    )(f)


_PUSH_TIMEOUT = "modelreg.push_timeout"


def _remember_push_timeout(
    ctx: click.Context, _param: click.Parameter, value: float | None
) -> None:
    # kept in the context, not passed: every writing command gets it without a parameter
    ctx.meta[_PUSH_TIMEOUT] = value


def run_write(
    op: Callable[[Registry], T],
    show: Callable[[T], None],
    *,
    push: bool | None,
    branch: str | None,
    as_json: bool = False,
) -> T:
    """Run the write ``op(registry)`` as one commit, pushed or branched as the options of
    :func:`write_options` say, then ``show`` its value and say where the commit went
    (on stderr with --json, so stdout stays one JSON document). Returns ``op``'s value.

    ``op`` may run again on a newer remote tip, so it must read what it needs through
    the registry it gets. A command that writes looks like this::

        @click.command()
        @click.argument("model_id")
        @write_options
        @json_option
        def undeploy(model_id, push, branch, as_json):
            run_write(lambda reg: reg.undeploy(model_id),
                      lambda model: click.echo(f"Undeployed {model.id}"),
                      push=push, branch=branch, as_json=as_json)
    """
    return publish_write(
        op, lambda done: show(done.value), push=push, branch=branch, as_json=as_json
    ).value


def publish_write(
    op: Callable[[Registry], T],
    show: Callable[[Published[T]], None],
    *,
    push: bool | None,
    branch: str | None,
    as_json: bool = False,
) -> Published[T]:
    """:func:`run_write` for a command whose output needs the commit made (``op``'s value
    is built inside the transaction, before the commit exists): ``show`` gets the whole
    :class:`~modelreg.publish.Published`, which is returned."""
    reg = open_registry()
    timeout = click.get_current_context().meta.get(_PUSH_TIMEOUT)
    done = reg.publish(op, push=push, branch=branch, timeout=timeout)
    show(done)
    asked = bool(branch) or (reg.config.git.push if push is None else push)
    for line in _where(done, reg.config.git.remote, asked):
        click.echo(line, err=as_json)
    return done


def _where(done: Published[Any], remote: str, asked: bool) -> list[str]:
    """What the user needs to know about where the commit went."""
    if done.commit is None:
        return ["nothing changed: nothing was committed or pushed"] if asked else []
    lines = []
    if done.base is not None:
        lines.append(
            f"Committed on new branch {done.branch} (from {done.base}); "
            f"your checkout is still on {done.base}"
        )
    if done.pushed:
        again = f" (re-applied {done.retries}x on a newer tip)" if done.retries else ""
        lines.append(f"Pushed {done.commit[:12]} to {done.remote}/{done.branch}{again}")
    if done.base is not None:
        if done.pull_request:
            lines.append(f"Open a pull request: {done.pull_request}")
        elif done.pushed:
            lines.append(f"Open a pull request from {done.branch} into {done.base}")
        else:
            lines.append(
                f"Push it with `git push -u {remote} {done.branch}` (or use --push) "
                "and open a pull request"
            )
    return lines


def emit_json(data: Any) -> None:
    """Indented JSON. pydantic-core's serializer: the stdlib's falls back to pure Python
    when asked to indent, ten times slower on a big catalog."""
    from pydantic_core import to_json

    click.echo(to_json(data, indent=2, fallback=str).decode("utf-8"))


def emit_plain_json(data: Any) -> None:
    """Indented JSON of a few plain values (str, int, None, lists and dicts: one model's
    history), in the same text as :func:`emit_json`: the stdlib's encoder, slower on
    a big catalog but free to load, where pydantic-core costs a fresh process 40 ms."""
    import json

    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


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


def emit_json_stream(start: bytes, write: Callable[[BinaryIO], object], end: bytes) -> None:
    """JSON made of ``start``, what ``write`` writes, and ``end``, streamed as it comes
    (a listing of thousands of models is never joined in memory): compact for scripts,
    indented when a person reads it at a terminal."""
    out = _Blocks()
    if is_tty():
        import json

        write(out)
        emit_json(json.loads(start + out.getvalue() + end))
        return
    out.stream = True
    out.write(start)
    write(out)
    out.write(end + b"\n")
    out.flush()


class _Blocks(io.BytesIO):
    """Bytes gathered into blocks of about a megabyte, each echoed as it fills (when
    ``stream``), or kept to be read whole."""

    stream = False

    def write(self, data: Any) -> int:
        n = super().write(data)
        if self.stream and self.tell() >= 1 << 20:
            self.flush()
        return n

    def flush(self) -> None:
        if self.stream and self.tell():
            click.echo(self.getvalue(), nl=False)  # bytes: written as they are
            self.seek(0)
            self.truncate()


def version_json(model_id: str, version: Version) -> dict[str, Any]:
    data = version.model_dump(mode="json", exclude_none=True)
    data["model"] = model_id
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
    if n < 1024:
        return f"{n} B"
    size = n / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def transfer_progress(enabled: bool = True) -> Callable[[str, int], Callable[[int], None]] | None:
    """A progress bar per transfer on stderr (bytes, rate, time left), for people at a
    terminal; None (silent) when ``enabled`` is false (``--json``) or stderr is not a
    terminal."""
    if not enabled or not sys.stderr.isatty():
        return None
    return byte_bars(sys.stderr)


def _screen() -> tuple[int, int]:
    # $COLUMNS/$LINES, else the terminal's, else 80x24: tqdm hides its bar on a terminal
    # that reports 0 rows (a fresh pty does)
    import shutil

    size = shutil.get_terminal_size()
    return min(size.columns, 120), max(size.lines, 2)


def byte_bars(file: IO[str]) -> Callable[[str, int], Callable[[int], None]]:
    """Bars written to ``file``: ``start(uri, total)`` opens one and returns the callable
    fed the bytes moved; the bar closes when all of ``total`` has moved."""
    from tqdm import tqdm

    def start(uri: str, total: int) -> Callable[[int], None]:
        name = uri.rstrip("/").rsplit("/", 1)[-1]
        bar = tqdm(
            total=total,
            desc=f"{name} ({human_size(total)})",
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            file=file,
            leave=True,
            ncols=_screen()[0],
            nrows=_screen()[1],
        )
        moved = 0

        def update(n: int) -> None:
            nonlocal moved
            moved += n
            bar.update(n)
            if moved >= total:
                bar.close()

        if total == 0:
            bar.close()
        return update

    return start


@contextlib.contextmanager
def verify_bar(
    enabled: bool, total_bytes: int | None, count: int, file: IO[str] | None = None
) -> Iterator[Callable[[int], None] | None]:
    """One bar over a whole verification, fed the bytes of each artifact as it is checked
    (bytes, rate, time left); None when ``enabled`` is false or no one is watching
    (stderr not a terminal, unless ``file`` is given)."""
    if not enabled or (file is None and not sys.stderr.isatty()):
        yield None
        return
    from tqdm import tqdm

    with tqdm(
        total=total_bytes,
        desc=f"verify {count} artifact(s)",
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=file if file is not None else sys.stderr,
        ncols=_screen()[0],
        nrows=_screen()[1],
    ) as bar:

        def feed(n: int) -> None:
            bar.update(n)

        yield feed
