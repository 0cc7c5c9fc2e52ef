"""Import tests build a real MLflow registry (SQLite) through MLflow's own client, with
artifacts in a local folder or in S3 (moto, as in the artifact tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.artifacts.conftest import s3_server  # noqa: F401 (a fixture, used by name)
from tests.artifacts.stores import Store, make_store


@pytest.fixture(params=["file", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return make_store(request.param, tmp_path, request)
