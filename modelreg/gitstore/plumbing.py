"""Reading objects through git's plumbing commands, for repositories libgit2 cannot
open (SHA-256 object format): slower than the in-process engine, but git's own answer."""

from __future__ import annotations

from modelreg.errors import GitError, NotFoundError
from modelreg.gitstore.executable import Git


class Plumbing:
    """Refs, trees and blobs of one repository, each answered by one git command."""

    def __init__(self, git: Git) -> None:
        self.git = git

    def head(self) -> str | None:
        done = self.git.run("rev-parse", "--quiet", "--verify", "HEAD^{commit}")
        return done.out.strip() if done.ok and done.out.strip() else None

    def resolve(self, ref: str) -> str:
        done = self.git.run(
            "rev-parse", "--quiet", "--verify", "--end-of-options", f"{ref}^{{commit}}"
        )
        if not done.ok or not done.out.strip():
            raise NotFoundError(f"unknown git ref {ref!r}")
        return done.out.strip()

    def _ls(self, commit: str, path: str) -> list[tuple[str, str, str]]:
        """(type, object id, name) of the entries of tree ``commit:path``."""
        done = self.git.run("ls-tree", "-z", f"{commit}:{path}")
        if not done.ok:
            return []
        out = []
        for item in done.out.split("\0"):
            if item:
                meta, _, name = item.partition("\t")
                _, kind, sha = meta.split(" ")
                out.append((kind, sha, name))
        return out

    def listdir(self, commit: str, path: str) -> dict[str, tuple[str, bool]]:
        return {name: (sha, kind == "tree") for kind, sha, name in self._ls(commit, path)}

    def blob_at(self, commit: str, path: str) -> str | None:
        folder, _, name = path.rpartition("/")
        for kind, sha, entry in self._ls(commit, folder):
            if entry == name:
                return sha if kind == "blob" else None
        return None

    def read_blob(self, sha: str) -> bytes:
        done = self.git.run("cat-file", "blob", sha)
        if not done.ok:
            raise GitError(f"object {sha} is missing from the repository")
        return done.out.encode("utf-8", "surrogateescape")
