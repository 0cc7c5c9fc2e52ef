"""The in-process engine: objects, trees, the index and refs through pygit2 (libgit2).

Reads any commit; writes blobs, the trees along the changed paths only, the
commit, the index (kept loaded by libgit2 while its file is unchanged) and the
ref (moved only from the value it was read at, under git's own lock, with the
reflog lines git writes).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pygit2

from modelreg.errors import ConflictError, GitError, NotFoundError
from modelreg.gitstore.identity import Person
from modelreg.gitstore.maintenance import Raced
from modelreg.gitstore.worktree import read_file

TREE = pygit2.enums.FileMode.TREE
BLOB = pygit2.enums.FileMode.BLOB
_CLEAN = {pygit2.enums.FileStatus.CURRENT, pygit2.enums.FileStatus.IGNORED}

_KEEP_BUILDER = 64  # folders with at least this many entries keep their tree builder
# name -> (object id, mode), None to remove; keys are path parts below a tree
Changes = Mapping[tuple[str, ...], "tuple[pygit2.Oid, int] | None"]


def _same_bytes(path: str, blob: pygit2.Oid) -> bool:
    """The file holds exactly the blob's bytes (no filter involved). A plain SHA-1 of
    the bytes, much faster than libgit2's collision-detecting one on a big file."""
    try:
        data = read_file(path)
    except OSError:
        return False
    h = hashlib.sha1(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest() == str(blob)


@contextlib.contextmanager
def storing() -> Iterator[None]:
    """Objects written inside; a folder that vanished under libgit2 raises :class:`Raced`."""
    try:
        yield
    except pygit2.GitError as exc:
        if "No such file or directory" in str(exc):
            raise Raced(f"libgit2 could not store an object: {exc}") from None
        raise


def signature(who: Person) -> pygit2.Signature:
    return pygit2.Signature(who.name, who.email, who.time, who.offset, "utf-8")


class InProcess:
    """One repository opened by libgit2."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self.repo = repo
        self._trees: dict[str, pygit2.Tree] = {}
        self._listings: dict[pygit2.Oid, dict[str, tuple[str, bool]]] = {}
        self._builders: dict[str, tuple[pygit2.Oid, pygit2.TreeBuilder]] = {}

    @classmethod
    def open(cls, path: Path) -> InProcess | None:
        """The repository holding ``path``, None when libgit2 cannot open it as one with a
        working tree (SHA-256 objects, an unknown extension, a bare repository)."""
        try:
            repo = pygit2.Repository(str(path))
        except (pygit2.GitError, ValueError, KeyError):
            return None
        return cls(repo) if repo.workdir is not None else None

    @property
    def worktree(self) -> Path:
        assert self.repo.workdir is not None
        return Path(self.repo.workdir).resolve()

    @property
    def git_dir(self) -> Path:
        return Path(self.repo.path).resolve()

    def reread_index(self) -> None:
        """Read the index again from disk (after git changed it)."""
        with contextlib.suppress(pygit2.GitError):
            self.repo.index.read(True)

    # ------------------------------------------------------------- reading

    def head(self) -> str | None:
        try:
            target = self.repo.lookup_reference("HEAD").resolve().target
        except (KeyError, pygit2.GitError):
            return None  # unborn branch
        return str(target)

    def head_ref(self) -> str:
        """The ref a commit moves: the checked-out branch, or ``HEAD`` when detached."""
        ref = self.repo.lookup_reference("HEAD")
        return str(ref.target) if ref.type == pygit2.enums.ReferenceType.SYMBOLIC else "HEAD"

    def resolve(self, ref: str) -> str:
        try:
            return str(self.repo.revparse_single(ref).peel(pygit2.Commit).id)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            raise NotFoundError(f"unknown git ref {ref!r}") from None

    def tree(self, commit: str) -> pygit2.Tree:
        found = self._trees.get(commit)
        if found is None:
            if len(self._trees) > 256:
                self._trees.clear()
            found = self.repo[commit].peel(pygit2.Tree)
            self._trees[commit] = found
        return found

    def entry(self, commit: str, path: str) -> pygit2.Object | None:
        if not path:
            return self.tree(commit)
        try:
            return self.tree(commit)[path]
        except (KeyError, UnicodeEncodeError):
            return None

    def listdir(self, commit: str, path: str) -> dict[str, tuple[str, bool]]:
        found = self.entry(commit, path.rstrip("/"))
        if not isinstance(found, pygit2.Tree):
            return {}
        cached = self._listings.get(found.id)
        if cached is None:
            cached = {
                (e.raw_name or b"").decode("utf-8", "surrogateescape"): (
                    str(e.id),
                    e.filemode == TREE,
                )
                for e in found
            }
            if len(self._listings) > 64:
                self._listings.clear()
            self._listings[found.id] = cached
        return cached

    def blob_at(self, commit: str, path: str) -> str | None:
        found = self.entry(commit, path)
        return None if found is None or isinstance(found, pygit2.Tree) else str(found.id)

    def read_blob(self, sha: str) -> bytes:
        try:
            return bytes(self.repo[sha].read_raw())
        except (KeyError, ValueError):
            raise GitError(f"object {sha} is missing from the repository") from None

    def config(self, keys: tuple[str, ...]) -> dict[str, str]:
        """The values of ``keys`` that are set, from the configuration files git reads
        (system, global, XDG, local, worktree, includes)."""
        snapshot = self.repo.config.snapshot()
        out = {}
        for key in keys:
            try:
                out[key] = str(snapshot[key])
            except (KeyError, pygit2.GitError):
                continue
        return out

    # ------------------------------------------------------------- writing

    def index(self) -> pygit2.Index:
        """The repository's index, read again only if its file changed.

        Raises :class:`GitError` (a sign that git itself must write it) when libgit2
        cannot read it; :class:`ConflictError` while a merge is in progress.
        """
        try:
            index: pygit2.Index = self.repo.index
            index.read(False)
        except pygit2.GitError as exc:
            raise GitError(f"libgit2 cannot read this index: {exc}") from None
        if index.conflicts is not None:
            raise ConflictError(
                "the index has unmerged entries (a merge is in progress): finish or abort it first"
            )
        return index

    def dirty(self, index: pygit2.Index, head: str | None, paths: list[str]) -> list[str]:
        """Which of these repository paths differ between HEAD, the index and the file
        (with git's filters, such as ``core.autocrlf``, applied)."""
        out = []
        trees: dict[pygit2.Oid, pygit2.Tree] = {}  # each folder read once for all paths
        for path in paths:
            head_id = self._id_at(head, path, trees) if head else None
            try:
                index_id: pygit2.Oid | None = index[path].id
            except KeyError:
                index_id = None
            if head_id != index_id:
                out.append(path)
                continue
            if index_id is not None and _same_bytes(self.repo.workdir + path, index_id):
                continue
            try:
                disk: pygit2.Oid | None = pygit2.hashfile(self.repo.workdir + path)
            except (OSError, pygit2.GitError, ValueError):
                disk = None
            if disk == index_id:
                continue
            try:
                status = self.repo.status_file(path)
            except KeyError:  # neither tracked nor on disk
                continue
            if status not in _CLEAN:
                out.append(path)
        return out

    def _id_at(
        self, commit: str, path: str, trees: dict[pygit2.Oid, pygit2.Tree]
    ) -> pygit2.Oid | None:
        """The object id at ``path`` in ``commit``. A big folder whose tree this engine
        wrote last is looked up in the builder it kept, not read and parsed again;
        ``trees`` keeps the folders read (libgit2 does not cache big trees)."""
        parts = path.split("/")
        try:
            tree_id = self.root_tree(commit)
        except (KeyError, ValueError):
            return None
        for depth, name in enumerate(parts):
            kept = self._builders.get("/".join(parts[:depth]))
            try:
                if kept is not None and kept[0] == tree_id:
                    found = kept[1].get(name)
                else:
                    tree = trees.get(tree_id)
                    if tree is None:
                        tree = trees[tree_id] = self.repo[tree_id].peel(pygit2.Tree)
                    found = tree[name]
            except (KeyError, UnicodeEncodeError):
                return None
            if found is None:
                return None
            if depth == len(parts) - 1:
                return found.id
            if found.filemode != TREE:
                return None
            tree_id = found.id
        return None

    def stage(
        self, index: pygit2.Index, paths: Mapping[str, bool]
    ) -> dict[str, tuple[pygit2.Oid, int] | None]:
        """Bring each path's index entry to its file (True) or remove it (False), as
        ``git add``/``git rm --cached`` do: filters applied, blob stored, stat kept.
        Returns the object id and mode the commit's tree must hold."""
        out: dict[str, tuple[pygit2.Oid, int] | None] = {}
        for path, present in paths.items():
            if present:
                with storing():
                    index.add(path)
                entry = index[path]
                out[path] = (entry.id, int(entry.mode))
            else:
                if path in index:
                    index.remove(path)
                out[path] = None
        return out

    def plain_modes(
        self, index: pygit2.Index, changes: Mapping[str, bytes | None]
    ) -> dict[str, int] | None:
        """The file mode each written path keeps (a new file's is 100644), when every
        one is committed as its very bytes: a regular file or none, no filter, ident
        or working-tree encoding, no carriage return an end-of-line rule could
        change. None when one is not (then libgit2 stages the files as git would)."""
        repo = self.repo
        regular = {int(BLOB), int(pygit2.enums.FileMode.BLOB_EXECUTABLE)}
        modes: dict[str, int] = {}
        everywhere = self._attributes_everywhere()
        seen: dict[str, bool] = {}
        for path, data in changes.items():
            if data is None:
                continue
            if b"\r" in data:
                return None
            if (everywhere or self._attributes_along(path, seen)) and any(
                repo.get_attr(path, name) not in (None, False)
                for name in ("filter", "ident", "working-tree-encoding")
            ):
                return None
            try:
                mode = int(index[path].mode)
            except KeyError:
                mode = int(BLOB)
            if mode not in regular:
                return None
            modes[path] = mode
        return modes

    def _attributes_everywhere(self) -> bool:
        """Whether an attributes file outside the working tree exists (the git folder's,
        ``core.attributesFile``, the user's or the system's)."""
        home = Path(os.environ.get("HOME", "/"))
        xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
        named = self.config(("core.attributesfile",)).get("core.attributesfile")
        places = [
            Path(self.repo.path) / "info" / "attributes",
            xdg / "git" / "attributes",
            Path("/etc/gitattributes"),
        ]
        if named:
            places.append(Path(named).expanduser())
        with contextlib.suppress(OSError):  # a linked worktree's shared git folder
            common = (Path(self.repo.path) / "commondir").read_text().strip()
            places.append(Path(self.repo.path) / common / "info" / "attributes")
        return any(p.exists() for p in places)

    def _attributes_along(self, path: str, seen: dict[str, bool]) -> bool:
        """Whether a ``.gitattributes`` file is in a folder along ``path`` (``seen``
        remembers the folders looked at)."""
        folder = self.repo.workdir
        for part in ("", *path.split("/")[:-1]):
            folder = folder + part + "/" if part else folder
            found = seen.get(folder)
            if found is None:
                found = seen[folder] = os.path.exists(folder + ".gitattributes")
            if found:
                return True
        return False

    def drop_ref(self, name: str) -> None:
        """Remove a ref if it exists."""
        with contextlib.suppress(KeyError, pygit2.GitError):
            self.repo.references.delete(name)

    def root_tree(self, commit: str) -> pygit2.Oid:
        return self.repo[commit].peel(pygit2.Commit).tree_id

    def build_tree(
        self, base: pygit2.Oid | None, changes: Changes, path: tuple[str, ...] = ()
    ) -> pygit2.Oid | None:
        """The tree ``base`` with ``changes`` applied; only trees along changed paths
        are written. None when a sub-folder ends up empty.

        The builder of a big folder is kept after it wrote a tree: when the next
        commit starts from that very tree, it is reused as it is, so the folder
        is neither read nor loaded again (only written).
        """
        repo = self.repo
        key = "/".join(path)
        # taken out while it changes: a failure half-way must not leave it kept as the
        # builder of a tree it no longer matches
        kept = self._builders.pop(key, None)
        if kept is not None and base is not None and kept[0] == base:
            builder = kept[1]
        elif base is not None:
            builder = repo.TreeBuilder(base)
        else:
            builder = repo.TreeBuilder()
        depth = len(path)
        below: dict[str, dict[tuple[str, ...], tuple[pygit2.Oid, int] | None]] = {}
        for parts, target in changes.items():
            name = parts[depth]
            if len(parts) == depth + 1:
                if target is None:
                    if builder.get(name) is not None:
                        builder.remove(name)
                else:
                    builder.insert(name, target[0], target[1])
            else:
                below.setdefault(name, {})[parts] = target
        for name, sub_changes in below.items():
            prev = builder.get(name)
            sub = prev.id if prev is not None and prev.filemode == TREE else None
            new = self.build_tree(sub, sub_changes, (*path, name))
            if new is None:
                if prev is not None:
                    builder.remove(name)
            else:
                builder.insert(name, new, TREE)
        if depth > 0 and len(builder) == 0:
            self._builders.pop(key, None)
            return None
        with storing():
            written: pygit2.Oid = builder.write()
        if len(builder) >= _KEEP_BUILDER:
            self._builders[key] = (written, builder)
        else:
            self._builders.pop(key, None)
        return written

    def create_commit(
        self,
        tree: pygit2.Oid,
        parent: str | None,
        author: Person,
        committer: Person,
        message: str,
    ) -> str:
        """Write the commit object (nothing points at it yet)."""
        parents = [pygit2.Oid(hex=parent)] if parent else []
        with storing():
            oid = self.repo.create_commit(
                None, signature(author), signature(committer), message, tree, parents
            )
        return str(oid)

    def move_ref(self, parent: str | None, new: str, committer: Person, subject: str) -> None:
        """Point the checked-out branch (or a detached HEAD) at ``new``, only if it
        still points at ``parent``; the reflog says what ``git commit`` says."""
        name = self.head_ref()
        self.repo.set_ident(committer.name, committer.email)
        kind = "commit (initial)" if parent is None else "commit"
        message = f"{kind}: {subject}"
        try:
            if parent is None:
                self.repo.create_reference_direct(name, pygit2.Oid(hex=new), False, message=message)
                return
            ref = self.repo.lookup_reference(name)
            if str(ref.target) != parent:
                raise ConflictError("the branch moved while modelreg was writing; try again")
            ref.set_target(pygit2.Oid(hex=new), message)
        except (pygit2.AlreadyExistsError, pygit2.GitError) as exc:
            raise ConflictError(
                f"the branch moved while modelreg was writing ({exc}); try again"
            ) from None
