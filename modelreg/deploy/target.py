"""The target contract: what a deploy target is given, and what it gives back.

A target is any object with a ``name``, a one-line ``description`` and a
``render(request)`` method, registered under the entry-point group
``modelreg.targets`` (the built-in ones too). Rendering is pure: no I/O, no
clock, no randomness, so the same request gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from modelreg.config import HardwareProfile
from modelreg.errors import RuleViolationError
from modelreg.manifest import Autoscaling, Challenger

if TYPE_CHECKING:
    from modelreg.manifest import Deployment, Model, Version

ENTRY_POINT_GROUP = "modelreg.targets"


@dataclass(frozen=True)
class DeployRequest:
    """What a person asks for, as in the registry API's deploy request.

    ``version`` None means the latest non-archived version (or the one named by
    the ``MODEL@VERSION`` reference). Raises :class:`RuleViolationError` on values
    out of range (replicas < 1, min > max replicas, traffic outside 1..99).
    """

    version: int | None = None
    hardware: str | None = None
    replicas: int = 1
    autoscaling: Autoscaling | None = None
    challenger: Challenger | None = None

    def __post_init__(self) -> None:
        if self.version is not None and self.version < 1:
            raise RuleViolationError(f"version must be 1 or more, not {self.version}")
        if self.replicas < 1:
            raise RuleViolationError(f"replicas must be 1 or more, not {self.replicas}")

    @classmethod
    def build(
        cls,
        *,
        version: int | None = None,
        hardware: str | None = None,
        replicas: int = 1,
        autoscale: tuple[int, int, int] | None = None,
        challenger: int | None = None,
        traffic: int | None = None,
    ) -> DeployRequest:
        """A request from plain values; autoscale is (min, max, target CPU %).

        Raises :class:`RuleViolationError` with the value at fault."""
        scaling = None
        if autoscale is not None:
            low, high, cpu = autoscale
            if low > high:
                raise RuleViolationError(
                    f"autoscaling min replicas ({low}) is greater than max replicas ({high})"
                )
            if high < 1:
                raise RuleViolationError(f"autoscaling max replicas must be 1 or more, not {high}")
            if low < 0:
                raise RuleViolationError(f"autoscaling min replicas must be 0 or more, not {low}")
            if not 1 <= cpu <= 100:
                raise RuleViolationError(f"target CPU utilisation must be 1..100 %, not {cpu}")
            scaling = Autoscaling(
                enabled=True, min_replicas=low, max_replicas=high, target_cpu_utilization=cpu
            )
        split = None
        if (challenger is None) != (traffic is None):
            raise RuleViolationError("a challenger needs both its version and a traffic percent")
        if challenger is not None and traffic is not None:
            if not 1 <= traffic <= 99:
                raise RuleViolationError(f"challenger traffic must be 1..99 percent, not {traffic}")
            if challenger < 1:
                raise RuleViolationError(f"challenger version must be 1 or more, not {challenger}")
            split = Challenger(version=challenger, traffic_percent=traffic)
        return cls(
            version=version,
            hardware=hardware,
            replicas=replicas,
            autoscaling=scaling,
            challenger=split,
        )


@dataclass(frozen=True)
class RenderRequest:
    """Everything a target needs, resolved and checked by the registry.

    ``options`` are the target's defaults from ``modelreg.yaml``
    (``deploy.targets.<name>``: namespace, image, role ARN, ...).
    """

    model: Model
    version: Version
    replicas: int = 1
    autoscaling: Autoscaling | None = None
    challenger: Version | None = None
    traffic_percent: int = 0  # the challenger's share, 1..99 when there is one
    hardware_name: str | None = None
    hardware: HardwareProfile | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    current: Deployment | None = None  # the model's deployment before this one

    @property
    def variants(self) -> tuple[tuple[Version, int], ...]:
        """(version, traffic percent) for each served version, production first."""
        if self.challenger is None:
            return ((self.version, 100),)
        return (
            (self.version, 100 - self.traffic_percent),
            (self.challenger, self.traffic_percent),
        )

    def option(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)


@dataclass(frozen=True)
class Rendered:
    """A target's answer: file name (relative, ``/``-separated) -> bytes, the endpoint
    URL when the target knows it, and warnings for the person deploying."""

    files: Mapping[str, bytes]
    endpoint_url: str | None = None
    warnings: tuple[str, ...] = ()


@runtime_checkable
class Target(Protocol):
    """A deploy target: renders a request into named files. Must be pure."""

    name: str
    description: str

    def render(self, request: RenderRequest) -> Rendered:
        """The files for this request. Raises :class:`ModelregError` on what it cannot
        express (a missing option, an artifact it cannot serve from)."""
        ...


def dns_name(*parts: str, max_length: int = 63) -> str:
    """A DNS-1035 label built from ``parts`` (``churn-xgb``, ``v3`` -> ``churn-xgb-v3``).

    Deterministic and without collisions: parts that are already valid are joined with
    ``-`` as they are; anything else (``customer_validation_lstm``, ``3d``, a name too
    long) is lower-cased, ``-`` put for what a label forbids, prefixed with a letter when
    needed, and ends with 8 hex digits of the sha256 of the original parts, so that
    ``a_b`` and ``a-b`` get different names."""
    raw = "-".join(parts)
    name = re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-")
    name = re.sub(r"-{2,}", "-", name)
    if not name or not name[0].isalpha():
        name = "m-" + name
    if name == raw and len(name) <= max_length:
        return name
    digest = hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:8]
    return name[: max_length - 9].rstrip("-") + "-" + digest


def artifact_uri(model: Model, version: Version) -> str:
    """The URI a server loads the version from (its ``model`` artifact, else the first).

    Raises :class:`RuleViolationError` when the version has no artifact."""
    artifact = version.primary_artifact
    if artifact is None:
        raise RuleViolationError(
            f"{model.id}@{version.version} has no artifact to serve; register one first"
        )
    return artifact.uri
