"""A writer killed anywhere never corrupts the repository and never blocks the next write."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from modelreg import ConflictError, Registry
from tests.gitstore.gitcheck import run, sound

STEPS = ("locked", "journal", "files", "staged", "commit", "index", "ref")
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


def test_killed_the_moment_it_holds_the_index_its_lock_names_it(tmp_path: Path) -> None:
    # the lock file appears whole: a writer killed just after creating it once left an
    # empty index.lock, which nobody can tell from a live git process's, and the next
    # write refused to run
    reg = registry(tmp_path, hooks=False)
    root = reg.root
    proc = writer(root, "locked")
    assert proc.wait(timeout=120) == -signal.SIGKILL
    lock = root / ".git/index.lock"
    assert lock.read_bytes() == b"modelreg holds the index, pid %d" % proc.pid
    assert list((root / ".git/modelreg/tmp").iterdir()) == []  # nothing left aside
    Registry.open(root).register_version("churn")
    assert not lock.exists()
    sound(root)
    assert versions(root) == 2


def _git_holding_the_index(root: Path) -> subprocess.Popen[bytes]:
    """A real git process holding ``index.lock`` until its input ends (as a git command
    run beside modelreg, or one a killed writer left running, holds it until done)."""
    blob = run(root, "hash-object", "-w", "--stdin", "--path=notes.txt").strip()
    (root / "notes.txt").write_text("")
    git = subprocess.Popen(["git", "update-index", "--index-info"], cwd=root, stdin=subprocess.PIPE)
    assert git.stdin is not None
    git.stdin.write(f"100644 {blob}\tnotes.txt\n".encode())
    git.stdin.flush()
    lock = root / ".git/index.lock"
    for _ in range(2000):
        if lock.exists():
            return git
        time.sleep(0.005)
    raise AssertionError("git never took index.lock")


def test_a_write_waits_for_a_git_process_holding_the_index(tmp_path: Path) -> None:
    reg = registry(tmp_path, hooks=False)
    root = reg.root
    git = _git_holding_the_index(root)
    assert git.stdin is not None
    with ThreadPoolExecutor(1) as pool:
        try:
            write = pool.submit(Registry.open(root).register_version, "churn")
            time.sleep(0.5)
            # still waiting, and git's lock untouched
            assert not write.done()
            assert (root / ".git/index.lock").exists()
        finally:
            git.stdin.close()
            assert git.wait(timeout=60) == 0
        assert write.result(timeout=60).version == 2
    # git's work is kept, and so is the write's
    assert run(root, "diff", "--cached", "--name-only") == "notes.txt\n"
    assert run(root, "status", "--porcelain") == "A  notes.txt\n"
    assert versions(root) == 2


def test_a_lock_nobody_releases_is_refused_after_the_wait_and_kept(tmp_path: Path) -> None:
    reg = registry(tmp_path, hooks=False)
    root = reg.root
    tip = run(root, "rev-parse", "HEAD")
    git = _git_holding_the_index(root)
    git.kill()  # killed while holding it: git cannot remove it
    git.wait(timeout=60)
    assert git.stdin is not None
    git.stdin.close()
    lock = root / ".git/index.lock"
    assert lock.read_bytes() == b""
    again = Registry.open(root)
    again.store.index_wait = 0.3
    with pytest.raises(ConflictError, match=r"index\.lock exists \(empty, .*waited 0\.3 s\)"):
        again.register_version("churn")
    assert lock.exists()  # it could be a live git process's: never removed by modelreg
    assert run(root, "rev-parse", "HEAD") == tip
    assert run(root, "status", "--porcelain") == "?? notes.txt\n"
    lock.unlink()  # as the message says
    again.register_version("churn")
    assert versions(root) == 2


def test_a_git_commit_outliving_its_killed_writer_is_waited_for(tmp_path: Path) -> None:
    # killing a writer does not end the git it started: the next write must neither
    # take that git's locks from it nor fail, but wait for it to end
    reg = registry(tmp_path, hooks=True)
    root = reg.root
    started, release = tmp_path / "hook-started", tmp_path / "hook-release"
    (root / ".git/hooks/pre-commit").write_text(  # waits for the test, 30 s at most
        f"#!/bin/sh\ntouch '{started}'\ni=0\n"
        f"while [ ! -e '{release}' ] && [ $i -lt 1500 ]; do sleep 0.02; i=$((i+1)); done\n"
    )
    proc = writer(root)
    for _ in range(6000):
        if started.exists():
            break
        time.sleep(0.005)
    proc.kill()  # the writer only: its `git commit` goes on, holding index.lock
    proc.wait(timeout=60)
    lock = root / ".git/index.lock"
    assert lock.exists()
    too_soon = Registry.open(root)
    too_soon.store.index_wait = 0.3
    with pytest.raises(ConflictError, match=r"still running .*waited 0\.3 s"):
        too_soon.register_version("churn")
    assert lock.exists()  # still git's
    with ThreadPoolExecutor(1) as pool:
        try:
            write = pool.submit(Registry.open(root).register_version, "churn")
            time.sleep(0.3)
            assert not write.done()
        finally:
            release.touch()
        assert write.result(timeout=60).version == 3  # after the orphan's own commit
    sound(root)
    subjects = run(root, "log", "--format=%s", "-3").splitlines()
    assert subjects[:2] == ["churn: register version 3", "churn: register version 2"]


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
