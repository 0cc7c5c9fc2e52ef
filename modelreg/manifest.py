"""The model manifest: ``models/<id>/model.yaml``.

Frozen pydantic models; the JSON Schema in ``schemas/model.schema.json`` is
generated from them (see :mod:`modelreg.schema`). Pure: no git, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from modelreg import limits
from modelreg.vocabulary import (
    ALIAS_PATTERN,
    ID_PATTERN,
    LABEL_KEY_PATTERN,
    LABEL_PATTERN,
    LABEL_VALUE_PATTERN,
    PARENT_PATTERN,
    RESERVED_NAMES,
    ROLE_PATTERN,
    VERSION_MUTABLE_FIELDS,
    DatasetRole,
    Framework,
    Source,
    Stage,
    Status,
    check_alias_name,
    check_label_key,
    check_label_value,
)

SCANNED = {"scanned": True}
"""Validation context for data that passed these scans before (the manifest cache
holds only models validated whole): the free-form values are not walked again."""


def _within(check: Callable[[Any], str | None]) -> Callable[[Any, ValidationInfo], Any]:
    """A pydantic validator refusing what ``check`` (one entry of :mod:`limits`) refuses
    (not asked again under :data:`SCANNED`)."""

    def validator(value: Any, info: ValidationInfo) -> Any:
        if info.context is SCANNED:
            return value
        message = check(value)
        if message is not None:
            raise PydanticCustomError("limit", message)
        return value

    return validator


def _scanned(data: dict[str, Any], info: ValidationInfo) -> None:
    """Refuse a value over a limit (depth, NaN, secret URL) anywhere in ``data``, unless
    validated under :data:`SCANNED`. Called after the fields are validated (a validator
    before them would make pydantic read JSON input as Python objects first, at twice
    the cost of reading a cached manifest)."""
    if info.context is SCANNED:
        return
    plain = {
        k: v.model_dump(mode="json") if isinstance(v, BaseModel) else v for k, v in data.items()
    }
    message = limits.first(plain)
    if message is not None:
        raise PydanticCustomError("limit", message)


Finite = Annotated[StrictFloat, AfterValidator(_within(limits.number))]
ModelId = Annotated[
    StrictStr,
    Field(pattern=ID_PATTERN, max_length=limits.MAX_ID_LENGTH),
    AfterValidator(_within(limits.model_id)),
]


def _not_text(value: Any) -> Any:
    # as JSON Schema's "integer": 3 and 3.0, never "3" nor true
    if isinstance(value, (str, bool)):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


NOT_TEXT = BeforeValidator(_not_text)  # after the constraints: the schema keeps minimum
Text = Annotated[StrictStr, Field(max_length=10_000)]
Name = Annotated[StrictStr, Field(min_length=1, max_length=256)]
Tag = Annotated[StrictStr, Field(min_length=1, max_length=64)]
Sha256 = Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]
JsonValue = Any


_KEY_SCHEMA = {"type": "string", "pattern": LABEL_KEY_PATTERN, "maxLength": 317}
LabelKey = Annotated[StrictStr, AfterValidator(check_label_key)]
LabelValue = Annotated[StrictStr, AfterValidator(check_label_value)]
AliasName = Annotated[StrictStr, AfterValidator(check_alias_name)]
# the schemas are spelled out: pydantic's patternProperties would let other keys through
Labels = Annotated[
    dict[LabelKey, LabelValue],
    WithJsonSchema(
        {
            "type": "object",
            "description": "Kubernetes-style labels: free-form, filterable",
            "propertyNames": _KEY_SCHEMA,
            "additionalProperties": {
                "type": "string",
                "pattern": LABEL_VALUE_PATTERN,
                "maxLength": 63,
            },
        }
    ),
]
Annotations = Annotated[
    dict[LabelKey, JsonValue],
    WithJsonSchema(
        {
            "type": "object",
            "description": "Free-form: any JSON value, not filtered",
            "propertyNames": _KEY_SCHEMA,
        }
    ),
]
Aliases = Annotated[
    dict[AliasName, Annotated[int, Field(ge=1), NOT_TEXT]],
    WithJsonSchema(
        {
            "type": "object",
            "description": "Alias name -> version number (names beside the stages)",
            "propertyNames": {
                "type": "string",
                "pattern": ALIAS_PATTERN,
                "not": {"enum": sorted(RESERVED_NAMES)},
            },
            "additionalProperties": {"type": "integer", "minimum": 1},
        }
    ),
]


_ID = TypeAdapter(ModelId)


def id_errors(model_id: str) -> list[dict[str, Any]]:
    """Why ``model_id`` cannot name a model (the manifest's own check): pydantic's error
    items, none when it can (:func:`modelreg.wording.explain` words them)."""
    try:
        _ID.validate_python(model_id)
    except ValidationError as exc:
        return [dict(e) for e in exc.errors(include_url=False)]
    return []


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Artifact(_Frozen):
    """One stored file of a version: where it is and what its bytes are."""

    uri: Annotated[
        StrictStr,
        Field(min_length=1, max_length=limits.MAX_URL_LENGTH),
        AfterValidator(_within(limits.url)),
    ]
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
    train_loss: Finite | None = None
    validation_loss: Finite | None = None
    early_stop_epoch: Annotated[int, Field(ge=0), NOT_TEXT] | None = None


class Run(_Frozen):
    """The training run a version came from (an experiment tracker's run)."""

    id: Annotated[StrictStr, Field(min_length=1, max_length=256)]
    url: Annotated[StrictStr, Field(min_length=1, max_length=2048)] | None = None
    tracker: (
        Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)] | None
    ) = None


