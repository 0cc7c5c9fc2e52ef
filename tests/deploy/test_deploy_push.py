"""deploy/undeploy with --push/--no-push and --branch, against a bare remote and real clones."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Result, git, head
from tests.deploy.deployrepo import build_registry
from tests.push.pushrepo import assert_linear, remote_tip

Clone = Callable[[str], Path]
Run = Callable[..., Result]
MODEL = "churn-xgb"
SPECS = "deploy/kubernetes/churn-xgb"


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare repository holding the deploy tests' registry, refusing non-fast-forwards."""
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    git(bare, "config", "receive.denyNonFastForwards", "true")
    git(bare, "config", "core.logAllRefUpdates", "true")
    seed = build_registry(tmp_path / "seed")
    git(seed, "remote", "add", "origin", str(bare))
    git(seed, "push", "--quiet", "origin", "main")
    return bare


@pytest.fixture
def clone(remote: Path, tmp_path: Path) -> Clone:
    def make(name: str) -> Path:
        git(tmp_path, "clone", "--quiet", str(remote), name)
        return tmp_path / name

    return make


def _manifest(remote: Path, ref: str = "main") -> Any:
    return yaml.safe_load(git(remote, "show", f"{ref}:models/{MODEL}/model.yaml"))


def _changed(repo: Path, commit: str) -> list[str]:
    """The files ``commit`` changed against its (single) parent."""
    out = git(repo, "diff-tree", "--no-commit-id", "--name-only", "-r", f"{commit}~1", commit)
    return sorted(out.split())


def _tree(repo: Path, ref: str, folder: str) -> list[str]:
    return sorted(git(repo, "ls-tree", "-r", "--name-only", ref, "--", folder).split())


def test_deploy_push_lands_as_one_commit_with_specs_and_block(
    remote: Path, clone: Clone, run_cli: Run
) -> None:
    before = remote_tip(remote)
    a = clone("a")
    r = run_cli("deploy", "churn-xgb@production", "--replicas", "2", "--push", cwd=a)
    assert r.code == 0, r.err
    tip = remote_tip(remote)
    assert git(remote, "rev-parse", f"{tip}~1").strip() == before  # exactly one commit
    assert r.out.startswith(f"Version 3 of churn-xgb deployed to kubernetes (commit {tip[:10]})")
    assert f"Pushed {tip[:12]} to origin/main" in r.out
    specs = _tree(remote, "main", SPECS)
    assert f"{SPECS}/deployment-v3.yaml" in specs
    assert _changed(remote, tip) == sorted([*specs, f"models/{MODEL}/model.yaml"])
    deployment = _manifest(remote)["deployment"]
    assert (deployment["target"], deployment["version"], deployment["replicas"]) == (
        "kubernetes", 3, 2
    )  # fmt: skip
    assert head(a) == tip
    assert git(a, "status", "--porcelain") == ""
    assert_linear(remote)


def test_deploy_push_json_keeps_stdout_one_document(
    remote: Path, clone: Clone, run_cli: Run
) -> None:
    r = run_cli("deploy", MODEL, "-t", "sagemaker", "--hardware", "gpu-a100-40gb", "--push",
                "--json", cwd=clone("a"))  # fmt: skip
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["commit"] == remote_tip(remote)
    assert data["files"] == ["deploy/sagemaker/churn-xgb/template.json"]
    assert "Pushed" in r.err and "warning: " in r.err


def test_a_rejected_deploy_is_rendered_again_on_the_new_tip(
    remote: Path, clone: Clone, run_cli: Run
) -> None:
    a, b = clone("a"), clone("b")
    r = run_cli("promote", "churn-xgb@4", "production", "--push", cwd=b)
    assert r.code == 0, r.err
    theirs = remote_tip(remote)
    # a has not fetched: its first attempt deploys @production as it knows it (3), the
    # push is rejected, and the replay on b's tip deploys @production there (4)
    r = run_cli("deploy", "churn-xgb@production", "--push", cwd=a)
    assert r.code == 0, r.err
    tip = remote_tip(remote)
    assert r.out.startswith(f"Version 4 of churn-xgb deployed to kubernetes (commit {tip[:10]})")
    assert "re-applied 1x on a newer tip" in r.out
    assert git(remote, "rev-parse", f"{tip}~1").strip() == theirs  # b's change kept, below
    manifest = _manifest(remote)
    assert {v["version"]: v["stage"] for v in manifest["versions"]}[4] == "production"
    deployment = manifest["deployment"]
    assert deployment["version"] == 4
    specs = _tree(remote, "main", SPECS)
    assert f"{SPECS}/deployment-v4.yaml" in specs
    assert f"{SPECS}/deployment-v3.yaml" not in specs
    assert _changed(remote, tip) == sorted([*specs, f"models/{MODEL}/model.yaml"])
    assert head(a) == tip
    assert git(a, "status", "--porcelain") == ""
    assert_linear(remote)


