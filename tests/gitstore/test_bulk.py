"""A commit of many files: git writes its objects into one pack, the files are written
in place, and the commit is still the one ``git commit`` makes."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from modelreg import ConflictError, GitError, Registry
from modelreg.gitstore import GitStore, bulk, worktree
from modelreg.gitstore.identity import Person
from modelreg.gitstore.inprocess import InProcess
from tests.gitstore.gitcheck import loose_objects, run, same_as_git_commit, sound

N = bulk.BULK_FILES + 4


def seeded(tmp_path: Path) -> Registry:
    """A registry of N models, made by one transaction (itself a bulk commit)."""
    reg = Registry.init(tmp_path / "reg")
    with reg.transaction("seed"):
        for i in range(N):
            reg.create_model(f"m-{i:04d}", name=f"Model {i}", framework="sklearn")
    return Registry.open(reg.root)


def register_all(reg: Registry) -> None:
    with reg.transaction("retrain everything"):
        for i in range(N):
            reg.register_version(f"m-{i:04d}", metrics={"accuracy": i / N})


def test_a_big_transaction_is_the_commit_git_makes(tmp_path: Path) -> None:
    reg = seeded(tmp_path)
    root = reg.root
    sound(root)
    same_as_git_commit(root, tmp_path)
    before = loose_objects(root)
    register_all(reg)
    sound(root)
    same_as_git_commit(root, tmp_path)
    assert loose_objects(root) == before  # every object of the commit is in a pack
    assert run(root, "for-each-ref", "refs/modelreg") == ""  # no private ref left
    assert run(root, "rev-list", "--count", "HEAD").strip() == "3"
    changed = run(root, "diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD").split()
    assert len(changed) == N
    # the index entries carry the files' status again, as `git add` leaves them
    debug = run(root, "ls-files", "--debug", "models/m-0001/model.yaml")
    assert "mtime: 0:0" not in debug  # (git may zero the size of a racily clean entry)
    again = Registry.open(root)
    assert [again.get(f"m-{i:04d}").latest_version for i in (0, N - 1)] == [1, 1]
    assert again.get("m-0007").versions[0].metrics == {"accuracy": 7 / N}


def test_a_big_commit_meeting_an_edit_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    # git writes the commit's objects while the files are checked: a refusal must
    # leave neither the commit nor a ref behind
    reg = seeded(tmp_path)
    root = reg.root
    tip = run(root, "rev-parse", "HEAD")
    edited = root / "models/m-0100/model.yaml"
    edited.write_text(edited.read_text() + "# my note\n")
    with pytest.raises(ConflictError, match="m-0100"):
        register_all(reg)
    assert run(root, "rev-parse", "HEAD") == tip
    assert run(root, "for-each-ref", "refs/modelreg") == ""
    assert edited.read_text().endswith("# my note\n")
    assert run(root, "status", "--porcelain") == " M models/m-0100/model.yaml\n"
    edited.write_text(edited.read_text().removesuffix("# my note\n"))
    sound(root)  # the index and the other files are as they were


def test_a_big_commit_git_refuses_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # git looks for objects where the environment says (libgit2 does not): fast-import
    # cannot find the parent commit there and refuses the stream
    reg = seeded(tmp_path)
    root = reg.root
    tip = run(root, "rev-parse", "HEAD")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(elsewhere))
    with pytest.raises(GitError, match="fast-import refused the commit"):
        register_all(reg)
    monkeypatch.delenv("GIT_OBJECT_DIRECTORY")
    assert run(root, "rev-parse", "HEAD") == tip
    assert run(root, "for-each-ref", "refs/modelreg") == ""
    sound(root)  # files, index and HEAD as they were
    register_all(Registry.open(root))  # and the next try goes through
    assert run(root, "rev-list", "--count", "HEAD").strip() == "3"


def test_deletes_and_an_executable_manifest_in_a_big_commit(tmp_path: Path) -> None:
    reg = seeded(tmp_path)
    root = reg.root
    (root / "models/m-0003/model.yaml").chmod(0o755)
    run(root, "commit", "--quiet", "-am", "make it executable")
    reg = Registry.open(root)
    with reg.transaction("retrain and prune"):
        for i in range(N):
            if i % 50 == 0:
                reg.delete(f"m-{i:04d}")
            else:
                reg.register_version(f"m-{i:04d}")
    sound(root)
    same_as_git_commit(root, tmp_path)
    assert run(root, "ls-tree", "HEAD", "models/m-0003/model.yaml").split()[0] == "100755"
    assert not (root / "models/m-0050").exists()
    assert run(root, "ls-tree", "-r", "HEAD", "models/m-0050") == ""


def test_files_git_would_filter_are_staged_by_libgit2(tmp_path: Path) -> None:
    reg = seeded(tmp_path)
    root = reg.root
    engine = InProcess.open(root)
    assert engine is not None
    paths: dict[str, bytes | None] = {"models/m-0001/model.yaml": b"x: 1\n"}
    assert engine.plain_modes(engine.index(), paths) == {"models/m-0001/model.yaml": 0o100644}
    assert engine.plain_modes(engine.index(), {"models/x.yaml": b"a\r\nb\r\n"}) is None
    (root / "models" / ".gitattributes").write_text("*.yaml ident\n")
    run(root, "add", ".")
    run(root, "commit", "--quiet", "-m", "ident")
    assert engine.plain_modes(engine.index(), paths) is None
    before = loose_objects(root)
    register_all(Registry.open(root))
    sound(root)  # the index and the commit hold what git's own filters make
    assert loose_objects(root) >= before + N  # written one by one, as git add would


WRITER = """
import os, signal, sys
from modelreg import ConflictError, GitError, Registry
from modelreg.gitstore import GitStore

