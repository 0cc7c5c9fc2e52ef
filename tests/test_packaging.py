"""What a source distribution and a wheel of modelreg carry."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

from hatchling.builders.sdist import SdistBuilder
from hatchling.builders.wheel import WheelBuilder

ROOT = Path(__file__).resolve().parent.parent


def test_the_sdist_carries_the_license_and_the_schemas(tmp_path: Path) -> None:
    (sdist,) = SdistBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}
        license_text = tar.extractfile(members["LICENSE"]).read().decode()  # type: ignore[union-attr]
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    for name in ("model.schema.json", "registry.schema.json"):
        assert members[f"schemas/{name}"].isfile(), name
        assert f"modelreg/schemas/{name}" in members


def test_the_wheel_declares_the_license_and_ships_it(tmp_path: Path) -> None:
    (wheel,) = WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        text = zf.read(metadata).decode()
    assert "License-Expression: Apache-2.0" in text
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert "modelreg/schemas/model.schema.json" in names
