"""The manifest cache file: written and read in chunks, never trusted when damaged."""

from __future__ import annotations

from pathlib import Path

from modelreg.cache import CHUNK, ManifestCache
from modelreg.manifest import Model


def model(i: int) -> Model:
    return Model.model_validate(
        {"id": f"m-{i}", "name": f"Model {i}", "framework": "onnx", "versions": []}
    )


def test_more_entries_than_a_chunk_read_back_whole(tmp_path: Path) -> None:
    path = tmp_path / "manifests.cache"
    cache = ManifestCache(path)
    n = 2 * CHUNK + 7
    for i in range(n):
        cache.put(f"{i:040x}", model(i), (3, 0), keep=False)
    cache.save()
    again = ManifestCache(path)
    assert len(again.raw) == n
    found = again.get(f"{n - 1:040x}")
    assert found is not None and found[0] == model(n - 1) and found[1] == (3, 0)
    entry = again.entry(f"{CHUNK:040x}")
    assert entry is not None and entry[1].id == f"m-{CHUNK}"


def test_a_damaged_or_cut_file_is_an_empty_cache(tmp_path: Path) -> None:
    path = tmp_path / "manifests.cache"
    cache = ManifestCache(path)
    for i in range(CHUNK + 1):
        cache.put(f"{i:040x}", model(i), None, keep=False)
    cache.save()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert ManifestCache(path).raw == {}
    path.write_bytes(b"not a cache")
    assert ManifestCache(path).raw == {}
