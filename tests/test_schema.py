"""The JSON Schemas: generated from the models, shipped, and the contract for examples."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from modelreg.schema import SCHEMA_DIR, SCHEMAS, parse_config, parse_manifest, render
from modelreg.yamlio import loads

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "registry_example"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_files_match_the_models(name: str) -> None:
    fix = "run `python -m modelreg.schema --write`"
    assert (SCHEMA_DIR / name).read_text() == render(name), f"{name} drifted: {fix}"
    assert (ROOT / "schemas" / name).read_text() == render(name)
    assert (EXAMPLE / "schemas" / name).read_text() == render(name), "copy it to registry_example"


def _as_json(value: object) -> object:
    # what an editor's YAML language server sees: timestamps as text
    return json.loads(json.dumps(value, default=lambda v: v.isoformat().replace("+00:00", "Z")))


def test_every_example_manifest_is_valid_by_pydantic_and_jsonschema() -> None:
    schema = json.loads((SCHEMA_DIR / "model.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    manifests = sorted(EXAMPLE.glob("models/*/model.yaml"))
    assert len(manifests) >= 5
    for path in manifests:
        text = path.read_text()
        parse_manifest(text, str(path), folder_id=path.parent.name)
        errors = list(validator.iter_errors(_as_json(loads(text, str(path)).value)))
        assert not errors, (path, [e.message for e in errors])


def test_jsonschema_rejects_what_pydantic_rejects() -> None:
    schema = json.loads((SCHEMA_DIR / "model.schema.json").read_text())
    bad = {
        "apiVersion": "modelreg/v1",
        "kind": "Model",
        "id": "Bad Id",
        "name": "x",
        "framework": "cobol",
        "colour": "red",
    }
    messages = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(bad)]
    assert any("colour" in m for m in messages)
    assert any("cobol" in m for m in messages)
    assert any("Bad Id" in m for m in messages)


def test_example_config_is_valid() -> None:
    config = parse_config((EXAMPLE / "modelreg.yaml").read_text(), "modelreg.yaml")
    assert "gpu-a100-40gb" in config.hardware
    assert config.hardware["gpu-a100-40gb"].kubernetes is not None
