"""History as a lookup: the log of a path, cached by commit, extended incrementally, never
stale, and equal to what `git log -- PATH` says."""

from __future__ import annotations

import subprocess

from modelreg import Registry
from modelreg.gitstore import maintenance
from modelreg.gitstore.logindex import LogIndex
from tests.conftest import git, head

PATH = "models/churn-xgb/model.yaml"


def plain_git(reg: Registry) -> list[str]:
    return git(reg.root, "log", "--format=%H", "--", PATH).split()


def logged(reg: Registry) -> list[str]:
    return [c.sha for c in LogIndex.of(reg.store).log(PATH, head(reg.root))]


def test_the_log_is_gits_and_later_commits_extend_it(churn: Registry) -> None:
    churn.create_model("other", name="Other", framework="onnx")
    index = LogIndex.of(churn.store)
    assert logged(churn) == plain_git(churn) and len(plain_git(churn)) == 3
    assert index.walks == 1
    assert maintenance.has_commit_graph(churn.store)  # the first walk built it
    churn.register_version("churn-xgb")
    churn.register_version("other")
    churn.set_stage("churn-xgb", 3, "staging")
    assert logged(churn) == plain_git(churn) and len(plain_git(churn)) == 5
    assert index.walks == 1  # only the new commits were looked at


def test_a_rewritten_branch_is_never_served_stale(churn: Registry) -> None:
    before = logged(churn)
    churn.register_version("churn-xgb", label="dropped")
    assert len(logged(churn)) == len(before) + 1
    git(churn.root, "reset", "--quiet", "--hard", "HEAD~1")
    churn.register_version("churn-xgb", label="instead")
    assert logged(churn) == plain_git(churn)
    assert "dropped" not in git(churn.root, "log", "--format=%s", *logged(churn)[:1])


def test_a_new_process_reads_what_the_last_one_derived(churn: Registry) -> None:
    assert [c.commit.sha for c in churn.history("churn-xgb")] == plain_git(churn)
    again = Registry.open(churn.root)
    index = LogIndex.of(again.store)
    assert index is not LogIndex.of(churn.store)
    assert [c.commit.sha for c in again.history("churn-xgb")] == plain_git(churn)
    assert index.walks == 0


def test_history_at_an_older_commit(churn: Registry) -> None:
    churn.register_version("churn-xgb")
    old = Registry.open(churn.root, ref="HEAD~1")
    shas = [c.commit.sha for c in old.history("churn-xgb")]
    assert shas == git(churn.root, "log", "--format=%H", "HEAD~1", "--", PATH).split()
    assert [c.commit.sha for c in churn.history("churn-xgb")] == plain_git(churn)


def test_each_commit_comes_with_the_blob_git_has_after_it(churn: Registry) -> None:
    root = churn.root
    git(root, "checkout", "--quiet", "-b", "side")
    manifest = root / PATH
    manifest.write_text(manifest.read_text().replace("name: Churn", "name: The churn"))
    git(root, "commit", "--quiet", "-am", "renamed on a side branch")
    git(root, "checkout", "--quiet", "main")
    churn.register_version("churn-xgb")
    git(root, "merge", "--quiet", "--no-edit", "side")  # both sides' changes: a new state
    churn.delete("churn-xgb")
    index = LogIndex.of(churn.store)
    found = index.states(PATH, head(root))
    index.save()
    assert [c.sha for c, _ in found] == plain_git(churn)
    merges = git(root, "log", "--merges", "--format=%H", "--", PATH).split()
    assert len(merges) == 1 and merges[0] in [c.sha for c, _ in found]
    for commit, blob in found:
        at = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{commit.sha}:{PATH}"],
            cwd=root,
            capture_output=True,
            text=True,
        )
        assert blob == (at.stdout.strip() or None)
    assert found[0][1] is None  # the deletion
    again = LogIndex(churn.store)  # read back from the file: the same
    assert again.states(PATH, head(root)) == found and again.walks == 0
