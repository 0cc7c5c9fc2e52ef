"""Fixtures for the deploy tests: a registry with hardware profiles and target options."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.deployrepo import build_registry


@pytest.fixture
def deploy_root(tmp_path: Path) -> Path:
    return build_registry(tmp_path / "reg")


@pytest.fixture
def reg(deploy_root: Path):  # type: ignore[no-untyped-def]
    from modelreg import Registry

    return Registry.open(deploy_root)
