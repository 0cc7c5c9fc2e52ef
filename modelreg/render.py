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
from collections.abc import Callable, Mapping
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
    block: str | None = None,
) -> Written:
    """The bytes of ``path`` holding ``new``: ``text`` (holding ``old``) edited, or a
    fresh file. ``point`` is where appended versions go in ``text``; ``parse`` reads
    bytes back; ``block`` is the appended versions already rendered and read back
    (:func:`blocks`). Raises :class:`InvalidManifestError` if the file would be over
    ``max_bytes`` (reading it back would refuse it), :class:`ModelregError` if even a
    fresh file does not round-trip."""
    if text is not None and old is not None:
        if point is not None:
            fast = appended(text, old, new, point, block)
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


def appended(
    text: str, old: Model, new: Model, point: tuple[int, int], block: str | None = None
) -> Written | None:
    """The file with new versions appended, when that is the whole change.

    The appended block (rendered here unless given, from :func:`blocks`) is checked by
    reading it back on its own, so the file is not parsed again: registering costs the
    same for a model with 10 or 10,000 versions.
    """
    added = added_versions(old, new)
    if added is None:
        return None
    if block is None:
        block = yamlio.dumps([to_document(v) for v in added])
        if not _reads_back({"block": block}, {"block": added}):
            return None
    new_text = yamlio.splice_block(text, point, block)  # the block checked above
    # the appended block ends where the next append goes
    return Written(new_text.encode("utf-8"), (point[0] + len(new_text) - len(text), point[1]))


def blocks(appends: Mapping[str, list[Version]]) -> dict[str, str]:
    """The YAML blocks of the versions appended to many manifests (keyed as given; see
    :func:`added_versions`), rendered in one run of PyYAML's emitter and read back in
    one parse: PyYAML's cost per call is many times its cost per version. Empty when
    the blocks do not read back as their versions (each is then rendered and checked
    on its own, by :func:`appended`)."""
    if not appends:
        return {}
    docs = [[to_document(v) for v in versions] for versions in appends.values()]
    texts = yamlio.dumps_lists(docs)
    if texts is None:
        return {}
    rendered = dict(zip(appends, texts, strict=True))
    return rendered if _reads_back(rendered, appends) else {}


def _reads_back(rendered: Mapping[str, str], versions: Mapping[str, list[Version]]) -> bool:
    """Each block reads back as the versions it renders. The blocks are read as the
    values of one mapping (``key:`` then the block, which a block sequence there is)."""
    keys = [f"k{i}" for i in range(len(rendered))]
    text = "".join(f"{key}:\n{block}" for key, block in zip(keys, rendered.values(), strict=True))
    try:
        value = yamlio.loads(text, "<appended>").value
        if not isinstance(value, dict) or list(value) != keys:
            return False
        for key, expected in zip(keys, versions.values(), strict=True):
            if [Version.model_validate(d) for d in value[key]] != expected:
                return False
    except (InvalidManifestError, ValueError, TypeError):
        return False
    return True


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
    if type(new) is not type(old) or _head(new) != _head(old):
        return None
    if old.versions != new.versions[:n]:  # a list compare: identity first, in C
        return None
    return new.versions[n:]


def _head(model: Model) -> dict[str, object]:
    """The model's fields but its versions (what pydantic's equality compares)."""
    return {name: value for name, value in vars(model).items() if name != "versions"}


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
