"""What a repository asks of whoever commits in it, and so which engine commits.

The in-process engine (libgit2) makes the commit ``git commit`` would make in a
plain repository. Some set-ups ask for what libgit2 does not do: hooks to run,
a signature, SHA-256 objects, a split or sparse index, group-shared file
modes. There git itself commits. Pure: decided from git's configuration and
what is in the git folders.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# hooks `git commit` (and the ref and index updates under it) may run
COMMIT_HOOKS = (
    "pre-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "post-index-change",
    "reference-transaction",
)

# the settings that decide the engine and the identity (lower-cased, as git prints them)
CONFIG_KEYS = (
    "user.name",
    "user.email",
    "commit.gpgsign",
    "core.hookspath",
    "core.splitindex",
    "index.sparse",
    "core.sharedrepository",
    "extensions.objectformat",
    "gc.auto",  # automatic maintenance after in-process commits (see maintenance.py)
    "gc.autopacklimit",
)

_FALSE = {"false", "no", "off", "0", ""}


def _true(value: str | None) -> bool:
    return value is not None and value.strip().lower() not in _FALSE


@dataclass(frozen=True)
class Features:
    """Why git itself must commit here; empty means the in-process engine may."""

    reasons: tuple[str, ...]

    @property
    def needs_git(self) -> bool:
        return bool(self.reasons)


def hooks_folder(config: Mapping[str, str], common_dir: Path, worktree: Path) -> Path:
    """Where git looks for hooks: ``core.hooksPath`` (relative to the working tree),
    else ``hooks/`` in the common git folder."""
    configured = config.get("core.hookspath")
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_absolute() else worktree / path
    return common_dir / "hooks"


def active_hooks(folder: Path) -> list[str]:
    """The commit hooks present and executable in ``folder`` (samples do not count)."""
    return [
        name
        for name in COMMIT_HOOKS
        if (folder / name).is_file() and os.access(folder / name, os.X_OK)
    ]


def features(config: Mapping[str, str], common_dir: Path, worktree: Path) -> Features:
    """Decide, from git's configuration and folders, whether git itself must commit.
    (An index libgit2 cannot read, such as a split index made without the setting,
    is found when the in-process engine opens it.)"""
    reasons = []
    if config.get("extensions.objectformat", "sha1").lower() != "sha1":
        reasons.append("SHA-256 object format")
    hooks = active_hooks(hooks_folder(config, common_dir, worktree))
    if hooks:
        reasons.append("hooks (" + ", ".join(hooks) + ")")
    if _true(config.get("commit.gpgsign")):
        reasons.append("commit.gpgsign")
    if _true(config.get("core.splitindex")):
        reasons.append("split index")
    if _true(config.get("index.sparse")):
        reasons.append("sparse index")
    shared = config.get("core.sharedrepository")
    if shared is not None and shared.strip().lower() not in {"false", "umask", "0", "no", "off"}:
        reasons.append("core.sharedRepository")
    return Features(tuple(reasons))
