"""The core commands: init, create, register, list, show, update, promote, archive,
delete (validate and diff are in :mod:`modelreg.cli.review`, history in
:mod:`modelreg.cli.history`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from modelreg.cli import completion
from modelreg.cli._common import (
    emit_json,
    emit_json_stream,
    emit_table,
    json_option,
    model_json,
    open_registry,
    parse_pairs,
    registry_options,
    run_write,
    transfer_progress,
    version_json,
    write_options,
)
from modelreg.query import FILTERS
from modelreg.vocabulary import Framework, Source, Stage

if TYPE_CHECKING:
    from modelreg.manifest import Model, Version
    from modelreg.registry import Registry

FRAMEWORKS = [f.value for f in Framework]
SOURCES = [s.value for s in Source]
STAGES = [s.value for s in Stage]
F = TypeVar("F", bound=Callable[..., Any])


def _yaml_value(text: str, what: str) -> Any:
    """A value given on the command line, read as strict YAML (``0.5``, ``[1, 2]``, ``adam``)."""
    from modelreg.errors import InvalidManifestError
    from modelreg.yamlio import loads

    try:
        return loads(text, what).value
    except InvalidManifestError as exc:
        raise click.BadParameter(str(exc.problems[0].message), param_hint=what) from None


@click.command()
@click.argument("path", default=".", type=click.Path(file_okay=False))
@click.option("--name", help="Registry name (default: the folder name).")
@click.option(
    "--artifact-root",
    metavar="URL",
    help="Artifact store root: any fsspec URL (s3://bucket/models) or a local folder "
    "(default: ./artifacts).",
)
@click.option(
    "--install-from",
    metavar="REQUIREMENT",
    help="How CI and the server install modelreg: a pip requirement such as "
    "modelreg==0.1.0 (on your index) or git+https://github.com/ORG/modelreg@v0.1.0. "
    "Default: where this modelreg was installed from, when pip recorded it.",
)
@json_option
def init(
    path: str, name: str | None, artifact_root: str | None, install_from: str | None, as_json: bool
) -> None:
    """Create a registry in PATH, in one commit: modelreg.yaml, models/, schemas/, the
    GitHub workflows (pull-request checks; post-merge catalog export and CloudEvents),
    .pre-commit-config.yaml and server/kubernetes/ (a Kubernetes Deployment and
    Service of `modelreg serve --follow` replicas).

    PATH may be inside an existing git repository (a monorepo); otherwise a new
    repository is created.
    """
    from modelreg.registry import Registry
    from modelreg.scaffold import check_install

    if install_from is not None:
        try:
            check_install(install_from)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--install-from") from None
    with Registry.init(
        path, name=name, artifact_root=artifact_root, install_from=install_from
    ) as reg:
        root, commit, title = reg.root, reg.commit, reg.config.name
    if as_json:
        emit_json({"root": str(root), "commit": commit})
    else:
        click.echo(f"Initialised registry {title} in {root}")
        if Path.cwd().resolve() != root:
            click.echo(
                f"Next: cd {click.format_filename(path)} (or pass -R {click.format_filename(path)}"
                " to each command), then `modelreg create MODEL_ID ...`"
            )


@click.command()
@click.argument("model_id")
@click.option("--name", required=True, help="Human-readable name.")
@click.option("--framework", required=True, type=click.Choice(FRAMEWORKS))
@click.option("--description", default="", help="What the model does.")
@click.option(
    "--type",
    "type_",
    metavar="TYPE",
    help="Model type: classification, forecasting, interpolation, diagnostics, ...",
)
@click.option("--source", type=click.Choice(SOURCES))
@click.option("--owner")
@click.option("--organization")
@click.option("--workspace")
@click.option("--customer")
@click.option("--tag", "tags", multiple=True, help="A tag (repeat for several).")
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="KEY=VALUE",
    help="A label, Kubernetes-style key (repeat): --label team=risk. Filterable.",
)
@click.option(
    "--annotation",
    "annotations",
    multiple=True,
    metavar="KEY=VALUE",
    help="An annotation, value read as YAML (repeat): --annotation ticket=RISK-42. "
    "Free-form, not filtered.",
)
@click.option(
    "--no-card",
    is_flag=True,
    help="Do not write the model card template models/MODEL_ID/README.md.",
)
@write_options
@json_option
def create(
    model_id: str,
    name: str,
    framework: str,
    description: str,
    type_: str | None,
    source: str | None,
    owner: str | None,
    organization: str | None,
    workspace: str | None,
    customer: str | None,
    tags: tuple[str, ...],
    labels: tuple[str, ...],
    annotations: tuple[str, ...],
    no_card: bool,
    push: bool | None,
    branch: str | None,
    as_json: bool,
) -> None:
    """Register a new model MODEL_ID (one manifest, one commit).

    Also writes a short model card, models/MODEL_ID/README.md (Markdown: intended
    use, data, evaluation, limitations), shown on the model's catalog page and by
    `modelreg show`; edit it in the same pull requests as the manifest.

    Example: modelreg create churn-xgb --name "Churn XGBoost" --framework xgboost --push
    """
    from modelreg.cards import card_path, template

    def show(model: Model) -> None:
        if as_json:
            emit_json(model_json(model))
        else:
            click.echo(f"Created model {model.id}")

    pairs = parse_pairs(labels, "--label")
    notes = _annotations(annotations)

    def op(reg: Registry) -> Model:
        with reg.transaction() as tx:
            model = tx.create_model(
                model_id,
                name=name,
                framework=framework,
                description=description,
                type=type_,
                source=source,
                owner=owner,
                organization=organization,
                workspace=workspace,
                customer=customer,
                tags=tags,
                labels=pairs,
                annotations=notes,
            )
            if not no_card:  # the card, in the same commit as the manifest
                tx.write_file(card_path(model_id), template(name, description).encode())
        return model

    run_write(
        op,
        show,
        push=push,
        branch=branch,
        as_json=as_json,
    )


@click.command()
@click.argument("model_id", shell_complete=completion.model_ids)
@click.option("--description")
@click.option("--stage", type=click.Choice(STAGES), default="none", show_default=True)
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    metavar="NAME=NUMBER",
    help="A metric (repeat): --metric accuracy=0.94",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A hyperparameter, value read as YAML (repeat): --param layers='[256, 128]'",
)
@click.option(
    "--params-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Hyperparameters from a YAML or JSON file.",
)
@click.option(
    "--metrics-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Metrics from a YAML or JSON file.",
)
@click.option(
    "--artifact",
    "artifacts",
    multiple=True,
    metavar="ROLE=PATH_OR_URL",
    help="An artifact (repeat): a local file is uploaded to the artifact store; "
    "a URL is recorded with its size and sha256; `-` reads the bytes from standard "
    "input (stored under the role's name): --artifact model=- < model.bst",
)
@click.option("--no-hash", is_flag=True, help="Record artifact sizes only, no sha256.")
@click.option(
    "--as-given",
    is_flag=True,
    help="Record artifact URLs as given, without reading their store (no size, no "
    "sha256): for a CI job with no credentials for that store. `modelreg artifacts "
    "verify --fill`, run where the store can be read, records them later.",
)
@click.option("--trained-at", metavar="TIME", help="When training finished (ISO 8601).")
@click.option("--data-window", metavar="START..END", help="Training data window (ISO 8601).")
@click.option("--epochs", type=int)
@click.option("--train-loss", type=float)
@click.option("--validation-loss", type=float)
@click.option("--early-stop-epoch", type=int)
@click.option("--tag", "tags", multiple=True, help="A version tag (repeat); fixed once released.")
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="TEXT | KEY=VALUE",
    help="--label v1.2.0: the version's human or semver label (once). --label team=risk: "
    "a label with a Kubernetes-style key, filterable, may change later (repeat).",
)
@click.option(
    "--annotation",
    "annotations",
    multiple=True,
    metavar="KEY=VALUE",
    help="A version annotation, value read as YAML (repeat).",
)
@click.option(
    "--code-from",
    type=click.Path(exists=True, path_type=Path),
    metavar="PATH",
    help="Record lineage.code (repository, commit, path) from the git checkout holding "
    "PATH, e.g. the training script.",
)
@click.option("--run-id", metavar="ID", help="lineage.run.id: the training run's id.")
@click.option("--run-url", metavar="URL", help="lineage.run.url: a link to the run.")
@click.option(
    "--tracker", metavar="NAME", help="lineage.run.tracker: mlflow, wandb, ... (with --run-id)."
)
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    metavar="ROLE=URI[#sha256:HEX|#VERSION]",
    help="A data set (repeat), ROLE one of train, validation, test, other: "
    "--dataset train=s3://data/2024.parquet#sha256:ab12...",
)
@click.option(
    "--parent",
    metavar="MODEL@VERSION",
    help="The version this one was fine-tuned from (an alias or stage is recorded as "
    "the number it names now).",
)
@write_options
@json_option
def register(
    model_id: str,
    description: str | None,
    stage: str,
    metrics: tuple[str, ...],
    params: tuple[str, ...],
    params_file: str | None,
    metrics_file: str | None,
    artifacts: tuple[str, ...],
    no_hash: bool,
    as_given: bool,
    trained_at: str | None,
    data_window: str | None,
    epochs: int | None,
    train_loss: float | None,
    validation_loss: float | None,
    early_stop_epoch: int | None,
    tags: tuple[str, ...],
    labels: tuple[str, ...],
    annotations: tuple[str, ...],
    code_from: Path | None,
    run_id: str | None,
    run_url: str | None,
    tracker: str | None,
    datasets: tuple[str, ...],
    parent: str | None,
    push: bool | None,
    branch: str | None,
    as_json: bool,
) -> None:
    """Register a new version of MODEL_ID: uploads artifacts, appends the version, one commit.

    The version number is assigned by the registry and never reused; with --push,
    a version someone else pushed meanwhile makes this one the next number.

    Lineage: --code-from train.py records the repository, commit and path of
    the training code's checkout; --run-id/--run-url/--tracker the run;
    --dataset ROLE=URI the data; --parent the base model of a fine-tuning.

    Example: modelreg register churn-xgb --metric accuracy=0.94 --artifact model=./m.bst --push
    """
    from modelreg.manifest import Artifact

    lineage = _lineage(code_from, run_id, run_url, tracker, datasets, parent)
    plain = [text for text in labels if "=" not in text]
    if len(plain) > 1:
        raise click.BadParameter(
            f"one human label per version, not {', '.join(plain)} (labels with = may repeat)",
            param_hint="--label",
        )
    label = plain[0] if plain else None
    label_values = parse_pairs([text for text in labels if "=" in text], "--label")
    annotation_values = _annotations(annotations)
    metric_values: dict[str, Any] = {}
    if metrics_file:
        metric_values.update(_file_mapping(metrics_file, "--metrics-file"))
    for k, v in parse_pairs(metrics, "--metric").items():
        try:
            metric_values[k] = float(v)
        except ValueError:
            raise click.BadParameter(f"{k}={v}: not a number", param_hint="--metric") from None
    hyper: dict[str, Any] = {}
    if params_file:
        hyper.update(_file_mapping(params_file, "--params-file"))
    for k, v in parse_pairs(params, "--param").items():
        hyper[k] = _yaml_value(v, "--param")
    training: dict[str, Any] = {}
    if trained_at:
        training["trained_at"] = _when(trained_at, "--trained-at")
    if data_window:
        start, sep, end = data_window.partition("..")
        if not sep:
            raise click.BadParameter("expected START..END", param_hint="--data-window")
        training["data_window"] = {
            "start": _when(start, "--data-window"),
            "end": _when(end, "--data-window"),
        }
    for key, value in (
        ("epochs", epochs),
        ("train_loss", train_loss),
        ("validation_loss", validation_loss),
        ("early_stop_epoch", early_stop_epoch),
    ):
        if value is not None:
            training[key] = value
    sources: dict[str, Any] = {}
    spool = contextlib.ExitStack()
    pairs = parse_pairs(artifacts, "--artifact")
    if list(pairs.values()).count("-") > 1:
        raise click.BadParameter("only one artifact can come from stdin", param_hint="--artifact")
    for role, src in pairs.items():
        if src == "-":
            sources[role] = _stdin_file(spool, role)
        elif "://" in src:
            sources[role] = Artifact(uri=src) if as_given else src
        elif as_given:
            raise click.BadParameter(
                f"{role}={src}: --as-given records URLs; a local file is uploaded",
                param_hint="--artifact",
            )
        else:
            sources[role] = Path(src)

    def op(reg: Registry) -> Version:
        return reg.register_version(
            model_id,
            label=label,
            description=description,
            stage=stage,
            metrics=metric_values,
            hyperparameters=hyper,
            training=training or None,
            artifacts=sources or None,
            tags=tags,
            labels=label_values,
            annotations=annotation_values,
            lineage=lineage,
            hash=not no_hash,
            progress=transfer_progress(not as_json),
        )

    def show(version: Version) -> None:
        if as_json:
            emit_json(version_json(model_id, version))
            return
        click.echo(
            f"Registered {model_id}@{version.version}"
            + (f" ({version.label})" if version.label else "")
        )
        if no_hash and sources:
            click.echo("note: --no-hash: sizes recorded, no sha256; verify checks sizes only")
        code = version.lineage.code if version.lineage else None
        if code is not None and code.dirty:
            click.echo(
                f"note: {code_from} has uncommitted changes; lineage.code records commit "
                f"{(code.commit or '')[:12]} and dirty: true"
            )
        if as_given and sources:
            click.echo(
                "note: --as-given: URLs recorded without size or sha256; where the store "
                "can be read, `modelreg artifacts verify --fill` records them"
            )

    with spool:
        run_write(op, show, push=push, branch=branch, as_json=as_json)


def _when(text: str, what: str) -> dt.datetime:
    """An ISO 8601 time with its timezone (``2025-01-23T12:00:00Z``), else a usage error."""
    example = "e.g. 2025-01-23T12:00:00Z"
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date and time in ISO 8601 ({example})", param_hint=what
        ) from None
    if value.tzinfo is None:
        raise click.BadParameter(
            f"{text!r} has no timezone: add Z for UTC or an offset like +02:00 ({example})",
            param_hint=what,
        )
    return value


def _stdin_file(stack: contextlib.ExitStack, role: str) -> Path:
    """Standard input, copied to a file named after the role (uploaded under that name)."""
    import shutil
    import sys
    import tempfile

    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="modelreg-stdin-")))
    path = folder / role
    with path.open("wb") as out:
        shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
    return path


def _annotations(pairs: tuple[str, ...]) -> dict[str, Any]:
    return {
        k: _yaml_value(v, "--annotation") for k, v in parse_pairs(pairs, "--annotation").items()
    }


def _lineage(
    code_from: Path | None,
    run_id: str | None,
    run_url: str | None,
    tracker: str | None,
    datasets: tuple[str, ...],
    parent: str | None,
) -> dict[str, Any] | None:
    """The lineage block the register options describe (None when they describe none)."""
    lineage: dict[str, Any] = {}
    if code_from is not None:
        from modelreg.gitstore.checkout import code_origin

        origin = code_origin(code_from)
        code: dict[str, Any] = {
            "repository": origin.repository,
            "commit": origin.commit,
            "path": origin.path,
        }
        if origin.dirty:
            code["dirty"] = True
        lineage["code"] = {k: v for k, v in code.items() if v is not None}
    if run_id or run_url or tracker:
        if not run_id:
            raise click.BadParameter("--run-url and --tracker need --run-id", param_hint="--run-id")
        run = {"id": run_id, "url": run_url, "tracker": tracker}
        lineage["run"] = {k: v for k, v in run.items() if v is not None}
    if datasets:
        lineage["datasets"] = [_dataset(d) for d in datasets]
    if parent:
        lineage["parent"] = parent
    return lineage or None


def _dataset(text: str) -> dict[str, str]:
    """``train=s3://d/x.parquet#sha256:ab..`` -> {role, uri, sha256} (``#v3``: version)."""
    role, sep, rest = text.partition("=")
    roles = ("train", "validation", "test", "other")
    if not sep or role not in roles or not rest:
        raise click.BadParameter(
            f"{text!r} is not ROLE=URI with ROLE one of {', '.join(roles)}",
            param_hint="--dataset",
        )
    uri, _, pin = rest.partition("#")
    out = {"role": role, "uri": uri}
    if pin.startswith("sha256:"):
        out["sha256"] = pin[7:]
    elif pin:
        out["version"] = pin
    return out


