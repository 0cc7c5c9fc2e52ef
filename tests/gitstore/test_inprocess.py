"""The in-process engine in a registry big enough that it keeps the ``models/`` folder's
tree builder between commits: edits made beside it are still seen."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelreg import Registry
from modelreg.errors import ConflictError
from tests.gitstore.gitcheck import run, sound

MODELS = 70  # above the size from which the engine keeps a folder's tree builder


@pytest.fixture
def big(tmp_path: Path) -> Registry:
    reg = Registry.init(tmp_path / "reg")
    with reg.transaction("many models"):
        for i in range(MODELS):
            reg.create_model(f"m{i:03d}", name=f"M{i}", framework="onnx")
    reg.register_version("m000")  # the engine now holds the models/ tree it wrote
    assert reg.store.engine == "libgit2"
    return reg


def test_a_staged_edit_is_seen_while_the_builder_is_kept(big: Registry) -> None:
    path = big.root / "models/m001/model.yaml"
    path.write_text(path.read_text() + "# staged by hand\n")
    run(big.root, "add", "models/m001/model.yaml")
    tip = run(big.root, "rev-parse", "HEAD")
    with pytest.raises(ConflictError, match="uncommitted"):
        big.register_version("m001")
    assert run(big.root, "rev-parse", "HEAD") == tip
    big.register_version("m002")  # other models are not blocked
    run(big.root, "commit", "--quiet", "-m", "the note", "--", "models/m001/model.yaml")
    big.register_version("m001")  # committed by git: HEAD holds a tree modelreg did not write
    sound(big.root)
    assert big.get("m001").latest_version == 1


def test_a_file_changed_back_and_forth_is_judged_by_its_bytes(big: Registry) -> None:
    path = big.root / "models/m003/model.yaml"
    text = path.read_text()
    path.write_text(text + "# mine\n")
    with pytest.raises(ConflictError, match="uncommitted"):
        big.register_version("m003")
    path.write_text(text)  # back to what HEAD holds: nothing to refuse
    big.register_version("m003")
    sound(big.root)
