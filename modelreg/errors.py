"""The one error hierarchy of modelreg.

Every failure a user can act on is a :class:`ModelregError`; the CLI turns it
into a message and the exit code named on the class.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file, at a place a person can find.

    ``path`` is the file relative to the top of its git repository (of the registry
    folder outside git; as given for a file outside any registry, such as a keys file),
    ``ref`` the commit, tag or branch it was read at (None: the working tree). How a
    path is shown (relative to a person's folder, to the repository) is for the edges
    to decide: :meth:`format` takes the name to show."""

    path: str
    line: int | None
    column: int | None
    field: str
    message: str
    ref: str | None = dataclasses.field(default=None, kw_only=True)  # after `field`, by name

    @property
    def name(self) -> str:
        """The file as the repository knows it: ``path``, or ``path@ref`` at a ref."""
        return self.path if self.ref is None else f"{self.path}@{self.ref}"

    def format(self, file: str | None = None) -> str:
        """``file:line:column: field: message``, the file named ``file`` (default: :attr:`name`)."""
        where = self.name if file is None else file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )

    def __str__(self) -> str:
        return self.format()

    def to_dict(self) -> dict[str, object]:
        """The problem as JSON data; ``file`` and ``path`` are both the repository path."""
        return {
            "file": self.path,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "message": self.message,
            "path": self.path,
            "ref": self.ref,
        }


class ModelregError(Exception):
    """Base of every modelreg error. ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class InvalidManifestError(ModelregError):
    """A manifest or the registry config breaks the schema or a rule."""

    exit_code = 3

    def __init__(self, problems: Sequence[Problem], root: Path | None = None) -> None:
        self.problems = tuple(problems)
        # the folder the problems' paths are relative to (the top of the git repository),
        # for the edges to name the files relative to a person's folder; None: unknown
        self.root = root
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(ModelregError):
    """A request written wrong: a malformed reference, a filter value that cannot match."""

    exit_code = 2


class NotFoundError(ModelregError):
    """A model, version, ref or registry that does not exist."""

    exit_code = 4


class RuleViolationError(ModelregError):
    """An operation that would break a registry rule (immutability, single production, ...)."""

    exit_code = 5


class ConflictError(ModelregError):
    """Someone else's change is in the way: uncommitted edits, a moved branch, a lock."""

    exit_code = 5


class ReadOnlyError(ModelregError):
    """A write on a registry opened at a ref (time travel is read-only)."""

    exit_code = 5


class ArtifactError(ModelregError):
    """An artifact could not be stored, read or verified; names the URI."""

    exit_code = 6


class ArtifactExistsError(ArtifactError):
    """Other bytes already sit where an upload would go (modelreg never overwrites)."""


class GitError(ModelregError):
    """Git could not do what was asked (no repository, missing commit, failed push)."""

    exit_code = 7


def problems_error(problems: Iterable[Problem]) -> InvalidManifestError:
    return InvalidManifestError(list(problems))


class TargetError(ModelregError):
    """A deploy target that cannot be loaded or fails to render; names the target."""

    exit_code = 1


class LoaderError(ModelregError):
    """A model loader that cannot be imported or fails on its artifact; names the loader."""

    exit_code = 1


class MlflowImportError(ModelregError):
    """An MLflow registry that cannot be read (a bad tracking URI, MLflow not installed)."""

    exit_code = 1
