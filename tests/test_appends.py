"""Versions appended in a transaction to stored manifests: written from what the
manifest cache says of each (its head), without building the models, and read back
the same as a whole model's write would be."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelreg import Registry, RuleViolationError, yamlio
from modelreg.cache import Head, ManifestCache
from modelreg.manifest import Model, Version
from modelreg.query import Summary
from modelreg.vocabulary import Stage
from tests.conftest import git, head


def cached(root: Path) -> Registry:
    """The registry opened afresh, with every manifest's cache entry saved by a listing."""
    reg = Registry.open(root)
    reg.list_json()
    reg.close()
    return Registry.open(root)


def parsed(root: Path, model_id: str) -> Model:
    """The manifest as its file says, the cache left aside."""
    path = root / f"models/{model_id}/model.yaml"
    return Model.model_validate(yamlio.loads(path.read_text(), str(path)).value)


@pytest.fixture
def three(registry: Registry) -> Path:
    registry.create_model("plain", name="Plain", framework="onnx")
    registry.create_model("rich", name="Rich", framework="pytorch", tags=["a"], labels={"t": "x"})
    registry.create_model("empty", name="Empty", framework="sklearn")
    for i in range(3):
        registry.register_version(
            "rich",
            label=f"v{i}",
            metrics={"auc": 0.5 + i / 10},
            hyperparameters={"layers": [i, 2], "lr": 0.1},
            annotations={"note": {"k": [1, 2]}},
            stage="staging" if i == 1 else "none",
        )
    registry.register_version("plain", description="first")
    path = registry.root / "models/plain/model.yaml"
    path.write_text(path.read_text() + "# kept by hand\n")
    git(registry.root, "commit", "-qam", "a comment")
    return registry.root


def test_appends_build_no_model_and_read_back_as_the_files_say(three: Path) -> None:
    reg = cached(three)
    with reg.transaction("nightly"):
        for model_id in ("plain", "rich", "empty", "rich"):
            reg.register_version(model_id, metrics={"acc": 0.75}, tags=["nightly"])
    # no stored manifest with versions was built as a model; one without has no list
    # to append to yet, and is written whole
    assert {m.id for m in reg.base.cache.models.values()} == {"empty"}
    assert "# kept by hand" in (three / "models/plain/model.yaml").read_text()
    assert [parsed(three, m).latest_version for m in ("plain", "rich", "empty")] == [2, 5, 1]
    reg.close()
    again = Registry.open(three)
    for model_id in ("plain", "rich", "empty"):
        blob = git(three, "rev-parse", f"HEAD:models/{model_id}/model.yaml").strip()
        entry, model = again.base.cache.entry(blob), parsed(three, model_id)
        assert entry is not None  # saved by the transaction's run: read as it was written
        assert Model.model_validate_json(entry[0]) == model
        expected = Summary.of(model)
        assert entry[1] == expected and entry[1].rows == expected.rows  # rows: version search
        found = again.base.cache.head(blob)
        assert found is not None and found == Head.of(blob, model, found.point)
        assert again.get(model_id) == model
    assert git(three, "status", "--porcelain") == ""


def test_other_writes_after_appends_see_them(three: Path) -> None:
    reg = cached(three)
    with reg.transaction():
        reg.register_version("rich", label="n1")
        reg.set_stage("rich", 4, "staging")
        reg.register_version("rich", label="n2")
        reg.register_version("plain")
        reg.update("plain", description="updated")
        reg.register_version("plain")
        reg.register_version("empty")
        assert reg.get("empty").latest_version == 1  # a read sees the pending append
        reg.delete("empty")
    rich, plain = parsed(three, "rich"), parsed(three, "plain")
    assert [(v.version, v.label, v.stage) for v in rich.versions[3:]] == [
        (4, "n1", Stage.STAGING),
        (5, "n2", Stage.NONE),
    ]
    assert plain.description == "updated" and plain.latest_version == 3
    assert not (three / "models/empty").exists()
    assert "empty: delete model" in git(three, "log", "-1", "--format=%B")


def test_a_version_arriving_in_production_still_demotes_the_last(three: Path) -> None:
    reg = cached(three)
    with reg.transaction():
        reg.register_version("rich", stage="production")
        reg.register_version("rich", stage="production")
    stages = [v.stage for v in parsed(three, "rich").versions]
    assert stages == [Stage.NONE, Stage.STAGING, Stage.NONE, Stage.ARCHIVED, Stage.PRODUCTION]


def test_the_head_keeps_archived_models_and_retired_numbers(registry: Registry) -> None:
    registry.create_model("old", name="Old", framework="onnx")
    registry.register_version("old")
    registry.register_version("old")
    registry.delete("old")
    registry.create_model("old", name="Old again", framework="onnx")
    registry.create_model("shut", name="Shut", framework="onnx")
    registry.archive("shut")
    reg = cached(registry.root)
    tip = head(reg.root)
    with pytest.raises(RuleViolationError, match="shut is archived"), reg.transaction():
        reg.register_version("old")
        reg.register_version("shut")
    assert head(reg.root) == tip
    with reg.transaction():
        assert reg.register_version("old").version == 3  # 1 and 2 were the deleted model's
        assert reg.register_version("old").version == 4
    late = Version.model_validate({"version": 4, "created_at": "2026-01-01T00:00:00Z"})
    taken = "numbers only grow and 4 is taken"
    with pytest.raises(RuleViolationError, match=taken), reg.transaction():
        reg.add_version("old", late)
    assert [v.version for v in parsed(reg.root, "old").versions] == [3, 4]


def test_a_failed_transaction_of_appends_leaves_the_cache_as_the_files_are(three: Path) -> None:
    reg = cached(three)
    tip = head(three)
    with pytest.raises(RuntimeError), reg.transaction():
        reg.register_version("rich")
        raise RuntimeError("boom")
    with reg.transaction():
        reg.register_version("plain")
    reg.close()
    assert head(three) != tip
    again = Registry.open(three)
    assert again.get("rich") == parsed(three, "rich")
    assert again.get("rich").latest_version == 3
    assert again.get("plain") == parsed(three, "plain")


def test_the_cache_keeps_the_states_models_are_in_not_every_state_they_were_in(
    three: Path,
) -> None:
    # each write replaces its model's entry: writing again and again (appends, or a
    # whole-model write such as a promotion) leaves one entry per model, not one per
    # commit, each as big as its manifest
    for i in range(4):
        reg = cached(three)
        reg.register_version("rich", label=f"again-{i}")
        reg.set_stage("rich", 4 + i, "staging")
        with reg.transaction():
            reg.register_version("plain")
            reg.register_version("rich")
        reg.close()
    path = Registry.open(three).base.cache.path
    assert path is not None
    entries = ManifestCache(path).raw.values()
    assert sorted(Summary.from_tuple(e[2]).id for e in entries) == ["empty", "plain", "rich"]
