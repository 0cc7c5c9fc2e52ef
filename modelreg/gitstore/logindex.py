"""Path-limited history as a lookup: the commits that changed a file, derived once per
commit and kept in the git folder.

``git log REV -- PATH`` walks every commit of the history. Here each answer is
stored with the commit it was derived at (``.git/modelreg/logs``), so it can
never be stale: asked again at the same commit it is read back; asked at a
descendant, only the commits in between are walked (``git log NEW --not OLD --
PATH``) and put in front; asked anywhere else, it is derived afresh. The full
walks a fresh clone still makes use a commit-graph with changed-path Bloom
filters (written once, see :mod:`modelreg.gitstore.maintenance`), which lets git
skip the commits that did not touch the path without opening their trees.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from modelreg import derived
from modelreg.errors import GitError
from modelreg.gitstore import maintenance

if TYPE_CHECKING:
    from modelreg.gitstore import CommitInfo, GitStore

CACHE_VERSION = "modelreg-logs-1"
MAX_PATHS = 20_000  # paths remembered; past that the file starts afresh
_FORMAT = "--format=%H%x00%an%x00%ae%x00%at%x00%s"
Row = tuple[str, str, str, int, str]

_OPEN: weakref.WeakKeyDictionary[GitStore, LogIndex] = weakref.WeakKeyDictionary()


class LogIndex:
    """The log lookups of one repository (one per open store: :meth:`of`)."""

    def __init__(self, store: GitStore) -> None:
        self.store = store
        self.file = store.git_dir / "modelreg" / "logs"
        self._entries: dict[str, tuple[str, list[Row]]] | None = None  # path -> (commit, rows)
        self.dirty = False
        self.walks = 0  # full walks made (what a lookup avoids)

    @classmethod
    def of(cls, store: GitStore) -> LogIndex:
        found = _OPEN.get(store)
        if found is None:
            found = _OPEN[store] = cls(store)
        return found

    @property
    def entries(self) -> dict[str, tuple[str, list[Row]]]:
        if self._entries is None:
            self._entries = self._load()
        return self._entries

    def _load(self) -> dict[str, tuple[str, list[Row]]]:
        found = derived.load(self.file, CACHE_VERSION, 1)
        return {} if found is None else found[0]

    def log(self, path: str, commit: str) -> list[CommitInfo]:
        """Commits reachable from ``commit`` (an object id) that changed ``path``
        (registry-relative), newest first."""
        from modelreg.gitstore import CommitInfo

        rows = self._rows(path, commit)
        return [CommitInfo(*row) for row in rows]

    def _rows(self, path: str, commit: str) -> list[Row]:
        found = self.entries.get(path)
        if found is not None and found[0] == commit:
            return found[1]
        if found is not None and self._is_ancestor(found[0], commit):
            rows = self._git_log(commit, "--not", found[0], path) + found[1]
        else:
            maintenance.ensure_commit_graph(self.store)
            self.walks += 1
            rows = self._git_log(commit, path)
        if len(self.entries) >= MAX_PATHS:
            self.entries.clear()
        self.entries[path] = (commit, rows)
        self.dirty = True
        return rows

    def _is_ancestor(self, old: str, new: str) -> bool:
        return self.store.git.run("merge-base", "--is-ancestor", old, new).ok

    def _git_log(self, *args: str) -> list[Row]:
        *revs, path = args
        done = self.store.git.run("log", _FORMAT, *revs, "--", self.store.prefix + path)
        if not done.ok:
            raise GitError(f"git log of {path} failed: {done.last_words()}")
        rows = []
        for line in done.out.splitlines():
            sha, name, email, at, subject = line.split("\x00", 4)
            rows.append((sha, name, email, int(at), subject))
        return rows

    def save(self) -> None:
        """Keep the lookups for the next process (atomically; a failure loses only time)."""
        if not self.dirty or self._entries is None:
            return
        derived.dump(self.file, CACHE_VERSION, self._entries)
        self.dirty = False
