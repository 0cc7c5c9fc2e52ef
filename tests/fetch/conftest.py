"""Fetch tests share the artifact tests' stores: a local folder and S3 served by moto."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.artifacts.conftest import s3_server  # noqa: F401 (a fixture, used by name)
from tests.artifacts.stores import Store, make_store


@pytest.fixture(params=["file", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A local folder and S3 (moto): the stores a fetch downloads from."""
    return make_store(request.param, tmp_path, request)
