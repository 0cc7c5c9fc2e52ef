"""Fixtures for the catalog tests: the seed registry, built once per module."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.catalog.seedrepo import build_seed_registry


@pytest.fixture(scope="module")
def seed_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_seed_registry(tmp_path_factory.mktemp("seed") / "reg")
