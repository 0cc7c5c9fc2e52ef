"""JSON Schemas and the checks that turn loaded YAML into manifests.

The schemas in ``schemas/`` are generated from the pydantic models
(``python -m modelreg.schema --write``); a test fails when they drift.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from modelreg.config import RegistryConfig
from modelreg.errors import InvalidManifestError, Problem
from modelreg.manifest import Model
from modelreg.partial import Partial, salvage
from modelreg.vocabulary import Framework
from modelreg.wording import article, explain, sibling_typos
from modelreg.yamlio import Loaded, is_plain, load

SCHEMA_DIR = Path(__file__).parent / "schemas"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMAS: dict[str, type[BaseModel]] = {
    "model.schema.json": Model,
    "registry.schema.json": RegistryConfig,
}

M = TypeVar("M", bound=BaseModel)


def generate(model: type[BaseModel], name: str) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": DRAFT, "$id": f"https://modelreg.dev/schemas/{name}", **schema}


def render(name: str) -> str:
    return json.dumps(generate(SCHEMAS[name], name), indent=2, sort_keys=False) + "\n"


def write_all(folder: Path = SCHEMA_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in SCHEMAS:
        p = folder / name
        p.write_text(render(name), encoding="utf-8")
        out.append(p)
    return out


def _hint(loaded: Loaded, path: Sequence[str | int], err_type: str) -> str:
    """Explain the YAML 1.1 reading behind a type error on a plain scalar."""
    node = loaded.root
    import yaml

    for part in path:
        found = None
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            found = node.value[part] if part < len(node.value) else None
        node = found
        if node is None:
            return ""
    if not isinstance(node, yaml.ScalarNode) or not is_plain(node):
        return ""
    kind = node.tag.rsplit(":", 1)[-1]
    if err_type == "string_type" and kind in ("int", "float", "timestamp", "bool", "null"):
        return f" (YAML reads `{node.value}` as {article(kind)}; quote it: '{node.value}')"
    if kind == "float" and err_type.startswith("int"):
        return f" (YAML reads `{node.value}` as the number {float(node.value)!r})"
    return ""


def problems_from(exc: ValidationError, loaded: Loaded) -> list[Problem]:
    out = []
    errors = exc.errors(include_url=False)
    typos = sibling_typos(errors)
    meant = {(loc[:-1], name) for loc, name in typos.items()}
    for err in errors:
        path = [p for p in err["loc"] if isinstance(p, (str, int))]
        if not path and loaded.value is None:
            out.append(Problem(loaded.path, 1, 1, "", "the file is empty"))
            continue
        if any(tuple(path[: len(gap)]) == gap for gap in loaded.gaps):
            continue  # a value the YAML dialect refused: said once, by the dialect
        # pydantic marks a bad mapping key with a "[key]" step: point at the key itself
        bad_key = bool(path) and path[-1] == "[key]"
        if bad_key:
            path = path[:-1]
        unknown = err["type"] == "extra_forbidden"
        if err["type"] == "missing" and (tuple(err["loc"][:-1]), str(err["loc"][-1])) in meant:
            continue  # said once, at the misspelt key
        msg = explain(err)
        if unknown and tuple(err["loc"]) in typos:
            msg += f" (did you mean {typos[tuple(err['loc'])]!r}?)"
        msg += _hint(loaded, path, err["type"])
        out.append(loaded.problem(path, msg, key=unknown or bad_key))
    return out


def validate(model: type[M], loaded: Loaded) -> M:
    """Validate loaded YAML against ``model``; every problem located in the file."""
    try:
        result = model.model_validate(loaded.value)
    except ValidationError as exc:
        raise InvalidManifestError([*loaded.problems, *problems_from(exc, loaded)]) from None
    if loaded.problems:
        raise InvalidManifestError(loaded.problems)
    return result


@dataclass(frozen=True)
class Reading:
    """A manifest read as far as it can be: every problem of its text and schema, and
    ``partial``, the part the schema accepts (None: too little to check, or nothing
    wrong); ``model`` is the whole manifest when the schema accepts it."""

    problems: tuple[Problem, ...]
    loaded: Loaded | None  # None: the text could not be read at all
    model: Model | None = None
    partial: Partial[Model] | None = None


def read_manifest(
    data: str | bytes, file: str, *, folder_id: str | None = None, max_bytes: int | None = None
) -> Reading:
    """Every problem of one manifest (the YAML dialect's, the schema's, an id that is not
    its folder's), and what the rules can still check of it; never raises for the file's
    content. ``file`` is the path the problems name."""
    try:
        loaded = load(data, file, **({"max_bytes": max_bytes} if max_bytes else {}))
    except InvalidManifestError as exc:
        return Reading(exc.problems, None)
    problems = list(loaded.problems)
    model = None
    try:
        model = Model.model_validate(loaded.value)
    except ValidationError as exc:
        problems += problems_from(exc, loaded)
    value = loaded.value
    ident = model.id if model is not None else value.get("id") if isinstance(value, dict) else None
    named = any(p.field == "id" for p in problems)  # an id the schema refuses: said once
    gaps = loaded.gaps
    if folder_id is not None and isinstance(ident, str) and ident != folder_id and not named:
        message = f"id {ident!r} must equal its folder name {folder_id!r}"
        problems.append(loaded.problem(("id",), message))
        gaps += (("id",),)  # what the rules would say of the id is said here
    if not problems:
        return Reading((), loaded, model)
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))  # in file order
    partial: Partial[Model] | None
    if model is not None:
        partial = Partial(model, gaps)
    else:
        # a required field of the model refused: a stand-in the rules do not look at
        stand_ins = {"id": folder_id or "-", "name": "-", "framework": Framework.CUSTOM.value}
        partial = salvage(Model, loaded.value, gaps, stand_ins)
    return Reading(tuple(problems), loaded, model, partial)


def parse_manifest(
    data: str | bytes, file: str, *, folder_id: str | None = None, max_bytes: int | None = None
) -> Model:
    """Load and validate one manifest; ``folder_id`` must equal its ``id``."""
    return load_manifest(data, file, folder_id=folder_id, max_bytes=max_bytes)[0]


def load_manifest(
    data: str | bytes, file: str, *, folder_id: str | None = None, max_bytes: int | None = None
) -> tuple[Model, Loaded]:
    """Like :func:`parse_manifest`, also returning the loaded document (text and nodes).
    Raises :class:`InvalidManifestError` with every problem of the file (see
    :func:`read_manifest`)."""
    reading = read_manifest(data, file, folder_id=folder_id, max_bytes=max_bytes)
    if reading.problems:
        raise InvalidManifestError(reading.problems)
    assert reading.model is not None and reading.loaded is not None
    return reading.model, reading.loaded


def parse_config(data: str | bytes, file: str) -> RegistryConfig:
    """The registry config in ``data``. Raises :class:`InvalidManifestError` with every
    problem (of the YAML dialect and of the schema alike)."""
    return validate(RegistryConfig, load(data, file))


if __name__ == "__main__":  # pragma: no cover
    if "--write" in sys.argv:
        target = Path(sys.argv[sys.argv.index("--write") + 1]) if len(sys.argv) > 2 else SCHEMA_DIR
        for p in write_all(target):
            print(p)
