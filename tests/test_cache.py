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


def test_only_the_last_state_a_run_wrote_of_a_model_is_saved(tmp_path: Path) -> None:
    cache = ManifestCache(tmp_path / "cache")
    cache.put("read", model(1), (1, 2))  # parsed, say at an older commit: kept
    for n in (2, 3, 4):
        cache.put(f"b{n}", model(n), (n, 2), written=True)
    cache.put("other", model(1, "fraud"), None, written=True)
    cache.save()
    again = ManifestCache(tmp_path / "cache")
    assert again.get("b4") == (model(4), (4, 2))
    assert again.get("read") == (model(1), (1, 2))
    assert again.get("other") == (model(1, "fraud"), None)
    assert again.get("b2") is None and again.get("b3") is None


def test_a_few_small_entries_do_not_rewrite_a_big_file(tmp_path: Path) -> None:
    path = tmp_path / "cache"
    first = ManifestCache(path)
    for i in range(300):
        first.put(f"blob{i}", model(5, f"m{i}"), None)
    first.save()
    before = path.stat()
    again = ManifestCache(path)
    again.put("new", model(6, "m1"), None)
    again.save()  # one small manifest: parsing it again later is cheaper
    assert path.stat().st_ino == before.st_ino and path.stat().st_size == before.st_size
    assert ManifestCache(path).get("new") is None
    big = ManifestCache(path)
    big.put("huge", model(2000, "m2"), None)
    big.save()  # as big as a good part of the file: worth keeping
    assert ManifestCache(path).get("huge") == (model(2000, "m2"), None)
