"""Path-limited history as a lookup: the commits that changed a file, and the file's blob
after each of them, derived once per commit and kept in the git folder.

``git log REV -- PATH`` walks every commit of the history. Here each answer is
stored with the commit it was derived at (``.git/modelreg/log/``, one small file
per path, so a lookup reads what it asks for and no more), so it can never be
stale: asked again at the same commit it is read back; asked at a descendant,
only the commits in between are walked (``git log NEW --not OLD -- PATH``) and
put in front; asked anywhere else (a rewritten branch, an older commit), it is
derived afresh. The full walks a fresh clone still makes use a commit-graph with
changed-path Bloom filters (written once, see :mod:`modelreg.gitstore.maintenance`),
which lets git skip the commits that did not touch the path without opening their
trees. The blob ids come from the same walk (``--raw``), so a reader of the
states needs no tree opened either.
"""

from __future__ import annotations

import hashlib
import weakref
from typing import TYPE_CHECKING

from modelreg import derived
from modelreg.errors import GitError
from modelreg.gitstore import maintenance

if TYPE_CHECKING:
    from pathlib import Path

    from modelreg.gitstore import CommitInfo
    from modelreg.gitstore.repository import Readable

CACHE_VERSION = "modelreg-log-2"
FOLDER = "modelreg/log"  # inside the worktree's git folder
# a record starts with \0\1 (neither can be in a commit's header or subject); the raw
# diff lines of the path follow its fields
_FORMAT = "--format=%x00%x01%H%x00%an%x00%ae%x00%at%x00%s%x00"
# (commit, author, email, time, subject, the path's blob after the commit: "" when the
# commit deleted it)
Row = tuple[str, str, str, int, str, str]

_OPEN: weakref.WeakKeyDictionary[Readable, LogIndex] = weakref.WeakKeyDictionary()


class LogIndex:
    """The log lookups of one repository (one per open repository: :meth:`of`)."""

    def __init__(self, store: Readable) -> None:
        self.store = store
        self.folder = store.git_dir / FOLDER
        self._entries: dict[str, tuple[str, list[Row]] | None] = {}  # path -> (commit, rows)
        self._dirty: set[str] = set()
        self.walks = 0  # full walks made (what a lookup avoids)

    @classmethod
    def of(cls, store: Readable) -> LogIndex:
        found = _OPEN.get(store)
        if found is None:
            found = _OPEN[store] = cls(store)
        return found

    def log(self, path: str, commit: str) -> list[CommitInfo]:
        """Commits reachable from ``commit`` (an object id) that changed ``path``
        (registry-relative), newest first."""
        return [info for info, _ in self.states(path, commit)]

    def states(self, path: str, commit: str) -> list[tuple[CommitInfo, str | None]]:
        """Like :meth:`log`, each commit with the object id of ``path``'s blob after it
        (None: the commit deleted it)."""
        from modelreg.gitstore import CommitInfo

        return [(CommitInfo(*row[:5]), row[5] or None) for row in self._rows(path, commit)]

    def _file(self, path: str) -> Path:
        """Where the lookup of ``path`` is kept: one file per path, named by its hash."""
        return self.folder / hashlib.sha1((self.store.prefix + path).encode()).hexdigest()

    def _entry(self, path: str) -> tuple[str, list[Row]] | None:
        if path not in self._entries:
            found = derived.load(self._file(path), (CACHE_VERSION, path), 2)
            self._entries[path] = None if found is None else (found[0], found[1])
        return self._entries[path]

    def _rows(self, path: str, commit: str) -> list[Row]:
        found = self._entry(path)
        if found is not None and found[0] == commit:
            return found[1]
        if found is not None and self._is_ancestor(found[0], commit):
            rows = self._git_log(path, commit, "--not", found[0]) + found[1]
        else:
            maintenance.ensure_commit_graph(self.store)
            self.walks += 1
            rows = self._git_log(path, commit)
        self._entries[path] = (commit, rows)
        self._dirty.add(path)
        return rows

    def _is_ancestor(self, old: str, new: str) -> bool:
        return self.store.git.run("merge-base", "--is-ancestor", old, new).ok

    def _git_log(self, path: str, *revs: str) -> list[Row]:
        full = self.store.prefix + path
        done = self.store.git.run(
            "log",
            _FORMAT,
            "--raw",
            "-c",  # a merge that changed the path shows its blob too
            "--no-abbrev",
            "--no-renames",
            "--no-color",
            "--no-show-signature",
            *revs,
            "--",
            full,
        )
        if not done.ok:
            raise GitError(f"git log of {path} failed: {done.last_words()}")
        rows = []
        for record in done.out.split("\0\1")[1:]:
            sha, name, email, at, subject, diff = record.split("\0", 5)
            blob = _blob(diff, full)
            if blob is None:  # not in the walk's output (git's config hid it): ask
                blob = self.store.blob_at(sha, path) or ""
            rows.append((sha, name, email, int(at), subject, blob))
        return rows

    def save(self) -> None:
        """Keep the lookups for the next process (atomically; a failure loses only time)."""
        for path in sorted(self._dirty):
            found = self._entries.get(path)
            if found is not None:
                derived.dump(self._file(path), (CACHE_VERSION, path), *found)
        self._dirty.clear()


def _blob(diff: str, path: str) -> str | None:
    """The blob id after the commit in ``--raw`` lines (``:old-mode new-mode old new
    status\\tpath``; a merge's ``::`` line has one mode and one id per parent, then the
    result's): "" for a deletion, None when no line names ``path``."""
    lines = [line for line in diff.splitlines() if line.startswith(":")]
    for line in lines:
        meta, _, name = line.partition("\t")
        if name == path or (len(lines) == 1 and name.startswith('"')):
            blob = meta.split()[-2]
            return "" if blob.strip("0") == "" else blob
    return None
