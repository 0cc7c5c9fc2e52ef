"""A repository read from its files: the same folders and the same HEAD as git says,
without git where the files tell (loose and packed refs, detached HEAD, symbolic refs,
linked worktrees), and git's own answer where they do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelreg import Registry
from modelreg.gitstore.repository import Repository
from tests.conftest import git, head


def from_files(where: Path, monkeypatch: pytest.MonkeyPatch) -> str | None:
    """HEAD as :class:`Repository` reads it, with no git to ask (an empty PATH)."""
    found = Repository.find(where)
    assert found is not None
    with monkeypatch.context() as m:
        m.setenv("PATH", "")
        return found.head()


def test_head_is_read_from_the_files_as_git_reads_it(
    churn: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = churn.root
    assert from_files(root, monkeypatch) == head(root)  # a loose branch
    git(root, "pack-refs", "--all")
    assert not (root / ".git/refs/heads/main").exists()
    assert from_files(root, monkeypatch) == head(root)  # a packed one
    churn.register_version("churn-xgb")  # a loose file again, newer than the packed line
    assert from_files(root, monkeypatch) == head(root)
    git(root, "checkout", "--quiet", "--detach", "HEAD~1")
    assert from_files(root, monkeypatch) == head(root)  # detached
    git(root, "checkout", "--quiet", "main")
    git(root, "symbolic-ref", "refs/heads/current", "refs/heads/main")
    git(root, "symbolic-ref", "HEAD", "refs/heads/current")
    assert from_files(root, monkeypatch) == head(root)  # a symbolic ref to a symbolic ref


def test_a_linked_worktree_and_a_registry_in_a_subfolder(
    churn: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    linked = tmp_path / "linked"
    git(churn.root, "worktree", "add", "--quiet", "-b", "other", str(linked), "HEAD~1")
    found = Repository.find(linked / "models")
    assert found is not None
    assert found.worktree == linked.resolve() and found.prefix == "models/"
    assert found.git_dir == Path(git(linked, "rev-parse", "--absolute-git-dir").strip())
    assert found.common_dir == (churn.root / ".git").resolve()
    assert from_files(linked, monkeypatch) == head(linked) != head(churn.root)
    assert from_files(churn.root, monkeypatch) == head(churn.root)


def test_an_unborn_branch_asks_git_and_no_repository_is_none(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet", "--initial-branch=main", "repo")
    found = Repository.find(tmp_path / "repo")
    assert found is not None and found.head() is None
    outside = tmp_path / "plain"
    outside.mkdir()
    assert Repository.find(outside) is None


def test_blob_at_is_gits(churn: Registry) -> None:
    found = Repository.find(churn.root)
    assert found is not None
    path = "models/churn-xgb/model.yaml"
    assert (
        found.blob_at(head(churn.root), path)
        == git(churn.root, "rev-parse", f"HEAD:{path}").strip()
    )
    assert found.blob_at(head(churn.root), "models/none/model.yaml") is None
