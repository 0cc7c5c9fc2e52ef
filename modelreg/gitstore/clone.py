"""A registry given by URL: ``git+https://host/org/repo.git@ref`` (``git+file://`` too),
kept as a shallow clone in a folder of the caller's choosing.

The clone holds one commit (``--depth 1``): a serving container needs the
manifests of today, not their history. Each online use fetches the ref again
(a branch moves); a full commit id already present is not fetched twice.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from modelreg.errors import GitError, NotFoundError

PREFIX = "git+"
FULL_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
TIMEOUT_S = 600


@dataclass(frozen=True)
class RemoteRegistry:
    """A parsed ``git+URL[@REF][#SUBFOLDER]``."""

    url: str  # what git is given (without ``git+``)
    ref: str | None  # branch, tag or commit; None: the remote's HEAD
    subfolder: str = ""  # a registry inside a larger repository

    @classmethod
    def parse(cls, text: str) -> RemoteRegistry:
        """Raises :class:`NotFoundError` for text that is not a ``git+`` URL."""
        if not is_git_url(text):
            raise NotFoundError(f"{text!r} is not a git URL (expected git+https://...@ref)")
        rest, _, subfolder = text[len(PREFIX) :].partition("#")
        # the ref follows the last '@' of the path (an '@' before it belongs to user@host)
        scheme, sep, after = rest.partition("://")
        host_end = after.find("/")
        path_part = after[host_end:] if host_end >= 0 else ""
        url, ref = rest, None
        if "@" in path_part:
            head, _, ref = path_part.rpartition("@")
            url = f"{scheme}{sep}{after[:host_end]}{head}"
        if ref == "":
            ref = None
        return cls(url, ref, subfolder.strip("/"))

    def __str__(self) -> str:
        text = f"{PREFIX}{self.url}" + (f"@{self.ref}" if self.ref else "")
        return text + (f"#{self.subfolder}" if self.subfolder else "")


def is_git_url(text: str) -> bool:
    return text.startswith(PREFIX) and "://" in text


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took more than {TIMEOUT_S} s") from None


def _head(folder: Path) -> str | None:
    if not (folder / ".git").exists():
        return None
    done = _run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], folder)
    return done.stdout.strip() if done.returncode == 0 else None


def sync(remote: RemoteRegistry, folder: Path, *, offline: bool = False) -> str:
    """Bring the shallow clone in ``folder`` to ``remote``'s ref and return its commit.

    Offline, the clone is used as it is (a :class:`NotFoundError` says when there is
    none yet). Raises :class:`GitError` with git's own words when the fetch fails.
    """
    have = _head(folder)
    if offline:
        if have is None:
            raise NotFoundError(
                f"offline, and {remote} was never fetched into {folder}; "
                "fetch it once online (without --offline / MODELREG_OFFLINE)"
            )
        return have
    if remote.ref and FULL_SHA.match(remote.ref) and have == remote.ref:
        return have
    folder.mkdir(parents=True, exist_ok=True)
    if have is None:
        done = _run(["init", "--quiet"], folder)
        if done.returncode != 0:
            raise GitError(f"cannot create a clone in {folder}: {done.stderr.strip()}")
    fetched = _run(
        ["fetch", "--quiet", "--depth", "1", "--no-tags", remote.url, remote.ref or "HEAD"],
        folder,
    )
    if fetched.returncode != 0:
        words = fetched.stderr.strip().splitlines()
        raise GitError(f"cannot fetch {remote}: {words[-1] if words else 'git failed'}")
    checkout = _run(["checkout", "--quiet", "--force", "--detach", "FETCH_HEAD"], folder)
    if checkout.returncode != 0:
        raise GitError(f"cannot check out {remote} in {folder}: {checkout.stderr.strip()}")
    commit = _head(folder)
    assert commit is not None
    return commit
