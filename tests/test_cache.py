"""The manifest cache file: written and read in chunks, never trusted when damaged."""

from __future__ import annotations

from pathlib import Path

from modelreg.cache import CHUNK, INDEX_SUFFIX, Head, ManifestCache
from modelreg.manifest import Model, Version
from modelreg.query import Summary


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


def saved(path: Path, n: int) -> None:
    cache = ManifestCache(path)
    for i in range(n):
        cache.put(f"{i:040x}", model(i), (3, 0), keep=False)
    cache.save()


def test_one_entry_is_read_through_the_index_without_the_rest(tmp_path: Path) -> None:
    # a command that needs one model reads its chunk alone: with the file's last chunk
    # damaged, an entry of the first still reads, which loading everything could not
    path = tmp_path / "manifests.cache"
    saved(path, 3 * CHUNK)
    assert (tmp_path / f"manifests.cache{INDEX_SUFFIX}").is_file()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100] + b"\xff" * 100)
    cache = ManifestCache(path)
    found = cache.get(f"{1:040x}")
    assert found is not None and found[0] == model(1) and found[1] == (3, 0)
    assert cache.get(f"{3 * CHUNK - 1:040x}") is None  # its chunk is the damaged one
    assert cache.get("f" * 40) is None  # not in the cache at all
    assert ManifestCache(path).raw == {}  # loaded whole, the file is refused


def test_an_index_of_another_file_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "manifests.cache"
    index = tmp_path / f"manifests.cache{INDEX_SUFFIX}"
    saved(path, CHUNK + 5)
    old_index = index.read_bytes()
    other = tmp_path / "other" / "manifests.cache"
    other.parent.mkdir()
    cache = ManifestCache(other)
    for i in range(CHUNK + 5):  # the same blobs, in another order: other offsets
        cache.put(f"{CHUNK + 4 - i:040x}", model(CHUNK + 4 - i), None, keep=False)
    cache.save()
    path.write_bytes(other.read_bytes())
    index.write_bytes(old_index)  # as if the index of the old file outlived it
    again = ManifestCache(path)
    for i in (0, CHUNK + 4):
        found = again.get(f"{i:040x}")
        assert found is not None and found[0] == model(i) and found[1] is None


def test_a_small_addition_is_not_saved_and_loads_nothing(tmp_path: Path) -> None:
    path = tmp_path / "manifests.cache"
    saved(path, 2 * CHUNK)
    before = path.read_bytes()
    cache = ManifestCache(path)
    cache.put("e" * 40, model(9999), None)
    cache.save()  # a few hundred bytes against the whole file: parsed again next time
    assert path.read_bytes() == before
    assert cache.get("e" * 40) is not None and ManifestCache(path).get("e" * 40) is None


def versioned(n: int, first: int = 1) -> list[Version]:
    return [
        Version.model_validate(
            {"version": i, "created_at": f"2026-01-0{1 + i % 9}T00:00:00Z", "stage": "staging"}
        )
        for i in range(first, first + n)
    ]


def test_appended_versions_are_encoded_once_from_the_entry_they_follow(tmp_path: Path) -> None:
    # a manifest appended to again and again keeps one entry: the last, made from the
    # cached one it grew from, without building a model
    path = tmp_path / "manifests.cache"
    base = model(1).model_copy(update={"versions": versioned(2)})
    cache = ManifestCache(path)
    cache.put("b0", base, (9, 0), keep=False)
    cache.save()
    cache = ManifestCache(path)
    cache.put_appended("b1", "b0", versioned(1, 3), (12, 0), base.id)
    cache.put_appended("b2", "b1", versioned(2, 4), (15, 0), base.id)
    assert cache.models == {}
    whole = base.model_copy(update={"versions": versioned(5)})
    assert cache.head("b2") == Head.of("b2", whole, (15, 0))
    cache.save()
    again = ManifestCache(path)
    # neither the state in between nor the one the writes started from is kept
    assert set(again.raw) == {"b2"}
    found = again.get("b2")
    assert found is not None and found == (whole, (15, 0))
    assert again.head("b2") == Head.of("b2", whole, (15, 0))
    entry = again.entry("b2")
    assert entry is not None and entry[1] == Summary.of(whole)
    assert entry[1].rows == Summary.of(whole).rows


def test_a_state_written_this_run_stays_while_versions_appended_to_it_wait(
    tmp_path: Path,
) -> None:
    path = tmp_path / "manifests.cache"
    cache = ManifestCache(path)
    empty = model(2)
    cache.put("c0", empty, None, written=True)  # a new model, written whole
    first = empty.model_copy(update={"versions": versioned(1)})
    cache.put("c1", first, (5, 0), written=True)  # its first version: written whole
    cache.put_appended("c2", "c1", versioned(2, 2), (8, 0), empty.id)
    cache.save()
    again = ManifestCache(path)
    assert "c0" not in again.raw  # written over by this run
    found = again.get("c2")
    assert found is not None and found[0] == empty.model_copy(update={"versions": versioned(3)})
