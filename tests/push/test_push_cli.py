"""The CLI's --push/--no-push and --branch on every write command, and two real processes racing."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import Result, git, head
from tests.push.pushrepo import MODEL, assert_linear, remote_tip, remote_versions

Clone = Callable[[str], Path]
Run = Callable[..., Result]


def test_register_push(remote: Path, clone: Clone, run_cli: Run) -> None:
    a = clone("a")
    r = run_cli("register", MODEL, "--label", "v2", "--push", cwd=a)
    assert r.code == 0, r.err
    assert "Registered churn-xgb@2 (v2)" in r.out
    assert f"Pushed {remote_tip(remote)[:12]} to origin/main" in r.out
    assert remote_versions(remote) == [1, 2]


def test_register_push_json_keeps_stdout_one_document(
    remote: Path, clone: Clone, run_cli: Run
) -> None:
    r = run_cli("register", MODEL, "--push", "--json", cwd=clone("a"))
    assert r.code == 0, r.err
    assert json.loads(r.out)["version"] == 2
    assert "Pushed" in r.err


def test_a_clone_behind_registers_the_next_number(remote: Path, clone: Clone, run_cli: Run) -> None:
    a, b = clone("a"), clone("b")
    assert run_cli("register", MODEL, "--label", "from-b", "--push", cwd=b).code == 0
    r = run_cli("register", MODEL, "--label", "from-a", "--push", cwd=a)
    assert r.code == 0, r.err
    assert "Registered churn-xgb@3 (from-a)" in r.out
    assert "re-applied 1x on a newer tip" in r.out
    assert remote_versions(remote) == [1, 2, 3]
    assert_linear(remote)


def test_config_default_and_no_push(remote: Path, clone: Clone, run_cli: Run) -> None:
    a = clone("a")
    config = a / "modelreg.yaml"
    config.write_text(config.read_text() + "git:\n  push: true\n")
    git(a, "commit", "--quiet", "-am", "push by default")
    git(a, "push", "--quiet", "origin", "main")
    r = run_cli("register", MODEL, cwd=a)
    assert r.code == 0 and "Pushed" in r.out
    assert remote_versions(remote) == [1, 2]
    r = run_cli("register", MODEL, "--no-push", cwd=a)
    assert r.code == 0 and "Pushed" not in r.out
    assert remote_versions(remote) == [1, 2]


def test_a_hook_refusal_exits_7_and_says_what_is_left(
    remote: Path, clone: Clone, run_cli: Run
) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'policy: pushes need a review' >&2\nexit 1\n")
    hook.chmod(0o755)
    a = clone("a")
    r = run_cli("register", MODEL, "--push", cwd=a)
    assert r.code == 7
    assert r.err.startswith("error: origin refused the push of main")
    assert "pre-receive hook declined" in r.err and "policy: pushes need a review" in r.err
    assert "committed locally" in r.err and "git push origin main" in r.err
    assert "Traceback" not in r.err
    assert remote_versions(remote) == [1]
    assert git(a, "status", "--porcelain") == ""
    r = run_cli("register", MODEL, "--push", cwd=a)
    assert r.code == 5 and "ahead of origin/main" in r.err


def test_push_without_remote_exits_7(registry, run_cli: Run) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("create", "m", "--name", "M", "--framework", "onnx", "--push", cwd=registry.root)
    assert r.code == 7 and "no git remote 'origin'" in r.err


@pytest.mark.parametrize(
    ("args", "check"),
    [
        (["create", "new-model", "--name", "New", "--framework", "onnx"], "models/new-model"),
        (["update", MODEL, "--add-tag", "pushed"], "pushed"),
        (["promote", f"{MODEL}@1", "production"], "production"),
        (["archive", MODEL], "archived: true"),
        (["delete", MODEL], None),
    ],
)
def test_every_write_command_pushes(
    remote: Path, clone: Clone, run_cli: Run, args: list[str], check: str | None
) -> None:
    a = clone("a")
    r = run_cli(*args, "--push", cwd=a)
    assert r.code == 0, r.err
    assert "Pushed" in r.out
    assert remote_tip(remote) == head(a)
    files = git(remote, "ls-tree", "-r", "--name-only", "main")
    if args[0] == "create":
        assert f"{check}/model.yaml" in files
    elif args[0] == "delete":
        assert f"models/{MODEL}/model.yaml" not in files
    else:
        assert check is not None
        assert check in git(remote, "show", f"main:models/{MODEL}/model.yaml")


def test_every_write_command_offers_push_and_branch(run_cli: Run) -> None:
    for command in ("create", "register", "update", "promote", "archive", "delete"):
        r = run_cli(command, "--help")
        assert r.code == 0
        assert "--push / --no-push" in r.out and "--branch NAME" in r.out, command
        assert "--push-timeout SECONDS" in r.out, command


def test_push_timeout_zero_gives_up_after_one_rejection(
    remote: Path, clone: Clone, run_cli: Run
) -> None:
    a, b = clone("a"), clone("b")
    assert run_cli("register", MODEL, "--label", "from-b", "--push", cwd=b).code == 0
    r = run_cli("register", MODEL, "--label", "from-a", "--push", "--push-timeout", "0", cwd=a)
    assert r.code != 0 and "Traceback" not in r.err
    assert "push timeout 0s" in r.err and "--push-timeout" in r.err
    assert remote_versions(remote) == [1, 2]
    r = run_cli("register", MODEL, "--push", "--push-timeout", "-1", cwd=a)
    assert r.code == 2 and "--push-timeout" in r.err


def test_branch_push_says_where_and_how_to_review(remote: Path, clone: Clone, run_cli: Run) -> None:
    a = clone("a")
    r = run_cli("register", MODEL, "--branch", "retrain-2", "--push", cwd=a)
    assert r.code == 0, r.err
    assert "Committed on new branch retrain-2 (from main); your checkout is still on main" in r.out
    assert "to origin/retrain-2" in r.out
    assert "Open a pull request from retrain-2 into main" in r.out
    assert remote_versions(remote, ref="retrain-2") == [1, 2]
    assert remote_versions(remote) == [1]
    assert git(a, "branch", "--show-current").strip() == "main"


def test_branch_without_push_tells_how_to_push(remote: Path, clone: Clone, run_cli: Run) -> None:
    a = clone("a")
    r = run_cli("update", MODEL, "--description", "proposal", "--branch", "proposal", cwd=a)
    assert r.code == 0, r.err
    assert "Push it with `git push -u origin proposal`" in r.out
    assert "proposal" in git(a, "show", f"proposal:models/{MODEL}/model.yaml")
    r = run_cli("update", MODEL, "--description", "again", "--branch", "proposal", cwd=a)
    assert r.code == 5 and "'proposal' already exists" in r.err


def _register(path: Path, label: str, artifact: Path | None = None) -> subprocess.Popen[str]:
    extra = ("--artifact", f"model={artifact}") if artifact else ()
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "modelreg", "register", MODEL, "--push", "--json"),
            *("--label", label, *extra),
        ],
        cwd=path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_racing_publish_every_version_once(
    tmp_path: Path, remote: Path, clone: Clone
) -> None:
    clones = {name: clone(name) for name in ("a", "b")}
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"weights")
    rounds = 4
    for n in range(rounds):
        procs = {name: _register(path, f"{name}{n}", weights) for name, path in clones.items()}
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, f"{name}: {err}"
            assert json.loads(out)["label"] == f"{name}{n}"
    versions = yaml.safe_load(git(remote, "show", f"main:models/{MODEL}/model.yaml"))["versions"]
    numbers = [v["version"] for v in versions]
    assert numbers == list(range(1, 2 * rounds + 2))  # distinct, none lost, none twice
    labels = sorted(v.get("label") for v in versions[1:])
    assert labels == sorted(f"{name}{n}" for name in clones for n in range(rounds))
    assert_linear(remote)
    for name, path in clones.items():
        # each clone's artifact store holds exactly the versions it published:
        # uploads of attempts discarded after a lost race were removed
        mine = {str(v["version"]) for v in versions[1:] if v["label"].startswith(name)}
        files = (path / "artifacts" / MODEL).rglob("*")
        stored = {p.relative_to(path / "artifacts" / MODEL).parts[0] for p in files if p.is_file()}
        assert stored == mine, name
        for v in versions[1:]:
            if v["label"].startswith(name):
                assert Path(v["artifacts"]["model"]["uri"].removeprefix("file://")).is_file()
        assert git(path, "status", "--porcelain") == ""


def test_many_clones_pushing_at_once_all_land(tmp_path: Path, remote: Path, clone: Clone) -> None:
    # more writers than the old fixed count of retries could serve in one burst
    clones = {f"c{i}": clone(f"c{i}") for i in range(5)}
    procs = {name: _register(path, name) for name, path in clones.items()}
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, f"{name}: {err}"
    versions = yaml.safe_load(git(remote, "show", f"main:models/{MODEL}/model.yaml"))["versions"]
    assert [v["version"] for v in versions] == list(range(1, len(clones) + 2))
    assert sorted(v["label"] for v in versions[1:]) == sorted(clones)
    assert_linear(remote)
