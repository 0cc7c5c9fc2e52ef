"""Static export: layout, schema, unchanged files left alone, stale files removed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fsspec
import jsonschema
import pytest

from modelreg import Registry
from modelreg.catalog import load_schema
from modelreg.export import LIST_PATH, TERMINAL_PATH, VERSIONS_PATH, export, read_catalog
from tests.catalog.seedrepo import seed


def _validator(definition: str | None = None) -> jsonschema.Draft202012Validator:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    if definition is not None:
        schema = {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _read(path: Path) -> Any:
    return json.loads(path.read_text())


def test_export_layout_validates_against_the_catalog_schema(
    seed_root: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "out"
    result = export(read_catalog(Registry.open(seed_root, ref="HEAD")), str(dest))
    assert result.models == 2 and result.unchanged == 0
    assert sorted(result.written) == sorted(
        [
            "catalog.json",
            LIST_PATH,
            VERSIONS_PATH,
            TERMINAL_PATH,
            "models/customer_validation_lstm.json",
            "models/model_abc123.json",
        ]
    )
    _validator().validate(_read(dest / "catalog.json"))
    _validator("ModelList").validate(_read(dest / LIST_PATH))
    _validator("TerminalModels").validate(_read(dest / TERMINAL_PATH))
    versions = _read(dest / VERSIONS_PATH)
    _validator("VersionList").validate(versions)
    assert [(v["modelId"], v["version"]) for v in versions["versions"]] == [
        ("customer_validation_lstm", 1),
        ("model_abc123", 1),
        ("model_abc123", 2),
        ("model_abc123", 3),
    ]
    for name in ("model_abc123", "customer_validation_lstm"):
        _validator("RegisteredModel").validate(_read(dest / "models" / f"{name}.json"))
    assert _read(dest / "models/model_abc123.json") == seed("registered_model.json")
    listed = _read(dest / LIST_PATH)
    assert (listed["count"], listed["limit"], listed["offset"]) == (2, 2, 0)
    assert seed("model_list.json")["models"][0] in listed["models"]
    catalog = _read(dest / "catalog.json")
    assert catalog["commit"] == Registry.open(seed_root, ref="HEAD").commit
    churn = next(m for m in catalog["models"] if m["id"] == "model_abc123")
    assert [v["stage"] for v in churn["versions"]] == ["none", "none", "production"]
    assert churn["deployment"]["target"] == "kserve"


def test_schema_rejects_a_wrong_shape() -> None:
    bad = dict(seed("registered_model.json"), latestVersion="3")
    with pytest.raises(jsonschema.ValidationError):
        _validator("RegisteredModel").validate(bad)
    extra = dict(seed("terminal_ml_models.json"), extra=1)
    with pytest.raises(jsonschema.ValidationError):
        _validator("TerminalModels").validate(extra)


def test_second_export_rewrites_nothing_and_changes_touch_only_what_changed(tmp_path: Path) -> None:
    reg = Registry.init(tmp_path / "reg")
    for name in ("a", "b", "c"):
        reg.create_model(name, name=name.upper(), framework="sklearn")
    dest = tmp_path / "out"
    export(read_catalog(reg), str(dest))
    stamps = {p: p.stat().st_mtime_ns for p in dest.rglob("*.json")}
    again = export(read_catalog(Registry.open(reg.root)), str(dest))
    assert again.written == () and again.unchanged == 7
    assert {p: p.stat().st_mtime_ns for p in dest.rglob("*.json")} == stamps

    reg.update("b", description="changed")
    reg.delete("c")
    third = export(read_catalog(Registry.open(reg.root)), str(dest))
    assert set(third.written) == {"models/b.json", "catalog.json", LIST_PATH}
    assert third.removed == ("models/c.json",)
    assert not (dest / "models/c.json").exists()
    assert (dest / "models/a.json").stat().st_mtime_ns == stamps[dest / "models/a.json"]
    assert not list(dest.rglob("*.tmp"))


def test_a_hand_edited_file_is_put_right(tmp_path: Path) -> None:
    reg = Registry.init(tmp_path / "reg")
    reg.create_model("a", name="A", framework="onnx")
    dest = tmp_path / "out"
    export(read_catalog(reg), str(dest))
    original = (dest / "models/a.json").read_bytes()
    (dest / "models/a.json").write_text("{}")
    result = export(read_catalog(reg), f"file://{dest}")
    assert result.written == ("models/a.json",)
    assert (dest / "models/a.json").read_bytes() == original


def test_export_at_a_ref_is_that_commit(tmp_path: Path, run_cli: Any) -> None:
    reg = Registry.init(tmp_path / "reg")
    reg.create_model("a", name="A", framework="onnx")
    first = reg.commit
    reg.create_model("b", name="B", framework="onnx")
    dest = tmp_path / "out"
    res = run_cli("-R", str(reg.root), "export", str(dest), "--ref", str(first), "--json")
    assert res.code == 0, res.err
    assert json.loads(res.out)["models"] == 1
    assert _read(dest / "catalog.json")["commit"] == first
    assert not (dest / "models/b.json").exists()


def test_export_to_an_fsspec_url_uses_the_index(tmp_path: Path) -> None:
    reg = Registry.init(tmp_path / "reg")
    reg.create_model("a", name="A", framework="onnx")
    url = f"memory://catalog-{tmp_path.name}"
    first = export(read_catalog(reg), url)
    assert len(first.written) == 5
    fs = fsspec.filesystem("memory")
    root = url[len("memory://") :]
    assert json.loads(fs.cat_file(f"{root}/models/a.json"))["id"] == "a"
    second = export(read_catalog(reg), url)
    assert second.written == () and second.unchanged == 5
    reg.delete("a")
    third = export(read_catalog(Registry.open(reg.root)), url)
    assert third.removed == ("models/a.json",)
    assert not fs.exists(f"{root}/models/a.json")


def test_a_poisoned_index_cannot_delete_outside_the_layout(tmp_path: Path) -> None:
    reg = Registry.init(tmp_path / "reg")
    dest = tmp_path / "out"
    dest.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (dest / ".modelreg-export.json").write_text(
        json.dumps({"files": {"../victim.txt": "0", "models/../../victim.txt": "0"}})
    )
    export(read_catalog(reg), str(dest))
    assert victim.read_text() == "keep me"
