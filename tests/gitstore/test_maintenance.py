"""Automatic maintenance after in-process commits, and the commit-graph with Bloom filters."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from modelreg import Registry
from modelreg.gitstore import blob_id, maintenance
from tests.conftest import git
from tests.gitstore.gitcheck import loose_objects


def packs(root: Path) -> list[Path]:
    return sorted((root / ".git" / "objects" / "pack").glob("*.pack"))


def loose_in_17(root: Path, n: int) -> None:
    """Write ``n`` loose blobs whose ids start with 17: the folder git counts to estimate
    the loose objects (each one there stands for 256)."""
    found = 0
    i = 0
    salt = os.urandom(8).hex()  # new objects on every call
    while found < n:
        data = f"filler {salt} {i}\n".encode()
        i += 1
        if blob_id(data).startswith("17"):
            subprocess.run(
                ["git", "hash-object", "-w", "--stdin"], cwd=root, input=data, check=True
            )
            found += 1


def write_many(reg: Registry, n: int) -> None:
    for i in range(n):
        reg.register_version("churn-xgb", metrics={"accuracy": i / 1000})


def in_17(root: Path) -> int:
    """The loose objects git counts to estimate them all."""
    folder = root / ".git" / "objects" / "17"
    return sum(1 for p in folder.iterdir() if len(p.name) == 38) if folder.exists() else 0


def new_in_17(root: Path) -> int:
    """How many of the last commit's new objects landed in the ``17/`` folder."""
    listed = git(root, "rev-list", "--objects", "HEAD~1..HEAD").split()
    return sum(1 for word in listed if len(word) == 40 and word.startswith("17"))


def test_writes_run_git_auto_maintenance_as_configured(churn: Registry) -> None:
    root = churn.root
    # due past one more loose object in the 17/ folder than there is room for below,
    # whatever the fixture's own commits already put there
    limit = in_17(root) + 3
    git(root, "config", "gc.auto", str(256 * limit))
    git(root, "config", "gc.autoDetach", "false")  # the repack happens before the write returns
    loose_in_17(root, 2)  # one below the limit
    write_many(churn, 1)
    # the write's own objects land in 17/ only by chance (1 in 256 each): it takes two
    due_by_chance = new_in_17(root) >= 2
    assert bool(packs(root)) == due_by_chance, "maintenance ran when it was not due"
    more = max(limit - in_17(root) + 1, 0)
    loose_in_17(root, more)  # past the limit: due whatever the write adds
    write_many(churn, 1)
    assert packs(root), "git's automatic maintenance never ran"
    git(root, "fsck", "--strict")
    assert not new_loose_reachable(root)  # every commit packed
    # only the unreachable fillers are left loose (git keeps them two weeks)
    assert loose_objects(root) == in_17(root) == 2 + more
    assert [v.version for v in churn.get("churn-xgb").versions][-1] == 4


def new_loose_reachable(root: Path) -> list[str]:
    """Objects reachable from HEAD that are still loose (none, once everything is packed)."""
    objects = root / ".git" / "objects"
    listed = git(root, "rev-list", "--objects", "HEAD").split()
    return [w for w in listed if len(w) == 40 and (objects / w[:2] / w[2:]).exists()]


def test_gc_auto_zero_turns_it_off(churn: Registry) -> None:
    root = churn.root
    git(root, "config", "gc.auto", "0")
    git(root, "config", "gc.autoDetach", "false")
    loose_in_17(root, 40)
    write_many(churn, 3)
    assert packs(root) == []


def test_not_due_in_a_young_repository(churn: Registry) -> None:
    assert not maintenance.due(churn.store)
    assert not maintenance.after_write(churn.store)


def test_the_commit_graph_is_written_once_with_bloom_filters(churn: Registry) -> None:
    store = churn.store
    assert not maintenance.has_commit_graph(store)
    assert maintenance.ensure_commit_graph(store)
    assert maintenance.has_commit_graph(store)
    assert not maintenance.ensure_commit_graph(store)  # already there: nothing to do
    git(churn.root, "commit-graph", "verify")
    write_many(churn, 3)
    git(churn.root, "gc", "--quiet")  # git's own maintenance keeps the filters
    assert maintenance.has_commit_graph(store)


def test_a_graph_without_filters_is_replaced(churn: Registry) -> None:
    git(churn.root, "commit-graph", "write", "--reachable")
    assert not maintenance.has_commit_graph(churn.store)
    assert maintenance.ensure_commit_graph(churn.store)
    assert maintenance.has_commit_graph(churn.store)


def test_a_write_that_raced_maintenance_is_tried_again(
    churn: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelreg.gitstore import GitStore

    root = churn.root
    before = int(git(root, "rev-list", "--count", "HEAD"))
    raced: list[str] = []

    def vanish(step: str) -> None:
        # where libgit2 stores objects, as when gc removed an emptied folder under it
        if step == "staged" and len(raced) < maintenance.TRIES - 1:
            raced.append(step)
            raise maintenance.Raced("an object folder vanished")

    monkeypatch.setattr(GitStore, "on_step", vanish)
    write_many(churn, 1)
    assert len(raced) == maintenance.TRIES - 1
    assert int(git(root, "rev-list", "--count", "HEAD")) == before + 1  # one commit
    assert git(root, "status", "--porcelain") == ""
    git(root, "fsck", "--strict")


def test_a_write_that_always_races_says_so_and_changes_nothing(
    churn: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelreg.gitstore import GitStore

    root = churn.root
    tip = git(root, "rev-parse", "HEAD")

    def vanish(step: str) -> None:
        if step == "staged":
            raise maintenance.Raced("an object folder vanished")

    monkeypatch.setattr(GitStore, "on_step", vanish)
    with pytest.raises(maintenance.Raced):
        write_many(churn, 1)
    assert git(root, "rev-parse", "HEAD") == tip
    assert git(root, "status", "--porcelain") == ""


def test_libgit2_losing_an_object_folder_is_a_race() -> None:
    import pygit2

    from modelreg.gitstore.inprocess import storing

    with pytest.raises(maintenance.Raced), storing():
        raise pygit2.GitError(
            "failed to rename lockfile to '.git/objects/6e/1f': No such file or directory"
        )
    with pytest.raises(pygit2.GitError), storing():
        raise pygit2.GitError("the index is locked")
