"""A writer killed anywhere never corrupts the repository and never blocks the next write."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelreg import Registry
from tests.gitstore.gitcheck import run, sound

STEPS = ("journal", "files", "staged", "commit", "index", "ref")
GIT_STEPS = ("journal", "files", "ref")

WRITER = """
import os, signal, sys
from modelreg import Registry
from modelreg.gitstore import GitStore

step = sys.argv[2]
if step != "-":
    def kill(name):
        if name == step:
            os.kill(os.getpid(), signal.SIGKILL)
    GitStore.on_step = kill
reg = Registry.open(sys.argv[1])
for i in range(int(sys.argv[3])):
    reg.register_version("churn", metrics={"accuracy": 0.5})
    reg.update("churn", description=f"round {i}")
"""


def writer(root: Path, step: str = "-", rounds: int = 1) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(root), step, str(rounds)])


def registry(tmp_path: Path, hooks: bool) -> Registry:
    reg = Registry.init(tmp_path / "reg")
    reg.create_model("churn", name="Churn", framework="xgboost")
    reg.register_version("churn")
    if hooks:
        hook = reg.root / ".git/hooks/pre-commit"
        hook.write_text("#!/bin/sh\nexit 0\n")
        hook.chmod(0o755)
    return Registry.open(reg.root)


def versions(root: Path) -> int:
    return Registry.open(root).get("churn").latest_version


@pytest.mark.parametrize(
    "engine, step",
    [("libgit2", s) for s in STEPS] + [("git", s) for s in GIT_STEPS],
)
def test_killed_at_each_step(engine: str, step: str, tmp_path: Path) -> None:
    reg = registry(tmp_path, hooks=engine == "git")
    assert reg.store.engine == engine
    root = reg.root
    tip = run(root, "rev-parse", "HEAD").strip()
    proc = writer(root, step)
    assert proc.wait(timeout=120) == -signal.SIGKILL
    landed = run(root, "rev-parse", "HEAD").strip() != tip
    assert landed == (step == "ref")
    # the repository is sound as the writer left it (its files may be half-way: the
    # next write finishes or rolls them back)
    run(root, "fsck", "--full", "--strict", "--no-dangling")
    committed = run(root, "show", "HEAD:models/churn/model.yaml")
    assert committed.count("- version:") == (2 if landed else 1)
    # the next write is not blocked, nor told that the manifest holds the user's edits
    Registry.open(root).register_version("churn")
    sound(root)
    assert versions(root) == (3 if landed else 2)
    assert run(root, "rev-list", "--count", "HEAD").strip() == str(3 + 1 + landed)


@pytest.mark.slow
def test_killed_at_random_points(tmp_path: Path) -> None:
    reg = registry(tmp_path, hooks=False)
    root = reg.root
    rng = random.Random(20261129)
    for _ in range(6):
        before = versions(root)
        proc = writer(root, rounds=50)
        time.sleep(rng.uniform(0.2, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        run(root, "fsck", "--full", "--strict", "--no-dangling")
        Registry.open(root).register_version("churn")
        sound(root)
        assert versions(root) > before


def test_a_git_add_during_a_write_is_refused_not_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelreg.gitstore import GitStore

    reg = registry(tmp_path, hooks=False)
    root = reg.root
    (root / "notes.txt").write_text("mine\n")
    said: list[subprocess.CompletedProcess[str]] = []

    def meanwhile(step: str) -> None:
        if step in ("files", "commit"):
            said.append(
                subprocess.run(
                    ["git", "add", "notes.txt"], cwd=root, capture_output=True, text=True
                )
            )

    monkeypatch.setattr(GitStore, "on_step", meanwhile)
    reg.register_version("churn")
    assert [r.returncode != 0 and "index.lock" in r.stderr for r in said] == [True, True]
    monkeypatch.setattr(GitStore, "on_step", None)
    run(root, "add", "notes.txt")  # after the write, git works as usual
    assert "notes.txt" in run(root, "diff", "--cached", "--name-only")


@pytest.mark.parametrize("step", ["files", "staged", "commit"])
def test_a_write_that_raises_half_way_rolls_its_files_back(
    step: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelreg.gitstore import GitStore

    reg = registry(tmp_path, hooks=False)
    before = (reg.root / "models/churn/model.yaml").read_bytes()

    def interrupt(name: str) -> None:
        if name == step:
            raise KeyboardInterrupt

    monkeypatch.setattr(GitStore, "on_step", interrupt)
    with pytest.raises(KeyboardInterrupt):
        reg.register_version("churn")
    monkeypatch.setattr(GitStore, "on_step", None)
    assert (reg.root / "models/churn/model.yaml").read_bytes() == before
    sound(reg.root)