def _file_mapping(path: str, what: str) -> dict[str, Any]:
    from modelreg.errors import InvalidManifestError
    from modelreg.yamlio import loads

    data = Path(path).read_bytes()
    try:
        value = loads(data, path).value
    except InvalidManifestError as exc:
        raise click.BadParameter(str(exc.problems[0]), param_hint=what) from None
    if not isinstance(value, dict):
        raise click.BadParameter(f"{path} must hold a mapping", param_hint=what)
    return value


FILTER_HELP = {
    "status": "Only models whose status is VALUE: registered, deployed or archived (repeat "
    "for OR).",
    "stage": "Only models with a version in stage VALUE: none, staging, challenger, "
    "production or archived (repeat for OR).",
    "framework": f"Only models whose framework is VALUE: {', '.join(FRAMEWORKS)} (repeat for OR).",
    "source": f"Only models whose source is VALUE: {', '.join(SOURCES)} (repeat for OR).",
    "tag": "Only models tagged VALUE (repeat for OR).",
    "label": "Only models with this label: KEY=VALUE, or KEY for any value (repeat: all "
    "must hold), e.g. --label team=risk.",
}
FILTER_METAVAR = {"label": "KEY[=VALUE]"}


def _multi(*names: str) -> Callable[[F], F]:
    def deco(f: F) -> F:
        for name in reversed(names):
            f = click.option(
                f"--{name}",
                f"f_{name}",
                multiple=True,
                metavar=FILTER_METAVAR.get(name, "VALUE"),
                help=FILTER_HELP.get(name, f"Only models whose {name} is VALUE (repeat for OR)."),
                shell_complete=completion.stages if name == "stage" else None,
            )(f)
        return f

    return deco


