"""Git, through GitPython: read a registry at any commit, commit in-process, log, lock.

This package is the only place that imports GitPython. Commits are written
straight into git's object database (blobs, only the trees on the changed
paths, the commit) and the branch is moved with a reflog entry; no ``git``
process is started per write. The working tree and the index are brought to
the new commit afterwards, so ``git status`` stays clean. Meeting other clones
(fetch, push, branches) is in :mod:`modelreg.gitstore.remote`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import threading
import weakref
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelreg.errors import ConflictError, GitError, NotFoundError
from modelreg.gitstore import objects
from modelreg.lockfile import exclusive

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

    def __init__(
        self, worktree: Path, git_dir: Path, prefix: str, repo: git.Repo | None = None
    ) -> None:
        self._repo = repo
        self._worktree = worktree
        self.prefix = prefix  # "" or "sub/dir/" (posix, with trailing slash)
        self._cat_file: Any = None
        self._idents: dict[str, str] = {}
        self._trees: dict[bytes, list[tuple[bytes, int, str]]] = {}
        self._index: objects.Index | None = None
        self._commit_trees: dict[str, bytes] = {}
        self._tree_bodies: dict[bytes, tuple[bytes, dict[str, tuple[int, int]]]] = {}
        self._git_dir = git_dir
        self._lock_depth = 0
        self._lock_owner: int | None = None  # the thread holding the lock

    # ------------------------------------------------------------- opening

    @classmethod
    def open(cls, registry_root: Path) -> GitStore:
        registry_root = registry_root.resolve()
        top = find_worktree(registry_root)
        if top is not None and (top / ".git").is_dir():
            # the common case, found without loading GitPython (a cold CLI write skips it)
            repo = None
            git_dir = top / ".git"
        else:  # worktrees, submodules (.git is a file): let GitPython find the folders
            import git

            try:
                repo = git.Repo(registry_root, search_parent_directories=True)
            except (git.InvalidGitRepositoryError, git.NoSuchPathError):
                raise GitError(
                    f"{registry_root} is not inside a git repository "
                    "(run `git init` there, or create a new registry with `modelreg init PATH`)"
                ) from None
            top = Path(repo.working_tree_dir or registry_root).resolve()
            git_dir = Path(repo.git_dir)
        rel = registry_root.relative_to(top).as_posix()
        return cls(top, git_dir, "" if rel == "." else rel + "/", repo)

    @property
    def repo(self) -> git.Repo:
        """GitPython's repository (loaded on first use: refs by name, log, config)."""
        if self._repo is None:
            import git

            self._repo = git.Repo(self._worktree)
        return self._repo

    @classmethod
    def init(cls, registry_root: Path) -> GitStore:
        import git

        if find_worktree(registry_root.resolve()) is None:
            git.Repo.init(registry_root, initial_branch="main")
        return cls.open(registry_root)

    @property
    def git_dir(self) -> Path:
        return self._git_dir

    @property
    def worktree(self) -> Path:
        return self._worktree

    def _object(self, binsha: bytes) -> bytes:
        """An object's body: loose objects read directly, packed ones through one
        ``git cat-file --batch`` process kept for this store."""
        hexsha = binsha.hex()
        try:
            raw = zlib.decompress(
                (self._git_dir / "objects" / hexsha[:2] / hexsha[2:]).read_bytes()
            )
            return raw[raw.index(b"\0") + 1 :]
        except FileNotFoundError:
            pass
        if self._cat_file is None:
            self._cat_file = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self._worktree,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
            # ended with the store (or at exit): no process outlives its owner
            weakref.finalize(self, _end_process, self._cat_file)
        proc = self._cat_file
        proc.stdin.write(hexsha.encode() + b"\n")
        proc.stdin.flush()
        header = proc.stdout.readline().split()
        if len(header) != 3:
            raise GitError(f"object {hexsha} is missing from the repository")
        size = int(header[2])
        body: bytes = proc.stdout.read(size + 1)[:size]
        return body

    def close(self) -> None:
        if self._cat_file is not None:
            _end_process(self._cat_file)
            self._cat_file = None

    # ------------------------------------------------------------- refs

    def head(self) -> str | None:
        """The commit HEAD points at (None on an unborn branch), read from git's files."""
        git_dir = self.git_dir
        text = (git_dir / "HEAD").read_text().strip()
        if not text.startswith("ref: "):
            return text
        ref = text[5:]
        try:
            return (git_dir / ref).read_text().strip()
        except FileNotFoundError:
            pass
        try:
            packed = (git_dir / "packed-refs").read_text()
        except FileNotFoundError:
            return None
        for line in packed.splitlines():
            if line.endswith(" " + ref) and not line.startswith(("#", "^")):
                return line.split(" ", 1)[0]
        return None

    def resolve(self, ref: str) -> str:
        """The commit a ref names; a clear error for an unknown or unfetched one."""
        import git

        try:
            return self.repo.commit(ref).hexsha
        except (git.BadName, git.BadObject, ValueError):
            hint = ""
            if (self.git_dir / "shallow").exists():
                hint = (
                    " (this is a shallow clone: fetch more history with "
                    "`git fetch --unshallow` or `fetch-depth: 0` in CI)"
                )
            raise NotFoundError(f"unknown git ref {ref!r}{hint}") from None

    def merge_base(self, base: str, head: str = "HEAD") -> str:
        """The commit where ``head`` forked from ``base`` (the old side of a pull request,
        as in ``git diff base...head``). Raises :class:`GitError` when either is not in
        this clone, saying how to fetch it (CI clones are often shallow)."""
        shallow = (self.git_dir / "shallow").exists()
        fetch = (
            "run `git fetch --unshallow` (or `git fetch origin BRANCH`), or set "
            "fetch-depth: 0 in actions/checkout"
        )
        for ref in (base, head):
            done = self._git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
            if done.returncode != 0:
                what = "base" if ref == base else "head"
                where = " (shallow clone?)" if shallow else ""
                raise GitError(f"{what} commit {ref!r} is not in this clone{where}: {fetch}")
        done = self._git("merge-base", base, head)
        if done.returncode == 0 and done.stdout.strip():
            return str(done.stdout.strip())
        if shallow:
            raise GitError(
                f"no common ancestor of {base!r} and {head!r} in this clone, which is "
                f"shallow: the base commit is not in this clone: {fetch}"
            )
        raise GitError(f"{base!r} and {head!r} have no common history (no merge-base)")

    def last_commit_of_line(self, path: str, line: int) -> CommitInfo | None:
        """The commit that last wrote line ``line`` of ``path`` (registry-relative) in the
        working tree, by ``git blame``; None when uncommitted or unknown."""
        done = self._git("blame", "--porcelain", "-L", f"{line},{line}", "--", self.prefix + path)
        if done.returncode != 0 or not done.stdout:
            return None
        lines = done.stdout.splitlines()
        sha = lines[0].split(" ", 1)[0]
        if set(sha) == {"0"}:
            return None
        fields = dict(ln.split(" ", 1) for ln in lines[1:] if " " in ln and not ln.startswith("\t"))
        return CommitInfo(
            sha,
            fields.get("author", ""),
            fields.get("author-mail", "").strip("<>"),
            int(fields.get("author-time", "0")),
            fields.get("summary", ""),
        )

    def changed_paths(self, base: str, head: str | None, path: str) -> list[str]:
        """Files under ``path`` (registry-relative, as returned) that differ between commit
        ``base`` and commit ``head`` or, with None, the working tree (untracked files too).
        One or two git calls: git's own stat cache makes this cheap on a big registry."""
        where = self.prefix + path
        args = ["diff", "--name-only", "--no-renames", "-z", base]
        done = self._git(*args, *([head] if head else []), "--", where)
        if done.returncode != 0:
            raise GitError(f"git diff {base[:12]} failed: {done.stderr.strip()}")
        names = set(done.stdout.split("\0"))
        if head is None:
            extra = self._git("ls-files", "--others", "--exclude-standard", "-z", "--", where)
            names.update(extra.stdout.split("\0"))
        cut = len(self.prefix)
        return sorted(n[cut:] for n in names if n.startswith(self.prefix) and n)

    def _git(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A ``git`` command in this repository (no GitPython to load), never reading
        standard input."""
        return subprocess.run(
            ["git", *args],
            cwd=self._worktree,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )

    def commit_info(self, sha: str) -> CommitInfo:
        c = self.repo.commit(sha)
        return CommitInfo(
            c.hexsha,
            str(c.author.name),
            str(c.author.email),
            c.authored_date,
            str(c.message).strip(),
        )

    # ------------------------------------------------------------- reading

    def _tree(self, binsha: bytes) -> list[tuple[bytes, int, str]]:
        cached = self._trees.get(binsha)
        if cached is None:
            body = self._object(binsha)
            cached = objects.parse_tree(body)
            self._trees[binsha] = cached
            self._remember_body(binsha, body, cached)
        return cached

    def _root_tree(self, commit: str) -> bytes:
        found = self._commit_trees.get(commit)
        if found is None:
            first_line = self._object(bytes.fromhex(commit)).split(b"\n", 1)[0]
            found = bytes.fromhex(first_line[len(b"tree ") :].decode())
            self._commit_trees[commit] = found
        return found

    def _lookup(self, tree: bytes, path: str) -> tuple[bytes, int] | None:
        binsha, mode = tree, TREE_MODE
        for part in path.strip("/").split("/"):
            if mode != TREE_MODE:
                return None
            entries = self._tree(binsha)
            known = self._tree_bodies.get(binsha)  # big trees have a name index
            if known is not None:
                at = known[1].get(part)
                if at is None:
                    return None
                binsha, mode = entries[at[1]][0], entries[at[1]][1]
                continue
            for sha, m, name in entries:
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
        return self._object(bytes.fromhex(sha))

    def log(self, path: str, rev: str = "HEAD") -> list[CommitInfo]:
        """Commits that changed ``path`` (registry-relative), newest first."""
        if self.head() is None:
            return []
        out = self.repo.git.log(
            rev, "--format=%H%x00%an%x00%ae%x00%at%x00%s", "--", self.prefix + path
        )
        infos = []
        for line in out.splitlines():
            sha, name, email, at, subject = line.split("\x00", 4)
            infos.append(CommitInfo(sha, name, email, int(at), subject))
        return infos

    def commits_touching(self, path: str, rev: str = "HEAD") -> list[str]:
        """Every commit reachable from ``rev`` that changed ``path`` (registry-relative)."""
        if self.head() is None:
            return []
        out = self.repo.git.log(rev, "--format=%H", "--", self.prefix + path)
        return str(out).split()

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
                rel = line[len(self.prefix) :]
                first, last = times.get(rel, (current, current))
                times[rel] = (min(first, current), max(last, current))
        return times

    # ------------------------------------------------------------- writing

    @contextlib.contextmanager
    def lock(self, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
        """Serialise writers of this clone (threads and processes alike).

        Re-entrant for this store: a publish holds it around the writes it runs.
        """
        if self._lock_depth and self._lock_owner == threading.get_ident():
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        with exclusive(self.git_dir / "modelreg.lock", timeout):
            self._lock_depth, self._lock_owner = 1, threading.get_ident()
            try:
                yield
            finally:
                self._lock_depth, self._lock_owner = 0, None

    def _store(self, kind: bytes, data: bytes) -> bytes:
        return objects.write_loose(self.git_dir / "objects", kind, data)

    def _write_tree(self, ordered: list[tuple[bytes, int, str]]) -> bytes:
        body = objects.tree_bytes(ordered)
        binsha = self._store(b"tree", body)
        self._trees[binsha] = ordered
        self._remember_body(binsha, body, ordered)
        return binsha

    def _remember_body(
        self, binsha: bytes, body: bytes, ordered: list[tuple[bytes, int, str]]
    ) -> None:
        if len(ordered) < 64:  # small trees are cheap to serialise again
            return
        offsets, pos = {}, 0
        for i, (_, mode, name) in enumerate(ordered):
            pos += len(b"%o %s\0" % (mode, name.encode()))
            offsets[name] = (pos, i)
            pos += 20
        self._tree_bodies[binsha] = (body, offsets)

    def _update_tree(
        self, tree: bytes | None, path: list[str], changes: dict[tuple[str, ...], bytes | None]
    ) -> bytes | None:
        """A new tree for ``path`` with ``changes`` (full path parts -> blob or None) applied.

        When only object ids of existing entries change, the old body is patched in
        place: a big folder with one changed model costs a copy, not a sort.
        """
        depth = len(path)
        old = self._tree(tree) if tree is not None else []
        known = self._tree_bodies.get(tree) if tree is not None else None

        def entry(name: str) -> tuple[bytes, int, str] | None:
            if known is not None:  # big trees have a name index: no dict to build
                at = known[1].get(name)
                return None if at is None else old[at[1]]
            return next((e for e in old if e[2] == name), None)

        updates: dict[str, tuple[bytes, int] | None] = {}
        below: dict[str, dict[tuple[str, ...], bytes | None]] = {}
        for parts, blob in changes.items():
            name = parts[depth]
            if len(parts) == depth + 1:
                if blob is None:
                    updates[name] = None
                else:
                    prev = entry(name)
                    mode = prev[1] if prev is not None and prev[1] != TREE_MODE else BLOB_MODE
                    updates[name] = (blob, mode)
            else:
                below.setdefault(name, {})[parts] = blob
        for name, sub_changes in below.items():
            prev = entry(name)
            sub = prev[0] if prev is not None and prev[1] == TREE_MODE else None
            new = self._update_tree(sub, [*path, name], sub_changes)
            updates[name] = None if new is None else (new, TREE_MODE)
        same_shape = all(
            u is not None and (e := entry(name)) is not None and e[1] == u[1]
            for name, u in updates.items()
        )
        if same_shape and known is not None:
            body, offsets = known
            buf = bytearray(body)
            ordered = list(old)
            for name, u in updates.items():
                assert u is not None
                at, i = offsets[name]
                buf[at : at + 20] = u[0]
                ordered[i] = (u[0], u[1], name)
            binsha = self._store(b"tree", bytes(buf))
            self._trees[binsha] = ordered
            self._tree_bodies[binsha] = (bytes(buf), offsets)
            return binsha
        by_name = {e[2]: e for e in old}
        for name, u in updates.items():
            if u is None:
                by_name.pop(name, None)
            else:
                by_name[name] = (u[0], u[1], name)
        if not by_name and depth > 0:
            return None
        return self._write_tree(sorted(by_name.values(), key=_tree_key))

    def _load_index(self) -> objects.Index:
        if self._index is None or not self._index.fresh():
            self._index = objects.Index(self.git_dir / "index")
        if not self._index.supported:
            raise GitError(
                "this repository's index format (v4 or split index) is not "
                "supported for in-process commits; run `git update-index "
                "--index-version 2 --no-split-index`"
            )
        return self._index

    def forget_index(self) -> None:
        """Read the index again next time (git itself rewrote it)."""
        self._index = None

    def uncommitted(self, paths: list[str]) -> list[str]:
        """Which of these registry-relative files differ between working tree, index and HEAD."""
        head = self.head()
        index = self._load_index()
        dirty = []
        for rel in paths:
            full = self.prefix + rel
            in_head = self.blob_at(head, rel) if head else None
            entry = index.get(full)
            in_index = entry.hex() if entry is not None else None
            try:
                on_disk: str | None = blob_id((self.worktree / full).read_bytes())
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                on_disk = None
            if not (in_head == in_index == on_disk):
                dirty.append(rel)
        return dirty

    def _identity(self) -> tuple[bytes, bytes]:
        """Author and committer as git would write them: environment, then git config."""
        out = []
        for role in ("AUTHOR", "COMMITTER"):
            name = os.environ.get(f"GIT_{role}_NAME")
            email = os.environ.get(f"GIT_{role}_EMAIL")
            if name is None or email is None:
                ident = self._git_var(f"GIT_{role}_IDENT")
                ident_name, _, rest = ident.partition(" <")
                name = name if name is not None else ident_name
                email = email if email is not None else rest.partition(">")[0]
            out.append(objects.signature(name, email))
        return out[0], out[1]

    def _git_var(self, var: str) -> str:
        if var not in self._idents:
            done = self._git("var", var)
            if done.returncode != 0:
                raise GitError(
                    "git does not know who you are: set user.name and user.email "
                    "(git config --global user.name 'Your Name')"
                )
            self._idents[var] = done.stdout.strip()
        return self._idents[var]

    def commit(self, changes: Mapping[str, bytes | None], message: str) -> str:
        """Commit registry-relative file changes (None deletes) on the current branch.

        Call under :meth:`lock`. Refuses files with uncommitted edits. On any
        failure the working tree, the index and HEAD are as they were.
        """
        dirty = self.uncommitted(sorted(changes))
        if dirty:
            raise ConflictError(
                "uncommitted changes in "
                + ", ".join(self.prefix + d for d in dirty)
                + ": commit or discard them first (modelreg never writes over your edits)"
            )
        parent = self.head()
        root = self._root_tree(parent) if parent else None
        blobs: dict[str, bytes | None] = {
            rel: (self._store(b"blob", data) if data is not None else None)
            for rel, data in changes.items()
        }
        tree = self._update_tree(
            root, [], {tuple((self.prefix + rel).split("/")): b for rel, b in blobs.items()}
        )
        assert tree is not None
        author, committer = self._identity()
        parents = [bytes.fromhex(parent)] if parent else []
        new = self._store(
            b"commit", objects.commit_bytes(tree, parents, author, committer, message)
        )
        self._commit_trees[new.hex()] = tree

        index = self._load_index()
        old_entries = dict(index.entries)
        index_path = self.git_dir / "index"
        old_index = index_path.read_bytes() if index_path.exists() else None
        old_files: dict[str, bytes | None] = {}
        try:
            for rel, data in changes.items():
                full = self.worktree / (self.prefix + rel)
                old_files[rel] = full.read_bytes() if full.exists() else None
                _write_file(full, data, self.worktree)
            for rel, blob in blobs.items():
                full_rel = self.prefix + rel
                if blob is None:
                    index.remove(full_rel)
                else:
                    index.set(full_rel, blob, BLOB_MODE, (self.worktree / full_rel).stat())
            index.write()
            self._move_head(parent, new, committer, message)
        except BaseException:
            for rel, data in old_files.items():
                with contextlib.suppress(OSError):
                    _write_file(self.worktree / (self.prefix + rel), data, self.worktree)
            index.entries = old_entries
            with contextlib.suppress(OSError):
                if old_index is None:
                    index_path.unlink(missing_ok=True)
                else:
                    _write_file(index_path, old_index)
            self._index = None
            raise
        return new.hex()

    def _move_head(self, parent: str | None, new: bytes, ident: bytes, message: str) -> None:
        if self.head() != parent:
            raise ConflictError("the branch moved while modelreg was writing; try again")
        head_file = (self.git_dir / "HEAD").read_text().strip()
        ref = head_file[5:] if head_file.startswith("ref: ") else "HEAD"
        subject = message.splitlines()[0] if message else ""
        kind = "commit (initial)" if parent is None else "commit"
        objects.update_ref(
            self.git_dir,
            ref,
            bytes.fromhex(parent) if parent else None,
            new,
            ident,
            f"{kind}: {subject}",
        )


def _end_process(proc: Any) -> None:
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        proc.stdin.close()
        proc.wait(timeout=5)
    with contextlib.suppress(OSError):
        proc.stdout.close()


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
