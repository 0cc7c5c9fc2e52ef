"""A cache of parsed manifests, keyed by git blob id, kept in the git folder.

Parsing YAML is the cost to avoid repeating: a blob id names exact bytes, so
an entry is valid for as long as the code that parsed it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from pathlib import Path
from typing import Any

from modelreg.manifest import Model

# Bump when parsing or the models change, so old entries are never trusted.
CACHE_VERSION = "modelreg-cache-4"


class ManifestCache:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        # blob id -> (model, where appended versions go in its text, if known)
        self.entries: dict[str, tuple[Model, tuple[int, int] | None]] = {}
        self.used: set[str] = set()
        self.dirty = False
        if path is not None:
            self._load()

    def _load(self) -> None:
        assert self.path is not None
        try:
            with open(self.path, "rb") as fh:
                data: Any = pickle.load(fh)
        except (
            OSError,
            EOFError,
            pickle.UnpicklingError,
            AttributeError,
            ImportError,
            ValueError,
            TypeError,
        ):
            return
        if isinstance(data, tuple) and len(data) == 2 and data[0] == CACHE_VERSION:
            self.entries = data[1]

    def get(self, blob: str) -> tuple[Model, tuple[int, int] | None] | None:
        found = self.entries.get(blob)
        if found is not None:
            self.used.add(blob)
        return found

    def put(self, blob: str, model: Model, append_at: tuple[int, int] | None) -> None:
        self.entries[blob] = (model, append_at)
        self.used.add(blob)
        self.dirty = True

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        entries = self.entries
        if len(entries) > 2 * max(len(self.used), 1000):  # forget what this run never asked for
            entries = {k: v for k, v in entries.items() if k in self.used}
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                pickle.dump((CACHE_VERSION, entries), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
        self.dirty = False
