"""How a validation error reads for a person: pydantic's wording turned into what to
write instead, and near-matches for names typed wrong. Pure: no I/O."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from modelreg.vocabulary import ID_PATTERN, LABEL_PATTERN, ROLE_PATTERN

PATTERNS = {
    ID_PATTERN: "lower-case letters, digits, '.', '_' and '-', starting with a letter or digit "
    "(e.g. churn-xgb)",
    ROLE_PATTERN: "lower-case letters, digits, '_' and '-', starting with a letter or digit "
    "(e.g. model, encoders)",
    LABEL_PATTERN: "letters, digits, '.', '_', '+' and '-', starting with a letter or digit "
    "(e.g. v1.2.0)",
    r"^[0-9a-f]{64}$": "64 lower-case hexadecimal digits (a sha256)",
}
WHEN = "a date and time with its timezone, ISO 8601 (e.g. 2025-01-23T12:00:00Z)"


def explain(error: Mapping[str, Any]) -> str:
    """The message of one pydantic error (``ValidationError.errors()`` item), in plain words."""
    kind: str = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        if pattern in PATTERNS:
            return f"{_shown(error)} is not valid: use {PATTERNS[pattern]}"
    if kind.startswith(("datetime", "date_", "timezone")):
        if kind == "timezone_aware":
            return f"{_shown(error)} has no timezone: write {WHEN}"
        return f"{_shown(error)} is not {WHEN}"
    if kind in ("string_type", "str_type"):
        return f"expected text, not {_shown(error)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number, not {_shown(error)}"
    if kind in ("float_type", "float_parsing"):
        return f"expected a number, not {_shown(error)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, not {_shown(error)}"
    if kind == "enum":
        expected = str(ctx.get("expected", "")).replace("'", "")
        return f"{_shown(error)} is not one of: {expected}"
    return str(error["msg"]).removeprefix("Value error, ")


def _shown(error: Mapping[str, Any]) -> str:
    value = error.get("input")
    return repr(value) if isinstance(value, str) else f"`{value}`"


def near(name: str, known: Iterable[str]) -> str | None:
    """The known name ``name`` was most likely meant to be, if one is close."""
    found = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return found[0] if found else None


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` or nothing."""
    match = near(name, known)
    return f" (did you mean {match!r}?)" if match else ""


def article(word: str) -> str:
    """'a float', 'an int'."""
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def sibling_typos(errors: Sequence[Mapping[str, Any]]) -> dict[tuple[Any, ...], str]:
    """For each unknown field, the missing field of the same mapping it most likely meant
    (``framwork`` for a missing ``framework``): location of the unknown field -> name."""
    missing: dict[tuple[Any, ...], list[str]] = {}
    for e in errors:
        if e["type"] == "missing" and e["loc"]:
            missing.setdefault(tuple(e["loc"][:-1]), []).append(str(e["loc"][-1]))
    out = {}
    for e in errors:
        if e["type"] == "extra_forbidden" and e["loc"]:
            loc = tuple(e["loc"])
            match = near(str(loc[-1]), missing.get(loc[:-1], ()))
            if match:
                out[loc] = match
    return out
