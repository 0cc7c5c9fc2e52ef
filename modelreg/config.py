"""The registry config, ``modelreg.yaml``. Pure: no git, no I/O."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from modelreg.layout import DEFAULT_ARTIFACT_ROOT
from modelreg.vocabulary import Stage


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ArtifactStoreConfig(_Frozen):
    """Where artifacts live. ``root`` is any fsspec URL, or a folder relative to the registry."""

    root: Annotated[StrictStr, Field(min_length=1)] = DEFAULT_ARTIFACT_ROOT
    # Non-secret options passed to the fsspec filesystem (endpoint_url, region, profile).
    storage_options: dict[StrictStr, Any] = Field(default_factory=dict)


class KubernetesHardware(_Frozen):
    resources: dict[StrictStr, dict[StrictStr, Any]] = Field(default_factory=dict)
    node_selector: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    tolerations: list[dict[StrictStr, Any]] = Field(default_factory=list)


class SageMakerHardware(_Frozen):
    instance_type: StrictStr
    vcpus: Annotated[int, Field(ge=1)] | None = None
    gpus: Annotated[int, Field(ge=0)] | None = None


class HardwareProfile(_Frozen):
    """A named hardware choice (``gpu-a100-40gb``) mapped onto each target."""

    description: StrictStr | None = None
    gpus: Annotated[int, Field(ge=0)] = 0
    kubernetes: KubernetesHardware | None = None
    sagemaker: SageMakerHardware | None = None


class DeployConfig(_Frozen):
    default_target: StrictStr | None = None
    # Per-target defaults (namespace, image, role ARN, ...), read by each target.
    targets: dict[StrictStr, dict[StrictStr, Any]] = Field(default_factory=dict)


class PromotionPolicy(_Frozen):
    """Optional promotion rules, off by default."""

    production_from: list[Stage] | None = None
    max_challengers: Annotated[int, Field(ge=0)] | None = None


class Policy(_Frozen):
    max_manifest_bytes: Annotated[int, Field(ge=1024)] = 16 * 1024 * 1024
    promotion: PromotionPolicy = Field(default_factory=PromotionPolicy)


PUSH_TIMEOUT_HELP = (
    "Seconds a write with --push keeps re-applying itself on a newer remote tip, with "
    "jittered waits between attempts, before it gives up (nothing is published then)"
)


class GitConfig(_Frozen):
    remote: StrictStr = "origin"
    branch: StrictStr | None = None
    push: bool = False
    push_timeout: Annotated[float, Field(ge=0, description=PUSH_TIMEOUT_HELP)] = 120.0


class RegistryConfig(_Frozen):
    """``modelreg.yaml``."""

    api_version: Literal["modelreg/v1"] = Field("modelreg/v1", alias="apiVersion")
    kind: Literal["Registry"] = "Registry"
    name: StrictStr = "registry"
    artifacts: ArtifactStoreConfig = Field(default_factory=ArtifactStoreConfig)
    hardware: dict[StrictStr, HardwareProfile] = Field(default_factory=dict)
    deploy: DeployConfig = Field(default_factory=DeployConfig)
    policy: Policy = Field(default_factory=Policy)
    git: GitConfig = Field(default_factory=GitConfig)
