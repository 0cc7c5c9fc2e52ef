"""The manifest's free-form metadata, lineage and aliases: parsed, located when wrong,
written back in the documented order, and the same contract in the JSON Schema."""

from __future__ import annotations

import json
import textwrap

import jsonschema
import pytest

from modelreg.errors import InvalidManifestError
from modelreg.manifest import Model, to_document
from modelreg.schema import SCHEMA_DIR, parse_manifest
from modelreg.yamlio import dumps, loads

MANIFEST = textwrap.dedent(
    """\
    apiVersion: modelreg/v1
    kind: Model
    id: customer_validation_lstm
    name: Customer validation LSTM
    framework: tensorflow
    source: fine-tuning
    tags: [lstm]
    labels: {team: risk, acme.com/tier: gold, empty: ""}
    annotations: {ticket: RISK-42, owners: [ana, bo], nested: {a: 1}}
    aliases: {champion: 2, eu-prod: 1}
    versions:
    - version: 1
      created_at: 2025-01-01T00:00:00Z
    - version: 2
      created_at: 2025-02-01T00:00:00Z
      tags: [tuned]
      labels: {reviewed: "yes"}
      annotations: {notes: free text}
      lineage:
        run: {id: 9f2c, url: "https://mlflow.example.com/#/runs/9f2c", tracker: mlflow}
        code: {repository: "https://github.com/acme/churn", commit: 0123abc, path: train.py}
        datasets:
        - {uri: "s3://data/churn/2024.parquet", sha256: "%s", role: train}
        - {uri: "s3://data/churn/holdout", version: "2024-12", role: test}
        parent: churn-base@2
    """
    % ("ab" * 32)
)


def _problem(text: str) -> tuple[int | None, str, str]:
    with pytest.raises(InvalidManifestError) as info:
        parse_manifest(text, "models/customer_validation_lstm/model.yaml")
    (p,) = info.value.problems
    return p.line, p.field, p.message


def test_a_manifest_with_every_new_field_parses_and_round_trips() -> None:
    model = parse_manifest(MANIFEST, "m.yaml", folder_id="customer_validation_lstm")
    assert model.labels == {"team": "risk", "acme.com/tier": "gold", "empty": ""}
    assert model.annotations["owners"] == ["ana", "bo"]
    assert model.aliases == {"champion": 2, "eu-prod": 1}
    assert model.aliases_of(2) == ["champion"]
    v2 = model.versions[1]
    assert v2.tags == ["tuned"] and v2.labels == {"reviewed": "yes"}
    assert v2.lineage is not None and v2.lineage.parent == "churn-base@2"
    assert v2.lineage.run is not None and v2.lineage.run.tracker == "mlflow"
    assert [d.role.value for d in v2.lineage.datasets] == ["train", "test"]
    doc = to_document(model)
    assert list(doc)[list(doc).index("tags") : list(doc).index("tags") + 4] == [
        "tags",
        "labels",
        "annotations",
        "aliases",
    ]
    # empty metadata stays out of the file; a version without tags gets no `tags: []`
    assert "tags" not in doc["versions"][0] and "labels" not in doc["versions"][0]
    assert Model.model_validate(loads(dumps(doc), "x").value) == model


def test_released_part_leaves_out_what_may_change() -> None:
    v2 = parse_manifest(MANIFEST, "m.yaml").versions[1]
    part = v2.released_part()
    assert "labels" not in part and "annotations" not in part and "stage" not in part
    assert part["tags"] == ["tuned"] and part["lineage"]["parent"] == "churn-base@2"


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "says"),
    [
        ("team: risk", "Team Name: risk", 8, "labels.Team Name", "not a Kubernetes-style key"),
        ("team: risk", "-team: risk", 8, "labels.-team", "not a Kubernetes-style key"),
        ("team: risk", "team: not ok", 8, "labels.team", "label value 'not ok' is not valid"),
        ("ticket: RISK-42", "Bad/key: 1", 9, "annotations.Bad/key", "Kubernetes-style key"),
        ("champion: 2", "production: 2", 10, "aliases.production", "is a stage"),
        ("champion: 2", "latest: 2", 10, "aliases.latest", "newest version"),
        ("champion: 2", "7: 2", 10, "aliases", "keys must be text"),
        ("champion: 2", "'7': 2", 10, "aliases.7", "not valid"),
        ("champion: 2", "Champion: 2", 10, "aliases.Champion", "not valid"),
        (
            "parent: churn-base@2",
            "parent: churn-base@champion",
            25,
            "versions[1].lineage.parent",
            "",
        ),
        ("role: train", "role: training", 23, "versions[1].lineage.datasets[0].role", ""),
        ("tracker: mlflow", "trackr: mlflow", 20, "versions[1].lineage.run.trackr", "unknown"),
    ],
)
def test_bad_metadata_is_located_in_the_file(
    old: str, new: str, line: int, field: str, says: str
) -> None:
    assert old in MANIFEST
    got_line, got_field, message = _problem(MANIFEST.replace(old, new, 1))
    assert (got_line, got_field) == (line, field), message
    assert says in message


def _as_json(value: object) -> object:
    return json.loads(json.dumps(value, default=lambda v: v.isoformat().replace("+00:00", "Z")))


def test_the_json_schema_holds_the_same_contract() -> None:
    schema = json.loads((SCHEMA_DIR / "model.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    good = _as_json(loads(MANIFEST, "m.yaml").value)
    assert list(validator.iter_errors(good)) == []
    for old, new in [
        ("team: risk", "Team Name: risk"),
        ("champion: 2", "production: 2"),
        ("champion: 2", "latest: 2"),
        ("parent: churn-base@2", "parent: churn-base@champion"),
        ("role: train", "role: training"),
    ]:
        bad = _as_json(loads(MANIFEST.replace(old, new, 1), "m.yaml").value)
        assert list(validator.iter_errors(bad)), new
