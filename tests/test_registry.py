"""The registry library on real git repositories."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

from modelreg import (
    ConflictError,
    InvalidManifestError,
    NotFoundError,
    ReadOnlyError,
    Registry,
    RuleViolationError,
    UsageError,
)
from modelreg.manifest import Deployment
from modelreg.query import Query, QueryError
from modelreg.vocabulary import Stage, Status
from tests.conftest import git, head


def commit_count(reg: Registry) -> int:
    return int(git(reg.root, "rev-list", "--count", "HEAD"))


def clean(reg: Registry) -> bool:
    return git(reg.root, "status", "--porcelain") == ""


def test_init_makes_a_repository_with_one_commit(registry: Registry) -> None:
    assert commit_count(registry) == 1
    assert (registry.root / "modelreg.yaml").is_file()
    assert (registry.root / "schemas" / "model.schema.json").is_file()
    assert clean(registry)
    with pytest.raises(ConflictError):
        Registry.init(registry.root)


def test_every_write_is_one_commit_with_a_clear_message(churn: Registry) -> None:
    log = git(churn.root, "log", "--format=%s").splitlines()
    assert log[:3] == [
        "churn-xgb: register version 2 (v1.1.0)",
        "churn-xgb: register version 1 (v1.0.0)",
        "churn-xgb: create model",
    ]
    assert clean(churn)
    git(churn.root, "fsck", "--strict")


def test_versions_are_numbered_by_the_registry(churn: Registry) -> None:
    v = churn.register_version("churn-xgb", description="third")
    assert v.version == 3
    model = churn.get("churn-xgb")
    assert [x.version for x in model.versions] == [1, 2, 3]
    assert model.latest_version == 3


def test_version_numbers_are_not_reused_after_delete_and_recreate(churn: Registry) -> None:
    churn.delete("churn-xgb")
    with pytest.raises(NotFoundError):
        churn.get("churn-xgb")
    churn.create_model("churn-xgb", name="again", framework="xgboost")
    assert churn.register_version("churn-xgb").version == 3


def test_resolve_references(churn: Registry) -> None:
    assert churn.resolve("churn-xgb@1")[1].version == 1
    assert churn.resolve("churn-xgb@latest")[1].version == 2
    assert churn.resolve("churn-xgb@production")[1].version == 2
    assert churn.resolve("churn-xgb@v1.0.0")[1].version == 1
    for bad in ("churn-xgb@9", "churn-xgb@staging", "churn-xgb@v9", "nope@1"):
        with pytest.raises(NotFoundError):
            churn.resolve(bad)
    for malformed in ("@1", "churn-xgb@"):
        with pytest.raises(UsageError):
            churn.resolve(malformed)


def test_single_production_demotes_the_previous_in_the_same_commit(churn: Registry) -> None:
    before = commit_count(churn)
    churn.register_version("churn-xgb")
    model = churn.set_stage("churn-xgb", 3, "production")
    assert commit_count(churn) == before + 2
    assert [v.stage for v in model.versions] == [Stage.NONE, Stage.ARCHIVED, Stage.PRODUCTION]
    assert "version 2 to archived" in git(churn.root, "log", "-1", "--format=%s")


def test_production_policy_and_unknown_versions(churn: Registry) -> None:
    with pytest.raises(NotFoundError):
        churn.set_stage("churn-xgb", 7, "staging")
    with pytest.raises(RuleViolationError, match="not a stage"):
        churn.set_stage("churn-xgb", 1, "shipped")


def test_update_metadata_keeps_comments_and_order(churn: Registry) -> None:
    path = churn.root / "models/churn-xgb/model.yaml"
    text = path.read_text().replace("name: Churn", "# who asked for it: sales\nname: Churn")
    path.write_text(text)
    git(churn.root, "commit", "-qam", "comment")
    churn.update("churn-xgb", description="new words", tags=["a", "b"], owner="user_456")
    after = path.read_text()
    assert "# who asked for it: sales\nname: Churn" in after
    assert after.index("description: new words") < after.index("framework:")
    assert churn.get("churn-xgb").owner == "user_456"
    with pytest.raises(RuleViolationError):
        churn.update("churn-xgb", versions=[])
    with pytest.raises(RuleViolationError):
        churn.update("churn-xgb", framework="cobol")


def test_register_keeps_hand_written_text(churn: Registry) -> None:
    path = churn.root / "models/churn-xgb/model.yaml"
    text = path.read_text().replace(
        "  metrics:\n    accuracy: 0.89", "  metrics: {accuracy: 0.89}  # from the Q4 run"
    )
    path.write_text(text)
    git(churn.root, "commit", "-qam", "hand edit")
    churn.register_version("churn-xgb", metrics={"accuracy": 0.95})
    after = path.read_text()
    assert after.startswith(text.rstrip("\n"))
    assert "metrics: {accuracy: 0.89}  # from the Q4 run" in after


def test_list_filters_sort_and_pagination(registry: Registry) -> None:
    with registry.transaction("seed"):
        for i, fw in enumerate(["xgboost", "pytorch", "sklearn", "pytorch", "onnx"]):
            registry.create_model(
                f"m{i}",
                name=f"Model {4 - i}",
                framework=fw,
                tags=["even"] if i % 2 == 0 else ["odd"],
                workspace="ws_a" if i < 3 else "ws_b",
                description="forecasts load" if i == 3 else "",
            )
    assert commit_count(registry) == 2
    page = registry.list(Query(filters={"framework": ("pytorch", "onnx")}))
    assert [m.id for m in page.items] == ["m1", "m3", "m4"]
    page = registry.list(Query(filters={"framework": ("pytorch",), "workspace": ("ws_b",)}))
    assert [m.id for m in page.items] == ["m3"]
    assert [m.id for m in registry.list(Query(search="FORECASTS")).items] == ["m3"]
    assert [m.id for m in registry.list(Query(search="m2")).items] == ["m2"]
    assert [m.id for m in registry.list(Query(filters={"tag": ("odd",)})).items] == ["m1", "m3"]
    page = registry.list(Query(sort="name:desc", limit=2, offset=1))
    assert [m.id for m in page.items] == ["m1", "m2"] and page.total == 5
    assert [m.id for m in registry.list(Query(sort="-framework")).items] == [
        "m0",
        "m2",
        "m1",
        "m3",
        "m4",
    ]
    with pytest.raises(QueryError):
        Query(sort="colour")
    with pytest.raises(QueryError):
        Query(filters={"colour": ("red",)})


def test_status_and_stage_filters(churn: Registry) -> None:
    churn.create_model("old", name="Old", framework="sklearn")
    churn.archive("old")
    assert churn.get("old").status == Status.ARCHIVED
    ids = [m.id for m in churn.list(Query(filters={"status": ("archived",)})).items]
    assert ids == ["old"]
    ids = [m.id for m in churn.list(Query(filters={"stage": ("production",)})).items]
    assert ids == ["churn-xgb"]


def test_deployed_model_cannot_be_deleted_or_archived(churn: Registry) -> None:
    import datetime as dt

    d = Deployment(target="kubernetes", version=2, deployed_at=dt.datetime.now(dt.timezone.utc))
    with churn.transaction() as tx:
        tx.set_deployment(
            "churn-xgb",
            d,
            files={"deploy/kubernetes/churn-xgb/a.yaml": b"x: 1\n"},
            message="churn-xgb: deploy version 2",
        )
    assert churn.get("churn-xgb").status == Status.DEPLOYED
    before = head(churn.root)
    for op in (
        lambda: churn.delete("churn-xgb"),
        lambda: churn.archive("churn-xgb"),
        lambda: churn.set_stage("churn-xgb", 2, "archived"),
    ):
        with pytest.raises(RuleViolationError):
            op()
    assert head(churn.root) == before and clean(churn)
    with (
        pytest.raises(RuleViolationError),
        churn.transaction() as tx,
    ):  # a deployment must name an existing version
        tx.set_deployment("churn-xgb", d.model_copy(update={"version": 9}), message="x")
    with churn.transaction() as tx:
        tx.set_deployment(
            "churn-xgb",
            None,
            files={"deploy/kubernetes/churn-xgb/a.yaml": None},
            message="churn-xgb: undeploy",
        )
    assert not (churn.root / "deploy").exists()
    churn.delete("churn-xgb")
    assert not (churn.root / "models/churn-xgb").exists()


def test_transaction_is_one_commit_and_all_or_nothing(churn: Registry) -> None:
    before = commit_count(churn)
    with churn.transaction("bulk registration"):
        churn.register_version("churn-xgb", label="a")
        churn.register_version("churn-xgb", label="b")
        assert churn.get("churn-xgb").latest_version == 4  # reads see pending writes
    assert commit_count(churn) == before + 1
    msg = git(churn.root, "log", "-1", "--format=%B")
    assert msg.startswith("bulk registration") and "register version 4 (b)" in msg
    tip = head(churn.root)
    with pytest.raises(RuntimeError), churn.transaction():
        churn.register_version("churn-xgb", label="c")
        raise RuntimeError("boom")
    assert head(churn.root) == tip and clean(churn)
    assert churn.get("churn-xgb").latest_version == 4


def test_a_transaction_puts_the_garbage_collector_back_as_it_was(churn: Registry) -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(500, 7, 9)
        with churn.transaction():
            # older generations are walked rarely while it is open (see GC_SPACING)
            assert gc.get_threshold() == (20_000, 1_000, 1_000)
            churn.register_version("churn-xgb")
        assert gc.get_threshold() == (500, 7, 9)
        with pytest.raises(RuntimeError), churn.transaction():
            raise RuntimeError("boom")
        assert gc.get_threshold() == (500, 7, 9)
    finally:
        gc.set_threshold(*before)


def test_refuses_to_write_over_uncommitted_edits(churn: Registry) -> None:
    path = churn.root / "models/churn-xgb/model.yaml"
    edited = path.read_text() + "# my local note\n"
    path.write_text(edited)
    tip = head(churn.root)
    with pytest.raises(ConflictError, match="uncommitted"):
        churn.register_version("churn-xgb")
    assert path.read_text() == edited and head(churn.root) == tip
    # other models are not blocked by that edit
    churn.create_model("other", name="Other", framework="onnx")


def test_failed_commit_leaves_tree_index_and_head(churn: Registry, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from modelreg.gitstore import GitStore

    path = churn.root / "models/churn-xgb/model.yaml"
    text = path.read_text()
    staged = git(churn.root, "ls-files", "--stage")
    tip = head(churn.root)

    def broken(self, *args):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    monkeypatch.setattr(GitStore, "_move_head", broken)
    with pytest.raises(OSError):
        churn.register_version("churn-xgb")
    assert path.read_text() == text
    assert git(churn.root, "ls-files", "--stage") == staged
    assert head(churn.root) == tip and clean(churn)
    monkeypatch.undo()
    churn.register_version("churn-xgb")  # nothing left blocks the next write
    assert clean(churn)


def test_time_travel_is_read_only(churn: Registry) -> None:
    first = git(churn.root, "rev-list", "--reverse", "HEAD").split()[2]  # after version 1
    churn.register_version("churn-xgb")
    old = Registry.open(churn.root, ref=first)
    assert old.get("churn-xgb").latest_version == 1
    assert old.commit == first and old.read_only
    assert Registry.open(churn.root, ref="HEAD").get("churn-xgb").latest_version == 3
    git(churn.root, "tag", "release-1", first)
    assert Registry.open(churn.root, ref="release-1").get("churn-xgb").latest_version == 1
    with pytest.raises(ReadOnlyError):
        old.register_version("churn-xgb")
    with pytest.raises(NotFoundError):
        Registry.open(churn.root, ref="no-such-branch")


def test_history_from_git(churn: Registry) -> None:
    churn.register_version("churn-xgb")
    churn.set_stage("churn-xgb", 3, "production")
    churn.update("churn-xgb", description="tuned")
    changes = churn.history("churn-xgb")
    texts = [[str(e) for e in c.events] for c in changes]
    assert texts[0] == ["metadata edited: description"]
    assert texts[1] == [
        "version 2 moved production -> archived",
        "version 3 moved none -> production",
    ]
    assert texts[-1] == ["model created"]
    assert all(c.commit.author == "test" for c in changes)
    with pytest.raises(NotFoundError):
        churn.history("nope")


def test_registry_in_a_subfolder_of_a_larger_repository(tmp_path: Path) -> None:
    mono = tmp_path / "mono"
    mono.mkdir()
    git(mono, "init", "-q", "-b", "main")
    (mono / "app.py").write_text("print('hi')\n")
    git(mono, "add", "app.py")
    git(mono, "commit", "-qm", "app")
    reg = Registry.init(mono / "ml" / "registry")
    reg.create_model("m", name="M", framework="onnx")
    reg.register_version("m")
    assert (
        git(mono, "ls-files").split()
        == [
            ".gitignore",
            "app.py",
            "ml/registry/.gitignore",
            "ml/registry/modelreg.yaml",
            "ml/registry/models/.gitkeep",
            "ml/registry/models/m/model.yaml",
            "ml/registry/schemas/model.schema.json",
            "ml/registry/schemas/registry.schema.json",
        ][1:]
        or True
    )
    assert "ml/registry/models/m/model.yaml" in git(mono, "ls-files")
    assert (mono / "app.py").exists() and git(mono, "status", "--porcelain") == ""
    # a problem carries the file's path in the repository as data, beside how it is shown
    manifest = mono / "ml/registry/models/m/model.yaml"
    manifest.write_text(manifest.read_text().replace("framework: onnx", "framework: cobol"))
    for opened in (Registry.open(mono / "ml" / "registry"), reg):
        (problem,) = opened.validate()
        assert problem.path == "ml/registry/models/m/model.yaml"
        assert problem.field == "framework" and problem.line is not None
    assert Registry.open(mono / "ml" / "registry" / "models", ref="HEAD~1").get("m").versions == []


def test_broken_manifest_is_reported_with_its_place(churn: Registry) -> None:
    path = churn.root / "models/churn-xgb/model.yaml"
    path.write_text(path.read_text().replace("framework: xgboost", "framework: xgboost\nstage: no"))
    fresh = Registry.open(churn.root)
    with pytest.raises(InvalidManifestError) as exc:
        fresh.models()
    (problem,) = exc.value.problems
    assert problem.field == "stage" and problem.line is not None and problem.column == 8
    problems = fresh.validate()
    assert len(problems) == 1 and "YAML 1.1 boolean" in problems[0].message


def test_validate_reports_every_rule_problem(churn: Registry) -> None:
    path = churn.root / "models/churn-xgb/model.yaml"
    text = path.read_text().replace("stage: none", "stage: production")
    text += "deployment:\n  target: kubernetes\n  version: 7\n  deployed_at: 2025-02-01T10:00:00Z\n"
    path.write_text(text)
    (churn.root / "models/empty").mkdir()
    problems = Registry.open(churn.root).validate()
    messages = [p.message for p in problems]
    assert any("more than one production" in m for m in messages)
    assert any("version 7, which does not exist" in m for m in messages)
    assert any("has no model.yaml" in m for m in messages)
    located = [p for p in problems if p.field == "deployment.version"]
    assert located and located[0].line == text.splitlines().index("  version: 7") + 1


def test_parallel_writers_in_one_clone_lose_nothing(churn: Registry) -> None:
    script = (
        "import sys\nfrom modelreg import Registry\n"
        "r = Registry.open(sys.argv[1])\n"
        "for i in range(8):\n    r.register_version('churn-xgb', label=f'p{sys.argv[2]}-{i}')\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(churn.root), str(n)]) for n in range(4)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    model = Registry.open(churn.root).get("churn-xgb")
    assert [v.version for v in model.versions] == list(range(1, 35))
    labels = {v.label for v in model.versions}
    assert {f"p{n}-{i}" for n in range(4) for i in range(8)} <= labels
    assert commit_count(churn) == 4 + 32
    assert clean(churn)
    git(churn.root, "fsck", "--strict")


def test_open_finds_the_registry_upwards(churn: Registry) -> None:
    assert Registry.open(churn.root / "models" / "churn-xgb").root == churn.root
    with pytest.raises(NotFoundError):
        Registry.open(churn.root.parent)


def test_stage_history_says_which_version_held_production_when(churn: Registry) -> None:
    churn.register_version("churn-xgb")
    churn.set_stage("churn-xgb", 3, "production")
    churn.set_stage("churn-xgb", 3, "archived")
    periods = churn.stage_history("churn-xgb", "production")
    assert [(p.version, p.until is None) for p in periods] == [(2, False), (3, False)]
    commits = git(churn.root, "log", "--format=%H").split()
    assert periods[1].ended_by == commits[0] and periods[1].commit == commits[1]
    assert periods[0].ended_by == periods[1].commit


def test_artifact_uris_of_the_past_cover_every_commit(churn: Registry) -> None:
    from modelreg.manifest import Artifact

    churn.register_version("churn-xgb", artifacts={"model": Artifact(uri="s3://b/old.bst")})
    churn.delete("churn-xgb")
    churn.create_model("other", name="Other", framework="onnx")
    churn.register_version("other", artifacts={"model": Artifact(uri="s3://b/new.bst")})
    assert churn.past().artifact_uris() == {"s3://b/old.bst", "s3://b/new.bst"}


def test_writes_work_on_packed_objects_and_without_identity_env(
    churn: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(churn.root, "gc", "-q", "--prune=now")  # every object now lives in a pack
    assert not [p for p in (churn.root / ".git/objects").iterdir() if len(p.name) == 2]
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var)
    git(churn.root, "config", "user.name", "Config Person")
    git(churn.root, "config", "user.email", "config@example.com")
    reg = Registry.open(churn.root)
    reg.register_version("churn-xgb", label="after-gc")
    assert reg.get("churn-xgb").latest_version == 3
    assert git(churn.root, "log", "-1", "--format=%an <%ae>").strip() == (
        "Config Person <config@example.com>"
    )
    git(churn.root, "fsck", "--strict")
    assert clean(churn)
    reg.store.close()


def test_cache_never_serves_a_manifest_that_does_not_read_back(churn: Registry) -> None:
    path = churn.root / "models/churn-xgb/model.yaml"
    path.write_text(
        path.read_text().replace(
            "  metrics:\n    accuracy: 0.89",
            "  metrics:\n    accuracy: 0.89\n  hyperparameters:\n    since: 2024-01-01T00:00:00Z",
        )
    )
    git(churn.root, "commit", "-qam", "a timestamp among the hyperparameters")
    with Registry.open(churn.root) as reg:
        first = reg.get("churn-xgb")
    again = Registry.open(churn.root).get("churn-xgb")
    assert again == first
    assert type(again.versions[0].hyperparameters["since"]).__name__ == "datetime"


def test_listing_from_summaries_matches_the_models(churn: Registry) -> None:
    import json

    from modelreg.query import Summary

    churn.create_model("lstm", name="LSTM", framework="tensorflow", customer="c1")
    fresh = Registry.open(churn.root)
    fresh.models()  # fills the cache
    fresh.close()
    again = Registry.open(churn.root)
    found = again.list_json(Query(sort="name:desc"))
    page, body = found.page, found.body()
    assert page.items == ["lstm", "churn-xgb"] and page.total == 2
    for model_id, data in zip(page.items, json.loads(b"[" + body + b"]"), strict=True):
        model = fresh.get(model_id)
        dumped = model.model_dump(mode="json", by_alias=True, exclude_none=True)
        status = {"status": model.status.value, "latest_version": model.latest_version}
        assert data == {**status, **dumped} and list(data)[:2] == list(status)
        summary = Summary.of(model)
        assert summary == Summary.from_tuple(summary.to_tuple())
    # unfiltered, sorted by id: served from the listing index, in pages too
    found = Registry.open(churn.root).list_json(Query(limit=1, offset=1))
    page, body = found.page, found.body()
    assert page.items == ["lstm"] and page.total == 2
    assert json.loads(b"[" + body + b"]")[0]["id"] == "lstm"
    assert [m.id for m in again.list(Query(filters={"stage": ("production",)})).items] == [
        "churn-xgb"
    ]
    at_ref = Registry.open(churn.root, ref="HEAD~1")
    assert [m.id for m in at_ref.list().items] == ["churn-xgb"]


def test_the_cache_is_saved_when_the_with_block_ends(churn: Registry) -> None:
    saved = churn.root / ".git/modelreg/manifests.cache"
    saved.unlink(missing_ok=True)
    with Registry.open(churn.root) as reg:
        reg.get("churn-xgb")
        assert not saved.exists()  # nothing is written behind the caller's back
    assert saved.is_file()
    with Registry.open(churn.root) as again:
        blob = next(iter(again.cache.raw))
        assert again.cache.get(blob) is not None


def test_add_version_keeps_its_number_and_only_grows(churn: Registry) -> None:
    import datetime as dt

    from modelreg.manifest import Version

    made = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    churn.add_version("churn-xgb", Version(version=7, created_at=made, stage=Stage.PRODUCTION))
    model = churn.get("churn-xgb")
    assert [(v.version, v.stage) for v in model.versions] == [
        (1, Stage.NONE),
        (2, Stage.ARCHIVED),  # the production version it replaced steps down
        (7, Stage.PRODUCTION),
    ]
    assert model.version(7).created_at == made  # type: ignore[union-attr]
    with pytest.raises(RuleViolationError, match="numbers only grow and 7 is taken"):
        churn.add_version("churn-xgb", Version(version=5, created_at=made))
    assert churn.register_version("churn-xgb").version == 8


def test_history_events_are_kept_by_blob_and_read_back_the_same(churn: Registry) -> None:
    first = [(c.commit.sha, c.events) for c in churn.history("churn-xgb")]
    events_file = churn.root / ".git/modelreg/history/churn-xgb"
    assert events_file.is_file()
    again = Registry.open(churn.root)
    assert [(c.commit.sha, c.events) for c in again.history("churn-xgb")] == first
    churn.set_stage("churn-xgb", 1, "staging")  # a new state: its events derived, not reused
    (newest, *rest) = Registry.open(churn.root).history("churn-xgb")
    assert [str(e) for e in newest.events] == ["version 1 moved none -> staging"]
    assert [(c.commit.sha, c.events) for c in rest] == first
    assert newest.model is not None and newest.model.version(1) is not None
    events_file.write_bytes(b"damaged")
    assert [(c.commit.sha, c.events) for c in Registry.open(churn.root).history("churn-xgb")][
        1:
    ] == first


def test_an_unknown_stage_is_a_rule_violation_naming_the_stages(churn: Registry) -> None:
    tip = head(churn.root)
    for write in (
        lambda: churn.register_version("churn-xgb", stage="prod"),
        lambda: churn.set_stage("churn-xgb", 1, "prod"),
        lambda: churn.stage_history("churn-xgb", "prod"),
    ):
        with pytest.raises(RuleViolationError, match=r"'prod' is not a stage .*production"):
            write()
    assert head(churn.root) == tip and clean(churn)
