"""Deploying: render a model's deployment specs for a target and record them.

In a Git registry a deployment is files for a GitOps engine (Argo CD, Flux)
or CloudFormation under ``deploy/<target>/<model-id>/``, plus the manifest's
``deployment`` block, both in one commit reviewed like any other change.
Targets are discovered through the entry-point group ``modelreg.targets``;
the built-in ``kubernetes``, ``kserve`` and ``sagemaker`` are registered there
too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from importlib import metadata
from typing import TYPE_CHECKING, Any, Protocol

from modelreg import plugins, rules
from modelreg.config import RegistryConfig
from modelreg.deploy.target import (
    ENTRY_POINT_GROUP,
    DeployRequest,
    Rendered,
    RenderRequest,
    Target,
)
from modelreg.errors import ModelregError, NotFoundError, RuleViolationError, TargetError
from modelreg.manifest import Deployment
from modelreg.refs import VersionRef, select
from modelreg.transaction import Transaction

if TYPE_CHECKING:
    from modelreg.manifest import Model, Version


class Reader(Protocol):
    """What rendering reads: the config, models and files (a snapshot or a transaction)."""

    @property
    def config(self) -> RegistryConfig: ...

    def get(self, model_id: str) -> Model: ...

    def files_under(self, folder: str) -> list[str]: ...


__all__ = [
    "DeployRequest",
    "DeployResult",
    "RenderRequest",
    "Rendered",
    "Target",
    "TargetInfo",
    "UndeployResult",
    "deploy",
    "installed_targets",
    "load_target",
    "plan",
    "undeploy",
]

DEPLOY_DIR = "deploy"


def deploy_folder(target: str, model_id: str) -> str:
    """Where a model's specs for a target live, relative to the registry root."""
    return f"{DEPLOY_DIR}/{target}/{model_id}"


# ------------------------------------------------------------- discovery


@dataclass(frozen=True)
class TargetInfo:
    """An installed target: its entry point, the distribution providing it, and its
    description (or, for a plugin that cannot be loaded, the error)."""

    name: str
    entry_point: str
    distribution: str | None
    description: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "entry_point": self.entry_point,
            "distribution": self.distribution,
            "description": self.description,
            "error": self.error,
        }


def _load(ep: metadata.EntryPoint) -> Target:
    where = plugins.where(ep)
    try:
        target = plugins.instance(ep)
    except Exception as exc:
        raise TargetError(f"target {ep.name!r} cannot be loaded: {where}: {exc}") from None
    if not isinstance(target, Target):
        raise TargetError(
            f"target {ep.name!r} is not a deploy target (it needs name, description and "
            f"render()): {where}"
        )
    return target


def installed_targets() -> list[TargetInfo]:
    """Every target installed in this environment, sorted by name. A broken plugin is
    listed with its error instead of raising."""
    out = []
    for name, ep in plugins.entry_points(ENTRY_POINT_GROUP).items():
        dist = ep.dist
        dist_name = f"{dist.name} {dist.version}" if dist is not None else None
        try:
            target = _load(ep)
        except TargetError as exc:
            out.append(TargetInfo(name, ep.value, dist_name, error=str(exc)))
            continue
        out.append(TargetInfo(name, ep.value, dist_name, str(target.description)))
    return out


def load_target(name: str) -> Target:
    """The installed target called ``name``. Raises :class:`NotFoundError` when none is,
    :class:`TargetError` when its plugin cannot be loaded."""
    eps = plugins.entry_points(ENTRY_POINT_GROUP)
    if name not in eps:
        known = ", ".join(eps) or "none"
        raise NotFoundError(f"no deploy target {name!r} is installed (installed: {known})")
    return _load(eps[name])


# ------------------------------------------------------------- deploying


@dataclass(frozen=True)
class DeployResult:
    """What a deploy wrote (or, for a dry run, would write).

    ``files`` maps paths relative to the registry root to their bytes;
    ``removed`` lists older spec files the deploy deletes; ``commit`` is None for
    a dry run, and inside a larger transaction (``Registry.transaction``,
    ``Registry.publish``), whose commit is made only when it ends."""

    model_id: str
    target: str
    deployment: Deployment
    files: dict[str, bytes]
    removed: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    commit: str | None = None
    dry_run: bool = False

    @property
    def endpoint_url(self) -> str | None:
        return self.deployment.endpoint_url

    def __str__(self) -> str:
        d = self.deployment
        text = f"Version {d.version} of {self.model_id} deployed to {self.target}"
        if d.challenger is not None:
            text += f" (challenger {d.challenger.version} at {d.challenger.traffic_percent}%)"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "target": self.target,
            "dry_run": self.dry_run,
            "commit": self.commit,
            "endpoint_url": self.endpoint_url,
            "files": sorted(self.files),
            "removed": list(self.removed),
            "warnings": list(self.warnings),
            "deployment": self.deployment.model_dump(mode="json", exclude_none=True),
        }


@dataclass(frozen=True)
class UndeployResult:
    """What an undeploy removed, and the commit that did it (None inside a larger
    transaction, whose commit is made only when it ends)."""

    model_id: str
    target: str
    removed: tuple[str, ...] = field(default_factory=tuple)
    commit: str | None = None

    def __str__(self) -> str:
        return f"{self.model_id} undeployed from {self.target}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "target": self.target,
            "removed": list(self.removed),
            "commit": self.commit,
        }


def _version(model: Model, selector: str | None, request: DeployRequest) -> Version:
    if request.version is not None:
        chosen = select(model, str(request.version))
        if selector is not None and select(model, selector).version != chosen.version:
            raise RuleViolationError(
                f"{model.id}@{selector} and version {request.version} name different versions"
            )
        return chosen
    return select(model, selector)