def kill(name):
    if name == sys.argv[2]:
        os.kill(os.getpid(), signal.SIGKILL)

GitStore.on_step = kill
reg = Registry.open(sys.argv[1])
with reg.transaction("retrain everything"):
    for i in range(int(sys.argv[3])):
        reg.register_version(f"m-{i:04d}")
"""


@pytest.mark.parametrize("step", ["files", "staged", "index"])
def test_a_big_write_killed_half_way_is_rolled_back(step: str, tmp_path: Path) -> None:
    reg = seeded(tmp_path)
    root = reg.root
    tip = run(root, "rev-parse", "HEAD").strip()
    proc = subprocess.run([sys.executable, "-c", WRITER, str(root), step, str(N)], check=False)
    assert proc.returncode == -signal.SIGKILL
    assert run(root, "rev-parse", "HEAD").strip() == tip
    Registry.open(root).register_version("m-0002")  # the next write rolls back first
    sound(root)
    assert Registry.open(root).get("m-0001").versions == []
    assert Registry.open(root).get("m-0002").latest_version == 1


def test_a_file_cut_short_is_the_writes_own_but_an_edit_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = seeded(tmp_path)
    root = reg.root
    cut = root / "models/m-0004/model.yaml"
    edited = root / "models/m-0005/model.yaml"
    old = run(root, "show", "HEAD:models/m-0004/model.yaml").encode()

    def crash(name: str) -> None:
        if name == "files":
            new = cut.read_bytes()
            cut.write_bytes(new[: len(new) - 7] + old[len(new) - 7 :])  # as if cut short
            edited.write_text("# someone's own edit\n")
            raise KeyboardInterrupt

    monkeypatch.setattr(GitStore, "on_step", crash)
    with pytest.raises(KeyboardInterrupt):
        register_all(Registry.open(root))
    monkeypatch.setattr(GitStore, "on_step", None)
    assert cut.read_bytes() == old  # rolled back
    assert edited.read_text() == "# someone's own edit\n"  # never written over
    assert run(root, "status", "--porcelain").split() == ["M", "models/m-0005/model.yaml"]


def test_torn_knows_every_state_an_in_place_write_passes_through() -> None:
    old = b"name: a\nversions:\n- version: 1\n  metrics: {accuracy: 0.5}\n"
    for new in (old + b"- version: 2\n", old[:20], b"", b"entirely: different\n" * 5):
        for k in range(len(new) + 1):
            assert worktree.torn(new[:k] + old[k:], old, new)
        assert worktree.torn(new + old[len(new) :], old, new)  # written, not yet cut
        assert worktree.torn(new, old, new)
        assert worktree.torn(new[:3], b"", new) or len(new) < 3
    assert not worktree.torn(old + b"# my note\n", old, old + b"- version: 2\n")
    assert not worktree.torn(b"something else\n", old, old + b"x")


def test_the_stream_quotes_paths_and_writes_dates_as_git_does() -> None:
    who = Person("A U Thor", "a@example.com", 1_700_000_000, -90)
    assert bulk.ident(who) == b"A U Thor <a@example.com> 1700000000 -0130"
    assert bulk.ident(Person("B", "b@x", 1, 330)) == b"B <b@x> 1 +0530"
    data = bulk.stream(
        {'models/a"b/model.yaml': (b"x\n", 0o100644), "models/gone/model.yaml": None},
        ref="refs/modelreg/bulk-1",
        parent=None,
        author=who,
        committer=who,
        message="two\n",
    )
    assert b'M 100644 :1 "models/a\\"b/model.yaml"\n' in data
    assert b"D models/gone/model.yaml\n" in data
    assert b"from " not in data  # a root commit
    assert data.startswith(b"reset refs/modelreg/bulk-1\n")


def test_a_big_commit_in_a_sub_folder_of_a_linked_worktree(tmp_path: Path) -> None:
    main = tmp_path / "main"
    main.mkdir()
    run(main, "init", "--quiet", "--initial-branch=main")
    (main / "README.md").write_text("a monorepo\n")
    run(main, "add", "README.md")
    run(main, "commit", "--quiet", "-m", "first")
    run(main, "worktree", "add", "--quiet", "-b", "registry", str(tmp_path / "linked"))
    top = tmp_path / "linked"
    reg = Registry.init(top / "ml" / "registry")
    with reg.transaction("seed"):
        for i in range(N):
            reg.create_model(f"m-{i:04d}", name=f"Model {i}", framework="sklearn")
    sound(top)
    same_as_git_commit(top, tmp_path)
    files = run(top, "ls-tree", "-r", "--name-only", "HEAD").split()
    assert "ml/registry/models/m-0000/model.yaml" in files
    assert run(main, "for-each-ref", "refs/modelreg") == ""  # refs are shared: none left
    assert run(main, "log", "-1", "--format=%s", "registry").strip() == "seed"


def test_read_file_reads_whole_files_of_any_size(tmp_path: Path) -> None:
    for size in (0, 1, 4095, 4096, 65_537, (1 << 20) + 3, 3 << 20):
        path = tmp_path / f"f{size}"
        data = bytes(i % 251 for i in range(size))
        path.write_bytes(data)
        assert worktree.read_file(path) == data
    with pytest.raises(FileNotFoundError):
        worktree.read_file(tmp_path / "missing")
    with pytest.raises(IsADirectoryError):
        worktree.read_file(tmp_path)
