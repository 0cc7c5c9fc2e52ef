"""Conditions on versions: ``metrics.accuracy >= 0.9``, ``framework == xgboost``. Pure.

A condition is ``FIELD OP VALUE``. Fields are dotted paths into a version and its
model (see :data:`FIELDS`); ``OP`` is one of ``== = != >= <= > <``; a value is a
number, ``true``/``false``, a quoted string or a bare word. A number compares with
a number, text with text (times as ISO 8601 text); a version that lacks the field,
or holds a value of another kind, does not match.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from modelreg.errors import ModelregError

# model fields usable bare (``framework``) or prefixed (``model.framework``)
MODEL_FIELDS = (
    "name",
    "framework",
    "source",
    "type",
    "status",
    "owner",
    "organization",
    "workspace",
    "customer",
)
# version fields; the prefixed ones take any key after the dot
VERSION_FIELDS = ("model", "version", "label", "stage", "description", "created_at")
PREFIXES = ("metrics.", "hyperparameters.", "training.", "lineage.", "labels.", "model.")
FIELDS = (*VERSION_FIELDS, *MODEL_FIELDS, *(p + "*" for p in PREFIXES))

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "=": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
_CONDITION = re.compile(
    r"^\s*(?P<field>[A-Za-z_][A-Za-z0-9_./-]*?)\s*(?P<op>==|!=|>=|<=|=|>|<)\s*(?P<value>.*?)\s*$"
)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class WhereError(ModelregError):
    """A condition that does not parse; the message shows where."""

    exit_code = 2


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: str | float | bool

    def __str__(self) -> str:
        value = repr(self.value) if isinstance(self.value, str) else str(self.value).lower()
        return f"{self.field} {self.op} {value}"

    def test(self, found: Any) -> bool:
        """Whether ``found`` (the field's value, ``None`` when missing) meets the condition."""
        if found is None:
            return False
        if isinstance(found, bool) or isinstance(self.value, bool):
            if not (isinstance(found, bool) and isinstance(self.value, bool)):
                return False
            return self.op in ("==", "=", "!=") and _OPS[self.op](found, self.value)
        if isinstance(found, (int, float)) != isinstance(self.value, (int, float)):
            return False  # a number against text (or the other way round) never matches
        if not isinstance(found, (int, float, str)):
            return False
        return _OPS[self.op](found, self.value)


def check_field(name: str) -> str:
    """``name`` if it is a field a condition or a sort may use, else :class:`WhereError`."""
    if name in VERSION_FIELDS or name in MODEL_FIELDS:
        return name
    for prefix in PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            rest = name[len(prefix) :]
            if prefix == "model." and rest not in MODEL_FIELDS and rest != "id":
                break
            return name
    raise WhereError(f"unknown field {name!r} (fields: {', '.join(FIELDS)}; e.g. metrics.accuracy)")


def parse(text: str) -> Condition:
    """One condition. Raises :class:`WhereError` saying what is wrong and where."""
    match = _CONDITION.match(text)
    if match is None:
        found = re.search(r"[=!<>]+", text)
        if found is None:
            raise WhereError(
                f"cannot read condition {text!r}: expected FIELD OP VALUE with OP one of "
                "== != >= <= > < (e.g. 'metrics.accuracy >= 0.9')"
            )
        raise WhereError(
            f"cannot read condition {text!r}: {found.group()!r} at column {found.start() + 1} "
            "is not an operator (use == != >= <= > <) or the field before it is empty"
        )
    name, op, raw = match.group("field"), match.group("op"), match.group("value")
    check_field(name)
    if raw == "":
        raise WhereError(
            f"cannot read condition {text!r}: no value after {op!r} (column {match.end('op')})"
        )
    if raw[0] in "=<>!":
        raise WhereError(
            f"cannot read condition {text!r}: {op + raw[0]!r} at column "
            f"{match.start('op') + 1} is not an operator (use == != >= <= > <)"
        )
    return Condition(name, op, _value(raw, text))


def _value(raw: str, text: str) -> str | float | bool:
    if raw[0] in "'\"":
        if len(raw) < 2 or raw[-1] != raw[0]:
            raise WhereError(f"cannot read condition {text!r}: the quote {raw[0]} is not closed")
        return raw[1:-1]
    if _NUMBER.match(raw):
        return float(raw)
    if raw in ("true", "false"):
        return raw == "true"
    if re.search(r"\s", raw):
        raise WhereError(
            f"cannot read condition {text!r}: the value {raw!r} holds spaces; quote it "
            f"('{raw}') or write one condition per --where (they are AND-ed)"
        )
    return raw


def label_selector(text: str) -> tuple[str, str | None]:
    """A label requirement: ``KEY`` (the label is set, to anything) or ``KEY=VALUE``
    -> (key, value or None). Raises :class:`WhereError` when no key is named."""
    key, has, value = text.partition("=")
    if not key:
        raise WhereError(f"label filter {text!r} names no key (use KEY or KEY=VALUE)")
    return key, value if has else None


def label_holds(found: str | None, value: str | None) -> bool:
    """Whether a label read as ``found`` (None: not set) meets a requirement of
    :func:`label_selector` (``value`` None: any value)."""
    return found is not None and (value is None or found == value)


def lookup(document: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` in nested mappings, ``None`` if any step is missing."""
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value