class Code(_Frozen):
    """The training code: a repository, the commit it was at, the entry point in it."""

    repository: Annotated[StrictStr, Field(min_length=1, max_length=2048)] | None = None
    commit: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{7,64}$")] | None = None
    path: Annotated[StrictStr, Field(min_length=1, max_length=1024)] | None = None
    dirty: StrictBool | None = None  # the checkout had uncommitted changes when it was recorded


class Dataset(_Frozen):
    """One data set a version was trained or evaluated on; pinned by hash or version."""

    uri: Annotated[StrictStr, Field(min_length=1, max_length=2048)]
    sha256: Sha256 | None = None
    version: Annotated[StrictStr, Field(min_length=1, max_length=256)] | None = None
    role: DatasetRole = DatasetRole.TRAIN


class Lineage(_Frozen):
    """Where a version came from. Immutable once the version is released."""

    run: Run | None = None
    code: Code | None = None
    datasets: list[Dataset] = Field(default_factory=list)
    # the version this one was fine-tuned from, by number (an alias would move)
    parent: Annotated[StrictStr, Field(pattern=PARENT_PATTERN, max_length=200)] | None = None


class Version(_Frozen):
    """One released version. Numbers are assigned by the registry and never reused."""

    version: Annotated[int, Field(ge=1), NOT_TEXT]
    label: Annotated[StrictStr, Field(pattern=LABEL_PATTERN, max_length=128)] | None = None
    description: Text | None = None
    stage: Stage = Stage.NONE
    created_at: AwareDatetime
    metrics: dict[Annotated[StrictStr, Field(min_length=1)], Finite] = Field(default_factory=dict)
    hyperparameters: dict[StrictStr, JsonValue] = Field(default_factory=dict)
    training: Training | None = None
    tags: list[Tag] = Field(default_factory=list)
    labels: Labels = Field(default_factory=dict)
    annotations: Annotations = Field(default_factory=dict)
    lineage: Lineage | None = None
    artifacts: dict[Annotated[StrictStr, Field(pattern=ROLE_PATTERN)], Artifact] = Field(
        default_factory=dict
    )

    @model_validator(mode="after")
    def _limits(self, info: ValidationInfo) -> Version:
        # Typed fields check themselves (Finite, the artifact URI); the free-form
        # hyperparameters are scanned whole: depth, numbers, URLs.
        if self.hyperparameters:
            _scanned({"hyperparameters": self.hyperparameters}, info)
        return self

    @property
    def primary_artifact(self) -> Artifact | None:
        """The ``model`` artifact, else the first one."""
        if "model" in self.artifacts:
            return self.artifacts["model"]
        return next(iter(self.artifacts.values()), None)

    def released_part(self) -> dict[str, Any]:
        """What never changes once committed (all but stage, description, labels and
        annotations)."""
        return self.model_dump(mode="json", exclude=set(VERSION_MUTABLE_FIELDS))


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
    labels: Labels = Field(default_factory=dict)
    annotations: Annotations = Field(default_factory=dict)
    # free names, each pointing at one version, beside the stages
    aliases: Aliases = Field(default_factory=dict)
    created_at: AwareDatetime | None = None
    # Set when a deleted model is created again, so its old numbers are never reused.
    first_version: Annotated[int, Field(ge=1), NOT_TEXT] | None = None
    archived: StrictBool = False
    versions: list[Version] = Field(default_factory=list)
    deployment: Deployment | None = None

    @model_validator(mode="after")
    def _limits(self, info: ValidationInfo) -> Model:
        if info.context is not SCANNED:  # each version scans itself
            fields = (name for name in type(self).model_fields if name != "versions")
            _scanned({name: getattr(self, name) for name in fields}, info)
        return self

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

    def aliases_of(self, number: int) -> list[str]:
        """The aliases pointing at version ``number``, sorted."""
        return sorted(a for a, n in self.aliases.items() if n == number)

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
    empty = _VERSION_EMPTY if isinstance(obj, Version) else _EMPTY
    data = obj.model_dump(mode="python", by_alias=True, exclude_none=True)
    return _prune(data, empty)  # type: ignore[no-any-return]


# keys left out when empty (a model keeps ``tags: []``, as it always did)
_EMPTY = frozenset(
    {"metrics", "hyperparameters", "artifacts", "labels", "annotations", "aliases", "datasets"}
)
_VERSION_EMPTY = _EMPTY | {"tags"}
_FREE_FORM = frozenset({"metrics", "hyperparameters", "labels", "annotations"})


def _prune(value: Any, empty: frozenset[str]) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(v, Enum):
                v = v.value
            if k in empty and not v:
                continue
            if k == "archived" and v is False:
                continue
            if k in _FREE_FORM:
                out[k] = v  # a user's own keys: nothing in them is ours to drop
                continue
            out[k] = _prune(v, _VERSION_EMPTY if k == "versions" else empty)
        return out
    if isinstance(value, list):
        return [_prune(v, empty) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value
