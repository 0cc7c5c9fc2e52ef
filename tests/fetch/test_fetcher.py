"""``modelreg.fetch``: the content-addressed cache, checked downloads, offline use, git URLs."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import modelreg
from modelreg import ArtifactError, NotFoundError
from modelreg.cachedir import CacheDir
from tests.artifacts.stores import Store, payload, registry_on
from tests.conftest import git


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _delete(store: Store, uri: str) -> None:
    store.fs().rm_file(uri)


def test_second_fetch_of_the_same_bytes_downloads_nothing(
    tmp_path: Path, store: Store, artifact_cache: Path
) -> None:
    reg = registry_on(tmp_path / "reg", store)
    src = payload(tmp_path, size=200_000)
    reg.register_version(
        "churn-xgb", artifacts={"model": src, "config": payload(tmp_path, "c.json", 50, 2)}
    )
    first = modelreg.fetch("churn-xgb@1", reg)
    assert [f.downloaded for f in first.files] == [True, True]
    assert (first.path / "model" / "model.bst").read_bytes() == src.read_bytes()
    assert first.file().name == "model.bst" and first.downloaded == 200_050

    # the same bytes under another version and another model: nothing is downloaded,
    # even once the store no longer holds them
    v2 = reg.register_version("churn-xgb", artifacts={"model": src}, stage="production")
    reg.create_model("other", name="Other", framework="xgboost")
    o1 = reg.register_version("other", artifacts={"weights": src})
    _delete(store, v2.artifacts["model"].uri)
    _delete(store, o1.artifacts["weights"].uri)
    again = modelreg.fetch("churn-xgb@production", reg)
    other = modelreg.fetch("other@latest", reg)
    assert [f.downloaded for f in again.files + other.files] == [False, False]
    assert (other.path / "weights" / "model.bst").read_bytes() == src.read_bytes()
    objects = CacheDir(artifact_cache).objects()
    assert sorted(o.sha256 for o in objects) == sorted({_sha(src), first.files[1].sha256})
    # one object, used by three versions
    used = next(o for o in objects if o.sha256 == _sha(src)).snapshots
    assert used == ("churn-xgb@1", "churn-xgb@2", "other@1")


def test_bytes_that_do_not_match_are_never_returned(
    tmp_path: Path, store: Store, artifact_cache: Path
) -> None:
    reg = registry_on(tmp_path / "reg", store)
    v = reg.register_version("churn-xgb", artifacts={"model": payload(tmp_path)})
    store.write(v.artifacts["model"].uri, b"not what was registered")
    with pytest.raises(ArtifactError, match="do not match the manifest"):
        modelreg.fetch("churn-xgb@1", reg)
    assert CacheDir(artifact_cache).objects() == []
    assert not (artifact_cache / "snapshots").exists()
    assert list((artifact_cache / "tmp").iterdir()) == []  # nothing half-written left


def test_a_damaged_cache_object_is_downloaded_again(tmp_path: Path, artifact_cache: Path) -> None:
    reg = registry_on(tmp_path / "reg", Store("file", (tmp_path / "store").as_uri()))
    src = payload(tmp_path)
    reg.register_version("churn-xgb", artifacts={"model": src})
    first = modelreg.fetch("churn-xgb@1", reg)
    obj = CacheDir(artifact_cache).object_path(first.files[0].sha256)
    obj.chmod(0o644)
    obj.write_bytes(b"truncated")
    again = modelreg.fetch("churn-xgb@1", reg)
    assert again.files[0].downloaded
    assert again.file().read_bytes() == src.read_bytes()


def test_offline_uses_only_the_cache_and_names_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = registry_on(tmp_path / "reg", Store("file", (tmp_path / "store").as_uri()))
    v = reg.register_version(
        "churn-xgb",
        artifacts={"model": payload(tmp_path), "encoders": payload(tmp_path, "e.pkl", 10, 3)},
    )
    monkeypatch.setenv("MODELREG_OFFLINE", "1")
    with pytest.raises(ArtifactError) as err:
        modelreg.fetch("churn-xgb@1", reg)
    message = str(err.value)
    assert "offline: 2 of 2 artifact(s) of churn-xgb@1 are not in the cache" in message
    assert v.artifacts["model"].uri in message and v.artifacts["encoders"].uri in message

    monkeypatch.delenv("MODELREG_OFFLINE")
    modelreg.fetch("churn-xgb@1", reg, roles=["model"])
    Path(v.artifacts["model"].uri.removeprefix("file://")).unlink()  # the store is gone
    got = modelreg.fetch("churn-xgb@1", reg, roles=["model"], offline=True)
    assert got.file().read_bytes() == payload(tmp_path).read_bytes()
    with pytest.raises(ArtifactError, match=r"1 of 2 .*\n  encoders: "):
        modelreg.fetch("churn-xgb@1", reg, offline=True)


def test_unknown_role_and_version_are_not_found(tmp_path: Path) -> None:
    reg = registry_on(tmp_path / "reg", Store("file", (tmp_path / "store").as_uri()))
    reg.register_version("churn-xgb", artifacts={"model": payload(tmp_path)})
    with pytest.raises(NotFoundError, match=r"no artifact weights \(has: model\)"):
        modelreg.fetch("churn-xgb@1", reg, roles=["weights"])
    with pytest.raises(NotFoundError, match="no version 7"):
        modelreg.fetch("churn-xgb@7", reg)


def test_dest_gets_copies_and_keeps_other_bytes_without_force(tmp_path: Path) -> None:
    reg = registry_on(tmp_path / "reg", Store("file", (tmp_path / "store").as_uri()))
    src = payload(tmp_path)
    reg.register_version("churn-xgb", artifacts={"model": src})
    dest = tmp_path / "serving"
    got = modelreg.fetch("churn-xgb@1", reg, dest=dest)
    target = dest / "model" / "model.bst"
    assert got.file() == target and not target.is_symlink()
    assert target.read_bytes() == src.read_bytes()
    target.write_bytes(b"edited")  # a copy: the cache is not touched through it
    with pytest.raises(ArtifactError, match="--force"):
        modelreg.fetch("churn-xgb@1", reg, dest=dest)
    assert target.read_bytes() == b"edited"
    modelreg.fetch("churn-xgb@1", reg, dest=dest, force=True)
    assert target.read_bytes() == src.read_bytes()
    assert modelreg.fetch("churn-xgb@1", reg).file().read_bytes() == src.read_bytes()


FETCH_IN_A_PROCESS = """
import json, sys, modelreg
got = modelreg.fetch(sys.argv[1], sys.argv[2])
print(json.dumps(got.to_dict()))
"""


def test_concurrent_fetches_by_processes_download_once(
    tmp_path: Path, store: Store, artifact_cache: Path
) -> None:
    reg = registry_on(tmp_path / "reg", store)
    src = payload(tmp_path, size=8 * 1024 * 1024 + 17)
    reg.register_version("churn-xgb", artifacts={"model": src})
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", FETCH_IN_A_PROCESS, "churn-xgb@1", str(reg.root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for _ in range(4)
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
        results.append(json.loads(out))
    assert sum(r["files"][0]["downloaded"] for r in results) == 1
    assert len({r["path"] for r in results}) == 1
    path = Path(results[0]["files"][0]["path"])
    assert path.read_bytes() == src.read_bytes()
    assert [o.sha256 for o in CacheDir(artifact_cache).objects()] == [_sha(src)]


def test_registry_given_by_git_url_is_cloned_shallowly_into_the_cache(
    tmp_path: Path, artifact_cache: Path
) -> None:
    reg = registry_on(tmp_path / "reg", Store("file", (tmp_path / "store").as_uri()))
    src = payload(tmp_path)
    reg.register_version("churn-xgb", artifacts={"model": src}, stage="production")
    branch = git(reg.root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    url = f"git+{reg.root.as_uri()}@{branch}"
    got = modelreg.fetch("churn-xgb@production", url)
    assert got.version == 1 and got.file().read_bytes() == src.read_bytes()
    (clone,) = (artifact_cache / "registries").iterdir()
    assert git(clone, "rev-list", "--count", "HEAD").strip() == "1"  # shallow
    assert git(clone, "rev-parse", "HEAD").strip() == git(reg.root, "rev-parse", "HEAD").strip()

    # the branch moves: an online fetch follows it, an offline one uses the clone it has
    reg.register_version("churn-xgb", artifacts={"model": src}, stage="production")
    assert modelreg.fetch("churn-xgb@production", url, offline=True).version == 1
    assert modelreg.fetch("churn-xgb@production", url).version == 2

    with pytest.raises(modelreg.GitError, match="cannot fetch"):
        modelreg.fetch("churn-xgb@1", f"git+{reg.root.as_uri()}@no-such-branch")
    with pytest.raises(NotFoundError, match="never fetched"):
        modelreg.fetch("churn-xgb@1", f"git+{(tmp_path / 'elsewhere').as_uri()}", offline=True)


def test_registry_argument_may_be_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reg = registry_on(tmp_path / "reg", Store("file", (tmp_path / "store").as_uri()))
    reg.register_version("churn-xgb", artifacts={"model": payload(tmp_path)})
    assert modelreg.fetch("churn-xgb@1", str(reg.root)).version == 1
    monkeypatch.setenv("MODELREG_REGISTRY", str(reg.root))
    assert modelreg.fetch("churn-xgb@latest").version == 1


def test_an_alias_names_the_version_to_fetch(tmp_path: Path) -> None:
    reg = registry_on(tmp_path / "reg", Store("file", (tmp_path / "store").as_uri()))
    first = payload(tmp_path, "a.bin", 100, 1)
    reg.register_version("churn-xgb", artifacts={"model": first})
    reg.register_version("churn-xgb", artifacts={"model": payload(tmp_path, "b.bin", 100, 2)})
    reg.set_alias("churn-xgb@1", "champion")
    got = modelreg.fetch("churn-xgb@champion", reg)
    assert got.version == 1 and got.file().read_bytes() == first.read_bytes()


def test_a_registry_in_a_subfolder_of_a_git_url(tmp_path: Path) -> None:
    mono = tmp_path / "mono"
    mono.mkdir()
    git(mono, "init", "-q", "-b", "trunk")
    (mono / "README").write_text("a larger repository\n")
    git(mono, "add", "README")
    git(mono, "commit", "-qm", "start")
    reg = registry_on(mono / "ml" / "registry", Store("file", (tmp_path / "store").as_uri()))
    src = payload(tmp_path)
    reg.register_version("churn-xgb", artifacts={"model": src})
    got = modelreg.fetch("churn-xgb@1", f"git+{mono.as_uri()}@trunk#ml/registry")
    assert got.file().read_bytes() == src.read_bytes()


def test_git_urls_are_parsed_with_ref_and_subfolder() -> None:
    from modelreg.gitstore.clone import RemoteRegistry

    r = RemoteRegistry.parse("git+ssh://git@github.com/acme/models.git@release/2025#reg")
    assert (r.url, r.ref, r.subfolder) == (
        "ssh://git@github.com/acme/models.git",
        "release/2025",
        "reg",
    )
    r = RemoteRegistry.parse("git+https://github.com/acme/models.git")
    assert (r.url, r.ref, r.subfolder) == ("https://github.com/acme/models.git", None, "")
    assert str(RemoteRegistry.parse("git+file:///srv/reg@main")) == "git+file:///srv/reg@main"
    with pytest.raises(NotFoundError, match="not a git URL"):
        RemoteRegistry.parse("https://github.com/acme/models.git")
