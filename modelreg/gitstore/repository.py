"""A repository read from its files: where its folders are and which commit HEAD names,
for a process that answers from derived data and so needs neither libgit2 nor GitPython
loaded (a history read back from the lookups).

Refs are read the way git reads them: ``HEAD`` in the worktree's git folder, a branch
as a loose file in the common folder, else as a line of ``packed-refs``. Wherever the
files do not tell for sure (an unborn branch, the reftable format, anything odd), git
itself is asked, so the answer is always git's.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Protocol

from modelreg.gitstore import find_worktree
from modelreg.gitstore.executable import Git
from modelreg.gitstore.plumbing import Plumbing

_OBJECT_ID = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_PER_WORKTREE = ("refs/worktree/", "refs/bisect/", "refs/rewritten/")


class Readable(Protocol):
    """What reading history needs of a repository: :class:`modelreg.gitstore.GitStore`
    and :class:`Repository` alike."""

    @property
    def git(self) -> Git: ...

    @property
    def git_dir(self) -> Path: ...

    @property
    def common_dir(self) -> Path: ...

    @property
    def prefix(self) -> str: ...

    def head(self) -> str | None: ...

    def blob_at(self, commit: str, path: str) -> str | None: ...


class Repository:
    """The git repository holding a registry, with the registry at ``prefix`` inside its
    working tree. Build one with :meth:`find`."""

    def __init__(self, worktree: Path, git_dir: Path, common_dir: Path, prefix: str) -> None:
        self.worktree = worktree
        self.git_dir = git_dir
        self.common_dir = common_dir
        self.prefix = prefix  # "" or "sub/dir/" (posix, with trailing slash)
        self.git = Git(worktree)
        self._plumbing = Plumbing(self.git)

    @classmethod
    def find(cls, registry_root: Path) -> Repository | None:
        """The repository whose working tree holds ``registry_root``; None when its files
        do not say (no ``.git`` above it, or one this reader does not know)."""
        root = registry_root.resolve()
        top = find_worktree(root)
        if top is None:
            return None
        dot = top / ".git"
        found = dot if dot.is_dir() else _linked(top, dot)
        if found is None:
            return None
        git_dir = found.resolve()
        common = git_dir
        with contextlib.suppress(OSError):  # a linked worktree shares the main one's
            common = (git_dir / (git_dir / "commondir").read_text().strip()).resolve()
        rel = root.relative_to(top).as_posix()
        return cls(top, git_dir, common, "" if rel == "." else rel + "/")

    def head(self) -> str | None:
        """The commit HEAD points at (None on an unborn branch)."""
        found = self._head_from_files()
        return found if found is not None else self._plumbing.head()

    def blob_at(self, commit: str, path: str) -> str | None:
        """Object id of the file ``path`` (registry-relative) at ``commit``, by git."""
        return self._plumbing.blob_at(commit, (self.prefix + path).strip("/"))

    def _head_from_files(self) -> str | None:
        """HEAD's commit as the files hold it; None where only git can tell."""
        try:
            text = (self.git_dir / "HEAD").read_text().strip()
        except (OSError, UnicodeDecodeError):
            return None
        for _ in range(5):  # git follows at most a few symbolic refs too
            if not text.startswith("ref: "):
                return text if _OBJECT_ID.fullmatch(text) else None
            found = self._ref(text[5:].strip())
            if found is None:
                return None  # unborn, or refs kept another way (reftable): ask git
            text = found
        return None

    def _ref(self, name: str) -> str | None:
        """The content of ref ``name``: its loose file, which wins over its line in
        ``packed-refs``; None when neither holds it."""
        if not name.startswith("refs/") or name.startswith(_PER_WORKTREE):
            folder = self.git_dir
        else:
            folder = self.common_dir
        try:
            return (folder / name).read_text().strip()
        except (OSError, UnicodeDecodeError):
            pass
        if not name.startswith("refs/"):
            return None
        try:
            packed = (self.common_dir / "packed-refs").read_text()
        except (OSError, UnicodeDecodeError):
            return None
        for line in packed.splitlines():
            sha, _, ref = line.partition(" ")
            if ref == name and _OBJECT_ID.fullmatch(sha):
                return sha
        return None


def _linked(top: Path, dot: Path) -> Path | None:
    """The git folder a ``.git`` file names (a linked worktree, a submodule)."""
    try:
        text = dot.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("gitdir: "):
        return None
    found = top / text[len("gitdir: ") :].strip()
    return found if found.is_dir() else None
