"""Checks a test makes after every write: git finds the repository sound, clean and
holding the commit ``git commit`` would have made."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        errors="surrogateescape",
        env={**os.environ, **(env or {})},
    ).stdout


def loose_objects(root: Path) -> int:
    """How many loose objects the repository holds (``git count-objects``)."""
    counts = dict(line.split(": ") for line in run(root, "count-objects", "-v").splitlines())
    return int(counts["count"])


def sound(root: Path) -> None:
    """``git fsck --full --strict`` clean, nothing to commit, the log readable."""
    fsck = subprocess.run(
        ["git", "fsck", "--full", "--strict", "--no-dangling"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert fsck.returncode == 0 and "error" not in fsck.stderr, fsck.stderr
    assert run(root, "status", "--porcelain", "--untracked-files=all") == ""
    assert run(root, "log", "--format=%H %an <%ae>", "-3")
    # the index holds exactly the commit's tree
    assert run(root, "write-tree").strip() == run(root, "rev-parse", "HEAD^{tree}").strip()


def same_as_git_commit(root: Path, tmp: Path) -> None:
    """Make the last commit again with ``git commit`` in a copy of the repository at its
    parent (same files, same message, same dates) and compare: tree, parents,
    author, committer and message must be identical, hence the commit id too."""
    commit = run(root, "rev-parse", "HEAD").strip()
    copy = tmp / "again"
    if copy.exists():
        shutil.rmtree(copy)
    top = Path(run(root, "rev-parse", "--show-toplevel").strip())
    shutil.copytree(top, copy, symlinks=True)
    changed = run(copy, "diff-tree", "--no-commit-id", "--name-only", "-r", "-z", "HEAD")
    message = run(copy, "log", "-1", "--format=%B", "HEAD")
    fields = run(copy, "log", "-1", "--format=%an%n%ae%n%ad%n%cn%n%ce%n%cd", "--date=raw", "HEAD")
    an, ae, ad, cn, ce, cd = fields.splitlines()
    run(copy, "reset", "--quiet", "--soft", "HEAD^")
    paths = [p for p in changed.split("\0") if p]
    env = {
        "GIT_AUTHOR_NAME": an,
        "GIT_AUTHOR_EMAIL": ae,
        "GIT_AUTHOR_DATE": ad,
        "GIT_COMMITTER_NAME": cn,
        "GIT_COMMITTER_EMAIL": ce,
        "GIT_COMMITTER_DATE": cd,
    }
    run(copy, "commit", "--quiet", "--no-verify", "--allow-empty", "-m", message, env=env)
    again = run(copy, "rev-parse", "HEAD").strip()
    assert paths
    assert again == commit, (
        run(copy, "cat-file", "-p", again)
        + "\n--- modelreg made ---\n"
        + run(root, "cat-file", "-p", commit)
    )
