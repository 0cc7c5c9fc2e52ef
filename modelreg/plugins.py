"""Plugins found through entry-point groups (deploy targets, model loaders): one scan per
group and ``sys.path``, and one way to turn an entry point into the object it names."""

from __future__ import annotations

import sys
from importlib import metadata
from typing import Any

# Scanning every installed distribution costs ~10 ms: done once per sys.path, as a process
# sees the modules on its path (a plugin put on the path later is found, as it changes it).
_SCANNED: dict[tuple[str, tuple[str, ...]], dict[str, metadata.EntryPoint]] = {}


def entry_points(group: str) -> dict[str, metadata.EntryPoint]:
    """The entry points of ``group`` by name, sorted; the first on ``sys.path`` wins, as
    for imports. Scanned again when ``sys.path`` changes."""
    key = (group, tuple(sys.path))
    if key not in _SCANNED:
        found: dict[str, metadata.EntryPoint] = {}
        for ep in metadata.entry_points(group=group):
            found.setdefault(ep.name, ep)
        for stale in [k for k in _SCANNED if k[0] == group]:
            del _SCANNED[stale]
        _SCANNED[key] = dict(sorted(found.items()))
    return _SCANNED[key]


def instance(ep: metadata.EntryPoint) -> Any:
    """What ``ep`` names: an instance of it when it is a class. Raises what loading raises."""
    obj = ep.load()
    return obj() if isinstance(obj, type) else obj


def where(ep: metadata.EntryPoint) -> str:
    """``ep`` as a user finds it in a package's metadata."""
    return f"entry point {ep.name} = {ep.value} (group {ep.group})"
