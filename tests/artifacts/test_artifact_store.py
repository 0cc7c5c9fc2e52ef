"""The artifact library on three real stores: a folder, fsspec's memory store, S3 (moto)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from modelreg import ArtifactError, NotFoundError, Registry, RuleViolationError
from modelreg.manifest import Artifact
from tests.artifacts.stores import Store, payload
from tests.conftest import head


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_register_uploads_under_model_version_role(
    reg: Registry, store: Store, tmp_path: Path
) -> None:
    model = payload(tmp_path, "model.bst", 1_500_000)
    enc = payload(tmp_path, "enc.pkl", 1_000, seed=2)
    version = reg.register_version("churn-xgb", artifacts={"model": model, "encoders": enc})
    got = version.artifacts["model"]
    assert got.uri == store.url("churn-xgb", "1", "model", "model.bst")
    assert got.sha256 == sha(model.read_bytes()) and got.size == 1_500_000
    assert store.read(got.uri) == model.read_bytes()
    assert store.read(version.artifacts["encoders"].uri) == enc.read_bytes()
    # recorded in the committed manifest, not just returned
    assert Registry.open(reg.root).get("churn-xgb").versions[0].artifacts["model"] == got


def test_url_source_is_recorded_with_size_and_sha256(
    reg: Registry, store: Store, tmp_path: Path
) -> None:
    data = payload(tmp_path, size=70_000).read_bytes()
    elsewhere = store.url("external", "x.bst")
    store.write(elsewhere, data)
    version = reg.register_version("churn-xgb", artifacts={"model": elsewhere})
    assert version.artifacts["model"] == Artifact(uri=elsewhere, sha256=sha(data), size=70_000)
    sized = reg.register_version("churn-xgb", artifacts={"model": elsewhere}, hash=False)
    assert sized.artifacts["model"] == Artifact(uri=elsewhere, size=70_000)


def test_missing_url_source_is_an_artifact_error_and_nothing_is_committed(
    reg: Registry, store: Store
) -> None:
    before = head(reg.root)
    missing = store.url("external", "nope.bst")
    with pytest.raises(ArtifactError, match=r"nope\.bst"):
        reg.register_version("churn-xgb", artifacts={"model": missing})
    assert head(reg.root) == before


def test_other_bytes_at_the_destination_are_never_overwritten_nor_block(
    reg: Registry, store: Store, tmp_path: Path
) -> None:
    dest = store.url("churn-xgb", "1", "model", "model.bst")
    store.write(dest, b"someone else's bytes")
    version = reg.register_version("churn-xgb", artifacts={"model": payload(tmp_path)})
    assert store.read(dest) == b"someone else's bytes"
    uri = version.artifacts["model"].uri
    assert uri.startswith(dest.rsplit("/", 1)[0] + "/sha256-") and uri.endswith("/model.bst")
    assert store.read(uri) == payload(tmp_path).read_bytes()
    assert reg.verify_artifacts("churn-xgb@1")[0].ok


def test_the_same_bytes_at_the_destination_are_reused(
    reg: Registry, store: Store, tmp_path: Path
) -> None:
    src = payload(tmp_path)
    dest = store.url("churn-xgb", "1", "model", "model.bst")
    store.write(dest, src.read_bytes())
    version = reg.register_version("churn-xgb", artifacts={"model": src})
    assert version.artifacts["model"].uri == dest


def test_uploads_are_removed_when_the_commit_does_not_happen(
    reg: Registry, store: Store, tmp_path: Path
) -> None:
    before = head(reg.root)
    with pytest.raises(RuleViolationError), reg.transaction():
        v = reg.register_version("churn-xgb", artifacts={"model": payload(tmp_path)})
        assert store.exists(v.artifacts["model"].uri)
        reg.set_stage("churn-xgb", 1, "archived")
        reg.register_version("churn-xgb", label="not a label!")  # refused: the block fails
    assert not store.exists(store.url("churn-xgb", "1", "model", "model.bst"))
    assert head(reg.root) == before


def test_a_missing_local_file_is_refused_before_anything_moves(
    reg: Registry, tmp_path: Path
) -> None:
    before = head(reg.root)
    with pytest.raises(ArtifactError, match="no such file"):
        reg.register_version("churn-xgb", artifacts={"model": tmp_path / "absent.bst"})
    assert head(reg.root) == before


def test_verify_reports_ok_missing_size_and_sha_mismatches(
    reg: Registry, store: Store, tmp_path: Path
) -> None:
    for i in range(4):
        reg.register_version(
            "churn-xgb", artifacts={"model": payload(tmp_path, f"m{i}.bst", 5_000, seed=i)}
        )
    uris = [v.artifacts["model"].uri for v in reg.get("churn-xgb").versions]
    fs = store.fs()
    fs.rm_file(uris[1])
    store.write(uris[2], store.read(uris[2])[:-1])  # truncated
    flipped = bytearray(store.read(uris[3]))
    flipped[0] ^= 0xFF
    store.write(uris[3], bytes(flipped))  # same size, other bytes

    results = {r.label: r for r in reg.verify_artifacts()}
    assert [results[f"churn-xgb@{n}/model"].status for n in (1, 2, 3, 4)] == [
        "ok",
        "missing",
        "size-mismatch",
        "sha-mismatch",
    ]
    size = results["churn-xgb@3/model"]
    assert (size.actual_size, size.expected_size) == (4_999, 5_000)
    bad = results["churn-xgb@4/model"]
    assert bad.actual_sha256 == sha(bytes(flipped)) and bad.expected_sha256 != bad.actual_sha256
    assert "expected" in str(bad) and "churn-xgb@4/model" in str(bad)
    # --quick checks existence and size only: the flipped byte goes unseen
    quick = {r.label: r.status for r in reg.verify_artifacts(quick=True)}
    assert quick["churn-xgb@4/model"] == "ok" and quick["churn-xgb@3/model"] == "size-mismatch"
    # one version, by stage or number
    assert [r.label for r in reg.verify_artifacts("churn-xgb@2")] == ["churn-xgb@2/model"]


def test_verify_of_an_unknown_model_is_not_found(reg: Registry) -> None:
    with pytest.raises(NotFoundError):
        reg.verify_artifacts("nope")


def test_pull_downloads_and_checks(reg: Registry, store: Store, tmp_path: Path) -> None:
    src = payload(tmp_path, size=2_000_000)
    reg.register_version(
        "churn-xgb", artifacts={"model": src, "config": payload(tmp_path, "c.json", 10)}
    )
    reg.set_stage("churn-xgb", 1, "production")
    dest = tmp_path / "out"
    results = reg.pull("churn-xgb@production", dest)
    assert (dest / "model" / "model.bst").read_bytes() == src.read_bytes()
    assert {r.path.name for r in results} == {"model.bst", "c.json"}
    assert all(r.downloaded for r in results)
    # a second pull keeps what is already right
    again = reg.pull("churn-xgb@production", dest, roles=["model"])
    assert [r.downloaded for r in again] == [False]
    with pytest.raises(NotFoundError, match="no artifact weights"):
        reg.pull("churn-xgb@1", dest, roles=["weights"])


def test_a_corrupt_download_is_an_error_and_is_not_left_behind(
    reg: Registry, store: Store, tmp_path: Path
) -> None:
    v = reg.register_version("churn-xgb", artifacts={"model": payload(tmp_path, size=100_000)})
    uri = v.artifacts["model"].uri
    data = bytearray(store.read(uri))
    data[500] ^= 1
    store.write(uri, bytes(data))
    dest = tmp_path / "out"
    with pytest.raises(ArtifactError) as err:
        reg.pull("churn-xgb@1", dest)
    assert uri in str(err.value) and "sha256" in str(err.value) and "expected" in str(err.value)
    assert not any(p.is_file() for p in dest.rglob("*")), "nothing of the download stays"


def test_pull_does_not_replace_other_local_bytes_without_force(
    reg: Registry, tmp_path: Path
) -> None:
    src = payload(tmp_path)
    reg.register_version("churn-xgb", artifacts={"model": src})
    target = tmp_path / "out" / "model" / "model.bst"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"local edit")
    with pytest.raises(ArtifactError, match="--force"):
        reg.pull("churn-xgb@1", tmp_path / "out")
    assert target.read_bytes() == b"local edit"
    reg.pull("churn-xgb@1", tmp_path / "out", force=True)
    assert target.read_bytes() == src.read_bytes()


def test_gc_finds_only_unreferenced_objects_of_any_commit(
    reg: Registry, store: Store, tmp_path: Path
) -> None:
    reg.register_version("churn-xgb", artifacts={"model": payload(tmp_path, "a.bst")})
    reg.register_version("churn-xgb", artifacts={"model": payload(tmp_path, "b.bst", seed=3)})
    reg.delete("churn-xgb")  # its manifest is gone from the tree, not from history
    orphan = store.url("churn-xgb", "9", "model", "stray.bst")
    store.write(orphan, b"left by a failed job")

    assert reg.artifact_orphans(min_age=dt.timedelta(hours=1)) == []  # too young to judge
    found = reg.artifact_orphans(min_age=dt.timedelta(0))
    assert [o.uri for o in found] == [orphan]
    reg.artifact_store.remove(found)
    assert not store.exists(orphan)
    assert store.exists(store.url("churn-xgb", "1", "model", "a.bst"))
    assert store.exists(store.url("churn-xgb", "2", "model", "b.bst"))
