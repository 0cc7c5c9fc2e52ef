"""Schemathesis against /openapi.json of the running server: no 5xx, responses match the spec.

The schema is loaded from the live server inside the test (its port is only
known once the server fixture runs), and each operation's strategy is driven
by Hypothesis directly, bounded to a few examples so the suite stays fast.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.http.conftest import Server

MAX_EXAMPLES = 12


def _operations(server: Server) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]  # an Err raises here, failing the test


def test_the_spec_covers_every_route(server: Server) -> None:
    # Schemathesis leaves out the operation serving the schema itself.
    labels = {op.label for op in _operations(server)} | {"GET /openapi.json"}
    reads = {
        "/api/v1/model-registry/models",
        "/api/v1/model-registry/models/{id}",
        "/api/v1/model-registry/versions",
        "/catalog.json",
        "/healthz",
        "/openapi.json",
        "/",
        "/index.html",
        "/models/{id}.html",
        "/assets/site.css",
        "/assets/site.js",
    }
    assert labels == {
        *(f"{method} {path}" for path in reads for method in ("GET", "HEAD")),
        "POST /terminal/ml-models",
    }


@pytest.mark.parametrize("key", ["admin", "org_xyz", None])
def test_every_operation_conforms(server: Server, key: str | None) -> None:
    # Without a key, every secured operation must answer its documented 401.
    headers = {} if key is None else {"Authorization": f"Bearer {server.keys[key]}"}
    for operation in _operations(server):
        _fuzz(server, operation, headers)


def _fuzz(server: Server, operation: Any, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        response = case.call(base_url=server.url, headers=headers)
        assert response.status_code < 500, response.text
        case.validate_response(response)

    check()