def test_deploy_on_a_branch_leaves_the_checkout_where_it_was(
    remote: Path, clone: Clone, run_cli: Run
) -> None:
    a = clone("a")
    main_before = remote_tip(remote)
    r = run_cli("deploy", MODEL, "--branch", "deploy-churn", "--push", cwd=a)
    assert r.code == 0, r.err
    assert "Committed on new branch deploy-churn (from main); your checkout is still on main" in (
        r.out
    )
    branch_tip = remote_tip(remote, "deploy-churn")
    assert f"Pushed {branch_tip[:12]} to origin/deploy-churn" in r.out
    assert f"(commit {branch_tip[:10]})" in r.out
    assert git(a, "branch", "--show-current").strip() == "main"
    assert head(a) == main_before
    assert remote_tip(remote) == main_before
    assert git(a, "status", "--porcelain") == ""
    assert not (a / "deploy").exists()
    assert "deployment" not in yaml.safe_load((a / "models" / MODEL / "model.yaml").read_text())
    assert git(remote, "rev-parse", f"{branch_tip}~1").strip() == main_before
    assert f"{SPECS}/deployment-v4.yaml" in _tree(remote, "deploy-churn", SPECS)
    deployment = _manifest(remote, "deploy-churn")["deployment"]
    assert deployment["version"] == 4


def test_deploy_on_a_local_branch_json(remote: Path, clone: Clone, run_cli: Run) -> None:
    a = clone("a")
    r = run_cli("deploy", MODEL, "--branch", "proposal", "--json", cwd=a)
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["commit"] == git(a, "rev-parse", "proposal").strip()
    assert "Committed on new branch proposal" in r.err and "git push -u origin proposal" in r.err
    assert git(a, "branch", "--show-current").strip() == "main"
    assert remote_tip(remote) == git(a, "rev-parse", "main").strip()  # nothing pushed


def test_undeploy_push_also_replays_on_a_newer_tip(
    remote: Path, clone: Clone, run_cli: Run
) -> None:
    a = clone("a")
    assert run_cli("deploy", MODEL, "--push", cwd=a).code == 0
    b = clone("b")  # sees the deployment
    assert run_cli("update", MODEL, "--add-tag", "q4", "--push", cwd=a).code == 0
    theirs = remote_tip(remote)
    r = run_cli("undeploy", MODEL, "--push", cwd=b)
    assert r.code == 0, r.err
    tip = remote_tip(remote)
    assert r.out.startswith(f"churn-xgb undeployed from kubernetes (commit {tip[:10]})")
    assert "re-applied 1x on a newer tip" in r.out
    assert f"removed {SPECS}/deployment-v4.yaml" in r.out
    assert git(remote, "rev-parse", f"{tip}~1").strip() == theirs
    manifest = _manifest(remote)
    assert "deployment" not in manifest and "q4" in str(manifest["tags"])
    assert _tree(remote, "main", "deploy") == []
    assert_linear(remote)


def test_undeploy_push_json(remote: Path, clone: Clone, run_cli: Run) -> None:
    a = clone("a")
    assert run_cli("deploy", MODEL, "--push", cwd=a).code == 0
    r = run_cli("undeploy", MODEL, "--push", "--json", cwd=a)
    assert r.code == 0, r.err
    assert json.loads(r.out)["commit"] == remote_tip(remote)
    assert "Pushed" in r.err


def test_dry_run_refuses_push_and_branch(remote: Path, clone: Clone, run_cli: Run) -> None:
    a = clone("a")
    before = remote_tip(remote)
    for extra in (["--push"], ["--branch", "x"], ["--branch", "x", "--push"]):
        r = run_cli("deploy", MODEL, "--dry-run", *extra, cwd=a)
        assert r.code == 2, extra
        assert "--dry-run writes nothing" in r.err and r.out == "", extra
    assert git(a, "branch", "--list", "x") == ""
    r = run_cli("deploy", MODEL, "--dry-run", "--no-push", cwd=a)
    assert r.code == 0 and r.out.startswith("---\n# deploy/kubernetes/churn-xgb/")
    assert head(a) == remote_tip(remote) == before
    assert git(a, "status", "--porcelain") == ""


def test_library_result_inside_publish_has_no_stale_commit(remote: Path, clone: Clone) -> None:
    from modelreg import Registry

    reg = Registry.open(clone("a"))
    done = reg.publish(lambda r: r.deploy(MODEL), push=True)
    assert done.commit == remote_tip(remote)
    assert done.value.commit is None  # made inside publish's transaction, before its commit
    assert reg.undeploy(MODEL).commit == head(reg.root)


def test_deploy_and_undeploy_offer_push_and_branch(run_cli: Run) -> None:
    for command in ("deploy", "undeploy"):
        r = run_cli(command, "--help")
        assert r.code == 0
        assert "--push / --no-push" in r.out and "--branch NAME" in r.out, command
