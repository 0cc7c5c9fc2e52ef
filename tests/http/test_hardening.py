"""The HTTP server against what an outsider tries: bindings, headers, keys files,
health probes, hostile bodies and hostile connections. A real server process each."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelreg import Registry
from modelreg.errors import InvalidManifestError
from modelreg.keys import READ_SCOPE, Keyring, Tenant, parse, save
from tests.conftest import git
from tests.http.conftest import Server, start_server, stop_server

API = "/api/v1/model-registry/models"


@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Models of organization "None" (the text), of workspace "None", and of nobody;
    keys bound to each and one bound to nothing."""
    base = tmp_path_factory.mktemp("hardening")
    reg = Registry.init(base / "reg")
    with reg.transaction("models"):
        reg.create_model("org-none", name="A", framework="onnx", organization="None")
        reg.create_model("ws-none", name="B", framework="onnx", workspace="None")
        reg.create_model("plain", name="C", framework="onnx", customer="c1")
        for m in ("org-none", "ws-none", "plain"):
            reg.register_version(m, metrics={"acc": 0.5}, stage="production")
    ring, made = Keyring(), {}
    for name, tenant in {
        "all": Tenant(),
        "org": Tenant(organization="None"),
        "ws": Tenant(workspace="None"),
    }.items():
        ring, made[name] = ring.add(name, [READ_SCOPE], tenant)
    keys_file = base / "keys.yaml"
    save(ring, keys_file)
    srv = start_server(reg.root, keys_file, "--head-timeout", "2")
    srv.keys = made
    yield srv
    stop_server(srv)