@click.command("list")
@click.option("--search", "-s", help="Text to find in id, name or description.")
@_multi(*FILTERS)
@click.option(
    "--sort",
    default="id",
    show_default=True,
    help="Field to sort on, ascending; FIELD:desc or -FIELD for descending "
    "(id, name, framework, created_at, updated_at, latest_version, ...).",
)
@click.option("--limit", type=click.IntRange(min=0), help="At most this many models.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many models.")
@registry_options
def list_(
    search: str | None,
    sort: str,
    limit: int | None,
    offset: int,
    ref: str | None,
    as_json: bool,
    **filters: tuple[str, ...],
) -> None:
    """List models, with filters, sort and pagination.

    \b
    Examples:
      modelreg list --framework xgboost --stage production
      modelreg list --label team=risk --label tier --json
    """
    from modelreg.query import Query

    query = Query(
        search=search,
        filters={k[2:]: v for k, v in filters.items() if v},
        sort=sort,
        limit=limit,
        offset=offset,
    )
    reg = open_registry(ref)
    if as_json:
        found = reg.list_json(query)
        head = {"count": found.page.total, "limit": found.page.limit, "offset": found.page.offset}
        start = json.dumps(head, separators=(",", ":")).encode()[:-1] + b',"models":['
        emit_json_stream(start, found.write, b"]}")
        return
    page = reg.summaries(query)
    if not page.total:
        click.echo("no models match" if search or query.filters else "no models yet", err=True)
        return
    emit_table(
        (
            [m.id, m.name, m.framework, m.status, m.latest_version, m.production, ",".join(m.tags)]
            for m in page.items
        ),
        ["ID", "NAME", "FRAMEWORK", "STATUS", "LATEST", "PRODUCTION", "TAGS"],
    )
    shown = len(page.items)
    if offset + shown < page.total and shown:
        click.echo(f"({shown} of {page.total}; --offset {offset + shown} for more)")
    elif shown < page.total:
        reason = "--limit 0" if limit == 0 else f"--offset {offset} is past the end"
        click.echo(f"({page.total} model(s) match; {reason} shows none)")


