"""Failures of the storage stack: a stopped S3 server, storage errors, memory bounds."""

from __future__ import annotations

import datetime as dt
import tracemalloc
from pathlib import Path

import pytest

import modelreg.artifacts as artifacts_module
from modelreg import ArtifactError, Registry
from modelreg.artifacts import ArtifactStore
from tests.artifacts.stores import S3Server, Store, make_store, payload, registry_on
from tests.conftest import RunCli, git, head


@pytest.fixture
def s3_reg(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Registry, Store]:
    store = make_store("s3", tmp_path, request)
    return registry_on(tmp_path / "reg", store), store


def test_s3_server_stopping_mid_upload_commits_nothing_and_leaves_no_object(
    s3_reg: tuple[Registry, Store], s3_server: S3Server, tmp_path: Path
) -> None:
    reg, store = s3_reg
    before = head(reg.root)
    big = payload(tmp_path, "big.bst", 40 * 1024 * 1024)  # five 8 MiB parts
    moved: list[int] = []

    def progress(uri: str, total: int):  # type: ignore[no-untyped-def]
        def update(n: int) -> None:
            moved.append(n)
            # the server goes away after the first part, once: parts still in flight
            # report progress later, from the transfer's own thread, perhaps after the
            # server is back (their cut would take it away again)
            if len(moved) == 1:
                s3_server.relay.cut()

        return update

    try:
        with pytest.raises(ArtifactError) as err:
            reg.register_version("churn-xgb", artifacts={"model": big}, progress=progress)
    finally:
        s3_server.relay.restore()
    message = str(err.value)
    assert message.startswith(store.url("churn-xgb", "1", "model", "big.bst") + ": ")
    assert "could not upload" in message and "Traceback" not in message
    assert moved, "the upload had started"
    assert head(reg.root) == before
    assert git(reg.root, "status", "--porcelain") == ""
    assert Registry.open(reg.root).get("churn-xgb").versions == []
    bucket = store.root.split("/")[2]
    client = s3_server.client()
    listed = client.list_objects_v2(Bucket=bucket)
    assert listed.get("KeyCount", 0) == 0, listed.get("Contents")
    # the parts already sent could not be aborted while the server was away: gc finds
    # them as an incomplete upload and aborts it
    orphans = reg.artifact_orphans(min_age=dt.timedelta(0))
    assert [(o.uri, bool(o.upload_id)) for o in orphans] == [
        (message.split(":")[0] + ":" + message.split(":")[1], True)
    ]
    reg.artifact_store.remove(orphans)
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_storage_errors_name_the_uri_and_never_leak_a_traceback(
    tmp_path: Path,
    s3_server: S3Server,
    run_cli: RunCli,
) -> None:
    store = Store(
        "s3",
        "s3://no-such-bucket/models",
        {"endpoint_url": s3_server.endpoint, "config_kwargs": {"retries": {"max_attempts": 1}}},
    )
    reg = registry_on(tmp_path / "reg", store)
    src = payload(tmp_path)
    r = run_cli("register", "churn-xgb", "--artifact", f"model={src}", cwd=reg.root)
    assert r.code == 6
    assert r.err.startswith("error: s3://no-such-bucket/models/churn-xgb/1/model/model.bst")
    assert "Traceback" not in r.err + r.out
    r = run_cli("register", "churn-xgb", "--artifact", "model=nosuch://x/y", cwd=reg.root)
    assert r.code == 6 and "nosuch://x/y" in r.err and "no filesystem" in r.err


def transfer_peaks(artifacts: ArtifactStore, src: Path, out: Path) -> tuple[int, int]:
    """Peak Python memory of one upload and one pull of ``src``."""
    tracemalloc.start()
    try:
        stored = artifacts.batch().add("m", src.stat().st_size, "model", src)
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        artifacts.pull(stored, out)
        _, pull_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.read_bytes() == src.read_bytes()
    return upload_peak, pull_peak


def test_memory_stays_flat_on_a_local_store(tmp_path: Path) -> None:
    size = 96 * 1024 * 1024
    src = payload(tmp_path, "big.bst", size)
    artifacts = ArtifactStore((tmp_path / "store").as_uri())
    up, down = transfer_peaks(artifacts, src, tmp_path / "out.bst")
    # a few 8 MiB chunks in flight, never the file
    assert up < size / 3 and down < size / 3, (up, down)


def test_memory_stays_flat_on_s3(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # S3's smallest parts (5 MiB), 1 MiB reads and download ranges: the steady state of a
    # multi-GB transfer, reached with files of tens of MiB
    monkeypatch.setattr(artifacts_module, "PART_SIZE", 5 << 20)
    monkeypatch.setattr(artifacts_module, "REMOTE_BLOCK", 1 << 20)
    monkeypatch.setattr(artifacts_module, "DOWNLOAD_PART", 1 << 20)
    store = make_store("s3", tmp_path, request)
    artifacts = ArtifactStore(store.root, store.options)
    small = transfer_peaks(artifacts, payload(tmp_path, "a.bst", 24 << 20), tmp_path / "a.out")
    big = transfer_peaks(
        artifacts, payload(tmp_path, "b.bst", 96 << 20, seed=2), tmp_path / "b.out"
    )
    # four times the bytes, not four times the memory (a copy of the file would be): what
    # is held is the parts and ranges in flight (botocore keeps a copy or two of each)
    assert big[0] < small[0] * 2 and big[1] < small[1] * 2, (small, big)
    assert big[0] < (96 << 20) * 0.75 and big[1] < (96 << 20) / 4, big
