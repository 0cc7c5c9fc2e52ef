"""Import tests build a real MLflow registry (SQLite) through MLflow's own client, with
artifacts in a local folder or in S3 (moto, as in the artifact tests)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.artifacts.conftest import s3_server  # noqa: F401 (a fixture, used by name)
from tests.artifacts.stores import Store, make_store
from tests.importers.mlflowstore import empty_mlflow_db


@pytest.fixture(params=["file", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return make_store(request.param, tmp_path, request)


# SQLite syncs each of MLflow's many small transactions (its schema alone is a hundred
# migrations): in memory-backed /dev/shm they cost nothing, on a busy disk up to a minute.
SHM = "/dev/shm" if os.path.isdir("/dev/shm") else None


@pytest.fixture(scope="session")
def mlflow_schema() -> Iterator[Path]:
    """An empty MLflow database with its schema, made once per test process."""
    with tempfile.TemporaryDirectory(prefix="modelreg-mlflow-", dir=SHM) as folder:
        yield empty_mlflow_db(Path(folder) / "empty.db")


@pytest.fixture
def mlflow_db(mlflow_schema: Path) -> Iterator[Path]:
    """A copy of the empty MLflow database for one test (where MLflow writes its data)."""
    with tempfile.TemporaryDirectory(prefix="modelreg-mlflow-", dir=SHM) as folder:
        db = Path(folder) / "mlflow.db"
        shutil.copyfile(mlflow_schema, db)
        yield db
