"""Git, the one home of it in modelreg: read a registry at any commit, commit, log, lock.

Two engines. In-process, through pygit2 (libgit2): objects, the trees along
the changed paths, the index and the ref, with no process started per write.
The ``git`` executable, through GitPython: remotes, history queries, and every
commit in a repository that asks for what libgit2 does not do (hooks, signed
commits, SHA-256, split or sparse index, shared permissions; see
:mod:`modelreg.gitstore.features`), so git itself makes those commits.

Every write is journalled (:mod:`modelreg.gitstore.journal`): it either lands as
one commit with its files, index and ref consistent, or leaves only garbage
that ``git gc`` removes; the next write rolls back what a crash left.
Meeting other clones (fetch, push, branches) is in :mod:`modelreg.gitstore.remote`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from modelreg.errors import ConflictError, GitError, NotFoundError
from modelreg.gitstore import bulk, identity, maintenance, worktree
from modelreg.gitstore.executable import Done, Git, Running
from modelreg.gitstore.features import CONFIG_KEYS, Features, features
from modelreg.gitstore.journal import Journal, Pending
from modelreg.gitstore.plumbing import Plumbing
from modelreg.lockfile import exclusive

if TYPE_CHECKING:
    import git

    from modelreg.gitstore.inprocess import InProcess

LOCK_TIMEOUT_S = 120.0
# how long a write waits for an ``index.lock`` someone else holds (a git process run
# beside modelreg, or one a killed writer left running, ends within this)
INDEX_WAIT_S = 10.0
_PLACEHOLDER = b"modelreg holds the index, pid "
_CONFIG_ENV = (
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
)


def blob_id(data: bytes) -> str:
    """A fingerprint of ``data``: the id git gives it as a blob in a SHA-1 repository
    (so unchanged files are recognised without git)."""
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


def _stamp(path: str | Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


class GitStore:
    """One git repository, with the registry at ``prefix`` inside its working tree."""

    # Tests set this to stop or kill a writer at a named step ("locked", "journal",
    # "files", "staged", "commit", "index", "ref"); nothing else may.
    on_step: ClassVar[Callable[[str], None] | None] = None
    # seconds a write waits for an ``index.lock`` that another process holds
    index_wait: float = INDEX_WAIT_S

    def __init__(
        self,
        worktree: Path,
        git_dir: Path,
        prefix: str,
        engine: InProcess | None = None,
        common_dir: Path | None = None,
    ) -> None:
        self._worktree = worktree
        self._git_dir = git_dir
        self._common_dir = common_dir or git_dir
        self.prefix = prefix  # "" or "sub/dir/" (posix, with trailing slash)
        self._engine = engine
        self.git = Git(worktree)
        self._plumbing = Plumbing(self.git)
        self._repo: git.Repo | None = None
        self._journal = Journal(git_dir / "modelreg")
        self._scratch = git_dir / "modelreg" / "tmp"
        self._config: tuple[tuple[object, ...], dict[str, str]] | None = None
        # the settings one commit decided on, used throughout it (see :meth:`commit`)
        self._pinned: tuple[dict[str, str], Features] | None = None
        self._config_files = (str(self._common_dir / "config"), str(git_dir / "config.worktree"))
        self._lock_depth = 0
        self._lock_owner: int | None = None  # the thread holding the lock

    # ------------------------------------------------------------- opening

    @classmethod
    def open(cls, registry_root: Path) -> GitStore:
        """The repository holding ``registry_root``. Raises :class:`GitError` when there
        is none."""
        registry_root = registry_root.resolve()
        from modelreg.gitstore.inprocess import InProcess  # libgit2 only when git is read

        engine = InProcess.open(registry_root)
        if engine is not None:
            top, git_dir = engine.worktree, engine.git_dir
        else:  # libgit2 cannot open it (SHA-256 objects, an unknown extension): ask git
            engine = None
            done = Git(registry_root).run("rev-parse", "--show-toplevel", "--absolute-git-dir")
            if not done.ok:
                raise GitError(
                    f"{registry_root} is not inside a git repository "
                    "(run `git init` there, or create a new registry with `modelreg init PATH`)"
                )
            top_text, git_text = done.out.splitlines()[:2]
            top, git_dir = Path(top_text).resolve(), Path(git_text).resolve()
        common = git_dir
        with contextlib.suppress(OSError):
            common = (git_dir / (git_dir / "commondir").read_text().strip()).resolve()
        rel = registry_root.relative_to(top).as_posix()
        return cls(top, git_dir, "" if rel == "." else rel + "/", engine, common)

    @classmethod
    def init(cls, registry_root: Path) -> GitStore:
        """Open the repository holding ``registry_root``, creating one there (branch
        ``main``) when there is none."""
        if find_worktree(registry_root.resolve()) is None:
            registry_root.mkdir(parents=True, exist_ok=True)
            done = Git(registry_root).run("init", "--quiet", "--initial-branch=main")
            if not done.ok:
                raise GitError(f"git init failed: {done.last_words()}")
        return cls.open(registry_root)

    @property
    def repo(self) -> git.Repo:
        """GitPython's repository (loaded on first use; remotes)."""
        if self._repo is None:
            import git

            self._repo = git.Repo(self._worktree)
        return self._repo

    @property
    def git_dir(self) -> Path:
        return self._git_dir

    @property
    def worktree(self) -> Path:
        return self._worktree

    @property
    def common_dir(self) -> Path:
        """The folder of the objects and refs all worktrees share (the git folder of a
        plain repository)."""
        return self._common_dir

    def setting(self, key: str) -> str | None:
        """The value of a configuration key among those listed in ``CONFIG_KEYS``
        (lower case), as git would read it; None when unset."""
        return self._settings()[0].get(key)

    def close(self) -> None:
        """Release the repository's files (libgit2's and GitPython's handles)."""
        if self._engine is not None:
            self._engine.repo.free()
        if self._repo is not None:
            self._repo.close()
            self._repo = None

    # ------------------------------------------------------------- engines

    def features(self) -> Features:
        """What this repository asks of a commit; non-empty ``reasons`` mean git
        itself commits here."""
        return self._settings()[1]

    @property
    def engine(self) -> str:
        """The engine that commits here: ``libgit2`` or ``git``."""
        return "git" if self._engine is None or self.features().needs_git else "libgit2"

    def _settings(self) -> tuple[dict[str, str], Features]:
        """git's configuration (read again only when a configuration file or the
        environment changed) and the features it implies (looked at every time:
        a hook may have just been added), or those of the commit being made."""
        if self._pinned is not None:
            return self._pinned
        env = os.environ
        home = env.get("HOME", "/")
        xdg = env.get("XDG_CONFIG_HOME") or f"{home}/.config"
        key: tuple[object, ...] = (
            *(_stamp(f) for f in self._config_files),
            _stamp(f"{home}/.gitconfig"),
            _stamp(f"{xdg}/git/config"),
            _stamp(env.get("GIT_CONFIG_GLOBAL") or f"{home}/.gitconfig"),
            *(env.get(v) for v in _CONFIG_ENV),
        )
        if self._config is None or self._config[0] != key:
            if self._engine is not None and not any(env.get(v) for v in _CONFIG_ENV):
                # the files git reads, read by libgit2: no process, no GitPython to load
                config = self._engine.config(CONFIG_KEYS)
            else:  # GIT_CONFIG_* in play: git's own reading
                config = self.git.config()
            self._config = (key, config)
        config = self._config[1]
        found = features(config, self._common_dir, self._worktree)
        if self._engine is None and not found.needs_git:
            found = Features(("a repository libgit2 cannot open",))
        return config, found

    def _people(self) -> tuple[identity.Person, identity.Person]:
        """Author and committer, now, as git would record them."""
        env = os.environ
        if identity.needs_git_dates(env):
            out = []
            for role in ("AUTHOR", "COMMITTER"):
                done = self.git.run("var", f"GIT_{role}_IDENT")
                if not done.ok:
                    raise GitError(f"git does not know who commits: {done.last_words()}")
                out.append(identity.parse_ident(done.out))
            return out[0], out[1]
        config = self._settings()[0]
        now = time.time()
        return (
            identity.person("AUTHOR", env, config, now),
            identity.person("COMMITTER", env, config, now),
        )

    def _step(self, name: str) -> None:
        if GitStore.on_step is not None:
            GitStore.on_step(name)

    # ------------------------------------------------------------- refs

    def head(self) -> str | None:
        """The commit HEAD points at (None on an unborn branch)."""
        if self._engine is not None:
            return self._engine.head()
        return self._plumbing.head()

    def resolve(self, ref: str) -> str:
        """The commit a ref names; a clear error for an unknown or unfetched one."""
        try:
            if self._engine is not None:
                return self._engine.resolve(ref)
            return self._plumbing.resolve(ref)
        except NotFoundError:
            hint = ""
            if (self._common_dir / "shallow").exists():
                hint = (
                    " (this is a shallow clone: fetch more history with "
                    "`git fetch --unshallow` or `fetch-depth: 0` in CI)"
                )
            raise NotFoundError(f"unknown git ref {ref!r}{hint}") from None

    def merge_base(self, base: str, head: str = "HEAD") -> str:
        """The commit where ``head`` forked from ``base`` (the old side of a pull request,
        as in ``git diff base...head``). Raises :class:`GitError` when either is not in
        this clone, saying how to fetch it (CI clones are often shallow)."""
        if self._engine is not None:  # the usual check of a working tree against HEAD
            with contextlib.suppress(NotFoundError):
                found = self._engine.resolve(base)
                if found == self._engine.resolve(head):
                    return found
        shallow = (self._common_dir / "shallow").exists()
        fetch = (
            "run `git fetch --unshallow` (or `git fetch origin BRANCH`), or set "
            "fetch-depth: 0 in actions/checkout"
        )
        for ref in (base, head):
            done = self.git.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
            if not done.ok:
                what = "base" if ref == base else "head"
                where = " (shallow clone?)" if shallow else ""
                raise GitError(f"{what} commit {ref!r} is not in this clone{where}: {fetch}")
        done = self.git.run("merge-base", base, head)
        if done.ok and done.out.strip():
            return done.out.strip()
        if shallow:
            raise GitError(
                f"no common ancestor of {base!r} and {head!r} in this clone, which is "
                f"shallow: the base commit is not in this clone: {fetch}"
            )
        raise GitError(f"{base!r} and {head!r} have no common history (no merge-base)")

    def last_commit_of_line(self, path: str, line: int) -> CommitInfo | None:
        """The commit that last wrote line ``line`` of ``path`` (registry-relative) in the
        working tree, by ``git blame``; None when uncommitted or unknown."""
        done = self.git.run(
            "blame", "--porcelain", "-L", f"{line},{line}", "--", self.prefix + path
        )
        if not done.ok or not done.out:
            return None
        lines = done.out.splitlines()
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
        done = self.git.run(*args, *([head] if head else []), "--", where)
        if not done.ok:
            raise GitError(f"git diff {base[:12]} failed: {done.last_words()}")
        names = set(done.out.split("\0"))
        if head is None:
            extra = self.git.run("ls-files", "--others", "--exclude-standard", "-z", "--", where)
            names.update(extra.out.split("\0"))
        cut = len(self.prefix)
        return sorted(n[cut:] for n in names if n.startswith(self.prefix) and n)

    def commit_info(self, sha: str) -> CommitInfo:
        """Author, time and message of one commit."""
        done = self.git.run("log", "-1", "--format=%H%x00%an%x00%ae%x00%at%x00%B", sha, "--")
        if not done.ok:
            raise NotFoundError(f"unknown commit {sha!r}")
        full, name, email, at, message = done.out.split("\x00", 4)
        return CommitInfo(full, name, email, int(at), message.strip())

    # ------------------------------------------------------------- reading

    def listdir(self, commit: str, path: str) -> dict[str, tuple[str, bool]]:
        """Entries of a folder of the registry at ``commit``: name -> (object id, is_dir)."""
        full = (self.prefix + path).strip("/")
        if self._engine is not None:
            return self._engine.listdir(commit, full)
        return self._plumbing.listdir(commit, full)

    def blob_at(self, commit: str, path: str) -> str | None:
        """Object id of the file ``path`` (registry-relative) at ``commit``."""
        full = (self.prefix + path).strip("/")
        if self._engine is not None:
            return self._engine.blob_at(commit, full)
        return self._plumbing.blob_at(commit, full)

    def read_blob(self, sha: str) -> bytes:
        if self._engine is not None:
            return self._engine.read_blob(sha)
        return self._plumbing.read_blob(sha)

    def _log(self, rev: str, fmt: str, path: str, *more: str) -> str:
        done = self.git.run("log", rev, f"--format={fmt}", *more, "--", self.prefix + path)
        if not done.ok:
            raise GitError(f"git log {rev} failed: {done.last_words()}")
        return done.out

    def log(self, path: str, rev: str = "HEAD") -> list[CommitInfo]:
        """Commits that changed ``path`` (registry-relative), newest first."""
        if self.head() is None:
            return []
        infos = []
        for line in self._log(rev, "%H%x00%an%x00%ae%x00%at%x00%s", path).splitlines():
            sha, name, email, at, subject = line.split("\x00", 4)
            infos.append(CommitInfo(sha, name, email, int(at), subject))
        return infos

    def commits_touching(self, path: str, rev: str = "HEAD") -> list[str]:
        """Every commit reachable from ``rev`` that changed ``path`` (registry-relative)."""
        if self.head() is None:
            return []
        return self._log(rev, "%H", path).split()

    def path_times(self, path: str, rev: str = "HEAD") -> dict[str, tuple[int, int]]:
        """For each file under ``path``: (first, last) commit time that touched it, one git call."""
        if self.head() is None:
            return {}
        times: dict[str, tuple[int, int]] = {}
        current = 0
        for line in self._log(rev, ">%at", path, "--name-only").splitlines():
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
        Taking it first rolls back (or finishes) a write whose process died.
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
                self.recover()  # before anything is read: what a killed writer left goes
                yield
            finally:
                self._lock_depth, self._lock_owner = 0, None

    def forget_index(self) -> None:
        """Read the index again next time (git itself rewrote it). libgit2 notices a
        changed index file by itself; kept for callers that say so explicitly."""

    def uncommitted(self, paths: list[str]) -> list[str]:
        """Which of these registry-relative files differ between working tree, index and
        HEAD (git's filters applied)."""
        full = [self.prefix + p for p in paths]
        cut = len(self.prefix)
        return [p[cut:] for p in self._dirty(full, self.engine)]

    def _dirty(self, paths: list[str], engine: str) -> list[str]:
        if self._engine is not None and engine == "libgit2":
            return self._engine.dirty(self._engine.index(), self.head(), paths)
        if not paths:
            return []
        done = self._git_paths("status", "--porcelain", "-z", "--untracked-files=all", paths=paths)
        if not done.ok:
            raise GitError(f"git status failed: {done.last_words()}")
        dirty = set()
        for item in done.out.split("\0"):
            if len(item) > 3:
                dirty.add(item[3:])
        return [p for p in paths if p in dirty]

    def _git_paths(self, *args: str, paths: list[str]) -> Done:
        """``git ARGS -- PATHS`` with paths taken literally (no glob magic)."""
        return self.git.run("--literal-pathspecs", *args, "--", *paths)

    def commit(self, changes: Mapping[str, bytes | None], message: str) -> str:
        """Commit registry-relative file changes (None deletes) on the current branch;
        returns the new commit's id.

        Call under :meth:`lock`. Refuses files with uncommitted edits
        (:class:`ConflictError`); a hook or git refusing the commit raises
        :class:`GitError` with git's words. On any failure the working tree, the
        index and HEAD are as they were.
        """
        self.recover()
        paths = {self.prefix + rel: data for rel, data in changes.items()}
        text = identity.message(message)
        # one look at the configuration and the hooks decides the engine, the identity
        # and the maintenance of this commit
        self._pinned = None
        self._pinned = self._settings()
        try:
            engine = self.engine
            if engine == "git":
                self._refuse_dirty(paths, engine)
                return self._commit_with_git(paths, text)
            # git's index lock is held from before the check until libgit2 writes the
            # index, so a `git add` meanwhile fails instead of being overwritten
            for attempt in range(1, maintenance.TRIES + 1):
                try:
                    with self._index_held() as release:
                        return self._commit_in_process(paths, text, release)
                except maintenance.Raced:
                    if attempt == maintenance.TRIES:
                        raise
            raise AssertionError("unreachable")
        finally:
            self._pinned = None

    def _refuse_dirty(self, paths: Mapping[str, bytes | None], engine: str) -> None:
        dirty = self._dirty(sorted(paths), engine)
        if dirty:
            raise ConflictError(
                "uncommitted changes in "
                + ", ".join(dirty)
                + ": commit or discard them first (modelreg never writes over your edits)"
            )

    @contextlib.contextmanager
    def _index_held(self) -> Iterator[Callable[[], None]]:
        """Hold ``index.lock`` (a placeholder naming this process) until released."""
        lock = self._git_dir / "index.lock"
        self._take_index(lock)
        held = [True]

        def release() -> None:
            if held[0]:
                held[0] = False
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()

        try:
            yield release
        finally:
            release()

    def _take_index(self, lock: Path) -> None:
        """Create ``index.lock`` holding the placeholder whole from its first instant
        (a writer killed at any point leaves no lock or one naming it, which the next
        writer removes). A lock someone else holds is waited for, up to
        ``index_wait`` seconds: a git process run beside modelreg, or left running by
        a writer that was killed, ends and removes it by itself. It is never removed
        here, as it may be a live git process's."""
        placeholder = _PLACEHOLDER + str(os.getpid()).encode()

        def take() -> bool:
            for _ in range(2):  # a dead modelreg's placeholder goes, then once more
                try:
                    worktree.create_whole(lock, placeholder, self._scratch)
                except FileExistsError:
                    if not self._remove_placeholder():
                        return False
                else:
                    return True
            return False

        if not _poll(take, self.index_wait):
            raise ConflictError(_held_by_someone(lock, self.index_wait))
        self._step("locked")

    def _await_index(self) -> None:
        """Wait, as :meth:`_take_index` does, until no one holds ``index.lock``."""
        lock = self._git_dir / "index.lock"
        if not _poll(lambda: self._remove_placeholder() or not lock.exists(), self.index_wait):
            raise ConflictError(_held_by_someone(lock, self.index_wait))

    def _await_helpers(self, pids: list[int]) -> None:
        """Wait, up to ``index_wait`` seconds, for the git processes a killed writer
        started to end by themselves: they may hold git's locks, which are never
        taken from a live process."""
        if not _poll(lambda: not any(_git_alive(p) for p in pids), self.index_wait):
            running = ", ".join(str(p) for p in pids if _git_alive(p))
            raise ConflictError(
                f"git (process {running}), started by a write that was interrupted, is "
                f"still running in {self._worktree} (waited {self.index_wait:g} s): "
                "try again once it has ended (if no such git process runs, remove "
                f"{self._journal.helpers_path})"
            )

    def _recorded(self, *args: str, paths: list[str] | None = None, data: bytes = b"") -> Done:
        """``git ARGS``, or ``git ARGS -- PATHS`` (paths taken literally), recorded as a
        helper of the pending write (see :meth:`Journal.add_helper`) while it runs."""
        if paths is not None:
            args = ("--literal-pathspecs", *args, "--", *paths)
        running = self.git.start(*args, data=data)
        if running.pid is not None:
            self._journal.add_helper(running.pid)
        return running.wait()

    def _begin(
        self, paths: Mapping[str, bytes | None], parent: str | None, in_place: bool = False
    ) -> dict[str, str | None]:
        """Record the write, then write the files; returns each path's blob id (None:
        removed)."""
        ids = {p: None if d is None else blob_id(d) for p, d in paths.items()}
        self._journal.write(Pending(parent, ids, os.getpid(), in_place))
        self._step("journal")
        write = worktree.write_in_place if in_place else worktree.write_file
        for path, data in paths.items():
            write(self._worktree / path, data, self._worktree, self._scratch)
        self._step("files")
        return ids

    def _commit_in_process(
        self, paths: Mapping[str, bytes | None], message: str, release: Callable[[], None]
    ) -> str:
        engine = self._engine
        assert engine is not None
        author, committer = self._people()
        index = engine.index()
        # many files: git writes their objects into one pack, and the files are written
        # in place (see bulk.py)
        modes = engine.plain_modes(index, paths) if len(paths) >= bulk.BULK_FILES else None
        parent = self.head()
        packing = (
            None
            if modes is None
            else self._bulk_started(paths, modes, parent, author, committer, message)
        )
        try:
            self._refuse_dirty(paths, "libgit2")
        except BaseException:
            if packing is not None:  # what git wrote is reachable from nothing
                with contextlib.suppress(GitError):
                    self._bulk_finished(packing)
            raise
        try:
            if modes is None:
                self._begin(paths, parent)
                staged = engine.stage(index, {p: d is not None for p, d in paths.items()})
                self._step("staged")
                base = engine.root_tree(parent) if parent else None
                tree = engine.build_tree(base, {tuple(p.split("/")): t for p, t in staged.items()})
                assert tree is not None
                new = engine.create_commit(tree, parent, author, committer, message)
            else:
                assert packing is not None
                new = self._bulk_finished(packing)
                ids = self._begin(paths, parent, in_place=True)
                self._step("staged")
            self._step("commit")
            release()
            if modes is None:
                index.write()
            else:  # git points the entries at the objects it wrote, in one process
                entries = {p: None if i is None else (i, modes[p]) for p, i in ids.items()}
                self._bulk_indexed(entries, null="0" * len(new))
            self._step("index")
            self._move_head(parent, new, committer, message)
            self._step("ref")
        except BaseException:
            with contextlib.suppress(Exception):
                index.read(True)
            release()  # git itself rolls the files back, and needs the index
            self.recover()
            raise
        self._journal.clear()
        if modes is not None:
            # the entries' file status, as `git status` would fill it in
            self.git.run("update-index", "-q", "--refresh")
        maintenance.after_write(self)  # what `git commit` does after committing
        return new

    def _bulk_started(
        self,
        paths: Mapping[str, bytes | None],
        modes: Mapping[str, int],
        parent: str | None,
        author: identity.Person,
        committer: identity.Person,
        message: str,
    ) -> Running:
        """``git fast-import`` writing the commit of ``paths`` and its objects, on the
        private ref :func:`bulk.private_ref` (see :meth:`_bulk_finished`)."""
        data = bulk.stream(
            {p: None if d is None else (d, modes[p]) for p, d in paths.items()},
            ref=bulk.private_ref(os.getpid()),
            parent=parent,
            author=author,
            committer=committer,
            message=message,
        )
        return self.git.start(
            "fast-import", "--quiet", "--force", "--done", data=data, env=bulk.ENV
        )

    def _bulk_finished(self, packing: Running) -> str:
        """The commit ``git fast-import`` made, once it has ended; its private ref is
        removed, so nothing points at the commit yet."""
        assert self._engine is not None
        try:
            done = packing.wait()
        finally:
            self._engine.drop_ref(bulk.private_ref(os.getpid()))
        if not done.ok:
            raise GitError(f"git fast-import refused the commit: {done.last_words()}")
        return done.out.strip()

    def _bulk_indexed(self, entries: Mapping[str, tuple[str, int] | None], null: str) -> None:
        """The index entries of a bulk commit pointed at its objects by ``git
        update-index`` (their file status left blank until the refresh that follows:
        a third of the time of libgit2 adding 10,000 entries one by one)."""
        done = self._recorded(
            "update-index", "-z", "--index-info", data=bulk.index_info(entries, null)
        )
        if not done.ok:
            raise GitError(f"git update-index refused the new entries: {done.last_words()}")

    def _move_head(
        self, parent: str | None, new: str, committer: identity.Person, message: str
    ) -> None:
        assert self._engine is not None
        self._engine.move_ref(parent, new, committer, message.split("\n", 1)[0])

    def _commit_with_git(self, paths: Mapping[str, bytes | None], message: str) -> str:
        all_paths = sorted(paths)
        present = [p for p, d in paths.items() if d is not None]
        note = self._journal.folder / "COMMIT_MSG"
        try:
            self._begin(paths, self.head())
            if present:
                done = self._recorded("add", "--force", paths=present)
                if not done.ok:
                    raise GitError(f"git add failed: {done.last_words()}")
            note.write_text(message)
            done = self._recorded(
                "commit",
                "--quiet",
                "--allow-empty",
                "--cleanup=whitespace",
                f"--file={note}",
                "--only",
                paths=all_paths,
            )
            if not done.ok:
                said = "; ".join(
                    w
                    for w in (done.out.strip(), done.last_words())
                    if w and w != "git gave no reason"
                )
                raise GitError(f"git refused the commit: {said or 'no reason given'}")
            self._step("ref")
        except BaseException:
            self.recover()
            raise
        finally:
            with contextlib.suppress(FileNotFoundError):
                note.unlink()
        self._journal.clear()
        new = self.head()
        assert new is not None
        return new

    def recover(self) -> None:
        """Finish what a write that died left (call under :meth:`lock`): each file it
        was writing is brought back to what the branch holds, in the working tree
        and the index, unless the file holds someone else's bytes by now (then only
        its index entry is). Stale lock files the dead writer held are removed."""
        self._remove_placeholder()
        pending = self._journal.read()
        worktree.clear_scratch(self._scratch)
        if pending is None:
            return
        if pending.pid != os.getpid() and not _alive(pending.pid):
            self._await_helpers(self._journal.helpers())
            self._remove_stale_locks(self._journal.path)
        head = self.head()
        restore: list[str] = []
        absent: list[str] = []
        index_only: list[str] = []
        for path, ours in pending.paths.items():
            try:
                data: bytes | None = (self._worktree / path).read_bytes()
            except OSError:
                data = None
            on_disk = None if data is None else blob_id(data)
            in_head = head is not None and self._blob_at_full(head, path) is not None
            if (
                on_disk == ours
                or data is None
                or (pending.in_place and self._cut_short(data, pending.parent, path, ours))
            ):
                (restore if in_head else absent).append(path)
            else:
                index_only.append(path)
        if restore or absent or index_only:
            self._await_index()
        if restore:
            self._recorded("checkout", "--quiet", "HEAD", paths=restore)
        if absent:
            for path in absent:
                worktree.write_file(self._worktree / path, None, self._worktree, self._scratch)
            self._recorded("rm", "--quiet", "--cached", "--ignore-unmatch", "-r", paths=absent)
        if index_only:
            if head is not None:
                self._recorded("reset", "--quiet", paths=index_only)
            else:
                self._recorded("rm", "--quiet", "--cached", "--ignore-unmatch", paths=index_only)
        if self._engine is not None:
            self._engine.reread_index()
        self._journal.clear(helpers=True)

    def _cut_short(self, data: bytes, parent: str | None, path: str, ours: str | None) -> bool:
        """Whether ``data`` is a file an in-place write of the blob ``ours`` over the
        file at ``parent`` left half done."""
        if ours is None:
            return False
        try:
            new = self.read_blob(ours)
            old_id = self._blob_at_full(parent, path) if parent else None
            old = self.read_blob(old_id) if old_id else b""
        except GitError:  # the write had not stored its objects: not a file of its
            return False
        return worktree.torn(data, old, new)

    def _remove_placeholder(self) -> bool:
        """An ``index.lock`` placeholder of a modelreg process that died goes (True:
        it went)."""
        lock = self._git_dir / "index.lock"
        try:
            with open(lock, "rb") as fh:
                head = fh.read(64)
        except OSError:
            return False
        if head.startswith(_PLACEHOLDER):
            pid = int(head[len(_PLACEHOLDER) :] or b"0")
            if pid != os.getpid() and not _alive(pid):
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
                return True
        return False

    def _blob_at_full(self, commit: str, full: str) -> str | None:
        if self._engine is not None:
            return self._engine.blob_at(commit, full)
        return self._plumbing.blob_at(commit, full)

    def _remove_stale_locks(self, since: Path) -> None:
        """Lock files a dead writer held: the index's and the branch's, when made after
        its journal (so by it, not by a git run before it)."""
        try:
            start = since.stat().st_mtime_ns
        except OSError:
            return
        ref = "HEAD"
        with contextlib.suppress(OSError):
            text = (self._git_dir / "HEAD").read_text().strip()
            ref = text[5:] if text.startswith("ref: ") else "HEAD"
        where = self._git_dir if ref == "HEAD" else self._common_dir
        for lock in (self._git_dir / "index.lock", where / (ref + ".lock")):
            with contextlib.suppress(OSError):
                if lock.stat().st_mtime_ns >= start:
                    lock.unlink()


