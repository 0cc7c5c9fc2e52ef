"""Where a registry lives: the folder holding ``modelreg.yaml``, and its cache file."""

from __future__ import annotations

from pathlib import Path

from modelreg.errors import NotFoundError
from modelreg.gitstore import find_worktree
from modelreg.layout import CONFIG_FILE

CACHE_FILE = "modelreg/manifests.cache"  # inside the repository's .git folder


def find_registry(start: Path) -> Path:
    """The folder holding ``modelreg.yaml``: ``start`` or the nearest parent."""
    start = start.resolve()
    if not start.exists():
        raise NotFoundError(f"{start} does not exist (check -R/--registry or $MODELREG_REGISTRY)")
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise NotFoundError(
        f"no {CONFIG_FILE} in {start} or any parent folder "
        "(create a registry with `modelreg init`, or pass --registry)"
    )


def prefix(root: Path) -> str:
    """Where the registry in ``root`` sits in its git repository: "" or "sub/dir/"."""
    top = find_worktree(root)
    if top is None or top == root.resolve():
        return ""
    return root.resolve().relative_to(top).as_posix() + "/"


def cache_file(root: Path) -> Path | None:
    """Where the manifest cache of the registry in ``root`` is kept (None: no .git folder
    to keep it in, as in a linked worktree or outside git)."""
    top = find_worktree(root)
    dot_git = top / ".git" if top is not None else None
    return dot_git / CACHE_FILE if dot_git is not None and dot_git.is_dir() else None
