"""The part of a manifest the schema accepts, so that the rules can check what can be
read of a file whose schema check fails (``validate`` reports every problem of a file
in one run, not only those of the first check that fails).

Each refused value is left out: a field with a default takes it, a required one takes
its enclosing object (a version, the deployment) along; a required field of the model
itself gets a stand-in. Pure: data in, a model and the paths left out out.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

Path_ = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)

ROUNDS = 8  # each round leaves out what the last one refused, a level up for a required field


class _Gone:
    """A list item left out."""


_GONE = _Gone()


@dataclass(frozen=True)
class Partial(Generic[M]):
    """``model`` built from what could be read; ``gaps`` are the paths (in the file) of
    what was left out; ``lists`` gives, for each list that lost items, the position in
    the file of each item kept."""

    model: M
    gaps: tuple[Path_, ...] = ()
    lists: Mapping[Path_, tuple[int, ...]] | None = None

    def place(self, path: Sequence[str | int]) -> Path_ | None:
        """Where ``path`` (a path in :attr:`model`) is in the file; None when it is about a
        part left out (at, inside or directly holding a gap): a finding there could be
        wrong, and the part's own problem is already reported."""
        at = in_file(path, self.lists or {})
        for gap in self.gaps:
            if at[: len(gap)] == gap or (gap[: len(at)] == at and len(gap) <= len(at) + 1):
                return None
        return at


def in_file(path: Sequence[str | int], lists: Mapping[Path_, tuple[int, ...]]) -> Path_:
    """``path`` in a value whose lists lost items -> the same place in the full value."""
    out: list[str | int] = []
    for part in path:
        kept = lists.get(tuple(out))
        if isinstance(part, int) and kept is not None and 0 <= part < len(kept):
            part = kept[part]
        out.append(part)
    return tuple(out)


def salvage(
    model: type[M],
    value: Any,
    gaps: Sequence[Path_] = (),
    stand_ins: Mapping[str, Any] | None = None,
) -> Partial[M] | None:
    """``model`` from ``value`` with every part the schema refuses left out (``gaps``: what
    was left out already); a required top-level field refused takes its ``stand_ins``
    value. None when too little is left (not a mapping, a refusal of the whole)."""
    if not isinstance(value, dict):
        return None
    data = copy.deepcopy(value)
    stand_ins = stand_ins or {}
    left_out = list(gaps)
    for _ in range(ROUNDS):
        kept, lists = _without_gone(data, ())
        try:
            return Partial(model.model_validate(kept), tuple(left_out), lists)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        progress = False
        for err in errors:
            loc = in_file(
                [p for p in err["loc"] if isinstance(p, (str, int)) and p != "[key]"], lists
            )
            if err["type"] == "missing":
                key = loc[0] if len(loc) == 1 else None
                if isinstance(key, str) and key in stand_ins and key not in data:
                    data[key] = stand_ins[key]
                    progress = True
                    continue
                loc = loc[:-1]  # a required field: what holds it goes
            where = _existing(data, loc)
            if where and _drop(data, where):
                left_out.append(where)
                progress = True
        if not progress:
            return None
    return None


def _without_gone(value: Any, path: Path_) -> tuple[Any, dict[Path_, tuple[int, ...]]]:
    """``value`` without the list items left out, and where the kept items were."""
    lists: dict[Path_, tuple[int, ...]] = {}
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out[k], inner = _without_gone(v, (*path, k))
            lists.update(inner)
        return out, lists
    if isinstance(value, list):
        kept = [i for i, v in enumerate(value) if v is not _GONE]
        if len(kept) < len(value):
            lists[path] = tuple(kept)
        items = []
        for i in kept:
            item, inner = _without_gone(value[i], (*path, i))
            items.append(item)
            lists.update(inner)
        return items, lists
    return value, lists


def _existing(data: Any, loc: Sequence[str | int]) -> Path_:
    """The longest start of ``loc`` that names a value in ``data`` (pydantic may add steps
    of its own, such as the member of a union)."""
    node, out = data, []
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            if node is _GONE:
                break
        else:
            break
        out.append(part)
    return tuple(out)


def _drop(data: Any, path: Path_) -> bool:
    """Leave out the value at ``path`` (a list item becomes a gap, keeping the others'
    places); False when it is already gone."""
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
        return True
    if isinstance(parent, list) and isinstance(last, int) and parent[last] is not _GONE:
        parent[last] = _GONE
        return True
    return False
