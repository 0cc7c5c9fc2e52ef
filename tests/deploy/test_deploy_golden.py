"""Golden files: every target's specs for a plain, an autoscaled, a GPU and an A/B deployment,
compared byte for byte. After a reviewed change to the rendering, regenerate them with
``MODELREG_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/deploy/test_deploy_golden.py``."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from modelreg import Registry
from modelreg.deploy import DeployResult
from tests.deploy.deployrepo import CASES, GOLDEN, TARGETS, build_registry

UPDATE = bool(os.environ.get("MODELREG_UPDATE_GOLDEN"))


def _render_all(root: Path) -> dict[tuple[str, str], DeployResult]:
    reg = Registry.open(root)
    return {
        (target, case): reg.deploy(spec, request, target=target, dry_run=True)
        for target in TARGETS
        for case, (spec, request) in CASES.items()
    }


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], DeployResult]:
    return _render_all(build_registry(tmp_path_factory.mktemp("golden") / "reg"))


def _as_files(result: DeployResult) -> dict[str, bytes]:
    prefix = f"deploy/{result.target}/{result.model_id}/"
    files = {path.removeprefix(prefix): data for path, data in result.files.items()}
    assert all(path.startswith(prefix) for path in result.files)
    meta = {"endpoint_url": result.endpoint_url, "warnings": list(result.warnings)}
    files["_result.json"] = (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode()
    return files


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("target", TARGETS)
def test_specs_match_the_golden_files(
    rendered: dict[tuple[str, str], DeployResult], target: str, case: str
) -> None:
    got = _as_files(rendered[target, case])
    folder = GOLDEN / target / case
    if UPDATE:
        shutil.rmtree(folder, ignore_errors=True)
        for name, data in got.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
    want = {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }
    assert sorted(got) == sorted(want), "file set changed: regenerate with MODELREG_UPDATE_GOLDEN=1"
    for name in want:
        assert got[name] == want[name], (
            f"{target}/{case}/{name} differs from the golden file; review, then regenerate "
            "with MODELREG_UPDATE_GOLDEN=1"
        )


def test_rendering_is_byte_identical_across_registries(
    rendered: dict[tuple[str, str], DeployResult], tmp_path: Path
) -> None:
    again = _render_all(build_registry(tmp_path / "other"))
    assert again.keys() == rendered.keys()
    for key, result in rendered.items():
        assert again[key].files == result.files, key
