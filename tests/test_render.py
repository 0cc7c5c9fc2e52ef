"""How a manifest is written: edits keep what a person wrote, appends touch only the end,
and nothing is written that does not read back as the model it must hold. Pure."""

from __future__ import annotations

import datetime as dt

import pytest

from modelreg import render, yamlio
from modelreg.errors import InvalidManifestError, ModelregError
from modelreg.manifest import Model, Version
from modelreg.schema import load_manifest

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
PATH = "models/churn/model.yaml"
TEXT = """\
# yaml-language-server: $schema=../../schemas/model.schema.json
apiVersion: modelreg/v1
kind: Model
id: churn
name: Churn   # what sales call it
framework: xgboost
versions:
  - version: 1
    created_at: 2025-01-01T00:00:00Z
    metrics: {accuracy: 0.9}   # flow style, kept
"""


def parse(data: bytes) -> Model | None:
    try:
        return load_manifest(data, PATH, folder_id="churn")[0]
    except InvalidManifestError:
        return None


def loaded() -> tuple[Model, tuple[int, int] | None]:
    model, doc = load_manifest(TEXT.encode(), PATH, folder_id="churn")
    return model, yamlio.append_point(doc.text, doc.root, ("versions",))


def test_an_appended_version_leaves_every_written_byte_in_place() -> None:
    old, point = loaded()
    assert point is not None
    v2 = Version(version=2, created_at=T0, metrics={"accuracy": 0.95})
    new = old.model_copy(update={"versions": [*old.versions, v2]})
    written = render.manifest(PATH, new, text=TEXT, old=old, point=point, parse=parse)
    text = written.data.decode()
    assert text.startswith(TEXT) and parse(written.data) == new
    # where the next append goes, known without parsing the new text again
    _, doc = load_manifest(written.data, PATH, folder_id="churn")
    assert written.point == yamlio.append_point(doc.text, doc.root, ("versions",))


def test_an_edit_is_made_in_place_keeping_comments() -> None:
    old, point = loaded()
    new = old.model_copy(update={"description": "Who leaves, and when"})
    written = render.manifest(PATH, new, text=TEXT, old=old, point=point, parse=parse)
    text = written.data.decode()
    assert "name: Churn   # what sales call it" in text and "# flow style, kept" in text
    assert text.index("description:") < text.index("framework:")  # the documented key order
    assert parse(written.data) == new


def test_a_new_manifest_is_written_in_the_documented_order() -> None:
    model = Model(id="churn", name="Churn", framework="xgboost", tags=["a"])
    written = render.manifest(PATH, model, parse=parse)
    text = written.data.decode()
    assert text.startswith(render.HEADER)
    assert text.index("id:") < text.index("name:") < text.index("framework:") < text.index("tags:")
    assert parse(written.data) == model


def test_nothing_is_written_that_does_not_read_back() -> None:
    model = Model(id="churn", name="Churn", framework="xgboost")
    with pytest.raises(ModelregError, match="does not round-trip"):
        render.manifest(PATH, model, parse=lambda data: None)


def test_a_change_that_is_not_an_append_adds_no_versions() -> None:
    old, _ = loaded()
    renamed = old.model_copy(update={"name": "Churn 2"})
    v2 = Version(version=2, created_at=T0)
    assert render.added_versions(old, renamed) is None
    assert render.added_versions(old, old) is None
    both = renamed.model_copy(update={"versions": [*old.versions, v2]})
    assert render.added_versions(old, both) is None
    appended = old.model_copy(update={"versions": [*old.versions, v2]})
    assert render.added_versions(old, appended) == [v2]