def _held_by_someone(lock: Path, waited: float) -> str:
    """Why ``index.lock`` could not be taken, and what to do about it."""
    try:
        st = lock.stat()
        age = f", made {max(0.0, time.time() - st.st_mtime):.0f} s ago"
        size = f"{st.st_size} bytes" if st.st_size else "empty"
    except OSError:
        age, size = "", "gone by now"
    return (
        f"{lock} exists ({size}{age}; waited {waited:g} s): another git process is "
        "working in this repository (if none is, a crashed one left it: remove the file)"
    )


def _poll(attempt: Callable[[], bool], timeout: float) -> bool:
    """Call ``attempt`` until it returns True (then True) or ``timeout`` seconds have
    passed (then False), waiting 5 ms between calls at first, 0.1 s at most."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while not attempt():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(delay, left))
        delay = min(delay * 2, 0.1)
    return True


def _git_alive(pid: int) -> bool:
    """Whether ``pid`` is still a running git process (where /proc tells what a process
    runs: an id the system gave to another program since is not waited for)."""
    if not _alive(pid):
        return False
    with contextlib.suppress(OSError), open(f"/proc/{pid}/comm", "rb") as fh:
        return fh.read().startswith(b"git")
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a process that has ended but that no one has reaped yet (where /proc tells)
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat", "rb") as fh:
        return fh.read().rpartition(b")")[2].split()[:1] != [b"Z"]
    return True
