"""The catalog documents, field by field against the seeds, and the mapping rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from modelreg import Registry
from modelreg.catalog import Catalog, camel, entry, iso, terminal_status
from modelreg.export import read_catalog
from modelreg.manifest import Model
from tests.catalog.seedrepo import seed


def _types(value: Any) -> Any:
    """The JSON type skeleton of a document: keys and value types, recursively."""
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value[:1]]
    return type(value).__name__


def _catalog(root: Path) -> Catalog:
    return read_catalog(Registry.open(root, ref="HEAD"))


def test_registered_model_equals_the_seed_example(seed_root: Path) -> None:
    cat = _catalog(seed_root)
    got = next(e for e in cat.entries if e.id == "model_abc123").registered_model()
    want = seed("registered_model.json")
    assert list(got) == list(want)  # same fields, same order
    assert got == want


def test_list_response_has_the_seed_shape_and_values(seed_root: Path) -> None:
    cat = _catalog(seed_root)
    churn = [e for e in cat.entries if e.id == "model_abc123"]
    got = cat.model_list(churn, limit=20, offset=0, count=34)
    want = seed("model_list.json")
    assert got == want
    assert _types(cat.model_list()) == _types(want)


def test_terminal_response_equals_the_seed_for_its_customer(seed_root: Path) -> None:
    cat = _catalog(seed_root)
    mine = [e for e in cat.entries if e.model.customer == "demo-customer"]
    assert cat.terminal(mine) == seed("terminal_ml_models.json")
    everything = cat.terminal()
    # model_abc123 has one production version; its stage-none versions have no status there.
    assert everything["count"] == 2
    assert {m["model_name"] for m in everything["model_metrics"]} == {
        "model_abc123",
        "customer_validation_lstm",
    }


def test_times_come_from_git_commits(seed_root: Path) -> None:
    cat = _catalog(seed_root)
    churn = next(e for e in cat.entries if e.id == "model_abc123")
    assert churn.from_git
    assert (iso(churn.created), iso(churn.updated)) == (
        "2025-01-15T10:30:00Z",
        "2025-02-01T10:00:00Z",
    )
    doc = cat.document()
    assert doc["commit"] == Registry.open(seed_root, ref="HEAD").commit
    assert doc["models"][1]["times"]["source"] == "git"


def _model(**extra: Any) -> Model:
    data: dict[str, Any] = {
        "id": "m",
        "name": "M",
        "framework": "sklearn",
        "created_at": "2025-03-01T08:00:00+02:00",
        **extra,
    }
    return Model.model_validate(data)


def _version(n: int, stage: str = "none", **extra: Any) -> dict[str, Any]:
    return {"version": n, "stage": stage, "created_at": f"2025-03-0{n}T00:00:00Z", **extra}


def test_stage_to_terminal_status() -> None:
    m = _model(
        versions=[
            _version(1, "archived"),
            _version(2, "staging"),
            _version(3, "production"),
            _version(4, "challenger"),
            _version(5),
        ]
    )
    assert [terminal_status(m, v) for v in m.versions] == [
        "archived",
        "challenger",
        "production",
        "challenger",
        None,
    ]
    metrics = entry(m).model_metrics()
    assert [x["model_version"] for x in metrics] == ["v1", "v2", "v3", "v4"]


def test_archived_model_and_deployed_challenger() -> None:
    archived = _model(archived=True, versions=[_version(1, "production"), _version(2)])
    assert {x["status"] for x in entry(archived).model_metrics()} == {"archived"}
    assert len(entry(archived).model_metrics()) == 2
    deployed = _model(
        versions=[_version(1, "production"), _version(2)],
        deployment={
            "target": "kserve",
            "version": 1,
            "challenger": {"version": 2, "traffic_percent": 10},
            "deployed_at": "2025-03-05T00:00:00Z",
        },
    )
    assert [x["status"] for x in entry(deployed).model_metrics()] == ["production", "challenger"]


def test_missing_parts_are_null_not_invented() -> None:
    m = _model(versions=[_version(1, "production")])
    (x,) = entry(m).model_metrics()
    assert x["model_type"] is None and x["last_trained_at"] is None
    assert x["training_data_window"] is None
    assert x["training_metrics"] == {
        "epochs": None,
        "train_loss": None,
        "validation_loss": None,
        "early_stop_epoch": None,
    }
    assert x["artifact_locations"] == {"model": None, "encoders": None, "config": None}
    full = entry(m).registered_model()
    assert full["versions"][0]["artifactUri"] is None and full["deployment"] is None


def test_manifest_times_without_git_and_utc_formatting() -> None:
    m = _model(versions=[_version(2)])
    e = entry(m)
    assert not e.from_git
    assert e.summary()["createdAt"] == "2025-03-01T06:00:00Z"  # +02:00 turned into UTC
    assert e.summary()["updatedAt"] == "2025-03-02T00:00:00Z"
    git_times = {
        "m": (
            dt.datetime(2025, 4, 1, tzinfo=dt.timezone.utc),
            dt.datetime(2025, 4, 2, 3, 4, 5, 6, tzinfo=dt.timezone.utc),
        )
    }
    assert entry(m, git_times).summary()["updatedAt"] == "2025-04-02T03:04:05.000006Z"
    assert iso(None) is None


def test_camel_case_metric_names() -> None:
    assert camel("f1_score") == "f1Score"
    assert camel("accuracy") == "accuracy"
    assert camel("roc_auc_macro") == "rocAucMacro"
    m = _model(versions=[_version(1, metrics={"f1_score": 0.5, "mean_abs_error": 1.0})])
    assert entry(m).registered_model()["versions"][0]["metrics"] == {
        "f1Score": 0.5,
        "meanAbsError": 1.0,
    }


def test_catalog_is_sorted_by_id_and_counts() -> None:
    a, b = _model(id="b-model"), _model(id="a-model")
    cat = Catalog.build([a, b], commit="c0ffee", ref="main")
    assert [e.id for e in cat.entries] == ["a-model", "b-model"]
    doc = cat.document()
    assert (doc["count"], doc["commit"], doc["ref"]) == (2, "c0ffee", "main")
    listing = cat.model_list()
    assert (listing["count"], listing["limit"], listing["offset"]) == (2, 2, 0)


def test_a_re_created_model_is_created_when_its_manifest_says(tmp_path: Path) -> None:
    """createdAt is the manifest's created_at everywhere (show, export, HTTP), not the
    first commit of an older model that had the same id."""
    from tests.conftest import git

    reg = Registry.init(tmp_path / "reg")
    reg.create_model("m", name="M", framework="onnx")
    reg.delete("m")
    path = reg.root / "models/m/model.yaml"
    path.parent.mkdir()
    path.write_text(
        "apiVersion: modelreg/v1\nkind: Model\nid: m\nname: M again\nframework: onnx\n"
        "created_at: 2031-05-01T00:00:00Z\n"
    )
    git(reg.root, "add", "-A")
    git(reg.root, "commit", "-qm", "m again, by hand")
    again = Registry.open(reg.root)
    assert again.past().model_times()["m"][0].year < 2031  # git's first commit: the old model
    (e,) = read_catalog(Registry.open(reg.root, ref="HEAD")).entries
    assert e.from_git
    assert e.summary()["createdAt"] == "2031-05-01T00:00:00Z"
    assert iso(again.get("m").created_at) == "2031-05-01T00:00:00Z"
