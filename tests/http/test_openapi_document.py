"""/openapi.json of the running server describes exactly what it answers.

Each path the document lists is asked with every method: a listed method is
served, any other answers 405 with an ``Allow`` header naming the listed ones.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
from openapi_spec_validator import validate

from tests.http.conftest import Server

OPERATIONS = ("get", "head", "post", "put", "patch", "delete", "options", "trace")
DEPLOY = "/api/v1/model-registry/models/{id}/deploy"


def _document(server: Server) -> dict[str, Any]:
    with server.client() as c:
        r = c.get("/openapi.json")
    assert r.status_code == 200
    doc: dict[str, Any] = r.json()
    return doc


def _allowed(response: httpx.Response) -> set[str]:
    return {m.strip() for m in response.headers["allow"].split(",") if m.strip()}


def _ask(c: httpx.Client, method: str, path: str) -> httpx.Response:
    # the terminal API's body is optional: {} asks for every customer's models
    return c.request(method, path, json={} if method == "POST" else None)


def test_the_document_is_valid_openapi_with_an_id_per_operation(server: Server) -> None:
    doc = _document(server)
    validate(doc)
    ids = [op.get("operationId") for item in doc["paths"].values() for op in item.values()]
    assert None not in ids
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    tags = {t["name"] for t in doc["tags"]}
    used = {t for item in doc["paths"].values() for op in item.values() for t in op["tags"]}
    assert used == tags  # every operation in a declared group, no group empty


def test_each_path_lists_exactly_the_methods_it_answers(server: Server) -> None:
    doc = _document(server)
    with server.client(server.keys["admin"]) as c:
        model_id = c.get("/api/v1/model-registry/models").json()["models"][0]["id"]
        checked = 0
        for template, item in doc["paths"].items():
            path = template.replace("{id}", model_id)
            listed = {m.upper() for m in item if m in OPERATIONS}
            assert listed, template
            for method in (m.upper() for m in OPERATIONS):
                r = _ask(c, method, path)
                if method in listed:
                    assert r.status_code == 200, (method, path, r.text)
                else:
                    assert r.status_code == 405, (method, path, r.status_code)
                    assert _allowed(r) == listed, (method, path)
                checked += 1
        assert checked == len(doc["paths"]) * len(OPERATIONS)


def test_write_routes_are_not_operations(server: Server) -> None:
    doc = _document(server)
    assert DEPLOY not in doc["paths"]
    for item in doc["paths"].values():
        if "post" in item:
            assert item["post"]["operationId"] == "listTerminalModels"  # a read, by POST
        assert not {"put", "patch", "delete"} & set(item)
    with server.client(server.keys["admin"]) as c:
        model_id = c.get("/api/v1/model-registry/models").json()["models"][0]["id"]
        for method in ("GET", "HEAD", "POST", "PUT", "DELETE"):
            r = _ask(c, method, DEPLOY.replace("{id}", model_id))
            assert r.status_code == 405
            assert _allowed(r) == set()  # no method is served there
        for method in ("POST", "PUT", "DELETE"):
            r = _ask(c, method, f"/api/v1/model-registry/models/{model_id}")
            assert r.status_code == 405 and _allowed(r) == {"GET", "HEAD"}
            assert "pull request" in r.json()["message"]
