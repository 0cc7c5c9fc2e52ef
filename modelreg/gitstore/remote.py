"""Meeting other clones: branches, fetch, push (through GitPython), never a force push.

Functions over a :class:`~modelreg.gitstore.GitStore`. Each git command that
moves the branch or the working tree forgets the store's cached index, since
git rewrote it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelreg.errors import ConflictError, GitError

if TYPE_CHECKING:
    from modelreg.gitstore import GitStore


@dataclass(frozen=True)
class PushOutcome:
    """What the remote answered to one push.

    ``ok``: the remote branch now holds the commit. ``rejected``: the push was
    refused, either as not fast-forward (someone pushed first) or by the remote
    (a hook, a lost ref-lock race); ``message`` holds git's and the remote's words.
    """

    ok: bool
    rejected: bool
    message: str

    @property
    def lock_race(self) -> bool:
        """The remote could not lock its ref: another push was landing at that moment."""
        return self.rejected and (
            "cannot lock ref" in self.message or "failed to lock" in self.message
        )


def _git(store: GitStore, *args: str) -> tuple[int, str, str]:
    """Run ``git ARGS`` in the store's working tree: (exit code, stdout, stderr)."""
    done = store.git.run(*args)
    return done.code, done.out, done.err


def current_branch(store: GitStore) -> str:
    """The checked-out branch's name. Raises :class:`GitError` on a detached HEAD."""
    text = (store.git_dir / "HEAD").read_text().strip()
    if not text.startswith("ref: refs/heads/"):
        raise GitError("HEAD is detached: check out a branch first (git switch main)")
    return text[len("ref: refs/heads/") :]


def check_branch_name(store: GitStore, name: str) -> None:
    """Raises :class:`GitError` if git would not accept ``name`` as a branch name."""
    code, _, _ = _git(store, "check-ref-format", "--branch", name)
    if code != 0 or name.startswith("-"):
        raise GitError(f"{name!r} is not a valid branch name")


def local_tip(store: GitStore, ref: str) -> str | None:
    """The commit ``ref`` (a full ref name) points at, None if there is no such ref."""
    code, out, _ = _git(store, "rev-parse", "--verify", "--quiet", ref + "^{commit}")
    return out.strip() if code == 0 and out.strip() else None


def remote_url(store: GitStore, remote: str) -> str:
    """The fetch URL of ``remote``. Raises :class:`GitError` if it is not configured."""
    code, out, _ = _git(store, "remote", "get-url", remote)
    if code != 0:
        raise GitError(
            f"no git remote {remote!r} in {store.worktree} (add one with "
            f"`git remote add {remote} URL`, or name another in modelreg.yaml git.remote)"
        )
    return out.strip()


def remote_has_branch(store: GitStore, remote: str, branch: str) -> bool:
    """Whether the remote has ``branch`` now (asks the remote)."""
    code, out, err = _git(store, "ls-remote", "--heads", remote, f"refs/heads/{branch}")
    if code != 0:
        raise GitError(f"cannot reach remote {remote!r}: {_last_words(err)}")
    return bool(out.strip())


def fetch(store: GitStore, remote: str, branch: str) -> str | None:
    """Fetch ``branch`` into ``refs/remotes/REMOTE/BRANCH``; its tip, None if the remote
    has no such branch. Raises :class:`GitError` if the remote cannot be read."""
    tracking = f"refs/remotes/{remote}/{branch}"
    code, _, err = _git(
        store, "fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:{tracking}"
    )
    if code != 0:
        if "couldn't find remote ref" in err:
            return None
        raise GitError(f"fetching {branch} from {remote!r} failed: {_last_words(err)}")
    return local_tip(store, tracking)


def is_ancestor(store: GitStore, older: str, newer: str) -> bool:
    """Whether commit ``older`` is in the history of ``newer`` (or is it)."""
    code, _, _ = _git(store, "merge-base", "--is-ancestor", older, newer)
    return code == 0


def count_between(store: GitStore, older: str, newer: str) -> int:
    """How many commits ``newer`` has that ``older`` has not."""
    _, out, _ = _git(store, "rev-list", "--count", f"{older}..{newer}")
    return int(out.strip() or 0)


def move_branch(store: GitStore, commit: str) -> None:
    """Point the current branch at ``commit``, bringing the index and the working tree
    along (``git reset --keep``: edits to files the move does not touch are kept).

    Raises :class:`ConflictError` if a file the move must change has local edits.
    """
    code, _, err = _git(store, "reset", "--keep", "--quiet", commit)
    store.forget_index()
    if code != 0:
        raise ConflictError(
            f"cannot move the branch to {commit[:12]}: {_last_words(err)} "
            "(commit or discard your edits first)"
        )


def switch(store: GitStore, branch: str, *, create: bool = False) -> None:
    """Check out ``branch`` (created at HEAD with ``create``); local edits are carried.

    Raises :class:`GitError` if git refuses.
    """
    args = ["checkout", "--quiet", *(["-b"] if create else []), branch]
    code, _, err = _git(store, *args)
    store.forget_index()
    if code != 0:
        raise GitError(f"cannot check out {branch}: {_last_words(err)}")


def delete_branch(store: GitStore, branch: str) -> None:
    """Remove a local branch (one modelreg created and that holds nothing)."""
    _git(store, "branch", "--quiet", "-D", branch)


def push(store: GitStore, remote: str, branch: str, *, set_upstream: bool = False) -> PushOutcome:
    """Push local ``branch`` to the remote branch of the same name; never forced.

    Every failure is an outcome, never an exception: a refused push (GitPython
    reports it in flags) is ``rejected``; a remote that cannot be reached is not.
    """
    import git

    progress = git.RemoteProgress()
    spec = f"refs/heads/{branch}:refs/heads/{branch}"
    try:
        with _quiet_gitpython():
            infos = store.repo.remote(remote).push(
                spec, progress=progress, **({"set_upstream": True} if set_upstream else {})
            )
    except ValueError:  # GitPython: no such remote
        remote_url(store, remote)  # raises the clear error
        raise
    except git.GitCommandError as exc:  # nothing reached the remote (unreachable, auth)
        return PushOutcome(False, False, _last_words(str(exc.stderr)))
    said = [
        line.strip()
        for line in progress.other_lines + progress.error_lines
        if line.startswith("remote:") or line.startswith(("error:", "fatal:"))
    ]
    failed = [
        i for i in infos if i.flags & (i.ERROR | i.REJECTED | i.REMOTE_REJECTED | i.REMOTE_FAILURE)
    ]
    if not infos:
        return PushOutcome(False, False, "; ".join(said) or "git push reported nothing")
    if not failed:
        return PushOutcome(True, False, "")
    summary = failed[0].summary.strip()
    rejected = bool(failed[0].flags & (failed[0].REJECTED | failed[0].REMOTE_REJECTED))
    return PushOutcome(False, rejected, "; ".join([summary, *said]))


@contextlib.contextmanager
def _quiet_gitpython() -> Iterator[None]:
    # GitPython logs a refused push as a warning; the caller reports it instead
    import logging  # only when pushing: a cold write without --push skips it

    logger = logging.getLogger("git.remote")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _last_words(stderr: str) -> str:
    lines = [
        line.strip().removeprefix("stderr: ").strip("'")
        for line in stderr.strip().splitlines()
        if line.strip() and not line.strip().startswith("hint:")
    ]
    return "; ".join(lines) or "git gave no reason"
