"""How a manifest is written: the one place that turns a new state into file text.

Pure: text and models in, bytes out. An edit keeps what a person wrote (comments,
key order, quoting) wherever it can: appended versions are spliced in at the end
of the list, other changes are made in place, and only a change that cannot be
made in place rewrites the file in the documented key order. Every result is read
back and compared with the model it must hold, so nothing is written that would
not load as intended.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from modelreg import limits, yamlio
from modelreg.errors import InvalidManifestError, ModelregError
from modelreg.manifest import Model, Version, to_document

HEADER = "# yaml-language-server: $schema=../../schemas/model.schema.json\n"
# the documented key order of a manifest: the order of the model's fields
ORDER = tuple(f.alias or name for name, f in Model.model_fields.items())
# the documented key order of a version: a new key goes after those before it
VERSION_ORDER = tuple(Version.model_fields)

Point = tuple[int, int] | None
Parse = Callable[[bytes], Model | None]  # the manifest in these bytes, None if it does not load


@dataclass(frozen=True)
class Written:
    """A manifest's new bytes; ``point`` is where the next appended version goes, when
    known without parsing the bytes again (after an append)."""

    data: bytes
    point: Point = None


def manifest(
    path: str,
    new: Model,
    *,
    text: str | None = None,
    old: Model | None = None,
    point: Point = None,
    parse: Parse,
    max_bytes: int = limits.MAX_MANIFEST_BYTES,
) -> Written:
    """The bytes of ``path`` holding ``new``: ``text`` (holding ``old``) edited, or a
    fresh file. ``point`` is where appended versions go in ``text``; ``parse`` reads
    bytes back. Raises :class:`InvalidManifestError` if the file would be over
    ``max_bytes`` (reading it back would refuse it), :class:`ModelregError` if even a
    fresh file does not round-trip."""
    if text is not None and old is not None:
        if point is not None:
            fast = appended(text, old, new, point)
            if fast is not None:
                return fast
        edited = _edited(text, path, old, new)
        if edited is not None and parse(edited) == new:
            return Written(edited)
    data = fresh(new)
    if parse(data) != new:
        limits.check_files({path: data}, max_bytes)
        raise ModelregError(f"internal error: {path} does not round-trip")
    return Written(data)


def fresh(model: Model) -> bytes:
    """A new file for ``model``, in the documented key order."""
    return (HEADER + yamlio.dumps(model.to_document())).encode("utf-8")


def appended(text: str, old: Model, new: Model, point: tuple[int, int]) -> Written | None:
    """The file with new versions appended, when that is the whole change.

    The appended block is checked by reading it back on its own, so the file is not
    parsed again: registering costs the same for a model with 10 or 10,000 versions.
    """
    added = added_versions(old, new)
    return None if added is None else append(text, added, point)


def append(text: str, added: Sequence[Version], point: tuple[int, int]) -> Written | None:
    """The file ``text`` with the versions ``added`` spliced in at ``point``, the end of
    its versions (None if the block would not read back as these versions)."""
    docs = [to_document(v) for v in added]
    block = yamlio.dumps(docs)
    try:
        back = [Version.model_validate(d) for d in yamlio.loads(block, "<appended>").value]
    except (InvalidManifestError, ValueError):
        return None
    if back != list(added):
        return None
    new_text = yamlio.splice_block(text, point, block)  # the block checked above
    # the appended block ends where the next append goes
    return Written(new_text.encode("utf-8"), (point[0] + len(new_text) - len(text), point[1]))


def _edited(text: str, path: str, old: Model, new: Model) -> bytes | None:
    editor = yamlio.Editor(text, path)
    with contextlib.suppress(ValueError, InvalidManifestError):
        apply_edits(editor, old, new)
        return editor.text.encode("utf-8")
    return None


def added_versions(old: Model, new: Model) -> list[Version] | None:
    """The versions ``new`` adds after those of ``old``, when adding them is the whole
    change (None otherwise). Versions carried over by an append are the very same
    objects, so identity settles most of them cheaply."""
    n = len(old.versions)
    if len(new.versions) <= n:
        return None
    if type(new) is not type(old) or not _same_head(old, new):
        return None
    if old.versions != new.versions[:n]:  # a list compare: identity first, in C
        return None
    return new.versions[n:]


def _same_head(old: Model, new: Model) -> bool:
    """The two models' fields but their versions are equal (what pydantic's equality
    compares); a field carried over by a copy is the very same object."""
    before, after = vars(old), vars(new)
    if before.keys() != after.keys():
        return False
    for name, value in before.items():
        other = after[name]
        if other is not value and name != "versions" and other != value:
            return False
    return True


def apply_edits(editor: yamlio.Editor, old: Model, new: Model) -> None:
    """Turn the difference between two manifests into in-place text edits."""
    before, after = old.to_document(), new.to_document()
    for key in ORDER:
        if key == "versions":
            continue
        if key in after and before.get(key) != after[key]:
            editor.set((key,), after[key], after=ORDER[: ORDER.index(key)])
        elif key not in after and key in before:
            editor.delete((key,))
    old_versions = before.get("versions", [])
    new_versions = after.get("versions", [])
    if not old_versions and new_versions:
        editor.set(("versions",), new_versions, after=ORDER[: ORDER.index("versions")])
        return
    for i, (a, b) in enumerate(zip(old_versions, new_versions, strict=False)):
        if a != b:
            for key in b:
                if a.get(key) != b[key]:
                    earlier = VERSION_ORDER[: VERSION_ORDER.index(key)]
                    editor.set(("versions", i, key), b[key], after=earlier)
            for key in a:
                if key not in b:
                    editor.delete(("versions", i, key))
    if len(new_versions) > len(old_versions):
        editor.append(("versions",), *new_versions[len(old_versions) :])