def render_request(reg: Reader, spec: str, request: DeployRequest, target: str) -> RenderRequest:
    """The checked, resolved input of a target. Raises :class:`NotFoundError` for an
    unknown model, version or hardware profile, :class:`RuleViolationError` when
    :func:`modelreg.rules.deployment_rules` refuse the deployment."""
    ref = VersionRef.parse(spec)
    model = reg.get(ref.model_id)
    version = _version(model, ref.selector, request)
    challenger = None
    traffic = 0
    if request.challenger is not None:
        challenger = model.version(request.challenger.version)
        if challenger is None:
            raise NotFoundError(
                f"{model.id} has no version {request.challenger.version} to use as challenger "
                f"(latest is {model.latest_version})"
            )
        traffic = request.challenger.traffic_percent
    profile = None
    if request.hardware is not None:
        profile = reg.config.hardware.get(request.hardware)
        if profile is None:
            known = ", ".join(sorted(reg.config.hardware)) or "none"
            raise NotFoundError(
                f"unknown hardware profile {request.hardware!r} (modelreg.yaml has: {known}); "
                "add it under `hardware:` in modelreg.yaml (see docs/deploy.md)"
            )
    rules.enforce(
        rules.deployment_rules(model, version.version, challenger.version if challenger else None)[
            :1
        ]
    )
    return RenderRequest(
        model=model,
        version=version,
        replicas=request.replicas,
        autoscaling=request.autoscaling,
        challenger=challenger,
        traffic_percent=traffic,
        hardware_name=request.hardware,
        hardware=profile,
        options=dict(reg.config.deploy.targets.get(target, {})),
        current=model.deployment,
    )


def render(target: Target, request: RenderRequest) -> Rendered:
    """The target's files, checked: relative names without ``..``, bytes values.
    Raises :class:`TargetError` naming the target when it fails or answers badly."""
    name = getattr(target, "name", type(target).__name__)
    try:
        rendered = target.render(request)
    except ModelregError:
        raise
    except Exception as exc:
        raise TargetError(f"target {name!r} failed to render: {type(exc).__name__}: {exc}") from exc
    if not isinstance(rendered, Rendered):
        raise TargetError(f"target {name!r} returned {type(rendered).__name__}, not Rendered")
    for path, data in rendered.files.items():
        parts = path.split("/")
        if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise TargetError(f"target {name!r} rendered a file with a bad name: {path!r}")
        if not isinstance(data, bytes):
            raise TargetError(f"target {name!r} rendered {path!r} as {type(data).__name__}")
    return rendered


def _target_name(reg: Reader, target: str | None) -> str:
    name = target or reg.config.deploy.default_target
    if not name:
        raise RuleViolationError(
            "no target given and modelreg.yaml sets no deploy.default_target "
            "(pass --target, e.g. --target kubernetes)"
        )
    return name


def plan(
    reg: Reader, spec: str, request: DeployRequest | None = None, *, target: str | None = None
) -> DeployResult:
    """What deploying ``spec`` (``MODEL`` or ``MODEL@VERSION``) on a target would write,
    without writing it (a dry run). Raises :class:`NotFoundError`,
    :class:`RuleViolationError` or :class:`TargetError`."""
    request = request or DeployRequest()
    name = _target_name(reg, target)
    plugin = load_target(name)
    req = render_request(reg, spec, request, name)
    rendered = render(plugin, req)
    model = req.model
    folder = deploy_folder(name, model.id)
    files = {f"{folder}/{path}": data for path, data in sorted(rendered.files.items())}
    old = set(reg.files_under(folder))
    if model.deployment is not None:
        old |= set(reg.files_under(deploy_folder(model.deployment.target, model.id)))
    removed = tuple(sorted(old - set(files)))
    deployment = Deployment(
        target=name,
        version=req.version.version,
        challenger=request.challenger,
        hardware=request.hardware,
        replicas=request.replicas,
        autoscaling=request.autoscaling,
        endpoint_url=rendered.endpoint_url,
        deployed_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0),
    )
    return DeployResult(
        model.id, name, deployment, files, removed, tuple(rendered.warnings), dry_run=True
    )


def deploy(
    tx: Transaction, spec: str, request: DeployRequest | None = None, *, target: str | None = None
) -> DeployResult:
    """Render ``spec`` for a target into ``tx``: the specs under
    ``deploy/<target>/<model-id>/`` and the deployment block, committed with ``tx``.

    A redeploy replaces the model's earlier spec files (on any target). Raises
    :class:`NotFoundError`, :class:`RuleViolationError` or :class:`TargetError` and
    then changes nothing. The result's commit is for the caller to fill in."""
    result = replace(plan(tx, spec, request, target=target), dry_run=False)
    deployment = result.deployment
    changes: dict[str, bytes | None] = {**result.files, **dict.fromkeys(result.removed)}
    message = f"{result.model_id}: deploy version {deployment.version} to {result.target}"
    if deployment.challenger is not None:
        c = deployment.challenger
        message += f" (challenger {c.version} at {c.traffic_percent}%)"
    tx.set_deployment(result.model_id, deployment, files=changes, message=message)
    return result


def undeploy(tx: Transaction, model_id: str) -> UndeployResult:
    """Remove the deployment block and the model's spec files in ``tx``.

    Raises :class:`NotFoundError` for an unknown model, :class:`RuleViolationError`
    when it is not deployed."""
    model = tx.get(model_id)
    if model.deployment is None:
        raise RuleViolationError(f"{model_id} is not deployed")
    target = model.deployment.target
    removed = tuple(sorted(tx.files_under(deploy_folder(target, model_id))))
    tx.set_deployment(
        model_id, None, files=dict.fromkeys(removed), message=f"{model_id}: undeploy from {target}"
    )
    return UndeployResult(model_id, target, removed)
