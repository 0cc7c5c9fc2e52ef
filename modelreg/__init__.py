"""modelreg: a model registry whose source of truth is a Git repository.

``from modelreg import Registry, Query`` is the library's front door.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelreg.errors import (
    ArtifactError,
    ArtifactExistsError,
    ConflictError,
    GitError,
    InvalidManifestError,
    LoaderError,
    ModelregError,
    NotFoundError,
    Problem,
    ReadOnlyError,
    RuleViolationError,
    TargetError,
    UsageError,
)

if TYPE_CHECKING:
    from modelreg.fetcher import fetch, load
    from modelreg.query import Query
    from modelreg.registry import Registry

__all__ = [
    "ArtifactError",
    "ArtifactExistsError",
    "ConflictError",
    "GitError",
    "InvalidManifestError",
    "LoaderError",
    "ModelregError",
    "NotFoundError",
    "Problem",
    "Query",
    "ReadOnlyError",
    "Registry",
    "RuleViolationError",
    "TargetError",
    "UsageError",
    "fetch",
    "load",
]


def __getattr__(name: str) -> Any:
    # The registry pulls in pydantic; load it when asked for, not on `import modelreg.errors`.
    if name == "Registry":
        from modelreg.registry import Registry

        return Registry
    if name in ("fetch", "load"):
        from modelreg import fetcher

        return getattr(fetcher, name)
    if name == "Query":
        from modelreg.query import Query

        return Query
    raise AttributeError(name)
