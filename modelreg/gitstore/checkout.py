"""Where training code comes from: the repository, commit and path of a checkout
(for ``lineage.code``). Reads a git checkout other than the registry's."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from modelreg.errors import NotFoundError


@dataclass(frozen=True)
class CodeOrigin:
    repository: str | None  # the ``origin`` remote (else the first), without credentials
    commit: str
    path: str | None  # the given path inside the checkout, None for its top
    dirty: bool  # tracked files differ from the commit


def code_origin(path: Path) -> CodeOrigin:
    """The checkout holding ``path``. Raises :class:`NotFoundError` when ``path`` does not
    exist, is in no git checkout, or the checkout has no commit yet."""
    import git

    if not path.exists():
        raise NotFoundError(f"--code-from {path}: no such file or folder")
    try:
        repo = git.Repo(path if path.is_dir() else path.parent, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise NotFoundError(f"--code-from {path}: not inside a git checkout") from None
    with repo:
        try:
            commit = repo.head.commit.hexsha
        except ValueError:
            raise NotFoundError(f"--code-from {path}: the checkout has no commit yet") from None
        remotes = sorted(repo.remotes, key=lambda r: r.name != "origin")
        url = next(iter(remotes[0].urls), None) if remotes else None
        top = Path(repo.working_tree_dir or path).resolve()
        rel = path.resolve().relative_to(top).as_posix()
        dirty = repo.is_dirty(untracked_files=False)
    return CodeOrigin(_public(url), commit, None if rel == "." else rel, dirty)


def _public(url: str | None) -> str | None:
    """A remote URL without the user and password it may carry (``https://tok@host``)."""
    if url is None:
        return None
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]+@", r"\1", url)
