"""Fixtures for the site tests: the site registry and its export, built once per module."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.site.siterepo import build_site_registry


@pytest.fixture(scope="module")
def site_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root: Path = build_site_registry(tmp_path_factory.mktemp("site") / "reg").root
    return root
