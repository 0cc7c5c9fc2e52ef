"""Artifact stores for the tests: a local folder, fsspec's memory store, and S3 served by
moto's standalone server on 127.0.0.1, started here (behind a TCP relay the fault tests
can cut)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from modelreg import Registry
from tests.artifacts.stores import S3Server, Store, make_store, registry_on, start_s3


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """One S3 server per test worker, for the whole session."""
    server = start_s3()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["file", "memory", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """The same tests on a local folder, fsspec's memory store and S3 (moto)."""
    return make_store(request.param, tmp_path, request)


@pytest.fixture
def reg(tmp_path: Path, store: Store) -> Registry:
    return registry_on(tmp_path / "reg", store)
