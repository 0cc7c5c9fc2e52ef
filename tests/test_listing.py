"""The listing index: listing the working tree by the manifests' file status, never stale."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from modelreg import InvalidManifestError, Registry
from modelreg.query import Query

HOUR_AGO_NS = time.time_ns() - 3600 * 10**9


def listed(root: Path, query: Query | None = None) -> list[dict[str, object]]:
    with Registry.open(root) as reg:
        body = reg.list_json(query).body()
    models: list[dict[str, object]] = json.loads(b"[" + body + b"]")
    return models


def index_file(reg: Registry) -> Path:
    assert reg.cache.path is not None
    return reg.cache.path.with_name("listing")


def age(root: Path) -> None:
    """Every manifest modified an hour ago: past the racy window, trusted on status."""
    for manifest in (root / "models").glob("*/model.yaml"):
        os.utime(manifest, ns=(HOUR_AGO_NS, HOUR_AGO_NS))


def saved_at(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_ino


def test_an_unchanged_tree_is_listed_from_the_index_alone(churn: Registry) -> None:
    churn.create_model("lstm", name="LSTM", framework="tensorflow")
    age(churn.root)
    first = listed(churn.root)
    index = index_file(churn)
    assert index.is_file() and [m["id"] for m in first] == ["churn-xgb", "lstm"]
    before = saved_at(index)
    again = listed(churn.root)
    assert again == first
    assert saved_at(index) == before  # trusted: nothing read, nothing saved again
    assert first[0]["status"] == "registered" and first[0]["latest_version"] == 2


def test_a_hand_edit_is_seen_even_with_the_same_size_and_time(churn: Registry) -> None:
    age(churn.root)
    listed(churn.root)
    manifest = churn.root / "models" / "churn-xgb" / "model.yaml"
    text = manifest.read_text()
    manifest.write_text(text.replace("Prediction XGBoost", "Prediction XGBoosT"))
    os.utime(manifest, ns=(HOUR_AGO_NS, HOUR_AGO_NS))  # size and mtime as indexed
    (model,) = listed(churn.root)
    assert model["name"] == "Churn Prediction XGBoosT"


def test_a_hand_edit_right_after_listing_is_seen(churn: Registry) -> None:
    listed(churn.root)
    manifest = churn.root / "models" / "churn-xgb" / "model.yaml"
    manifest.write_text(manifest.read_text().replace("Prediction XGBoost", "XGB 2"))
    (model,) = listed(churn.root)
    assert model["name"] == "Churn XGB 2"


def test_models_added_and_removed_by_hand_are_seen(churn: Registry) -> None:
    churn.create_model("lstm", name="LSTM", framework="tensorflow")
    age(churn.root)
    listed(churn.root)
    shutil.rmtree(churn.root / "models" / "lstm")
    copy = churn.root / "models" / "gru" / "model.yaml"
    copy.parent.mkdir()
    text = (churn.root / "models" / "churn-xgb" / "model.yaml").read_text()
    copy.write_text(text.replace("id: churn-xgb", "id: gru"))
    assert [m["id"] for m in listed(churn.root)] == ["churn-xgb", "gru"]


def test_a_broken_manifest_is_reported_not_served_from_the_index(churn: Registry) -> None:
    age(churn.root)
    listed(churn.root)
    manifest = churn.root / "models" / "churn-xgb" / "model.yaml"
    manifest.write_text(manifest.read_text().replace("framework: xgboost", "framework: xgb"))
    with pytest.raises(InvalidManifestError, match="framework"):
        listed(churn.root)


def test_pages_and_filters_agree_with_the_models(churn: Registry) -> None:
    churn.create_model("lstm", name="LSTM", framework="tensorflow")
    churn.create_model("arima", name="ARIMA", framework="custom")
    age(churn.root)
    every = listed(churn.root)
    assert [m["id"] for m in every] == ["arima", "churn-xgb", "lstm"]
    assert listed(churn.root, Query(offset=1, limit=1)) == every[1:2]
    assert listed(churn.root, Query(offset=5)) == []
    only = listed(churn.root, Query(filters={"framework": ("tensorflow",)}))
    assert only == every[2:]
    assert [m["id"] for m in listed(churn.root, Query(sort="-name"))] == [
        "lstm",
        "churn-xgb",
        "arima",
    ]


def test_a_damaged_index_is_rebuilt(churn: Registry) -> None:
    listed(churn.root)
    index_file(churn).write_bytes(b"not an index")
    (model,) = listed(churn.root)
    assert model["id"] == "churn-xgb"
    assert index_file(churn).read_bytes().startswith(b"modelreg listing index")


def test_summaries_say_which_version_is_in_production(churn: Registry) -> None:
    churn.create_model("lstm", name="LSTM", framework="tensorflow")
    age(churn.root)
    for _ in range(2):  # built, then from the index
        with Registry.open(churn.root) as reg:
            page = reg.summaries(Query(sort="-id"))
        assert [(s.id, s.production, s.latest_version) for s in page.items] == [
            ("lstm", None, 0),
            ("churn-xgb", 2, 2),
        ]