def _ids(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return sorted(m["id"] for m in r.json()["models"])


# ---------------------------------------------------------------- items 1 and 2


def test_an_empty_binding_is_refused_when_the_key_is_made(tmp_path: Path, run_cli: Any) -> None:
    Registry.init(tmp_path / "reg")
    keys_file = tmp_path / "keys.yaml"
    for option in ("--customer", "--organization", "--workspace"):
        r = run_cli(
            "-R",
            str(tmp_path / "reg"),
            "keys",
            "add",
            "e",
            option,
            "",
            "--keys-file",
            str(keys_file),
        )
        assert r.code == 3 and "empty" in r.err and "binding is refused" in r.err, r.err
    assert not keys_file.exists()
    text = "keys:\n  - {name: e, id: abcdef12, hash: 'sha256:%s', scopes: [%s], customer: ''}\n"
    with pytest.raises(InvalidManifestError, match=r"keys\[0\]\.customer: an empty customer"):
        parse(text % ("0" * 64, READ_SCOPE), "keys.yaml")


def test_a_binding_to_the_text_none_is_its_own_tenant(tenants: Server) -> None:
    # Each asks in turn, the same URL: a shared cache key would hand one the other's body.
    url = f"{API}?limit=50"
    for _ in range(2):
        for name, expected in (
            ("org", ["org-none"]),
            ("all", ["org-none", "plain", "ws-none"]),
            ("ws", ["ws-none"]),
        ):
            with tenants.client(tenants.keys[name]) as c:
                assert _ids(c.get(url)) == expected, name
                catalog = c.get("/catalog.json").json()
                assert sorted(m["id"] for m in catalog["models"]) == expected
                terminal = c.post("/terminal/ml-models", json={}).json()
                assert sorted(m["model_name"] for m in terminal["model_metrics"]) == expected
    etags = set()
    for name in ("org", "all", "ws"):
        with tenants.client(tenants.keys[name]) as c:
            etags.add(c.get(url).headers["etag"])
    assert len(etags) == 3


# ---------------------------------------------------------------- item 5


@pytest.mark.parametrize(
    "headers",
    [
        [("Authorization", "Bearer mr_00000000_wrong"), ("X-API-Key", "{key}")],
        [("Authorization", "Bearer {key}"), ("X-API-Key", "mr_00000000_wrong")],
        [("X-API-Key", "mr_00000000_wrong"), ("X-API-Key", "{key}")],
        [("X-API-Key", "{key}"), ("X-API-Key", "mr_00000000_wrong")],
        [("Authorization", "Bearer {key}"), ("Authorization", "Bearer mr_00000000_wrong")],
        [("Authorization", "Basic dXNlcjpwdw=="), ("X-API-Key", "{key}")],
    ],
)
def test_conflicting_credentials_are_refused(
    tenants: Server, headers: list[tuple[str, str]]
) -> None:
    key = tenants.keys["all"]
    sent = [(n, v.replace("{key}", key)) for n, v in headers]
    r = httpx.get(f"{tenants.url}{API}", headers=sent, timeout=10)
    assert r.status_code == 401 and "more than one API key" in r.json()["message"]
    r = httpx.post(f"{tenants.url}/terminal/ml-models", headers=sent, json={}, timeout=10)
    assert r.status_code == 401 and r.json() == {"success": False, "error": "Unauthorized"}


def test_the_same_key_twice_is_one_credential(tenants: Server) -> None:
    key = tenants.keys["all"]
    sent = [("Authorization", f"Bearer {key}"), ("X-API-Key", key)]
    assert httpx.get(f"{tenants.url}{API}", headers=sent, timeout=10).status_code == 200


# ---------------------------------------------------------------- item 11


def test_a_deep_body_is_a_400_not_a_crash(tenants: Server) -> None:
    with tenants.client(tenants.keys["all"]) as c:
        for body in (b"[" * 60_000, b"[" * 5_000 + b"]" * 5_000, b'{"a":' * 12_000):
            r = c.post("/terminal/ml-models", content=body)
            assert r.status_code == 400, r.text
            assert r.json()["success"] is False
        assert c.post("/terminal/ml-models", content=b"x" * 70_000).status_code == 413
        assert c.get(API).status_code == 200


# ---------------------------------------------------------------- item 13


def test_gzip_is_sent_only_when_accepted(tenants: Server) -> None:
    with tenants.client(tenants.keys["all"]) as c:
        for header, gzipped in (
            ("gzip;q=0", False),
            ("gzip;q=0, identity", False),
            ("*;q=0", False),
            ("br, gzip;q=0.5", True),
            ("*", True),
            ("identity", False),
        ):
            r = c.get("/catalog.json", headers={"Accept-Encoding": header})
            assert r.status_code == 200
            assert (r.headers.get("content-encoding") == "gzip") is gzipped, header
            json.loads(r.content)  # httpx decodes what was encoded


def test_an_oversized_request_head_is_refused(tenants: Server) -> None:
    with tenants.client(tenants.keys["all"]) as c:
        for headers in ({"X-Big": "a" * 2_000_000}, {f"X-H{i}": "v" * 100 for i in range(300)}):
            try:
                r = c.get(API, headers=headers)
            except httpx.TransportError:
                continue  # closed before the whole head was even sent: refused too
            assert r.status_code == 431
        assert c.get(API, headers={"X-Fine": "a" * 8_000}).status_code == 200


def test_slow_clients_are_cut_off_and_others_served(tenants: Server) -> None:
    host, port = tenants.url.removeprefix("http://").split(":")
    slow = []
    for _ in range(100):
        s = socket.create_connection((host, int(port)), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # never finished
        slow.append(s)
    idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(20)]
    try:
        started = time.monotonic()
        with tenants.client(tenants.keys["all"]) as c:
            assert c.get(API).status_code == 200  # served while they hang
        for s in slow + idle:
            answer = _read_until_closed(s)
            assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer[:80]
        # cut off by the 2 s head timeout of this server, not by the clients' 10 s
        assert time.monotonic() - started < 8
    finally:
        for s in slow + idle:
            s.close()


def _read_until_closed(s: socket.socket) -> bytes:
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    return out


# ---------------------------------------------------------------- items 3 and 4


def test_healthz_says_degraded_and_never_why(tmp_path: Path) -> None:
    reg = Registry.init(tmp_path / "reg")
    reg.create_model("m", name="M", framework="onnx", organization="secret-org")
    ring, key = Keyring().add("k", [READ_SCOPE])
    keys_file = tmp_path / "keys.yaml"
    save(ring, keys_file)
    srv = start_server(reg.root, keys_file)
    try:
        assert httpx.get(f"{srv.url}/healthz").json() == {"status": "ok", "commit": reg.commit}
        manifest = reg.root / "models" / "m" / "model.yaml"
        manifest.write_text(manifest.read_text() + "secret_field: secret-value\n")
        git(reg.root, "commit", "-qam", "a broken manifest")
        body = srv.wait_for(lambda b: b["status"] == "degraded")
        assert set(body) == {"status", "commit"}
        text = httpx.get(f"{srv.url}/healthz").text
        for leak in ("secret", "model.yaml", "keys", str(tmp_path)):
            assert leak not in text
        with srv.client(key) as c:  # the last good snapshot is still served
            assert [m["id"] for m in c.get(API).json()["models"]] == ["m"]
        srv.process.terminate()
        srv.process.wait(timeout=10)
        assert srv.process.stderr is not None
        assert b"secret_field" in srv.process.stderr.read()  # the reason is in the log
    finally:
        stop_server(srv)


def test_a_keys_file_that_stops_parsing_leaves_no_key_in_force(tmp_path: Path) -> None:
    reg = Registry.init(tmp_path / "reg")
    reg.create_model("m", name="M", framework="onnx")
    ring, kept = Keyring().add("kept", [READ_SCOPE])
    ring, removed = ring.add("removed", [READ_SCOPE])
    keys_file = tmp_path / "keys.yaml"
    save(ring, keys_file)
    srv = start_server(reg.root, keys_file)
    try:
        for key in (kept, removed):
            assert _status(srv, key) == 200
        # one broken edit: "removed" taken out, and a syntax error
        save(ring.remove("removed"), keys_file)
        keys_file.write_text(keys_file.read_text() + "  - [unclosed\n")
        srv.wait_for(lambda b: b["status"] == "degraded")
        for key in (kept, removed):
            assert _status(srv, key) == 401
        save(ring.remove("removed"), keys_file)  # fixed
        srv.wait_for(lambda b: b["status"] == "ok")
        assert _status(srv, kept) == 200
        assert _status(srv, removed) == 401
    finally:
        stop_server(srv)


def _status(srv: Server, key: str) -> int:
    with srv.client(key) as c:
        return int(c.get(API).status_code)


def test_a_named_keys_file_that_does_not_exist_is_an_error(
    tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = Registry.init(tmp_path / "reg")
    monkeypatch.setenv("MODELREG_KEYS_FILE", str(tmp_path / "typo.yaml"))
    r = run_cli("-R", str(reg.root), "serve", "--port", "1")
    assert r.code == 4 and "keys file" in r.err and "typo.yaml" in r.err, r.err
    assert "every request allowed" not in r.err
    monkeypatch.delenv("MODELREG_KEYS_FILE")
    r = run_cli("-R", str(reg.root), "serve", "--port", "1", "--keys", str(tmp_path / "no.yaml"))
    assert r.code == 4 and "does not exist" in r.err
