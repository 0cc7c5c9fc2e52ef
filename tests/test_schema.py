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


CORPUS_BASE = """\
apiVersion: modelreg/v1
kind: Model
id: churn-xgb
name: Churn
framework: xgboost
created_at: 2025-01-15T10:30:00Z
archived: false
versions:
- version: 1
  stage: production
  created_at: 2025-01-16T10:30:00Z
  metrics: {accuracy: 0.9}
  training: {epochs: 18, train_loss: 0.1}
  artifacts:
    model: {uri: s3://b/m.bst, size: 10}
deployment:
  target: kubernetes
  version: 1
  replicas: 2
  deployed_at: 2025-01-17T10:30:00Z
"""

# (replace this, with that, valid?): both validators must give the same verdict
CORPUS = [
    ("accuracy: 0.9", "accuracy: 0.9", True),
    ("accuracy: 0.9", "accuracy: 1", True),
    ("accuracy: 0.9", 'accuracy: "0.9"', False),
    ("accuracy: 0.9", "accuracy: true", False),
    ("- version: 1", "- version: 0x1", True),
    ("- version: 1", '- version: "1"', False),
    ("- version: 1", "- version: 0", False),
    ("epochs: 18", "epochs: 18.0", True),
    ("epochs: 18", "epochs: 1.5", False),
    ("epochs: 18", 'epochs: "18"', False),
    ("train_loss: 0.1", 'train_loss: "0.1"', False),
    ("archived: false", 'archived: "false"', False),
    ("archived: false", "archived: 0", False),
    ("size: 10", "size: -1", False),
    ("size: 10", 'size: "10"', False),
    ("replicas: 2", "replicas: 0", False),
    ("replicas: 2", 'replicas: "2"', False),
    ("framework: xgboost", "framework: jax", False),
    ("stage: production", "stage: prod", False),
    ("id: churn-xgb", "id: Bad_ID", False),
    ("name: Churn", "name: Churn\ncolour: red", False),
    ("s3://b/m.bst, size: 10", "s3://b/m.bst, sha256: abc", False),
    ("created_at: 2025-01-15T10:30:00Z", "created_at: not a time", False),
]


@pytest.mark.parametrize(("old", "new", "valid"), CORPUS)
def test_the_schema_and_validate_agree(old: str, new: str, valid: bool) -> None:
    import yaml

    from modelreg.errors import InvalidManifestError

    assert old in CORPUS_BASE
    text = CORPUS_BASE.replace(old, new, 1)
    schema = json.loads((SCHEMA_DIR / "model.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    # the editor's side: a plain YAML reader, timestamps as text, then the schema
    by_schema = not list(validator.iter_errors(_as_json(yaml.safe_load(text))))
    try:
        parse_manifest(text, "models/churn-xgb/model.yaml", folder_id=None)
        by_modelreg = True
    except InvalidManifestError:
        by_modelreg = False
    assert (by_schema, by_modelreg) == (valid, valid)
