"""The repository set-ups teams really have: every write is a sound git commit, the one
``git commit`` would make, through the engine the set-up calls for."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from gitcheck import run, same_as_git_commit, sound

from modelreg import Registry
from modelreg.errors import GitError

MANIFEST = "models/churn/model.yaml"


def fresh(path: Path, *init: str) -> Path:
    path.mkdir(parents=True)
    run(path, "init", "--quiet", "--initial-branch=main", *init)
    return path


def plain(tmp: Path) -> Path:
    return tmp / "reg"


def sha256(tmp: Path) -> Path:
    return fresh(tmp / "reg", "--object-format=sha256")


def sub_folder(tmp: Path) -> Path:
    top = fresh(tmp / "mono")
    (top / "README.md").write_text("a monorepo\n")
    run(top, "add", "README.md")
    run(top, "commit", "--quiet", "-m", "monorepo")
    return top / "ml" / "registry"


def linked_worktree(tmp: Path) -> Path:
    main = fresh(tmp / "main")
    (main / "README.md").write_text("main checkout\n")
    run(main, "add", "README.md")
    run(main, "commit", "--quiet", "-m", "first")
    run(main, "worktree", "add", "--quiet", "-b", "registry", str(tmp / "linked"))
    return tmp / "linked"


def shared(tmp: Path) -> Path:
    return fresh(tmp / "reg", "--shared=group")


def hooks_pass(tmp: Path) -> Path:
    root = fresh(tmp / "reg")
    hooks = root / ".git" / "hooks"
    for name, body in {
        "pre-commit": "exit 0",
        "commit-msg": 'grep -q . "$1"',
        "post-commit": 'echo ran >> "$(git rev-parse --git-dir)/post-commit-ran"',
    }.items():
        (hooks / name).write_text(f"#!/bin/sh\n{body}\n")
        (hooks / name).chmod(0o755)
    return root


# set-ups made on a registry that exists already (name -> change, engine expected)
def autocrlf(root: Path) -> None:
    run(root, "config", "core.autocrlf", "true")
    for path in root.rglob("*.yaml"):  # a Windows checkout: CRLF in the working tree
        if ".git" not in path.parts:
            path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    run(root, "add", "--renormalize", ".")
    assert run(root, "status", "--porcelain") == ""


def index_v4(root: Path) -> None:
    run(root, "config", "index.version", "4")
    run(root, "update-index", "--index-version", "4")


def split_index(root: Path) -> None:
    run(root, "config", "core.splitIndex", "true")
    run(root, "update-index", "--split-index")


def sparse_index(root: Path) -> None:
    run(root, "sparse-checkout", "set", "--cone", "models", "schemas")
    run(root, "config", "index.sparse", "true")
    run(root, "sparse-checkout", "reapply")


def packed_refs(root: Path) -> None:
    run(root, "pack-refs", "--all")
    assert not (root / ".git/refs/heads/main").exists()


def after_gc(root: Path) -> None:
    run(root, "gc", "--quiet", "--prune=now")
    assert not any(p.is_file() for p in (root / ".git/objects").glob("??/*"))


def detached(root: Path) -> None:
    run(root, "checkout", "--quiet", "--detach")


def exec_bit(root: Path) -> None:
    (root / MANIFEST).chmod(0o755)
    run(root, "add", MANIFEST)
    run(root, "commit", "--quiet", "-m", "executable manifest")


def odd_names(root: Path) -> None:
    folder = os.fsencode(root / "models" / "churn")
    for name in (b"notes \xff\xfe.txt", b"star*?[x].txt", b'quote" and \\ back.txt'):
        with open(os.path.join(folder, name), "wb") as fh:
            fh.write(b"beside the manifest\n")
    run(root, "add", "models")
    run(root, "commit", "--quiet", "-m", "odd file names")


SETUPS: dict[str, tuple[Callable[[Path], Path], Callable[[Path], None] | None, str]] = {
    "plain": (plain, None, "libgit2"),
    "sha256": (sha256, None, "git"),
    "sub-folder": (sub_folder, None, "libgit2"),
    "linked-worktree": (linked_worktree, None, "libgit2"),
    "shared-group": (shared, None, "git"),
    "hooks-pass": (hooks_pass, None, "git"),
    "autocrlf": (plain, autocrlf, "libgit2"),
    "index-v4": (plain, index_v4, "libgit2"),
    "split-index": (plain, split_index, "git"),
    "sparse-index": (plain, sparse_index, "git"),
    "packed-refs": (plain, packed_refs, "libgit2"),
    "after-gc": (plain, after_gc, "libgit2"),
    "detached-head": (plain, detached, "libgit2"),
    "exec-bit": (plain, exec_bit, "libgit2"),
    "odd-file-names": (plain, odd_names, "libgit2"),
}


def churn(reg: Registry) -> None:
    reg.create_model("churn", name="Churn", framework="xgboost")
    reg.register_version("churn", metrics={"accuracy": 0.9})


@pytest.mark.parametrize("name", list(SETUPS))
def test_every_write_is_the_commit_git_makes(name: str, tmp_path: Path) -> None:
    where, change, engine = SETUPS[name]
    reg = Registry.init(where(tmp_path))
    root = reg.root
    top = Path(run(root, "rev-parse", "--show-toplevel").strip())
    churn(reg)
    sound(top)
    if change is not None:
        change(top)
    reg = Registry.open(root)
    assert reg.store.engine == engine, reg.store.features().reasons
    mode_before = run(top, "ls-tree", "HEAD", "--", str((root / MANIFEST).relative_to(top)))
    reg.register_version("churn", metrics={"accuracy": 0.93}, stage="production")
    sound(top)
    same_as_git_commit(top, tmp_path)
    reg.update("churn", description="after the set-up changed")
    reg.set_stage("churn", 1, "archived")
    sound(top)
    same_as_git_commit(top, tmp_path)
    assert reg.get("churn").latest_version == 2
    assert Registry.open(root).get("churn").versions[0].stage == "archived"
    mode_after = run(top, "ls-tree", "HEAD", "--", str((root / MANIFEST).relative_to(top)))
    assert mode_before.split()[0] == mode_after.split()[0]  # an executable manifest stays one
    reg.delete("churn")
    sound(top)
    assert not (root / "models" / "churn" / "model.yaml").exists()
    if name == "shared-group":
        new_object = run(top, "rev-parse", "HEAD")
        assert new_object and stat.S_IMODE((top / ".git/objects").stat().st_mode) & 0o070 == 0o070
    if name == "hooks-pass":
        assert (top / ".git/post-commit-ran").read_text().count("ran") >= 4
    if name == "detached-head":
        assert run(top, "branch", "--show-current").strip() == ""
    if name == "linked-worktree":
        assert run(top, "log", "-1", "--format=%s", "registry").strip()
        assert not (top / ".git").is_dir()


def test_reflog_says_what_git_commit_says(tmp_path: Path) -> None:
    reg = Registry.init(tmp_path / "reg")
    churn(reg)
    lines = run(reg.root, "reflog", "--format=%gs", "HEAD").splitlines()
    branch = run(reg.root, "reflog", "--format=%gs", "main").splitlines()
    assert lines == branch
    assert lines[0] == "commit: churn: register version 1"
    assert lines[-1].startswith("commit (initial): Initialise modelreg registry")


def test_a_refusing_hook_refuses_the_write_with_its_message(tmp_path: Path) -> None:
    reg = Registry.init(tmp_path / "reg")
    churn(reg)
    hook = reg.root / ".git/hooks/pre-commit"
    hook.write_text("#!/bin/sh\necho 'policy: manifests need a ticket' >&2\nexit 1\n")
    hook.chmod(0o755)
    tip = run(reg.root, "rev-parse", "HEAD")
    text = (reg.root / MANIFEST).read_bytes()
    staged = run(reg.root, "ls-files", "--stage")
    reg = Registry.open(reg.root)
    with pytest.raises(GitError, match="policy: manifests need a ticket"):
        reg.register_version("churn")
    assert run(reg.root, "rev-parse", "HEAD") == tip
    assert (reg.root / MANIFEST).read_bytes() == text
    assert run(reg.root, "ls-files", "--stage") == staged
    sound(reg.root)
    with pytest.raises(GitError, match="policy"):  # a new model (a new file) too
        reg.create_model("other", name="Other", framework="onnx")
    assert not (reg.root / "models/other").exists()
    sound(reg.root)
    hook.write_text("#!/bin/sh\nexit 0\n")
    reg.register_version("churn")  # nothing was left behind to block the next write
    sound(reg.root)


def test_a_commit_msg_hook_sees_the_message(tmp_path: Path) -> None:
    reg = Registry.init(tmp_path / "reg")
    hook = reg.root / ".git/hooks/commit-msg"
    hook.write_text(
        '#!/bin/sh\ngrep -q "register version" "$1" || { echo "say what" >&2; exit 1; }\n'
    )
    hook.chmod(0o755)
    with pytest.raises(GitError, match="say what"):
        reg.create_model("churn", name="Churn", framework="xgboost")
    sound(reg.root)


def test_signed_commits_with_a_throw_away_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("GNUPGHOME", str(home))
    import subprocess

    subprocess.run(
        [
            "gpg",
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "Registry Test <signer@example.com>",
            "ed25519",
            "sign",
            "never",
        ],
        check=True,
        capture_output=True,
    )
    reg = Registry.init(tmp_path / "reg")
    run(reg.root, "config", "commit.gpgsign", "true")
    run(reg.root, "config", "user.signingkey", "signer@example.com")
    reg = Registry.open(reg.root)
    assert reg.store.engine == "git"
    churn(reg)
    sound(reg.root)
    for sha in run(reg.root, "rev-list", "HEAD", "-2").split():
        run(reg.root, "verify-commit", sha)  # raises unless signed by our key
    assert (
        "Good signature"
        in subprocess.run(
            ["git", "log", "-1", "--show-signature"], cwd=reg.root, capture_output=True, text=True
        ).stdout
    )


@pytest.mark.parametrize(
    "name, email",
    [
        ("Build Bot <bot@ci>", "bot@ci"),
        ("Line\nBreak", "nl@example.com"),
        ("  'Quoted, Person';  ", " <odd@example.com> "),
        ("Zoë Ünïcode 李", "zoe@example.com"),
    ],
)
def test_odd_author_names_are_cleaned_as_git_cleans_them(
    name: str, email: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = Registry.init(tmp_path / "reg")
    monkeypatch.setenv("GIT_AUTHOR_NAME", name)
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", email)
    churn(reg)
    sound(reg.root)
    ident = run(reg.root, "var", "GIT_AUTHOR_IDENT")
    expected = ident.rsplit(" ", 2)[0]
    got = run(reg.root, "log", "-1", "--format=%an <%ae>")
    assert got.strip() == expected
    same_as_git_commit(reg.root, tmp_path)


def test_dates_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reg = Registry.init(tmp_path / "reg")
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2005-04-07T22:13:13+0200")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "@1700000000 -0500")
    churn(reg)
    got = run(reg.root, "log", "-1", "--format=%ad|%cd", "--date=raw").strip()
    assert got == "1112904793 +0200|1700000000 -0500"
    same_as_git_commit(reg.root, tmp_path)


def test_identity_from_config_and_a_clear_error_without_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = Registry.init(tmp_path / "reg")
    for var in ("NAME", "EMAIL"):
        for role in ("AUTHOR", "COMMITTER"):
            monkeypatch.delenv(f"GIT_{role}_{var}")
    monkeypatch.delenv("EMAIL", raising=False)
    run(reg.root, "config", "user.email", "config@example.com")
    with pytest.raises(GitError, match=r"user\.name"):
        reg.create_model("churn", name="Churn", framework="xgboost")
    sound(reg.root)
    run(reg.root, "config", "user.name", "Config Person")
    churn(reg)
    assert run(reg.root, "log", "-1", "--format=%an <%ae>|%cn <%ce>").strip() == (
        "Config Person <config@example.com>|Config Person <config@example.com>"
    )


def test_identity_and_signing_from_the_files_git_reads(tmp_path: Path) -> None:
    """Without GIT_CONFIG_* in the environment the configuration is read by libgit2
    from the files git reads (here ``$HOME/.gitconfig``): same identity, same choice."""
    import subprocess
    import sys

    reg = Registry.init(tmp_path / "reg")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Home Person\n\temail = home@example.com\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "EMAIL"))}
    env["HOME"] = str(home)
    script = (
        "import sys\nfrom modelreg import Registry\n"
        "reg = Registry.open(sys.argv[1])\n"
        "reg.create_model('churn', name='Churn', framework='xgboost')\n"
        "print(reg.store.engine)\n"
    )

    def write() -> str:
        return subprocess.run(
            [sys.executable, "-c", script, str(reg.root)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    assert write() == "libgit2"
    got = run(reg.root, "log", "-1", "--format=%an <%ae>|%cn <%ce>", env=env).strip()
    assert got == "Home Person <home@example.com>|Home Person <home@example.com>"
    sound(reg.root)
    run(reg.root, "rm", "-r", "--quiet", "models/churn")
    run(reg.root, "commit", "--quiet", "-m", "remove", env={"HOME": str(home)})
    with open(home / ".gitconfig", "a") as fh:
        fh.write("[core]\n\thooksPath = hooks-of-home\n")
    hooks = reg.root / "hooks-of-home"
    hooks.mkdir()
    (hooks / "pre-commit").write_text("#!/bin/sh\necho from home >&2\nexit 1\n")
    (hooks / "pre-commit").chmod(0o755)
    failed = subprocess.run(
        [sys.executable, "-c", script, str(reg.root)], env=env, capture_output=True, text=True
    )
    assert failed.returncode != 0 and "from home" in failed.stderr
