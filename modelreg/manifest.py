"""The model manifest: ``models/<id>/model.yaml``.

Frozen pydantic models; the JSON Schema in ``schemas/model.schema.json`` is
generated from them (see :mod:`modelreg.schema`). Pure: no git, no I/O.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictStr,
    model_validator,
)
from pydantic_core import PydanticCustomError

API_VERSION = "modelreg/v1"
ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
ROLE_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
LABEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._+-]*$"


def _not_text(value: Any) -> Any:
    # as JSON Schema's "integer": 3 and 3.0, never "3" nor true
    if isinstance(value, (str, bool)):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


NOT_TEXT = BeforeValidator(_not_text)  # after the constraints: the schema keeps minimum
ModelId = Annotated[StrictStr, Field(pattern=ID_PATTERN, max_length=128)]
Text = Annotated[StrictStr, Field(max_length=10_000)]
Name = Annotated[StrictStr, Field(min_length=1, max_length=256)]
Tag = Annotated[StrictStr, Field(min_length=1, max_length=64)]
Sha256 = Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]
JsonValue = Any


# The fields of a model a person may edit after creation (not id, versions or deployment).
METADATA_FIELDS = (
    "name",
    "description",
    "type",
    "framework",
    "source",
    "owner",
    "organization",
    "workspace",
    "customer",
    "tags",
)


class Stage(str, Enum):
    NONE = "none"
    STAGING = "staging"
    CHALLENGER = "challenger"
    PRODUCTION = "production"
    ARCHIVED = "archived"

    def __str__(self) -> str:
        return self.value


class Framework(str, Enum):
    PYTORCH = "pytorch"
    TENSORFLOW = "tensorflow"
    XGBOOST = "xgboost"
    SKLEARN = "sklearn"
    ONNX = "onnx"
    CUSTOM = "custom"

    def __str__(self) -> str:
        return self.value


class Source(str, Enum):
    AUTOML = "automl"
    FINE_TUNING = "fine-tuning"
    EXPERIMENT = "experiment"
    MANUAL = "manual"

    def __str__(self) -> str:
        return self.value


class Status(str, Enum):
    """A model's status, as in the registry API: derived, never stored."""

    REGISTERED = "registered"
    DEPLOYED = "deployed"
    ARCHIVED = "archived"

    def __str__(self) -> str:
        return self.value


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Artifact(_Frozen):
    """One stored file of a version: where it is and what its bytes are."""

    uri: Annotated[StrictStr, Field(min_length=1, max_length=2048)]
    sha256: Sha256 | None = None
    size: Annotated[int, Field(ge=0), NOT_TEXT] | None = None


class DataWindow(_Frozen):
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> DataWindow:
        if self.end < self.start:
            raise ValueError("data_window.end is before data_window.start")
        return self


class Training(_Frozen):
    """How a version was trained (the seed's training_metrics and window)."""

    trained_at: AwareDatetime | None = None
    data_window: DataWindow | None = None
    epochs: Annotated[int, Field(ge=0), NOT_TEXT] | None = None
    train_loss: StrictFloat | None = None
    validation_loss: StrictFloat | None = None
    early_stop_epoch: Annotated[int, Field(ge=0), NOT_TEXT] | None = None


class Version(_Frozen):
    """One released version. Numbers are assigned by the registry and never reused."""

    version: Annotated[int, Field(ge=1), NOT_TEXT]
    label: Annotated[StrictStr, Field(pattern=LABEL_PATTERN, max_length=128)] | None = None
    description: Text | None = None
    stage: Stage = Stage.NONE
    created_at: AwareDatetime
    metrics: dict[Annotated[StrictStr, Field(min_length=1)], StrictFloat] = Field(
        default_factory=dict
    )
    hyperparameters: dict[StrictStr, JsonValue] = Field(default_factory=dict)
    training: Training | None = None
    artifacts: dict[Annotated[StrictStr, Field(pattern=ROLE_PATTERN)], Artifact] = Field(
        default_factory=dict
    )

    @property
    def primary_artifact(self) -> Artifact | None:
        """The ``model`` artifact, else the first one."""
        if "model" in self.artifacts:
            return self.artifacts["model"]
        return next(iter(self.artifacts.values()), None)

    def released_part(self) -> dict[str, Any]:
        """What never changes once committed (all but stage and description)."""
        return self.model_dump(mode="json", exclude={"stage", "description"})


