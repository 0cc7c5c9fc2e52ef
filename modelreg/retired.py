"""The record of retired version numbers: ``retired.yaml`` beside ``modelreg.yaml``.

Version numbers are never reused, not even by a model created again under the
id of a deleted one. Finding a deleted model's numbers in git history costs a
walk of the whole history; this file holds them instead, one line per deleted
model id::

    churn-xgb: 7

so creating a model reads one small file. ``modelreg delete`` writes the line in
the delete's own commit, where a reviewer sees it; ``validate --base`` refuses a
change that deletes a manifest without recording its numbers, or that lowers or
drops a recorded number. A registry made before this file existed has none: its
numbers are then found in history, as before, until the first delete writes it.
"""

from __future__ import annotations

from collections.abc import Mapping

from modelreg.errors import InvalidManifestError, Problem
from modelreg.yamlio import Loaded, loads

RETIRED_FILE = "retired.yaml"
HEADER = (
    "# The highest version number of each deleted model: a model created again\n"
    "# under the same id starts above it, so no number is ever used twice.\n"
    "# Written by `modelreg delete`; checked by `modelreg validate --base`.\n"
)


def load(data: bytes, file: str) -> tuple[dict[str, int], Loaded]:
    """The numbers in ``data`` (model id -> highest retired version), with the loaded
    document to locate them. Raises :class:`InvalidManifestError` naming the line."""
    loaded = loads(data, file)
    value = loaded.value
    if value is None:
        return {}, loaded
    if not isinstance(value, dict):
        raise InvalidManifestError(
            [loaded.problem((), "must be a mapping of model id to version number")]
        )
    bad = [
        loaded.problem((key,), f"{key}: must be a whole number of 1 or more")
        for key, number in value.items()
        if isinstance(number, bool) or not isinstance(number, int) or number < 1
    ]
    if bad:
        raise InvalidManifestError(bad)
    return dict(value), loaded


def dumps(numbers: Mapping[str, int]) -> bytes:
    """The file for ``numbers``, one line per model id, sorted (small, stable diffs)."""
    lines = [f"{model_id}: {numbers[model_id]}\n" for model_id in sorted(numbers)]
    return (HEADER + "".join(lines)).encode("utf-8")


def retire(numbers: Mapping[str, int], model_id: str, highest: int) -> dict[str, int]:
    """``numbers`` with ``model_id`` retired up to ``highest`` (never lowered)."""
    out = dict(numbers)
    if highest > 0:
        out[model_id] = max(highest, out.get(model_id, 0))
    return out


def check(
    base: Mapping[str, int],
    head: Mapping[str, int],
    deleted: Mapping[str, int],
    loaded: Loaded,
) -> list[Problem]:
    """What a change does wrong to the record: ``base`` and ``head`` are the record on
    each side (``loaded`` is the head's file), ``deleted`` the models whose manifest the
    change removes, each with the highest number it had."""
    problems = []
    for model_id in sorted(base):
        if head.get(model_id, 0) < base[model_id]:
            now = f"{head[model_id]}" if model_id in head else "nothing"
            problems.append(
                loaded.problem(
                    (model_id,) if model_id in head else (),
                    f"{model_id}: retired up to {base[model_id]} on the base, {now} here: "
                    f"retired numbers are never given back (keep `{model_id}: "
                    f"{base[model_id]}`)",
                )
            )
    for model_id in sorted(deleted):
        if deleted[model_id] > max(head.get(model_id, 0), base.get(model_id, 0)):
            problems.append(
                loaded.problem(
                    (model_id,) if model_id in head else (),
                    f"{model_id}: the change deletes the model's manifest (versions up to "
                    f"{deleted[model_id]}) without retiring its numbers: add "
                    f"`{model_id}: {deleted[model_id]}` to {RETIRED_FILE} "
                    "(`modelreg delete` does this)",
                )
            )
    return problems