@click.command()
@click.argument("ref_spec", metavar="MODEL[@VERSION]", shell_complete=completion.version_refs)
@registry_options
def show(ref_spec: str, ref: str | None, as_json: bool) -> None:
    """Show a model with its versions, or one version (churn-xgb@production)."""
    reg = open_registry(ref)
    if "@" in ref_spec:
        model, version = reg.resolve(ref_spec)
        if as_json:
            emit_json(version_json(model.id, version))
            return
        _print_version(model.id, version, model.aliases_of(version.version))
        return
    model = reg.get(ref_spec)
    from modelreg.cards import card_path

    raw = reg.base.read_bytes(card_path(model.id))
    card = raw.decode("utf-8", "replace") if raw is not None else None
    if as_json:
        emit_json({**model_json(model), "card": card} if card is not None else model_json(model))
        return
    click.echo(f"{model.id}: {model.name}")
    for label, value in (
        ("description", model.description),
        ("status", model.status.value),
        ("framework", model.framework.value),
        ("type", model.type),
        ("source", model.source and model.source.value),
        ("owner", model.owner),
        ("organization", model.organization),
        ("workspace", model.workspace),
        ("customer", model.customer),
        ("tags", ", ".join(model.tags)),
        ("labels", _pairs(model.labels)),
        ("annotations", _pairs(model.annotations)),
        ("aliases", ", ".join(f"{a} -> {n}" for a, n in sorted(model.aliases.items()))),
    ):
        if value:
            click.echo(f"  {label + ':':<14}{value}")
    d = model.deployment
    if d is not None:
        extra = (
            f", challenger {d.challenger.version} at {d.challenger.traffic_percent}%"
            if d.challenger
            else ""
        )
        click.echo(
            f"  {'deployment:':<14}version {d.version} on {d.target}, {d.replicas} "
            f"replica(s){extra}" + (f", {d.endpoint_url}" if d.endpoint_url else "")
        )
    if model.versions:
        click.echo("")
        emit_table(
            (
                [
                    v.version,
                    v.label,
                    v.stage.value,
                    ",".join(model.aliases_of(v.version)),
                    _fmt_time(v.created_at),
                    " ".join(f"{k}={v2:g}" for k, v2 in list(v.metrics.items())[:4]),
                    v.description,
                ]
                for v in model.versions
            ),
            ["VERSION", "LABEL", "STAGE", "ALIASES", "CREATED", "METRICS", "DESCRIPTION"],
        )
    if card is not None and card.strip():
        click.echo(f"\nModel card ({card_path(model.id)}):\n")
        click.echo(card.rstrip("\n"))