class Challenger(_Frozen):
    version: Annotated[int, Field(ge=1), NOT_TEXT]
    traffic_percent: Annotated[int, Field(ge=1, le=99), NOT_TEXT]


class Autoscaling(_Frozen):
    enabled: bool = True
    min_replicas: Annotated[int, Field(ge=0), NOT_TEXT] = 1
    max_replicas: Annotated[int, Field(ge=1), NOT_TEXT] = 1
    target_cpu_utilization: Annotated[int, Field(ge=1, le=100), NOT_TEXT] = 80

    @model_validator(mode="after")
    def _bounds(self) -> Autoscaling:
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"min_replicas ({self.min_replicas}) is greater than "
                f"max_replicas ({self.max_replicas})"
            )
        return self


class Deployment(_Frozen):
    """Present while the model is deployed."""

    target: Annotated[StrictStr, Field(min_length=1)]
    version: Annotated[int, Field(ge=1), NOT_TEXT]
    challenger: Challenger | None = None
    hardware: StrictStr | None = None
    replicas: Annotated[int, Field(ge=1), NOT_TEXT] = 1
    autoscaling: Autoscaling | None = None
    endpoint_url: StrictStr | None = None
    deployed_at: AwareDatetime


class Model(_Frozen):
    """One model manifest."""

    api_version: Literal["modelreg/v1"] = Field("modelreg/v1", alias="apiVersion")
    kind: Literal["Model"] = "Model"
    id: ModelId
    name: Name
    description: Text = ""
    type: Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")] | None = None
    framework: Framework
    source: Source | None = None
    owner: StrictStr | None = None
    organization: StrictStr | None = None
    workspace: StrictStr | None = None
    customer: StrictStr | None = None
    tags: list[Tag] = Field(default_factory=list)
    created_at: AwareDatetime | None = None
    # Set when a deleted model is created again, so its old numbers are never reused.
    first_version: Annotated[int, Field(ge=1), NOT_TEXT] | None = None
    archived: StrictBool = False
    versions: list[Version] = Field(default_factory=list)
    deployment: Deployment | None = None

    @property
    def status(self) -> Status:
        if self.archived:
            return Status.ARCHIVED
        if self.deployment is not None:
            return Status.DEPLOYED
        return Status.REGISTERED

    @property
    def latest_version(self) -> int:
        return max((v.version for v in self.versions), default=0)

    def version(self, number: int) -> Version | None:
        for v in self.versions:
            if v.version == number:
                return v
        return None

    def in_stage(self, stage: Stage) -> list[Version]:
        return [v for v in self.versions if v.stage == stage]

    @property
    def stages(self) -> set[str]:
        """The stages its versions are in."""
        return {v.stage.value for v in self.versions}

    @property
    def production(self) -> Version | None:
        found = self.in_stage(Stage.PRODUCTION)
        return found[-1] if found else None

    @property
    def updated_at(self) -> Any:
        """Latest of created_at, version creation and deployment times (None if none)."""
        times = [t for t in (self.created_at, self.deployment and self.deployment.deployed_at) if t]
        times += [v.created_at for v in self.versions]
        return max(times) if times else None

    def to_document(self) -> dict[str, Any]:
        """The manifest as YAML-ready data, in the documented key order, without empties."""
        return to_document(self)


def to_document(obj: BaseModel) -> dict[str, Any]:
    """A manifest part as YAML-ready data, in field order, without empty optional parts."""
    return _prune(obj.model_dump(mode="python", by_alias=True, exclude_none=True))  # type: ignore[no-any-return]


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(v, Enum):
                v = v.value
            if k in ("metrics", "hyperparameters", "artifacts") and not v:
                continue
            if k == "archived" and v is False:
                continue
            out[k] = _prune(v)
        return out
    if isinstance(value, list):
        return [_prune(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value
