"""deploy, undeploy and targets: render deployment specs for GitOps, in one commit."""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

import click

from modelreg.cli import completion
from modelreg.cli._common import (
    emit_json,
    emit_table,
    json_option,
    open_registry,
    publish_write,
    write_options,
)

if TYPE_CHECKING:
    from modelreg.deploy import DeployResult, UndeployResult
    from modelreg.publish import Published
    from modelreg.registry import Registry

_AUTOSCALE = re.compile(r"(\d+):(\d+)@(\d+)%?\Z")


def _autoscale(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[int, int, int] | None:
    if value is None:
        return None
    m = _AUTOSCALE.match(value.strip())
    if m is None:
        raise click.BadParameter(
            f"{value!r} is not MIN:MAX@CPU (e.g. 1:5@70: 1 to 5 replicas at 70 % CPU)"
        )
    low, high, cpu = (int(g) for g in m.groups())
    return low, high, cpu


@click.command()
@click.argument("ref_spec", metavar="MODEL[@VERSION]", shell_complete=completion.version_refs)
@click.option(
    "-t",
    "--target",
    metavar="TARGET",
    shell_complete=completion.targets,
    help="Deploy target (see `modelreg targets`; default: deploy.default_target).",
)
@click.option(
    "--hardware",
    metavar="PROFILE",
    shell_complete=completion.hardware,
    help="Hardware profile from modelreg.yaml.",
)
@click.option(
    "--replicas", type=click.IntRange(min=1), default=1, show_default=True, help="Replicas."
)
@click.option(
    "--autoscale",
    metavar="MIN:MAX@CPU",
    callback=_autoscale,
    help="Autoscale between MIN and MAX replicas at CPU % utilisation, e.g. 1:5@70.",
)
@click.option("--challenger", type=int, metavar="VERSION", help="A/B: the challenger version.")
@click.option(
    "--traffic", type=int, metavar="PERCENT", help="A/B: the challenger's traffic, 1..99."
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the specs as one multi-document YAML stream (for `kubectl apply -f -`); "
    "write, commit and push nothing (not with --push or --branch).",
)
@write_options
@json_option
def deploy(
    ref_spec: str,
    target: str | None,
    hardware: str | None,
    replicas: int,
    autoscale: tuple[int, int, int] | None,
    challenger: int | None,
    traffic: int | None,
    dry_run: bool,
    push: bool | None,
    branch: str | None,
    as_json: bool,
) -> None:
    """Render MODEL's deployment specs into deploy/<target>/<model-id>/ and record the
    deployment in its manifest, in one commit (for Argo CD, Flux or CloudFormation).

    The version is the one named (MODEL@3, MODEL@production), else the latest
    non-archived one. A redeploy replaces the model's earlier spec files. With --push
    the commit is pushed (re-rendered on the newer tip if someone pushed first);
    with --branch NAME it goes on a new branch for a pull request.

    \b
    Examples:
      modelreg deploy churn-xgb@production --target kubernetes --replicas 2
      modelreg deploy churn-xgb --target kserve --hardware gpu-a100-40gb --autoscale 1:5@70
      modelreg deploy churn-xgb@3 --target sagemaker --challenger 4 --traffic 10 --dry-run
      modelreg deploy churn-xgb@production --branch deploy-churn --push
    """
    from modelreg.deploy import DeployRequest

    if (challenger is None) != (traffic is None):
        raise click.UsageError("--challenger and --traffic go together")
    if dry_run and (push or branch):
        raise click.UsageError("--dry-run writes nothing: it cannot go with --push or --branch")
    request = DeployRequest.build(
        hardware=hardware,
        replicas=replicas,
        autoscale=autoscale,
        challenger=challenger,
        traffic=traffic,
    )
    if dry_run:
        _show_dry_run(
            open_registry().deploy(ref_spec, request, target=target, dry_run=True), as_json
        )
        return

    def op(reg: Registry) -> DeployResult:  # re-run on a newer tip: reads all through reg
        return reg.deploy(ref_spec, request, target=target)

    def show(done: Published[DeployResult]) -> None:
        _show_deployed(dataclasses.replace(done.value, commit=done.commit), as_json)

    publish_write(op, show, push=push, branch=branch, as_json=as_json)


def _warn(result: DeployResult) -> None:
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


def _show_dry_run(result: DeployResult, as_json: bool) -> None:
    _warn(result)
    if as_json:
        data = result.to_dict()
        data["contents"] = {p: d.decode("utf-8") for p, d in sorted(result.files.items())}
        emit_json(data)
        return
    # one YAML stream (`kubectl apply -f -` reads every object); JSON files are YAML too
    for path, data_ in sorted(result.files.items()):
        text = data_.decode("utf-8")
        if text.startswith("---\n"):
            text = text[4:]
        click.echo(f"---\n# {path}\n{text}", nl=not text or not text.endswith("\n"))
    for path in result.removed:
        click.echo(f"would remove {path}", err=True)


def _show_deployed(result: DeployResult, as_json: bool) -> None:
    _warn(result)
    if as_json:
        emit_json(result.to_dict())
        return
    click.echo(f"{result} (commit {(result.commit or '')[:10]})")
    for path in sorted(result.files):
        click.echo(f"  wrote   {path}")
    for path in result.removed:
        click.echo(f"  removed {path}")
    if result.endpoint_url:
        click.echo(f"  endpoint {result.endpoint_url}")


@click.command()
@click.argument("model_id", shell_complete=completion.model_ids)
@write_options
@json_option
def undeploy(model_id: str, push: bool | None, branch: str | None, as_json: bool) -> None:
    """Remove MODEL_ID's deployment block and its spec files, in one commit (pushed
    with --push, on a new branch with --branch NAME).

    \b
    Example:
      modelreg undeploy churn-xgb --push
    """

    def show(done: Published[UndeployResult]) -> None:
        result = dataclasses.replace(done.value, commit=done.commit)
        if as_json:
            emit_json(result.to_dict())
            return
        click.echo(f"{result} (commit {(result.commit or '')[:10]})")
        for path in result.removed:
            click.echo(f"  removed {path}")

    publish_write(
        lambda reg: reg.undeploy(model_id), show, push=push, branch=branch, as_json=as_json
    )


@click.command()
@json_option
def targets(as_json: bool) -> None:
    """List the deploy targets installed (entry-point group modelreg.targets).

    A plugin that cannot be loaded is listed with its error.

    \b
    Example:
      modelreg targets --json
    """
    from modelreg.deploy import installed_targets

    found = installed_targets()
    if as_json:
        emit_json([t.to_dict() for t in found])
        return
    emit_table(
        [(t.name, t.distribution, t.description or f"BROKEN: {t.error}") for t in found],
        ["TARGET", "PROVIDED BY", "DESCRIPTION"],
    )
