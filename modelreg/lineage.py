"""Lineage between versions: the parent a version was fine-tuned from, and its
children. Pure: manifests in, a graph or violations out.

A parent is written ``MODEL@NUMBER`` (never an alias or a stage, which move).
It is not required for ``source: fine-tuning``: a model imported from elsewhere
may not know its base. When given, it must name a version that exists, and
following parents must never come back to where it started.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelreg.errors import NotFoundError
from modelreg.rules import Violation

if TYPE_CHECKING:
    from modelreg.manifest import Model, Version


def parse_parent(text: str) -> tuple[str, int]:
    """``churn-base@2`` -> ("churn-base", 2); the schema has checked the syntax."""
    model_id, _, number = text.rpartition("@")
    return model_id, int(number)


def parent_of(version: Version) -> tuple[str, int] | None:
    if version.lineage is None or version.lineage.parent is None:
        return None
    return parse_parent(version.lineage.parent)


def missing_parent(models: Mapping[str, Model], parent: str) -> str | None:
    """Why ``parent`` does not resolve among ``models`` (None when it does)."""
    model_id, number = parse_parent(parent)
    model = models.get(model_id)
    if model is None:
        return f"parent {parent} does not resolve: there is no model {model_id!r}"
    if model.version(number) is None:
        return (
            f"parent {parent} does not resolve: {model_id} has no version {number} "
            f"(latest is {model.latest_version})"
        )
    return None


def children_of_model(models: Mapping[str, Model], model_id: str) -> list[str]:
    """``other@N`` for each version of another model whose parent is a version of
    ``model_id``."""
    return [
        f"{mid}@{v.version}"
        for mid, m in sorted(models.items())
        if mid != model_id
        for v in m.versions
        if (p := parent_of(v)) is not None and p[0] == model_id
    ]


def check_parents(
    models: Mapping[str, Model], only: Iterable[str] | None = None
) -> list[tuple[str, Violation]]:
    """(model id, violation) for each parent that does not resolve or leads to a cycle:
    of every model in ``models``, or of the models in ``only`` (resolved among all)."""
    out: list[tuple[str, Violation]] = []
    ids = sorted(models) if only is None else sorted(set(only) & models.keys())
    for model_id, model in ((m, models[m]) for m in ids):
        for i, version in enumerate(model.versions):
            if version.lineage is None or version.lineage.parent is None:
                continue
            path = ("versions", i, "lineage", "parent")
            why = missing_parent(models, version.lineage.parent)
            if why is None and _cycle(models, (model_id, version.version)):
                why = (
                    f"parent {version.lineage.parent} leads back to "
                    f"{model_id}@{version.version}: lineage cannot be a cycle"
                )
            if why is not None:
                out.append((model_id, Violation(path, why)))
    return out


def _cycle(models: Mapping[str, Model], start: tuple[str, int]) -> bool:
    seen = {start}
    current: tuple[str, int] | None = start
    while current is not None:
        model = models.get(current[0])
        version = model.version(current[1]) if model is not None else None
        current = parent_of(version) if version is not None else None
        if current in seen:
            return True
        if current is not None:
            seen.add(current)
    return False


@dataclass(frozen=True)
class Node:
    """One version in a lineage graph; ``depth`` counts steps from the subject
    (parents above, children below)."""

    model_id: str
    version: int
    depth: int
    name: str | None = None
    stage: str | None = None
    source: str | None = None
    missing: bool = False  # a parent reference that does not resolve

    @property
    def ref(self) -> str:
        return f"{self.model_id}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"ref": self.ref, "model": self.model_id, "version": self.version}
        d["depth"] = self.depth
        if self.missing:
            d["missing"] = True
        else:
            d.update(name=self.name, stage=self.stage, source=self.source)
        return d


@dataclass(frozen=True)
class Graph:
    """The lineage of one version: its parents (nearest first) and its descendants
    (depth first, each after its parent)."""

    subject: Node
    parents: tuple[Node, ...]
    children: tuple[Node, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.subject.to_dict(),
            "parents": [n.to_dict() for n in self.parents],
            "children": [n.to_dict() for n in self.children],
        }


def _node(models: Mapping[str, Model], model_id: str, number: int, depth: int) -> Node:
    model = models.get(model_id)
    version = model.version(number) if model is not None else None
    if model is None or version is None:
        return Node(model_id, number, depth, missing=True)
    source = model.source.value if model.source else None
    return Node(model_id, number, depth, model.name, version.stage.value, source)


def graph(models: Mapping[str, Model], model_id: str, number: int) -> Graph:
    """The lineage of ``model_id@number``. Raises :class:`NotFoundError` if it does not exist."""
    model = models.get(model_id)
    if model is None:
        raise NotFoundError(f"no model {model_id!r} in the registry")
    if model.version(number) is None:
        raise NotFoundError(f"{model_id} has no version {number}")
    subject = _node(models, model_id, number, 0)
    parents: list[Node] = []
    seen = {(model_id, number)}
    current = parent_of(models[model_id].version(number))  # type: ignore[arg-type]
    while current is not None and current not in seen:
        seen.add(current)
        node = _node(models, *current, depth=-(len(parents) + 1))
        parents.append(node)
        if node.missing:
            break
        current = parent_of(models[current[0]].version(current[1]))  # type: ignore[arg-type]
    children_of: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for mid, m in sorted(models.items()):
        for v in m.versions:
            p = parent_of(v)
            if p is not None:
                children_of.setdefault(p, []).append((mid, v.version))
    children: list[Node] = []
    stack = [(c, 1) for c in reversed(children_of.get((model_id, number), []))]
    seen = {(model_id, number)}
    while stack:
        (mid, n), depth = stack.pop()
        if (mid, n) in seen:
            continue
        seen.add((mid, n))
        children.append(_node(models, mid, n, depth))
        stack += [(c, depth + 1) for c in reversed(children_of.get((mid, n), []))]
    return Graph(subject, tuple(parents), tuple(children))