def _fmt_time(t: dt.datetime | None) -> str:
    return "" if t is None else t.strftime("%Y-%m-%d %H:%M")


def _pairs(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def _print_version(model_id: str, v: Any, aliases: list[str]) -> None:
    click.echo(f"{model_id}@{v.version}" + (f" ({v.label})" if v.label else ""))
    click.echo(f"  stage:        {v.stage.value}")
    if aliases:
        click.echo(f"  aliases:      {', '.join(aliases)}")
    click.echo(f"  created:      {v.created_at.isoformat()}")
    if v.description:
        click.echo(f"  description:  {v.description}")
    for title, value in (
        ("tags", ", ".join(v.tags)),
        ("labels", _pairs(v.labels)),
        ("annotations", _pairs(v.annotations)),
    ):
        if value:
            click.echo(f"  {title + ':':<14}{value}")
    if v.lineage:
        click.echo("  lineage:")
        lin = v.lineage
        if lin.parent:
            click.echo(f"    parent: {lin.parent}")
        if lin.run:
            click.echo(f"    run: {_pairs(lin.run.model_dump(exclude_none=True))}")
        if lin.code:
            click.echo(f"    code: {_pairs(lin.code.model_dump(exclude_none=True))}")
        for d in lin.datasets:
            pin = (
                f" sha256:{d.sha256[:12]}"
                if d.sha256
                else f" version {d.version}"
                if d.version
                else ""
            )
            click.echo(f"    {d.role.value} data: {d.uri}{pin}")
    for name, title in (("metrics", "metrics"), ("hyperparameters", "hyperparameters")):
        values = getattr(v, name)
        if values:
            click.echo(f"  {title}:")
            for k, val in values.items():
                click.echo(f"    {k}: {val}")
    if v.training:
        click.echo("  training:")
        for k, val in v.training.model_dump(exclude_none=True).items():
            click.echo(f"    {k}: {val}")
    if v.artifacts:
        click.echo("  artifacts:")
        for role, a in v.artifacts.items():
            digest = f" sha256:{a.sha256[:12]}" if a.sha256 else ""
            size = f" {a.size} bytes" if a.size is not None else ""
            click.echo(f"    {role}: {a.uri}{size}{digest}")


@click.command()
@click.argument("model_id", shell_complete=completion.model_ids)
@click.option("--name")
@click.option("--description")
@click.option("--type", "type_")
@click.option("--framework", type=click.Choice(FRAMEWORKS))
@click.option("--source", type=click.Choice(SOURCES))
@click.option("--owner")
@click.option("--organization")
@click.option("--workspace")
@click.option("--customer")
@click.option("--tag", "tags", multiple=True, help="Replace the tags (repeat).")
@click.option("--add-tag", multiple=True, help="Add a tag (repeat).")
@click.option("--remove-tag", multiple=True, help="Remove a tag (repeat).")
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set a label (repeat); KEY= sets an empty value (see --remove-label).",
)
@click.option("--remove-label", multiple=True, metavar="KEY", help="Remove a label (repeat).")
@click.option(
    "--annotation",
    "annotations",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set an annotation, value read as YAML (repeat).",
)
@click.option(
    "--remove-annotation", multiple=True, metavar="KEY", help="Remove an annotation (repeat)."
)
@write_options
@json_option
def update(
    model_id: str,
    tags: tuple[str, ...],
    add_tag: tuple[str, ...],
    remove_tag: tuple[str, ...],
    labels: tuple[str, ...],
    remove_label: tuple[str, ...],
    annotations: tuple[str, ...],
    remove_annotation: tuple[str, ...],
    push: bool | None,
    branch: str | None,
    as_json: bool,
    type_: str | None,
    **fields: str | None,
) -> None:
    """Change a model's metadata, or a version's (MODEL@VERSION: description, labels and
    annotations only; the rest of a released version never changes). One commit.

    Example: modelreg update churn-xgb --add-tag churn --label team=risk --push
    """
    changes: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
    if type_ is not None:
        changes["type"] = type_
    set_labels = parse_pairs(labels, "--label")
    set_annotations = _annotations(annotations)
    meta = set_labels or remove_label or set_annotations or remove_annotation
    if not (changes or tags or add_tag or remove_tag or meta):
        raise click.UsageError("nothing to update: give at least one option")
    on_version = "@" in model_id
    if on_version and (set(changes) - {"description"} or tags or add_tag or remove_tag):
        raise click.UsageError(
            "a version's description, labels and annotations may change, nothing else "
            "(drop @VERSION to update the model)"
        )

    def merged(current: dict[str, Any], put: dict[str, Any], drop: tuple[str, ...]) -> Any:
        return {k: v for k, v in {**current, **put}.items() if k not in drop}

    def op(reg: Registry) -> Model:
        if on_version:
            _, version = reg.resolve(model_id)
            return reg.update_version(
                model_id,
                description=changes.get("description"),
                labels=merged(version.labels, set_labels, remove_label) if meta else None,
                annotations=(
                    merged(version.annotations, set_annotations, remove_annotation)
                    if meta
                    else None
                ),
            )
        current = reg.get(model_id)
        if tags or add_tag or remove_tag:  # from the tags of the tip the change lands on
            tag_list = list(tags) if tags else list(current.tags)
            tag_list += [t for t in add_tag if t not in tag_list]
            changes["tags"] = [t for t in tag_list if t not in remove_tag]
        if set_labels or remove_label:
            changes["labels"] = merged(current.labels, set_labels, remove_label)
        if set_annotations or remove_annotation:
            changes["annotations"] = merged(current.annotations, set_annotations, remove_annotation)
        return reg.update(model_id, **changes)

    def show(model: Model) -> None:
        if as_json:
            emit_json(model_json(model))
        else:
            click.echo(f"Updated {model_id}")

    run_write(op, show, push=push, branch=branch, as_json=as_json)


