"""The HTTP API over a real server process: seed shapes, keys, tenants, caching, errors."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import pytest

from modelreg import Registry
from modelreg.keys import READ_SCOPE, Keyring, save
from tests.http.conftest import Server, seedrepo, start_server, stop_server

API = "/api/v1/model-registry/models"
READ_ROUTES = [
    ("GET", API),
    ("GET", f"{API}/model_abc123"),
    ("GET", "/catalog.json"),
    ("POST", "/terminal/ml-models"),
]
WRITE_ROUTES = [
    ("POST", API),
    ("PUT", f"{API}/model_abc123"),
    ("DELETE", f"{API}/model_abc123"),
    ("POST", f"{API}/model_abc123/deploy"),
]


def _call(client: httpx.Client, method: str, path: str, **kw: Any) -> httpx.Response:
    if method in ("POST", "PUT") and "json" not in kw:
        kw["json"] = {}
    return client.request(method, path, **kw)


def _is_json(r: httpx.Response) -> Any:
    assert r.headers["content-type"] == "application/json", r.text
    return r.json()


# ----------------------------------------------------------------- seed shapes


def test_get_model_is_the_seed_registered_model(server: Server) -> None:
    with server.client(server.keys["admin"]) as c:
        r = c.get(f"{API}/model_abc123")
    assert r.status_code == 200
    assert _is_json(r) == seedrepo.seed("registered_model.json")
    assert list(r.json()) == list(seedrepo.seed("registered_model.json"))


def test_list_is_the_seed_list_shape(server: Server) -> None:
    want = seedrepo.seed("model_list.json")
    with server.client(server.keys["admin"], header="x-api-key") as c:
        r = c.get(API, params={"framework": "xgboost"})
        everything = c.get(API).json()
    body = _is_json(r)
    assert list(body) == list(want)
    assert (body["count"], body["limit"], body["offset"]) == (1, 20, 0)
    assert body["models"] == want["models"]
    assert everything["count"] == 2
    for got in everything["models"]:
        assert list(got) == list(want["models"][0])
        assert {k: type(v) for k, v in got.items()} == {
            k: type(v) for k, v in want["models"][0].items()
        }


def test_terminal_is_the_seed_response(server: Server) -> None:
    with server.client(server.keys["admin"]) as c:
        r = c.post("/terminal/ml-models", json={"customer_id": "demo-customer"})
        everything = c.post("/terminal/ml-models", json={})
        no_body = c.post("/terminal/ml-models")
    assert _is_json(r) == seedrepo.seed("terminal_ml_models.json")
    assert everything.json()["count"] == 2 == no_body.json()["count"]


def test_terminal_401_is_the_seed_error(server: Server) -> None:
    for key in (None, "mr_deadbeef_nope"):
        with server.client(key) as c:
            r = c.post("/terminal/ml-models", json={})
        assert r.status_code == 401
        assert _is_json(r) == {"success": False, "error": "Unauthorized"}


# ----------------------------------------------------------------- keys on every route


@pytest.mark.parametrize(("method", "path"), READ_ROUTES + WRITE_ROUTES)
def test_missing_or_bad_key_is_401_everywhere(server: Server, method: str, path: str) -> None:
    good = server.keys["admin"]
    for key, header in (
        (None, "bearer"),
        ("wrong", "bearer"),
        (good + "x", "x-api-key"),
        (good[:-2], "bearer"),
    ):
        with server.client(key, header) as c:
            r = _call(c, method, path)
        assert r.status_code == 401, (key, r.text)
        assert _is_json(r)["error"] == "Unauthorized"
    with server.client(server.keys["writer"]) as c:  # a key without the read scope
        assert _call(c, method, path).status_code == 403


@pytest.mark.parametrize(("method", "path"), READ_ROUTES)
def test_a_good_key_in_either_header_reads(server: Server, method: str, path: str) -> None:
    for header in ("bearer", "x-api-key"):
        with server.client(server.keys["admin"], header) as c:
            assert _call(c, method, path).status_code == 200


@pytest.mark.parametrize(("method", "path"), WRITE_ROUTES)
def test_write_routes_say_how_changes_are_made(server: Server, method: str, path: str) -> None:
    with server.client(server.keys["admin"]) as c:
        r = _call(c, method, path, json={"name": "x", "framework": "onnx"})
    assert r.status_code == 405
    message = _is_json(r)["message"]
    assert "pull request" in message and "CLI" in message and "library" in message


# ----------------------------------------------------------------- tenants


def test_tenant_key_sees_only_its_models_on_every_route(server: Server) -> None:
    with server.client(server.keys["org_xyz"]) as c:
        listed = c.get(API).json()
        assert [m["id"] for m in listed["models"]] == ["model_abc123"]
        assert listed["count"] == 1
        assert c.get(f"{API}/model_abc123").status_code == 200
        hidden = c.get(f"{API}/customer_validation_lstm")
        assert hidden.status_code == 404 and _is_json(hidden)["error"] == "Not Found"
        assert c.get(API, params={"workspaceId": "ws_002"}).json()["count"] == 0
        assert c.get(API, params={"search": "lstm"}).json()["count"] == 0
        widened = c.post("/terminal/ml-models", json={"customer_id": "demo-customer"}).json()
        assert widened == {"success": True, "model_metrics": [], "count": 0}
        mine = c.post("/terminal/ml-models", json={}).json()
        assert {m["model_name"] for m in mine["model_metrics"]} == {"model_abc123"}
        catalog = c.get("/catalog.json").json()
        assert [m["id"] for m in catalog["models"]] == ["model_abc123"]


def test_customer_and_workspace_keys(server: Server) -> None:
    with server.client(server.keys["demo"]) as c:
        assert c.post("/terminal/ml-models", json={}).json() == seedrepo.seed(
            "terminal_ml_models.json"
        )
        assert c.post("/terminal/ml-models", json={"customer_id": "acme"}).json()["count"] == 0
        assert c.get(f"{API}/model_abc123").status_code == 404
    with server.client(server.keys["ws_002"]) as c:
        assert [m["id"] for m in c.get(API).json()["models"]] == ["customer_validation_lstm"]


# ----------------------------------------------------------------- list parameters


def test_filters_sort_and_paging(server: Server) -> None:
    with server.client(server.keys["admin"]) as c:

        def ids(**params: Any) -> list[str]:
            r = c.get(API, params=params)
            assert r.status_code == 200, r.text
            return [m["id"] for m in r.json()["models"]]

        assert ids() == ["customer_validation_lstm", "model_abc123"]  # createdAt:desc
        assert ids(sort="createdAt:asc") == ["model_abc123", "customer_validation_lstm"]
        assert ids(sort="-updatedAt") == ["model_abc123", "customer_validation_lstm"]
        assert ids(sort="name") == ["model_abc123", "customer_validation_lstm"]
        assert ids(sort="id:desc") == ["model_abc123", "customer_validation_lstm"]
        assert ids(status="deployed") == ["model_abc123"]
        assert ids(status="registered") == ["customer_validation_lstm"]
        # a repeated filter means any of its values, as on the command line
        assert ids(status=["deployed", "registered"], sort="id") == [
            "customer_validation_lstm",
            "model_abc123",
        ]
        assert ids(status=["deployed", "registered"], source="experiment") == [
            "customer_validation_lstm"
        ]
        assert ids(source="experiment") == ["customer_validation_lstm"]
        assert ids(tag="churn") == ["model_abc123"]
        assert ids(search="CHURN prediction") == ["model_abc123"]
        assert ids(limit=1, offset=1) == ["model_abc123"]
        page = c.get(API, params={"limit": 1, "offset": 5}).json()
        assert (page["count"], page["limit"], page["offset"], page["models"]) == (2, 1, 5, [])


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "x"},
        {"limit": -1},
        {"limit": 100000},
        {"offset": "-3"},
        {"sort": "owner"},
        {"sort": "name:up"},
        {"framework": "keras"},
        {"status": "deleted"},
    ],
)
def test_bad_parameters_are_400_json(server: Server, params: dict[str, Any]) -> None:
    with server.client(server.keys["admin"]) as c:
        r = c.get(API, params=params)
    assert r.status_code == 400
    assert _is_json(r)["error"] == "Bad Request"


# ----------------------------------------------------------------- caching, gzip, errors


def test_etag_and_304(server: Server) -> None:
    with server.client(server.keys["admin"]) as c:
        first = c.get(f"{API}/model_abc123")
        etag = first.headers["etag"]
        assert server.wait_for(lambda b: True)["commit"][:20] in etag
        again = c.get(f"{API}/model_abc123", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert c.get(f"{API}/model_abc123", headers={"If-None-Match": '"other"'}).status_code == 200
        listed = c.get(API)
        assert c.get(API, headers={"If-None-Match": listed.headers["etag"]}).status_code == 304
    with server.client(server.keys["org_xyz"]) as c:  # another tenant, another tag
        other = c.get(f"{API}/model_abc123")
        assert other.headers["etag"] != etag
        assert c.get(f"{API}/model_abc123", headers={"If-None-Match": etag}).status_code == 200
    with server.client(None) as c:  # an ETag never bypasses the key check
        assert c.get(f"{API}/model_abc123", headers={"If-None-Match": etag}).status_code == 401


def test_gzip_when_asked_and_large(server: Server) -> None:
    key = server.keys["admin"]
    raw = httpx.get(
        f"{server.url}/catalog.json",
        headers={"Authorization": f"Bearer {key}", "Accept-Encoding": "gzip"},
    )
    assert raw.headers["content-encoding"] == "gzip"
    plain = httpx.get(
        f"{server.url}/catalog.json",
        headers={"Authorization": f"Bearer {key}", "Accept-Encoding": "identity"},
    )
    assert "content-encoding" not in plain.headers
    assert raw.json() == plain.json()
    assert raw.headers["etag"] != plain.headers["etag"]
    assert int(raw.headers["content-length"]) < len(plain.content)
    with httpx.Client() as c:  # check the bytes really are gzip
        r = c.send(
            c.build_request(
                "GET",
                f"{server.url}/catalog.json",
                headers={"Authorization": f"Bearer {key}", "Accept-Encoding": "gzip"},
            ),
            stream=True,
        )
        body = b"".join(r.iter_raw())
        r.close()
    assert json.loads(gzip.decompress(body)) == plain.json()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nowhere", 404),
        ("GET", "/nope", 404),
        ("GET", f"{API}/no-such-model", 404),
        ("GET", f"{API}/a%2Fb", 404),
        ("GET", f"{API}/a/b/c", 404),
        ("GET", "/terminal/ml-models", 405),
        ("PATCH", "/healthz", 405),
        ("POST", "/catalog.json", 405),
    ],
)
def test_errors_are_json(server: Server, method: str, path: str, status: int) -> None:
    with server.client(server.keys["admin"]) as c:
        r = c.request(method, path)
    assert r.status_code == status
    body = _is_json(r)
    assert body["success"] is False and body["error"]
    assert "<html" not in r.text.lower() and "Traceback" not in r.text


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'{"customer_id": 3}', b"x" * 70_000])
def test_bad_terminal_bodies(server: Server, content: bytes) -> None:
    with server.client(server.keys["admin"]) as c:
        r = c.post(
            "/terminal/ml-models", content=content, headers={"Content-Type": "application/json"}
        )
    assert r.status_code in (400, 413)
    assert _is_json(r)["success"] is False


def test_healthz_and_openapi_need_no_key(server: Server) -> None:
    with server.client() as c:
        health = c.get("/healthz").json()
        spec = c.get("/openapi.json")
    assert health["status"] == "ok" and health["commit"]
    doc = _is_json(spec)
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {
        API,
        f"{API}/{{id}}",
        "/api/v1/model-registry/versions",
        "/terminal/ml-models",
        "/catalog.json",
        "/healthz",
        "/openapi.json",
        "/",
        "/index.html",
        "/models/{id}.html",
        "/assets/site.css",
        "/assets/site.js",
    }


# ----------------------------------------------------------------- following the ref


def test_server_follows_the_branch_and_reloads_keys(tmp_path: Any) -> None:
    reg = Registry.init(tmp_path / "reg")
    reg.create_model("first", name="First", framework="onnx")
    ring, key = Keyring().add("k", [READ_SCOPE])
    keys_file = tmp_path / "keys.yaml"
    save(ring, keys_file)
    srv = start_server(reg.root, keys_file)
    try:
        with srv.client(key) as c:
            before = c.get(API)
            assert before.json()["count"] == 1
            reg.create_model("second", name="Second", framework="onnx")
            srv.wait_for(lambda b: b["commit"] == reg.commit)
            after = c.get(API, headers={"If-None-Match": before.headers["etag"]})
            assert after.status_code == 200  # new commit, new ETag: no stale 304
            assert sorted(m["id"] for m in after.json()["models"]) == ["first", "second"]
            save(ring.remove("k"), keys_file)
            srv.wait_for(lambda b: c.get(API).status_code == 401)
    finally:
        stop_server(srv)


def test_without_keys_only_loopback_unless_allowed(tmp_path: Any, run_cli: Any) -> None:
    reg = Registry.init(tmp_path / "reg")
    res = run_cli("-R", str(reg.root), "serve", "--host", "0.0.0.0", "--port", "1")
    assert res.code == 2
    assert "--allow-anonymous" in res.err
    srv = start_server(reg.root, None)  # loopback, no keys: open
    try:
        with srv.client() as c:
            assert c.get(API).json()["count"] == 0
            assert c.post("/terminal/ml-models", json={}).json()["success"] is True
    finally:
        stop_server(srv)


def test_the_list_filters_on_labels_as_the_cli_does(tmp_path: Any, run_cli: Any) -> None:
    reg = Registry.init(tmp_path / "reg")
    reg.create_model("a", name="A", framework="onnx", labels={"team": "risk", "tier": "gold"})
    reg.create_model("b", name="B", framework="onnx", labels={"team": "risk"})
    reg.create_model("c", name="C", framework="onnx", labels={"team": "growth"})
    srv = start_server(reg.root, None)
    try:
        with srv.client() as c:
            for labels, expected in (
                (["team=risk"], ["a", "b"]),
                (["team=risk", "tier=gold"], ["a"]),  # repeated: all must hold
                (["tier"], ["a"]),
                (["team=ops"], []),
            ):
                r = c.get(API, params={"label": labels, "sort": "id"})
                assert sorted(m["id"] for m in _is_json(r)["models"]) == expected
                cli = run_cli(
                    "-R",
                    str(reg.root),
                    "list",
                    "--json",
                    "--sort",
                    "id",
                    *(a for label in labels for a in ("--label", label)),
                )
                assert [m["id"] for m in json.loads(cli.out)["models"]] == expected
            r = c.get(API, params={"label": "=risk"})
            assert r.status_code == 400 and "names no key" in _is_json(r)["message"]
    finally:
        stop_server(srv)
