"""Import tests build a real MLflow registry (SQLite) through MLflow's own client, with
artifacts in a local folder or in S3 (moto, as in the artifact tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.artifacts.conftest import s3_server  # noqa: F401 (a fixture, used by name)
from tests.artifacts.stores import Store, make_store
from tests.importers.mlflowstore import empty_mlflow_db


@pytest.fixture(params=["file", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return make_store(request.param, tmp_path, request)


@pytest.fixture(scope="session")
def mlflow_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty MLflow database with its schema, made once: MLflow's migrations take
    seconds, copying the file takes none."""
    return empty_mlflow_db(tmp_path_factory.mktemp("mlflow") / "empty.db")