@click.command()
@click.argument("ref_spec", metavar="MODEL@VERSION", shell_complete=completion.version_refs)
@click.argument("stage", type=click.Choice(STAGES))
@write_options
@json_option
def promote(
    ref_spec: str, stage: str, push: bool | None, branch: str | None, as_json: bool
) -> None:
    """Move a version to STAGE (production demotes the previous production version).

    Example: modelreg promote churn-xgb@4 production --push
    """

    def op(reg: Registry) -> tuple[Model, int]:
        model, version = reg.resolve(ref_spec)  # @latest means the tip's latest
        return reg.set_stage(model.id, version.version, stage), version.version

    def show(done: tuple[Model, int]) -> None:
        if as_json:
            emit_json(model_json(done[0]))
        else:
            click.echo(f"{done[0].id}@{done[1]} is now {stage}")

    run_write(op, show, push=push, branch=branch, as_json=as_json)


@click.command()
@click.argument("model_id", shell_complete=completion.model_ids)
@write_options
@json_option
def archive(model_id: str, push: bool | None, branch: str | None, as_json: bool) -> None:
    """Archive a model (status archived; refused while deployed).

    Example: modelreg archive churn-xgb --branch retire-churn --push
    """

    def show(model: Model) -> None:
        if as_json:
            emit_json(model_json(model))
        else:
            click.echo(f"Archived {model_id}")

    run_write(lambda reg: reg.archive(model_id), show, push=push, branch=branch, as_json=as_json)


@click.command()
@click.argument("model_id", shell_complete=completion.model_ids)
@write_options
@json_option
def unarchive(model_id: str, push: bool | None, branch: str | None, as_json: bool) -> None:
    """Bring an archived model back (status registered), so it takes new versions again.

    Example: modelreg unarchive churn-xgb --push
    """

    def show(model: Model) -> None:
        if as_json:
            emit_json(model_json(model))
        else:
            click.echo(f"Unarchived {model_id}")

    run_write(lambda reg: reg.unarchive(model_id), show, push=push, branch=branch, as_json=as_json)


@click.command()
@click.argument("model_id", shell_complete=completion.model_ids)
@write_options
@json_option
def delete(model_id: str, push: bool | None, branch: str | None, as_json: bool) -> None:
    """Delete a model's manifest (git history keeps it; refused while deployed).

    Example: modelreg delete old-model --push
    """

    def show(_: None) -> None:
        if as_json:
            emit_json({"deleted": model_id})
        else:
            click.echo(f"Deleted {model_id} (its history stays in git)")

    run_write(lambda reg: reg.delete(model_id), show, push=push, branch=branch, as_json=as_json)
