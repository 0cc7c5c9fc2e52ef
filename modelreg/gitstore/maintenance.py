"""Keeping the repository in shape the way ``git commit`` does: automatic maintenance,
and a commit-graph with changed-path Bloom filters for path-limited history.

Commits written in-process never reach git's own hook for this (``git commit``
runs ``git maintenance run --auto`` after each commit), so loose objects would
pile up forever. :func:`after_write` makes git's own cheap estimate (the
objects in one of the 256 loose-object folders, as ``git gc --auto`` counts
them) and, when ``gc.auto`` says it is time, runs ``git maintenance run --auto``:
git decides what to do, honouring its configuration, and its gc detaches to the
background (``gc.autoDetach``), so the write does not wait for a repack.

:func:`ensure_commit_graph` writes a commit-graph with changed-path Bloom filters
when the repository has none; ``git gc`` keeps the filters in the graphs it
writes later, so a path-limited ``git log`` stays a lookup per commit instead of
a tree comparison.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from modelreg.errors import GitError

if TYPE_CHECKING:
    from modelreg.gitstore import GitStore
    from modelreg.gitstore.repository import Readable


class Raced(GitError):
    """An object could not be stored because its folder went away meanwhile: git's
    maintenance, running in the background after an earlier write, removes the
    loose-object folders it emptied. Nothing was committed; trying again works."""


TRIES = 3  # attempts of a write that raced maintenance

GC_AUTO_DEFAULT = 6700
PACK_LIMIT_DEFAULT = 50
_BLOOM_CHUNK = b"BDAT"


def _config_int(store: GitStore, key: str, default: int) -> int:
    value = store.setting(key)
    if value is None:
        return default
    text = value.strip().lower()
    scale = {"k": 1024, "m": 1024**2, "g": 1024**3}.get(text[-1:], 1)
    try:
        return int(text[:-1] if scale > 1 else text) * scale
    except ValueError:  # a value git itself would refuse: git decides when it runs
        return default


def due(store: GitStore) -> bool:
    """Whether ``git gc --auto`` would find work: more loose objects than ``gc.auto``
    (estimated from the ``17/`` folder, as git does) or more packs than
    ``gc.autoPackLimit``. ``gc.auto=0`` turns automatic maintenance off."""
    objects = store.common_dir / "objects"
    try:
        loose = sum(1 for name in (objects / "17").iterdir() if len(name.name) == 38)
    except OSError:
        loose = 0
    try:
        packs = sum(1 for p in (objects / "pack").iterdir() if p.suffix == ".pack")
    except OSError:
        packs = 0
    if loose <= 1 and packs <= 1:
        return False  # not due under any configuration: the configuration is not read
    auto = _config_int(store, "gc.auto", GC_AUTO_DEFAULT)
    pack_limit = _config_int(store, "gc.autopacklimit", PACK_LIMIT_DEFAULT)
    if auto <= 0:
        return False
    return loose > (auto + 255) // 256 or (pack_limit > 0 and packs > pack_limit)


def after_write(store: GitStore) -> bool:
    """Run git's automatic maintenance if it is due (True: it was started). Never raises:
    a repository that cannot be repacked now is still a correct repository."""
    if not due(store):
        return False
    with contextlib.suppress(OSError):
        return store.git.run("maintenance", "run", "--auto", "--quiet").ok
    return False


def _graph_files(objects: Path) -> list[Path]:
    single = objects / "info" / "commit-graph"
    split = objects / "info" / "commit-graphs"
    found = [single] if single.is_file() else []
    with contextlib.suppress(OSError):
        found += sorted(split.glob("graph-*.graph"))
    return found


def _has_bloom(graph: Path) -> bool:
    """Whether a commit-graph file holds changed-path Bloom filters (a BDAT chunk in its
    table of contents: 8 header bytes, then 12 bytes per chunk)."""
    try:
        with graph.open("rb") as f:
            head = f.read(8)
            if head[:4] != b"CGPH":
                return False
            table = f.read(12 * (head[6] + 1))
    except OSError:
        return False
    return any(table[i : i + 4] == _BLOOM_CHUNK for i in range(0, len(table), 12))


def has_commit_graph(store: Readable) -> bool:
    """A commit-graph with changed-path Bloom filters exists."""
    graphs = _graph_files(store.common_dir / "objects")
    return bool(graphs) and all(_has_bloom(g) for g in graphs)


def ensure_commit_graph(store: Readable) -> bool:
    """Write the commit-graph with changed-path Bloom filters of every reachable commit
    unless one exists (True: it was written). The first history in a fresh clone pays
    this once; git's later maintenance keeps the filters."""
    if has_commit_graph(store) or store.head() is None:
        return False
    done = store.git.run("commit-graph", "write", "--reachable", "--changed-paths", "--no-progress")
    return done.ok
