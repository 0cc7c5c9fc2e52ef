"""The manifest cache: what a write puts is served at once and saved once per model."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from modelreg.cache import ManifestCache
from modelreg.manifest import Model

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


def model(versions: int, model_id: str = "churn") -> Model:
    return Model.model_validate(
        {
            "id": model_id,
            "name": "Churn",
            "framework": "xgboost",
            "versions": [{"version": n, "created_at": T0} for n in range(1, versions + 1)],
        }
    )


def test_a_put_is_served_before_it_is_saved(tmp_path: Path) -> None:
    cache = ManifestCache(tmp_path / "cache")
    two = model(2)
    cache.put("b2", two, (10, 2))
    assert cache.get("b2") == (two, (10, 2))
    data, summary = cache.entry("b2") or (b"", None)
    assert summary is not None and summary.latest_version == 2
    assert Model.model_validate_json(data) == two


def test_only_the_last_state_written_of_a_model_is_saved(tmp_path: Path) -> None:
    cache = ManifestCache(tmp_path / "cache")
    for n in (1, 2, 3):
        cache.put(f"b{n}", model(n), (n, 2))
    cache.put("other", model(1, "fraud"), None)
    cache.save()
    again = ManifestCache(tmp_path / "cache")
    assert again.get("b3") == (model(3), (3, 2))
    assert again.get("other") == (model(1, "fraud"), None)
    assert again.get("b1") is None and again.get("b2") is None
