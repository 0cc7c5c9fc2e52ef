"""``modelreg fetch``, ``cache ls|prune`` and ``loaders`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.artifacts.stores import Store, payload, registry_on
from tests.conftest import RunCli


def test_fetch_prints_the_folder_and_json(tmp_path: Path, run_cli: RunCli) -> None:
    reg = registry_on(tmp_path / "reg", Store("file", (tmp_path / "store").as_uri()))
    src = payload(tmp_path)
    reg.register_version("churn-xgb", artifacts={"model": src}, stage="production")
    r = run_cli("-R", str(reg.root), "fetch", "churn-xgb@production")
    assert r.code == 0, r.err
    folder = Path(r.out.strip())
    assert (folder / "model" / "model.bst").read_bytes() == src.read_bytes()
    assert "model: " in r.err and "downloaded" in r.err
    r = run_cli("-R", str(reg.root), "fetch", "churn-xgb@production", "--json")
    data = json.loads(r.out)
    assert data["version"] == 1 and data["files"][0]["downloaded"] is False
    dest = tmp_path / "out"
    r = run_cli("-R", str(reg.root), "fetch", "churn-xgb@1", "--dest", str(dest))
    assert r.code == 0 and Path(r.out.strip()) == dest
    assert (dest / "model" / "model.bst").read_bytes() == src.read_bytes()


def test_fetch_offline_error_and_unknown_model(tmp_path: Path, run_cli: RunCli) -> None:
    reg = registry_on(tmp_path / "reg", Store("file", (tmp_path / "store").as_uri()))
    reg.register_version("churn-xgb", artifacts={"model": payload(tmp_path)})
    r = run_cli("-R", str(reg.root), "fetch", "churn-xgb@1", "--offline")
    assert r.code == 6 and "offline: 1 of 1 artifact(s)" in r.err and "Traceback" not in r.err
    r = run_cli("-R", str(reg.root), "fetch", "nope@1")
    assert r.code == 4 and r.err.startswith("error: ")


def test_cache_ls_and_prune(tmp_path: Path, run_cli: RunCli, artifact_cache: Path) -> None:
    reg = registry_on(tmp_path / "reg", Store("file", (tmp_path / "store").as_uri()))
    reg.register_version("churn-xgb", artifacts={"model": payload(tmp_path, size=3000, seed=1)})
    reg.register_version("churn-xgb", artifacts={"model": payload(tmp_path, size=5000, seed=2)})
    assert run_cli("-R", str(reg.root), "fetch", "churn-xgb@1").code == 0
    assert run_cli("-R", str(reg.root), "fetch", "churn-xgb@2").code == 0
    r = run_cli("cache", "ls", "--json")
    data = json.loads(r.out)
    assert data["root"] == str(artifact_cache) and data["bytes"] == 8000
    # most recently used first
    assert [(o["size"], o["snapshots"]) for o in data["objects"]] == [
        (5000, ["churn-xgb@2"]),
        (3000, ["churn-xgb@1"]),
    ]
    r = run_cli("cache", "ls")
    assert "churn-xgb@1" in r.out and "2 object(s)" in r.err

    r = run_cli("cache", "prune", "--max-size", "6000", "--dry-run")
    assert "would remove 1 object(s)" in r.out
    assert len(json.loads(run_cli("cache", "ls", "--json").out)["objects"]) == 2
    r = run_cli("cache", "prune", "--max-size", "6000", "--json")
    data = json.loads(r.out)
    assert [o["size"] for o in data["removed"]] == [3000] and data["kept"] == 5000
    assert not list((artifact_cache / "snapshots" / "churn-xgb").glob("1-*"))
    # what went is downloaded again on the next fetch
    r = run_cli("-R", str(reg.root), "fetch", "churn-xgb@1", "--json")
    assert json.loads(r.out)["files"][0]["downloaded"] is True
    r = run_cli("cache", "prune", "--max-size", "ten")
    assert r.code != 0 and "not a size" in r.err


def test_loaders_lists_the_built_ins(run_cli: RunCli) -> None:
    r = run_cli("loaders", "--json")
    names = {i["name"]: i for i in json.loads(r.out)}
    assert names["sklearn"]["frameworks"] == ["sklearn"] and names["onnx"]["error"] is None
