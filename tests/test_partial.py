"""The part of a manifest the schema accepts, and where its paths are in the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelreg.cli._common import problem_line
from modelreg.errors import Problem
from modelreg.manifest import Model
from modelreg.partial import Partial, in_file, salvage
from modelreg.schema import read_manifest
from modelreg.vocabulary import Stage
from modelreg.yamlio import load

STAND_INS = {"id": "m", "name": "-", "framework": "custom"}


def manifest(**fields: Any) -> dict[str, Any]:
    version = {"version": 1, "created_at": "2025-01-01T00:00:00Z"}
    return {"id": "m", "name": "M", "framework": "onnx", "versions": [version], **fields}


def test_a_valid_manifest_is_whole() -> None:
    got = salvage(Model, manifest())
    assert got is not None and got.gaps == () and not got.lists


def test_a_refused_optional_field_is_left_out() -> None:
    got = salvage(Model, manifest(labels={"team": 1.1, "tier": "gold"}))
    assert got is not None
    assert got.model.labels == {"tier": "gold"}
    assert got.gaps == (("labels", "team"),)


def test_a_refused_required_field_takes_its_version_along() -> None:
    versions = [
        {"version": "1", "created_at": "2025-01-01T00:00:00Z", "stage": "production"},
        {"version": 2, "created_at": "2025-01-02T00:00:00Z", "stage": "production"},
    ]
    got = salvage(Model, manifest(versions=versions), stand_ins=STAND_INS)
    assert got is not None
    assert [v.version for v in got.model.versions] == [2]
    assert got.lists == {("versions",): (1,)}
    # the kept version is versions[1] of the file
    assert got.place(("versions", 0, "stage")) == ("versions", 1, "stage")
    # what holds a version left out, or is inside it, is not placed
    assert got.place(("versions",)) is None
    assert got.place(("versions", 0)) == ("versions", 1)


def test_a_required_model_field_gets_a_stand_in() -> None:
    data = manifest(framework="sklern")
    got = salvage(Model, data, stand_ins=STAND_INS)
    assert got is not None and got.model.framework.value == "custom"
    assert got.place(("framework",)) is None
    assert data["framework"] == "sklern"  # the caller's value is not changed
    assert salvage(Model, data) is None  # without a stand-in nothing can be built


@pytest.mark.parametrize("value", [None, [], "text", manifest(annotations={"k": float("nan")})])
def test_too_little_to_check(value: Any) -> None:
    assert salvage(Model, value, stand_ins=STAND_INS) is None


def test_paths_near_a_gap_are_not_placed() -> None:
    partial = Partial(Model.model_validate(manifest()), gaps=(("versions", 0, "metrics", "acc"),))
    assert partial.place(("versions", 0, "metrics")) is None  # directly holds the gap
    assert partial.place(("versions", 0, "metrics", "acc")) is None
    assert partial.place(("versions", 0, "stage")) == ("versions", 0, "stage")
    assert partial.place(("versions",)) == ("versions",)  # a version is still whole
    assert in_file(("a", 1, "b", 0), {("a",): (0, 3), ("a", 3, "b"): (2,)}) == ("a", 3, "b", 2)


def test_the_yaml_dialect_leaves_out_what_it_refuses() -> None:
    loaded = load("a: no\nb: [1, 012]\nc: 1\nc: 2\n", "x.yaml")
    assert loaded.value == {"b": [1, None], "c": 1}
    assert loaded.gaps == (("a",), ("b", 1))
    assert [(p.field, p.line) for p in loaded.problems] == [("a", 1), ("b[1]", 2), ("c", 4)]


def test_a_reading_has_every_problem_in_file_order() -> None:
    text = (
        "id: m\nname: M\nframework: sklern\nversions:\n"
        "- version: 1\n  stage: production\n  created_at: 2025-01-01T00:00:00Z\n"
        "- version: 2\n  stage: production\n  stage: none\n  created_at: 2025-01-02T00:00:00Z\n"
    )
    reading = read_manifest(text, "models/m/model.yaml", folder_id="other")
    assert [(p.field, p.line) for p in reading.problems] == [
        ("id", 1),  # not its folder's name, though the schema refuses the file
        ("framework", 3),
        ("versions[1].stage", 10),
    ]
    assert reading.model is None and reading.partial is not None
    assert [v.stage for v in reading.partial.model.versions] == [Stage.PRODUCTION] * 2
    unreadable = read_manifest("a: [", "models/m/model.yaml")
    assert unreadable.loaded is None and unreadable.partial is None
    assert unreadable.problems[0].path == "models/m/model.yaml"


def test_the_cli_names_files_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = Problem("sub/models/m/model.yaml", 3, 5, "name", "too long")
    assert str(p) == "sub/models/m/model.yaml:3:5: name: too long"
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert problem_line(p, tmp_path) == "models/m/model.yaml:3:5: name: too long"
    assert problem_line(p, tmp_path / "elsewhere").startswith(str(tmp_path / "elsewhere" / "sub"))
    at_ref = Problem("models/m/model.yaml", None, None, "", "broken", ref="v1")
    assert problem_line(at_ref, tmp_path) == "models/m/model.yaml@v1: broken"
    assert problem_line(p) == str(p)  # a repository unknown: the path as recorded


RICH = {
    "id": "m",
    "name": "M",
    "framework": "onnx",
    "labels": {"team": "risk"},
    "aliases": {"champion": 2},
    "versions": [
        {
            "version": 1,
            "stage": "archived",
            "created_at": "2025-01-01T00:00:00Z",
            "metrics": {"acc": 0.9},
            "training": {
                "epochs": 3,
                "data_window": {"start": "2024-01-01T00:00:00Z", "end": "2024-02-01T00:00:00Z"},
            },
        },
        {
            "version": 2,
            "stage": "production",
            "created_at": "2025-01-02T00:00:00Z",
            "lineage": {"parent": "base@1", "datasets": [{"uri": "s3://d/x", "role": "train"}]},
            "artifacts": {"model": {"uri": "s3://b/m/2/model.onnx", "size": 10}},
        },
        {"version": 3, "stage": "challenger", "created_at": "2025-01-03T00:00:00Z"},
    ],
    "deployment": {
        "target": "kserve",
        "version": 2,
        "challenger": {"version": 3, "traffic_percent": 10},
        "deployed_at": "2025-01-04T00:00:00Z",
    },
}
ODD = [None, "x", "no", -1, 0, 1.5, True, [], {}, [1, "a"], {"k": None}, "2025-01-01", 2]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_rules_never_fail_on_what_can_be_read(data: st.DataObject) -> None:
    """Whatever a hand edit breaks, the rules run on what can be read without failing,
    and every problem they report is placed on a line of the file."""
    from modelreg.rules import check_change, check_model, problems_at
    from modelreg.yamlio import dumps, iter_paths

    old = Model.model_validate(RICH)
    doc = json.loads(json.dumps(RICH))
    for _ in range(data.draw(st.integers(1, 4))):
        paths = [p for p in iter_paths(doc) if p]
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = json.loads(json.dumps(data.draw(st.sampled_from(ODD))))
    text = dumps(doc)
    reading = read_manifest(text, "models/m/model.yaml", folder_id="m")
    assert reading.loaded is not None
    lines = text.count("\n") + 1
    assert all(p.line is None or 1 <= p.line <= lines for p in reading.problems)
    if reading.partial is None:
        return
    violations = check_model(reading.partial.model) + check_change(old, reading.partial.model)
    placed = problems_at(reading.loaded, violations, reading.partial)
    assert all(p.line is not None and 1 <= p.line <= lines for p in placed)
    said = {(p.field, p.line) for p in reading.problems}
    assert not said & {(p.field, p.line) for p in placed}  # nothing reported twice


@pytest.mark.parametrize("bad_id", [None, "Bad Id", 2])
def test_a_removed_deployed_alias_is_not_placed_on_a_refused_id(bad_id: object) -> None:
    from modelreg.rules import check_change, problems_at
    from modelreg.yamlio import dumps

    doc = json.loads(json.dumps(RICH))
    del doc["aliases"]
    doc["id"] = bad_id
    text = dumps(doc)
    reading = read_manifest(text, "models/m/model.yaml", folder_id="m")
    assert reading.partial is not None and reading.loaded is not None
    placed = problems_at(
        reading.loaded,
        check_change(Model.model_validate(RICH), reading.partial.model),
        reading.partial,
    )
    said = {(p.field, p.line) for p in reading.problems}
    assert not said & {(p.field, p.line) for p in placed}
    assert any("alias" in p.message and p.field == "deployment" for p in placed)
