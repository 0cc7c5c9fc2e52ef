"""Loaders: turn a fetched, checked artifact into a live object (``modelreg.load``).

A loader is any object with a ``name``, a one-line ``description``, the
manifest ``frameworks`` it serves and a ``load(path)`` method, registered under
the entry-point group ``modelreg.loaders`` (the built-in ones too, see
pyproject.toml). ``load`` picks the loader named by the caller, else the one
serving the model's framework.

Which loaders are safe: a loader runs only on bytes whose sha256 matched the
reviewed manifest, so it loads exactly what the registry's reviewers let in.
ONNX Runtime reads a graph and runs no Python from it. joblib (scikit-learn)
unpickles, which can run code: it is as safe as the registry's review of what
gets registered, no safer; never point it at a registry you do not trust.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from modelreg import plugins
from modelreg.errors import LoaderError, ModelregError, NotFoundError

ENTRY_POINT_GROUP = "modelreg.loaders"


@runtime_checkable
class Loader(Protocol):
    name: str
    description: str
    frameworks: tuple[str, ...]

    def load(self, path: Path) -> Any:
        """The live model read from the (checked) file at ``path``."""
        ...


@dataclass(frozen=True)
class LoaderInfo:
    name: str
    entry_point: str
    frameworks: tuple[str, ...] = ()
    description: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "entry_point": self.entry_point,
            "frameworks": list(self.frameworks),
            "description": self.description,
            "error": self.error,
        }


def _load(ep: metadata.EntryPoint) -> Loader:
    where = plugins.where(ep)
    try:
        loader = plugins.instance(ep)
    except Exception as exc:
        raise LoaderError(f"loader {ep.name!r} cannot be loaded: {where}: {exc}") from None
    if not isinstance(loader, Loader):
        raise LoaderError(
            f"loader {ep.name!r} is not a loader (it needs name, description, frameworks "
            f"and load()): {where}"
        )
    return loader


def installed_loaders() -> list[LoaderInfo]:
    """Every loader installed, sorted by name; a broken plugin is listed with its error."""
    out = []
    for name, ep in plugins.entry_points(ENTRY_POINT_GROUP).items():
        try:
            loader = _load(ep)
        except LoaderError as exc:
            out.append(LoaderInfo(name, ep.value, error=str(exc)))
            continue
        out.append(LoaderInfo(name, ep.value, tuple(loader.frameworks), loader.description))
    return out


def loader_named(name: str) -> Loader:
    """Raises :class:`NotFoundError` when no loader of that name is installed."""
    eps = plugins.entry_points(ENTRY_POINT_GROUP)
    if name not in eps:
        known = ", ".join(eps) or "none"
        raise NotFoundError(f"no loader {name!r} is installed (installed: {known})")
    return _load(eps[name])


def loader_for(framework: str) -> Loader:
    """The installed loader serving a manifest framework (``sklearn``, ``onnx``...).
    Raises :class:`NotFoundError` naming the loaders there are."""
    for ep in plugins.entry_points(ENTRY_POINT_GROUP).values():
        try:
            loader = _load(ep)
        except LoaderError:
            continue  # a broken plugin does not hide a working one
        if framework in loader.frameworks:
            return loader
    known = ", ".join(plugins.entry_points(ENTRY_POINT_GROUP)) or "none"
    raise NotFoundError(
        f"no loader serves framework {framework!r} (installed: {known}); "
        "name one with loader=..., or install one (pip install 'modelreg[loaders]')"
    )


def run_loader(loader: Loader, path: Path) -> Any:
    """``loader.load(path)``, its failure turned into a :class:`LoaderError` naming both."""
    try:
        return loader.load(path)
    except ModelregError:
        raise
    except ImportError as exc:
        raise LoaderError(
            f"loader {loader.name!r} needs {exc.name or exc}: pip install 'modelreg[loaders]'"
        ) from None
    except Exception as exc:
        raise LoaderError(
            f"loader {loader.name!r} could not load {path}: {type(exc).__name__}: {exc}"
        ) from None
