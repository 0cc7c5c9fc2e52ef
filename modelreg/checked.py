"""The record of manifests found valid, so that ``validate`` checks again only what changed.

A manifest's problems depend on its bytes (its blob id), the registry's config and the
code that checks it; a manifest with the same three as when it was last found valid is
valid still, and is not parsed or checked again. Lineage reaches across manifests: each
entry keeps the models its versions name as parents, so that a changed model's dependents
are checked again with it. The record is derived data in the git folder (deleting it costs
one slower ``validate``), saved only by a run that found no problem at all.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from modelreg import derived
from modelreg.listing import Stat, unchanged

VERSION = "modelreg-checked-2"


@functools.cache  # once per process: a process runs the code it loaded
def code_stamp() -> str:
    """A fingerprint of the checking code installed: modelreg's modules' names, sizes and
    modification times (a new version or an edited checkout changes it)."""
    package = Path(__file__).parent
    h = hashlib.sha1()
    for folder, _, files in sorted(os.walk(package)):
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(folder, name))
                h.update(f"{folder}/{name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


@dataclass(frozen=True)
class Checked:
    """A model found valid: its manifest's blob id, the models its versions name as
    parents, and the file status of its manifest and of its card (None: no card)."""

    blob: str
    parents: frozenset[str]
    stat: Stat | None = None
    card: Stat | None = None


class CheckedRecord:
    """The record in ``path`` (None: none is kept), valid under ``key`` (the registry, its
    config's blob id and the manifest cache's version: :meth:`key_of`)."""

    def __init__(self, path: Path | None, key: tuple[str, ...]) -> None:
        self.path = path
        self.key = (VERSION, code_stamp(), *key)
        self.taken_ns = 0  # when the saved statuses were taken

    def load(self) -> dict[str, Checked]:
        """The models found valid, by id (none when there is no record for this key)."""
        if self.path is None:
            return {}
        found = derived.load(self.path, self.key, 2)
        if found is None:
            return {}
        self.taken_ns, rows = found
        return {
            m: Checked(blob, frozenset(parents), stat, card)
            for m, (blob, parents, stat, card) in rows.items()
        }

    def unchanged(self, stat: Stat | None, known: Stat | None) -> bool:
        """Whether a file with ``stat`` holds what it held when ``known`` was taken for
        this record (:func:`modelreg.listing.unchanged`)."""
        return unchanged(stat, known, self.taken_ns)

    def save(self, entries: dict[str, Checked], taken_ns: int) -> None:
        if self.path is None:
            return
        rows = {m: (c.blob, tuple(sorted(c.parents)), c.stat, c.card) for m, c in entries.items()}
        derived.dump(self.path, self.key, taken_ns, rows)
