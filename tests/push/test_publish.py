"""Registry.publish: one commit, pushed; re-applied on a newer remote tip; never forced."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from modelreg import Registry
from modelreg.errors import ConflictError, GitError
from modelreg.manifest import Version
from tests.conftest import git
from tests.push.pushrepo import MODEL, assert_linear, remote_tip, remote_versions

Clone = Callable[[str], Path]


def register(reg: Registry) -> Version:
    # labelled by clone: two clones never write byte-identical commits (which git would
    # rightly take for one and the same)
    return reg.register_version(MODEL, label=reg.root.name, metrics={"accuracy": 0.5})


def test_push_puts_the_commit_on_the_remote(remote: Path, clone: Clone) -> None:
    a = Registry.open(clone("a"))
    done = a.publish(register, push=True)
    assert done.value.version == 2
    assert done.pushed and done.remote == "origin" and done.branch == "main"
    assert done.retries == 0
    assert remote_tip(remote) == done.commit == a.commit
    assert remote_versions(remote) == [1, 2]
    assert git(a.root, "status", "--porcelain") == ""


def test_without_push_the_commit_stays_local(remote: Path, clone: Clone) -> None:
    before = remote_tip(remote)
    a = Registry.open(clone("a"))
    done = a.publish(register, push=False)
    assert not done.pushed and done.commit == a.commit
    assert remote_tip(remote) == before


def test_config_default_pushes(remote: Path, clone: Clone) -> None:
    path = clone("a")
    config = path / "modelreg.yaml"
    config.write_text(config.read_text() + "git:\n  push: true\n")
    git(path, "commit", "--quiet", "-am", "push by default")
    git(path, "push", "--quiet", "origin", "main")
    done = Registry.open(path).publish(register)
    assert done.pushed and remote_versions(remote) == [1, 2]
    assert Registry.open(path).publish(register, push=False).pushed is False
    assert remote_versions(remote) == [1, 2]


def test_a_clone_behind_gets_the_next_number(remote: Path, clone: Clone) -> None:
    a, b = Registry.open(clone("a")), Registry.open(clone("b"))
    first = b.publish(register, push=True)
    assert first.value.version == 2
    runs: list[int] = []

    def op(reg: Registry) -> Version:
        version = register(reg)
        runs.append(version.version)
        return version

    done = a.publish(op, push=True)
    assert runs == [2, 3]  # tried 2 on the stale tip, re-applied as 3 on the new one
    assert done.value.version == 3 and done.retries == 1
    assert remote_versions(remote) == [1, 2, 3]
    assert_linear(remote)
    git(remote, "merge-base", "--is-ancestor", str(first.commit), "main")
    # the discarded attempt's commit is on no branch; the clone is clean and at the remote
    assert git(a.root, "rev-list", "--count", "origin/main..main").strip() == "0"
    assert a.commit == remote_tip(remote)
    assert git(a.root, "status", "--porcelain") == ""
    assert [v.version for v in a.get(MODEL).versions] == [1, 2, 3]


def test_a_known_newer_tip_is_fast_forwarded_first(remote: Path, clone: Clone) -> None:
    a_path = clone("a")
    Registry.open(clone("b")).publish(register, push=True)
    git(a_path, "fetch", "--quiet", "origin")  # a knows, but has not merged
    done = Registry.open(a_path).publish(register, push=True)
    assert done.retries == 0 and done.value.version == 3
    assert remote_versions(remote) == [1, 2, 3]


def test_retries_run_out_with_a_clear_error(remote: Path, clone: Clone, tmp_path: Path) -> None:
    a = Registry.open(clone("a"))
    b = Registry.open(clone("b"))
    model_file = tmp_path / "model.bin"
    model_file.write_bytes(b"weights of a")
    uploads: list[str] = []

    def op(reg: Registry) -> Version:
        # someone else pushes first, every single time
        b.publish(register, push=True)
        version = reg.register_version(MODEL, artifacts={"model": model_file})
        uploads.append(version.artifacts["model"].uri)
        return version

    with pytest.raises(ConflictError, match=r"moved on 3 time\(s\).*nothing was published"):
        a.publish(op, push=True, retries=2)
    assert remote_versions(remote) == [1, 2, 3, 4]  # b's three, none of a's
    assert a.commit == remote_tip(remote)
    assert git(a.root, "status", "--porcelain") == ""
    assert len(uploads) == 3
    for uri in uploads:  # every discarded attempt's upload was removed
        assert not Path(uri.removeprefix("file://")).exists()


def test_the_push_timeout_bounds_the_retries(remote: Path, clone: Clone) -> None:
    a = Registry.open(clone("a"))
    b = Registry.open(clone("b"))
    runs: list[int] = []

    def op(reg: Registry) -> Version:
        b.publish(register, push=True)  # someone else always pushes first
        runs.append(1)
        return register(reg)

    with pytest.raises(ConflictError, match=r"moved on \d+ time\(s\).*push timeout 3s"):
        a.publish(op, push=True, timeout=3)
    assert len(runs) >= 2  # it did retry, after a wait, until the time was up
    assert remote_versions(remote) == list(range(1, len(runs) + 2))  # b's only
    assert a.commit == remote_tip(remote)


def test_a_zero_timeout_tries_once(remote: Path, clone: Clone) -> None:
    a, b = Registry.open(clone("a")), Registry.open(clone("b"))
    b.publish(register, push=True)
    with pytest.raises(ConflictError, match=r"moved on 1 time\(s\).*--push-timeout"):
        a.publish(register, push=True, timeout=0)
    assert remote_versions(remote) == [1, 2]


def sharing_a_store(clone: Clone, store: Path) -> tuple[Registry, Registry]:
    """Two clones, a and b, whose artifact store is the same folder."""
    regs = []
    for name in ("a", "b"):
        config = clone(name) / "modelreg.yaml"
        config.write_text(config.read_text() + f"artifacts:\n  root: {store.as_uri()}\n")
        regs.append(Registry.open(config.parent))
    return regs[0], regs[1]


def test_a_discarded_attempt_keeps_uploads_the_new_tip_uses(
    tmp_path: Path, remote: Path, clone: Clone
) -> None:
    shared = tmp_path / "shared-artifacts"
    a, b = sharing_a_store(clone, shared)
    model_file = tmp_path / "model.bin"
    model_file.write_bytes(b"the same weights")

    def op(reg: Registry) -> Version:
        version = reg.register_version(MODEL, artifacts={"model": model_file})
        if version.version == 2:
            # b registers the same bytes meanwhile: it reuses a's upload at .../2/...
            b.publish(
                lambda r: r.register_version(MODEL, label="b", artifacts={"model": model_file}),
                push=True,
            )
        return version

    done = a.publish(op, push=True)
    assert done.value.version == 3
    assert (shared / MODEL / "2" / "model" / "model.bin").read_bytes() == b"the same weights"
    assert (shared / MODEL / "3" / "model" / "model.bin").exists()
    assert remote_versions(remote) == [1, 2, 3]


def test_a_version_path_taken_on_a_shared_store_is_met_by_the_next_number(
    tmp_path: Path, remote: Path, clone: Clone
) -> None:
    # b registers version 2 with its bytes and pushes; a, not yet knowing, tries version 2
    # too: its upload finds other bytes at .../2/..., so it fetches and becomes version 3
    shared = tmp_path / "shared-artifacts"
    a, b = sharing_a_store(clone, shared)
    for name in ("a", "b"):  # the same file name, other bytes
        (tmp_path / f"{name}-model").mkdir()
        (tmp_path / f"{name}-model" / "model.bin").write_bytes(f"weights of {name}".encode())
    b.publish(
        lambda r: r.register_version(
            MODEL, label="b", artifacts={"model": tmp_path / "b-model" / "model.bin"}
        ),
        push=True,
    )
    done = a.publish(
        lambda r: r.register_version(
            MODEL, label="a", artifacts={"model": tmp_path / "a-model" / "model.bin"}
        ),
        push=True,
    )
    assert done.value.version == 3 and done.retries == 1
    assert remote_versions(remote) == [1, 2, 3]
    assert (shared / MODEL / "2" / "model" / "model.bin").read_bytes() == b"weights of b"
    assert (shared / MODEL / "3" / "model" / "model.bin").read_bytes() == b"weights of a"


def test_bytes_left_by_a_crashed_upload_never_block_the_next_write(
    tmp_path: Path, remote: Path, clone: Clone
) -> None:
    # An upload whose commit never happened leaves a complete object at .../2/model/...
    a = Registry.open(clone("a"))
    stray = a.root / "artifacts" / MODEL / "2" / "model" / "model.bin"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"left by a crashed job")
    src = tmp_path / "model.bin"
    src.write_bytes(b"new weights")
    done = a.publish(lambda r: r.register_version(MODEL, artifacts={"model": src}), push=True)
    assert done.value.version == 2 and remote_versions(remote) == [1, 2]
    uri = done.value.artifacts["model"].uri
    assert uri != stray.as_uri() and "/2/model/sha256-" in uri and uri.endswith("/model.bin")
    assert stray.read_bytes() == b"left by a crashed job"  # never overwritten
    assert next(stray.parent.glob("sha256-*/model.bin")).read_bytes() == b"new weights"


def test_a_remote_hook_refusal_keeps_the_local_commit(remote: Path, clone: Clone) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'policy: the registry is frozen' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = remote_tip(remote)
    a = Registry.open(clone("a"))
    with pytest.raises(GitError) as caught:
        a.publish(register, push=True)
    message = str(caught.value)
    assert "policy: the registry is frozen" in message
    assert "committed locally" in message and "git push origin main" in message
    assert remote_tip(remote) == before
    assert [v.version for v in a.get(MODEL).versions] == [1, 2]
    assert git(a.root, "status", "--porcelain") == ""
    # the next publish does not silently carry (or drop) the unpushed commit
    with pytest.raises(ConflictError, match="ahead of origin/main"):
        a.publish(register, push=True)
    assert [v.version for v in a.get(MODEL).versions] == [1, 2]


def test_local_commits_not_on_the_remote_are_refused(remote: Path, clone: Clone) -> None:
    a = Registry.open(clone("a"))
    a.publish(register, push=False)
    with pytest.raises(ConflictError, match="1 local commit"):
        a.publish(register, push=True)


def test_push_without_a_remote_is_a_git_error(registry: Registry) -> None:
    with pytest.raises(GitError, match="no git remote 'origin'"):
        registry.publish(lambda r: r.create_model("m", name="M", framework="onnx"), push=True)
    assert registry.models() == []


def test_an_unreachable_remote_before_writing_writes_nothing(
    tmp_path: Path, registry: Registry
) -> None:
    git(registry.root, "remote", "add", "origin", str(tmp_path / "gone.git"))
    with pytest.raises(GitError, match="does not appear to be a git repository"):
        registry.publish(lambda r: r.create_model("m", name="M", framework="onnx"), push=True)
    assert registry.models() == []


def test_an_unreachable_remote_keeps_the_local_commit(
    tmp_path: Path, remote: Path, clone: Clone
) -> None:
    a_path = clone("a")
    git(a_path, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    a = Registry.open(a_path)
    with pytest.raises(GitError, match=r"committed locally as [0-9a-f]{12} on main"):
        a.publish(register, push=True)
    assert [v.version for v in a.get(MODEL).versions] == [1, 2]
    assert remote_versions(remote) == [1]


def test_a_change_that_changes_nothing_pushes_nothing(remote: Path, clone: Clone) -> None:
    a = Registry.open(clone("a"))
    done = a.publish(lambda r: r.update(MODEL, name="Churn"), push=True)
    assert done.commit is None and not done.pushed


def test_a_replay_that_no_longer_applies_fails_cleanly(remote: Path, clone: Clone) -> None:
    a, b = Registry.open(clone("a")), Registry.open(clone("b"))
    b.publish(lambda r: r.create_model("new", name="New", framework="onnx"), push=True)
    with pytest.raises(ConflictError, match="already exists"):
        a.publish(lambda r: r.create_model("new", name="Mine", framework="onnx"), push=True)
    assert a.get("new").name == "New"  # the clone now sits at the remote tip
    assert git(a.root, "status", "--porcelain") == ""


def test_publish_inside_a_transaction_is_refused(registry: Registry) -> None:
    with registry.transaction(), pytest.raises(ConflictError, match="outside"):
        registry.publish(lambda r: None)


# ----------------------------------------------------------------- --branch


def test_branch_commits_on_a_new_branch_and_pushes_it(remote: Path, clone: Clone) -> None:
    a = Registry.open(clone("a"))
    main_before = a.commit
    done = a.publish(register, push=True, branch="add-v2")
    assert done.branch == "add-v2" and done.base == "main" and done.pushed
    assert done.pull_request is None  # a local remote: no known pull request page
    assert remote_versions(remote, ref="add-v2") == [1, 2]
    assert remote_versions(remote) == [1]  # main untouched
    # the checkout stays on main, clean, at the same commit
    assert git(a.root, "branch", "--show-current").strip() == "main"
    assert a.commit == main_before
    assert git(a.root, "status", "--porcelain") == ""
    assert [v.version for v in a.get(MODEL).versions] == [1]
    upstream = git(a.root, "rev-parse", "--abbrev-ref", "add-v2@{upstream}").strip()
    assert upstream == "origin/add-v2"


def test_branch_without_push_stays_local(remote: Path, clone: Clone) -> None:
    a = Registry.open(clone("a"))
    done = a.publish(register, push=False, branch="local-only")
    assert not done.pushed and done.commit is not None
    assert git(a.root, "rev-parse", "local-only").strip() == done.commit
    assert "local-only" not in git(remote, "branch")


def test_branch_that_exists_is_refused(remote: Path, clone: Clone) -> None:
    a_path = clone("a")
    git(a_path, "branch", "taken")
    a = Registry.open(a_path)
    with pytest.raises(ConflictError, match="'taken' already exists"):
        a.publish(register, push=False, branch="taken")
    b_path = clone("b")
    git(b_path, "push", "--quiet", "origin", "main:refs/heads/on-remote")
    with pytest.raises(ConflictError, match="origin already has a branch named 'on-remote'"):
        Registry.open(b_path).publish(register, push=True, branch="on-remote")
    assert git(b_path, "branch", "--list", "on-remote").strip() == ""


def test_branch_name_must_be_valid(registry: Registry) -> None:
    with pytest.raises(GitError, match="not a valid branch name"):
        registry.publish(lambda r: None, branch="no..dots")


def test_a_failed_change_leaves_no_branch(remote: Path, clone: Clone) -> None:
    a = Registry.open(clone("a"))
    with pytest.raises(ConflictError):
        a.publish(lambda r: r.create_model(MODEL, name="X", framework="onnx"), branch="dup")
    assert git(a.root, "branch", "--list", "dup").strip() == ""
    assert git(a.root, "branch", "--show-current").strip() == "main"


def test_a_refused_branch_push_keeps_the_local_branch(remote: Path, clone: Clone) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'no new branches' >&2\nexit 1\n")
    hook.chmod(0o755)
    a = Registry.open(clone("a"))
    with pytest.raises(GitError, match="no new branches") as caught:
        a.publish(register, push=True, branch="proposal")
    assert "committed on the local branch proposal" in str(caught.value)
    assert "git push -u origin proposal" in str(caught.value)
    assert git(a.root, "branch", "--show-current").strip() == "main"
    assert remote_versions(a.root, ref="proposal") == [1, 2]
    assert git(remote, "branch", "--list", "proposal").strip() == ""


def test_a_remote_ref_lock_held_by_another_push_is_pushed_again(remote: Path, clone: Clone) -> None:
    # the first push finds the remote's ref locked, as while another push is landing;
    # the second finds it free
    lock = remote / "refs" / "heads" / "main.lock"
    seen = remote / "seen"
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\ncat >/dev/null\n"
        f"if [ -e {seen} ]; then rm -f {lock}; else touch {seen} {lock}; fi\n"
    )
    hook.chmod(0o755)
    a = Registry.open(clone("a"))
    done = a.publish(register, push=True)
    assert done.retries == 1 and done.value.version == 2
    assert remote_versions(remote) == [1, 2]
    assert remote_tip(remote) == done.commit
