"""The registry's words: stages, frameworks, sources, statuses, dataset roles, and the
patterns of ids, labels and aliases. Plain enums and checks, no pydantic: the CLI, the
query and the HTTP server use them without building the manifest models.
"""

from __future__ import annotations

import re
from enum import Enum

from modelreg.errors import RuleViolationError

API_VERSION = "modelreg/v1"
# ``_`` is allowed (the seed catalog's ``customer_validation_lstm``); deploy targets whose
# platform forbids it map ids to valid names themselves (see ``deploy.target.dns_name``).
ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
ROLE_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
LABEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._+-]*$"


class Word(str, Enum):
    """A word of a closed vocabulary: compares equal to its text, and prints as it."""

    def __str__(self) -> str:
        return str(self.value)


class Stage(Word):
    NONE = "none"
    STAGING = "staging"
    CHALLENGER = "challenger"
    PRODUCTION = "production"
    ARCHIVED = "archived"

    @classmethod
    def named(cls, value: str) -> Stage:
        """The stage called ``value``. Raises :class:`RuleViolationError` naming the
        stages there are when there is none of that name."""
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise RuleViolationError(f"stage: {value!r} is not a stage ({names})") from None


# names a version selector already means: an alias cannot take one of them
RESERVED_NAMES = frozenset({*(s.value for s in Stage), "latest"})


# Kubernetes-style label keys and values: ``[prefix/]name``, the prefix a DNS subdomain.
_DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
LABEL_KEY_PATTERN = rf"^({_DNS_SUBDOMAIN}/)?{_LABEL_NAME}$"
LABEL_VALUE_PATTERN = r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$"
ALIAS_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"
# a version reference that never moves: ``MODEL@NUMBER``
PARENT_PATTERN = r"^[a-z0-9][a-z0-9._-]*@[1-9][0-9]*$"


def check_label_key(key: str) -> str:
    """``key`` if it may be a label or annotation key, else :class:`ValueError` saying why."""
    prefix, _, name = key.rpartition("/")
    if not re.match(LABEL_KEY_PATTERN, key) or len(prefix) > 253:
        raise ValueError(
            f"key {key!r} is not a Kubernetes-style key: [prefix/]name, the name 1-63 "
            "letters, digits, '-', '_' or '.' starting and ending with a letter or digit, "
            "the optional prefix a lower-case DNS subdomain"
        )
    del name
    return key


def check_label_value(value: str) -> str:
    """``value`` if it may be a label value, else :class:`ValueError` saying why."""
    if not re.match(LABEL_VALUE_PATTERN, value):
        raise ValueError(
            f"label value {value!r} is not valid: at most 63 letters, digits, '-', '_' or "
            "'.', starting and ending with a letter or digit (or empty)"
        )
    return value


def check_alias_name(name: str) -> str:
    """``name`` if it may be an alias, else :class:`ValueError` saying why."""
    if name in RESERVED_NAMES:
        what = "the word for the newest version" if name == "latest" else "a stage"
        raise ValueError(
            f"alias {name!r} is {what}; an alias cannot have that name (choose another, "
            "e.g. champion, shadow, eu-prod)"
        )
    if not re.match(ALIAS_PATTERN, name):
        raise ValueError(
            f"alias {name!r} is not valid: a lower-case letter, then up to 62 lower-case "
            "letters, digits, '-' or '_'"
        )
    return name


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
    "labels",
    "annotations",
)
# the fields of a version that may change after release (all others are immutable)
VERSION_MUTABLE_FIELDS = ("stage", "description", "labels", "annotations")


class Framework(Word):
    PYTORCH = "pytorch"
    TENSORFLOW = "tensorflow"
    XGBOOST = "xgboost"
    SKLEARN = "sklearn"
    ONNX = "onnx"
    CUSTOM = "custom"


class Source(Word):
    AUTOML = "automl"
    FINE_TUNING = "fine-tuning"
    EXPERIMENT = "experiment"
    MANUAL = "manual"


class Status(Word):
    """A model's status, as in the registry API: derived, never stored."""

    REGISTERED = "registered"
    DEPLOYED = "deployed"
    ARCHIVED = "archived"


class DatasetRole(Word):
    TRAIN = "train"
    VALIDATION = "validation"
    TEST = "test"
    OTHER = "other"
