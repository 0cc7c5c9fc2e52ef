"""Git, through GitPython: read a registry at any commit, commit in-process, log, lock.

This package is the only place that imports GitPython. Commits are written
straight into git's object database (blobs, only the trees on the changed
paths, the commit) and the branch is moved with a reflog entry; no ``git``
process is started per write. The working tree and the index are brought to
the new commit afterwards, so ``git status`` stays clean.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from struct import pack
from typing import TYPE_CHECKING, Any

from modelreg.errors import ConflictError, GitError, NotFoundError

if TYPE_CHECKING:
    import git

BLOB_MODE = 0o100644
TREE_MODE = 0o040000
LOCK_TIMEOUT_S = 120.0


def blob_id(data: bytes) -> str:
    """The id git gives ``data`` as a blob (so unchanged files are recognised without git)."""
    h = hashlib.sha1(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


def find_worktree(start: Path) -> Path | None:
    """The top of the git working tree holding ``start`` (without starting git)."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    author: str
    email: str
    time: int  # seconds since the epoch, from the commit
    message: str


def _tree_key(entry: tuple[bytes, int, str]) -> str:
    # git orders tree entries as if directory names ended in "/"
    return entry[2] + "/" if entry[1] == TREE_MODE else entry[2]


class GitStore:
    """One git repository, with the registry at ``prefix`` inside its working tree."""

    def __init__(self, repo: git.Repo, prefix: str) -> None:
        self.repo = repo
        self.prefix = prefix  # "" or "sub/dir/" (posix, with trailing slash)
        self._trees: dict[bytes, list[tuple[bytes, int, str]]] = {}
        self._index: Any = None
        self._index_stamp: tuple[int, int] | None = None

    # ------------------------------------------------------------- opening

    @classmethod
    def open(cls, registry_root: Path) -> GitStore:
        import git

        try:
            repo = git.Repo(registry_root, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise GitError(f"{registry_root} is not inside a git repository") from None
        top = Path(repo.working_tree_dir or registry_root).resolve()
        rel = registry_root.resolve().relative_to(top).as_posix()
        return cls(repo, "" if rel == "." else rel + "/")

    @classmethod
    def init(cls, registry_root: Path) -> GitStore:
        import git

        if find_worktree(registry_root.resolve()) is None:
            git.Repo.init(registry_root, initial_branch="main")
        return cls.open(registry_root)

    @property
    def git_dir(self) -> Path:
        return Path(self.repo.git_dir)

    @property
    def worktree(self) -> Path:
        return Path(self.repo.working_tree_dir or ".")

    # ------------------------------------------------------------- refs

    def head(self) -> str | None:
        try:
            return self.repo.head.commit.hexsha
        except ValueError:  # unborn branch: no commit yet
            return None

    def resolve(self, ref: str) -> str:
        """The commit a ref names; a clear error for an unknown or unfetched one."""
        import git

        try:
            return self.repo.commit(ref).hexsha
        except (git.BadName, git.BadObject, ValueError):
            hint = ""
            if (self.git_dir / "shallow").exists():
                hint = (" (this is a shallow clone: fetch more history with "
                        "`git fetch --unshallow` or `fetch-depth: 0` in CI)")
            raise NotFoundError(f"unknown git ref {ref!r}{hint}") from None

    def commit_info(self, sha: str) -> CommitInfo:
        c = self.repo.commit(sha)
        return CommitInfo(c.hexsha, str(c.author.name), str(c.author.email), c.authored_date,
                          str(c.message).strip())

    # ------------------------------------------------------------- reading

    def _tree(self, binsha: bytes) -> list[tuple[bytes, int, str]]:
        from git.objects.fun import tree_entries_from_data

        cached = self._trees.get(binsha)
        if cached is None:
            cached = tree_entries_from_data(self.repo.odb.stream(binsha).read())
            self._trees[binsha] = cached
        return cached

    def _root_tree(self, commit: str) -> bytes:
        return self.repo.commit(commit).tree.binsha

    def _lookup(self, tree: bytes, path: str) -> tuple[bytes, int] | None:
        binsha, mode = tree, TREE_MODE
        for part in path.strip("/").split("/"):
            if mode != TREE_MODE:
                return None
            for sha, m, name in self._tree(binsha):
                if name == part:
                    binsha, mode = sha, m
                    break
            else:
                return None
        return binsha, mode

    def listdir(self, commit: str, path: str) -> dict[str, tuple[str, bool]]:
        """Entries of a folder of the registry at ``commit``: name -> (object id, is_dir)."""
        found = self._lookup(self._root_tree(commit), self.prefix + path)
        if found is None or found[1] != TREE_MODE:
            return {}
        return {name: (sha.hex(), m == TREE_MODE) for sha, m, name in self._tree(found[0])}

    def blob_at(self, commit: str, path: str) -> str | None:
        """Object id of the file ``path`` (registry-relative) at ``commit``."""
        found = self._lookup(self._root_tree(commit), self.prefix + path)
        if found is None or found[1] == TREE_MODE:
            return None
        return found[0].hex()

    def read_blob(self, sha: str) -> bytes:
        return self.repo.odb.stream(bytes.fromhex(sha)).read()  # type: ignore[no-any-return]

    def log(self, path: str, rev: str = "HEAD") -> list[CommitInfo]:
        """Commits that changed ``path`` (registry-relative), newest first."""
        if self.head() is None:
            return []
        out = self.repo.git.log(rev, "--format=%H%x00%an%x00%ae%x00%at%x00%s", "--",
                                self.prefix + path)
        infos = []
        for line in out.splitlines():
            sha, name, email, at, subject = line.split("\x00", 4)
            infos.append(CommitInfo(sha, name, email, int(at), subject))
        return infos

    def path_times(self, path: str, rev: str = "HEAD") -> dict[str, tuple[int, int]]:
        """For each file under ``path``: (first, last) commit time that touched it, one git call."""
        if self.head() is None:
            return {}
        out = self.repo.git.log(rev, "--format=>%at", "--name-only", "--", self.prefix + path)
        times: dict[str, tuple[int, int]] = {}
        current = 0
        for line in out.splitlines():
            if line.startswith(">"):
                current = int(line[1:])
            elif line:
                rel = line[len(self.prefix):]
                first, last = times.get(rel, (current, current))
                times[rel] = (min(first, current), max(last, current))
        return times

    # ------------------------------------------------------------- writing

    @contextlib.contextmanager
    def lock(self, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
        """Serialise writers of this clone (threads and processes alike)."""
        path = self.git_dir / "modelreg.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise ConflictError(
                            f"another modelreg write holds {path} (waited {timeout:.0f} s)"
                        ) from None
                    time.sleep(0.005)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _store(self, kind: bytes, data: bytes) -> bytes:
        from gitdb.base import IStream

        return self.repo.odb.store(IStream(kind, len(data), BytesIO(data))).binsha  # type: ignore[no-any-return]

    def _write_tree(self, entries: list[tuple[bytes, int, str]]) -> bytes:
        from git.objects.fun import tree_to_stream

        entries = sorted(entries, key=_tree_key)
        buf = BytesIO()
        tree_to_stream(entries, buf.write)
        binsha = self._store(b"tree", buf.getvalue())
        self._trees[binsha] = entries
        return binsha

    def _update_tree(self, tree: bytes | None, parts: list[str],
                     blob: bytes | None) -> bytes | None:
        entries = list(self._tree(tree)) if tree is not None else []
        name = parts[0]
        old = next((e for e in entries if e[2] == name), None)
        entries = [e for e in entries if e[2] != name]
        if len(parts) == 1:
            new: bytes | None = blob
            mode = BLOB_MODE if old is None or old[1] == TREE_MODE else old[1]
        else:
            sub = old[0] if old is not None and old[1] == TREE_MODE else None
            new = self._update_tree(sub, parts[1:], blob)
            mode = TREE_MODE
        if new is not None:
            entries.append((new, mode, name))
        if not entries:
            return None
        return self._write_tree(entries)

    def uncommitted(self, paths: list[str]) -> list[str]:
        """Which of these registry-relative files differ between working tree, index and HEAD."""
        head = self.head()
        index = self._load_index()
        dirty = []
        for rel in paths:
            full = self.prefix + rel
            in_head = self.blob_at(head, rel) if head else None
            entry = index.entries.get((full, 0))
            in_index = entry.binsha.hex() if entry is not None else None
            try:
                on_disk: str | None = blob_id((self.worktree / full).read_bytes())
            except FileNotFoundError:
                on_disk = None
            if not (in_head == in_index == on_disk):
                dirty.append(rel)
        return dirty

    def _load_index(self) -> Any:
        from git.index.base import IndexFile

        path = self.git_dir / "index"
        try:
            st = path.stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if self._index is None or stamp != self._index_stamp:
            self._index = IndexFile(self.repo)
            self._index_stamp = stamp
        return self._index

    def commit(self, changes: Mapping[str, bytes | None], message: str) -> str:
        """Commit registry-relative file changes (None deletes) on the current branch.

        Call under :meth:`lock`. Refuses files with uncommitted edits. On any
        failure the working tree, the index and HEAD are as they were.
        """
        from git.index.typ import IndexEntry
        from git.objects.commit import Commit
        from git.objects.tree import Tree

        dirty = self.uncommitted(sorted(changes))
        if dirty:
            raise ConflictError(
                "uncommitted changes in " + ", ".join(self.prefix + d for d in dirty)
                + ": commit or discard them first (modelreg never writes over your edits)"
            )
        parent = self.head()
        root = self._root_tree(parent) if parent else None
        blobs: dict[str, bytes | None] = {}
        for rel, data in sorted(changes.items()):
            blob = self._store(b"blob", data) if data is not None else None
            blobs[rel] = blob
            root = self._update_tree(root, (self.prefix + rel).split("/"), blob)
        if root is None:
            root = self._write_tree([])
        parents = [self.repo.commit(parent)] if parent else []
        new = Commit.create_from_tree(self.repo, Tree(self.repo, root), message,
                                      parent_commits=parents, head=False)

        index_path = self.git_dir / "index"
        old_index = index_path.read_bytes() if index_path.exists() else None
        old_files: dict[str, bytes | None] = {}
        try:
            for rel, data in changes.items():
                full = self.worktree / (self.prefix + rel)
                old_files[rel] = full.read_bytes() if full.exists() else None
                _write_file(full, data, self.worktree)
            index = self._load_index()
            for rel, data in changes.items():
                full_rel = self.prefix + rel
                if data is None:
                    index.entries.pop((full_rel, 0), None)
                    continue
                st = (self.worktree / full_rel).stat()
                index.entries[(full_rel, 0)] = IndexEntry((
                    BLOB_MODE, blobs[rel], 0, full_rel,
                    pack(">LL", int(st.st_ctime), st.st_ctime_ns % 1_000_000_000),
                    pack(">LL", int(st.st_mtime), st.st_mtime_ns % 1_000_000_000),
                    st.st_dev & 0xFFFFFFFF, st.st_ino & 0xFFFFFFFF, st.st_uid, st.st_gid,
                    st.st_size & 0xFFFFFFFF,
                ))
            # the cached-tree extension would describe the old trees: drop it
            index.write(ignore_extension_data=True)
            self._index_stamp = _stamp(index_path)
            self._move_head(parent, new, message)
        except BaseException:
            for rel, data in old_files.items():
                with contextlib.suppress(OSError):
                    _write_file(self.worktree / (self.prefix + rel), data)
            with contextlib.suppress(OSError):
                if old_index is None:
                    index_path.unlink(missing_ok=True)
                else:
                    _write_file(index_path, old_index)
            self._index = None
            raise
        return new.hexsha

    def _move_head(self, parent: str | None, new: Any, message: str) -> None:
        if self.head() != parent:
            raise ConflictError("the branch moved while modelreg was writing; try again")
        head = self.repo.head
        logmsg = "commit: " + message.splitlines()[0]
        if head.is_detached:
            head.set_commit(new, logmsg=logmsg)
        elif parent is None:  # unborn branch: the first commit creates it
            from git.refs.head import Head

            Head.create(self.repo, head.reference.path, new, logmsg=logmsg)
        else:
            head.reference.set_commit(new, logmsg=logmsg)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _write_file(path: Path, data: bytes | None, top: Path | None = None) -> None:
    """Replace a file atomically (a temporary file renamed over it), or remove it
    together with the folders it leaves empty (up to ``top``)."""
    if data is None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        folder = path.parent
        while top is not None and folder != top and top in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
