"""The ``modelreg`` command line: a thin layer over the library.

Commands are imported only when used, so a cold ``modelreg list`` pays for
what it needs and nothing else. Every failure goes through :func:`main`, which
prints one message and exits with the code of its error class (no traceback
unless ``--traceback``).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from modelreg.cli._common import Ctx, problem_line

# name -> "module:attribute" candidates (the first that imports wins)
COMMANDS: dict[str, tuple[str, ...]] = {
    "init": ("modelreg.cli.models:init",),
    "create": ("modelreg.cli.models:create",),
    "register": ("modelreg.cli.models:register",),
    "list": ("modelreg.cli.models:list_",),
    "show": ("modelreg.cli.models:show",),
    "update": ("modelreg.cli.models:update",),
    "promote": ("modelreg.cli.models:promote",),
    "archive": ("modelreg.cli.models:archive",),
    "unarchive": ("modelreg.cli.models:unarchive",),
    "delete": ("modelreg.cli.models:delete",),
    "history": ("modelreg.cli.history:history",),
    "alias": ("modelreg.cli.versions:alias",),
    "versions": ("modelreg.cli.versions:versions",),
    "lineage": ("modelreg.cli.versions:lineage",),
    "validate": ("modelreg.cli.review:validate", "modelreg.cli.models:validate"),
    "diff": ("modelreg.cli.review:diff",),
    "events": ("modelreg.cli.review:events",),
    "artifacts": ("modelreg.cli.artifacts:artifacts",),
    "fetch": ("modelreg.cli.fetch:fetch",),
    "cache": ("modelreg.cli.fetch:cache",),
    "loaders": ("modelreg.cli.fetch:loaders",),
    "import": ("modelreg.cli.importer:import_",),
    "deploy": ("modelreg.cli.deploy:deploy",),
    "undeploy": ("modelreg.cli.deploy:undeploy",),
    "targets": ("modelreg.cli.deploy:targets",),
    "export": ("modelreg.cli.catalog:export",),
    "serve": ("modelreg.cli.catalog:serve",),
    "keys": ("modelreg.cli.catalog:keys",),
}

EXIT_CODES = """\b
Exit codes:
  0  success
  1  error (I/O, unexpected)
  2  usage error (bad option or argument)
  3  invalid manifest or config (validate found problems)
  4  not found (model, version, ref, registry)
  5  refused by a rule, a conflict or a read-only ref
  6  artifact error (upload, download, checksum mismatch)
  7  git error"""


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        for target in COMMANDS.get(cmd_name, ()):
            module_name, attr = target.split(":")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name and module_name.startswith(exc.name):
                    continue
                raise
            command = getattr(module, attr, None)
            if isinstance(command, click.Command):
                return command
        return None


@click.group(
    cls=LazyGroup, epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "-R",
    "--registry",
    "registry",
    envvar="MODELREG_REGISTRY",
    metavar="PATH",
    help="Registry folder (default: $MODELREG_REGISTRY, else the nearest folder "
    "upwards holding modelreg.yaml).",
)
@click.option("--traceback", is_flag=True, help="Show the full traceback of an error.")
@click.version_option(package_name="modelreg")
@click.pass_context
def cli(ctx: click.Context, registry: str | None, traceback: bool) -> None:
    """modelreg: a model registry whose source of truth is a Git repository.

    Every model is one YAML manifest (models/<id>/model.yaml), every change one
    commit. Versions are referred to as MODEL@VERSION: churn-xgb@3,
    churn-xgb@latest, churn-xgb@production, churn-xgb@champion (an alias),
    churn-xgb@v1.2.0 (a label).
    """
    ctx.obj = Ctx(registry=registry, traceback=traceback)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and, as a console script, exits with) the exit code."""
    from modelreg.errors import InvalidManifestError, ModelregError

    args = list(sys.argv[1:] if argv is None else argv)
    # --traceback is the group's option, but users add it where the error showed: after the verb
    end = args.index("--") if "--" in args else len(args)
    show_tb = "--traceback" in args[:end]
    if show_tb:
        args = ["--traceback", *(a for a in args[:end] if a != "--traceback"), *args[end:]]
    try:
        cli.main(args=args, prog_name="modelreg", standalone_mode=False)
        return 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    except ModelregError as exc:
        if show_tb:
            raise
        if isinstance(exc, InvalidManifestError):
            for problem in exc.problems:
                click.echo(f"error: {problem_line(problem, exc.root)}", err=True)
        else:
            click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # the last line of defence: a message, not a traceback
        if show_tb:
            raise
        kind = type(exc).__name__
        click.echo(
            f"error: unexpected {kind}: {exc} (run again with --traceback for details)", err=True
        )
        return 1


def run() -> Any:  # pragma: no cover - console script
    sys.exit(main())
