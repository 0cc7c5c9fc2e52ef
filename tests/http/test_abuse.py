"""Load and abuse, bounded: 2,000 requests (valid, unkeyed, malformed, oversized,
deep, slow) on loopback against one real server, which must stay up, keep
answering correctly, and keep its memory bounded."""

from __future__ import annotations

import random
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from modelreg import Registry
from modelreg.keys import READ_SCOPE, Keyring, Tenant, save
from tests.http.conftest import Server, start_server, stop_server

API = "/api/v1/model-registry/models"
REQUESTS = 2_000
WORKERS = 32
MAX_SECONDS = 120  # the whole test, on a loaded 2-core machine
MAX_RSS_GROWTH = 64 * 1024 * 1024


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("abuse")
    reg = Registry.init(base / "reg")
    with reg.transaction("models"):
        for i in range(40):
            model_id = f"m{i:02d}"
            reg.create_model(model_id, name=f"M {i}", framework="onnx", customer=f"c{i % 3}")
            reg.register_version(model_id, metrics={"acc": i / 40}, stage="production")
    ring, made = Keyring(), {}
    for name, tenant in (("all", Tenant()), ("c1", Tenant(customer="c1"))):
        ring, made[name] = ring.add(name, [READ_SCOPE], tenant)
    keys_file = base / "keys.yaml"
    save(ring, keys_file)
    srv = start_server(reg.root, keys_file, "--head-timeout", "3", "--max-concurrency", "200")
    srv.keys = made
    yield srv
    stop_server(srv)


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _raw(srv: Server, data: bytes, *, wait: bool = True) -> bytes:
    host, port = srv.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        try:
            s.sendall(data)
        except OSError:
            return b""  # refused while sending (an oversized head): fine
        if not wait:
            return b""
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
                if b"\r\n\r\n" in out and b"connection: close" not in out.lower():
                    break
        except OSError:
            pass
        return out


def _kinds(srv: Server, http: httpx.Client) -> list[Callable[[], str]]:
    key, c1 = srv.keys["all"], srv.keys["c1"]
    url = srv.url

    def valid() -> str:
        r = http.get(f"{url}{API}?limit=5", headers={"X-API-Key": key}, timeout=15)
        assert r.status_code == 200 and r.json()["count"] == 40
        return "200"

    def tenant() -> str:
        r = http.post(f"{url}/terminal/ml-models", headers={"X-API-Key": c1}, json={}, timeout=15)
        names = {m["model_name"] for m in r.json()["model_metrics"]}
        assert r.status_code == 200 and len(names) == 13 and all(int(n[1:]) % 3 == 1 for n in names)
        return "200"

    def unkeyed() -> str:
        return str(http.get(f"{url}/catalog.json", timeout=15).status_code)

    def garbage() -> str:
        noise = bytes(random.getrandbits(8) for _ in range(random.randint(1, 400)))
        return _raw(srv, noise + b"\r\n\r\n")[:12].decode("latin-1") or "closed"

    def bad_request_line() -> str:
        line = random.choice(
            [b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"\x00\x01 / HTTP/1.1\r\n\r\n"]
        )
        return _raw(srv, line)[:12].decode("latin-1") or "closed"

    def lying_length() -> str:
        head = b"POST /terminal/ml-models HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\n" % key.encode()
        _raw(srv, head + b"Content-Length: 100\r\n\r\n{}", wait=False)  # and gone
        return "sent"

    def huge_head() -> str:
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"
        return _raw(srv, head)[:12].decode("latin-1") or "closed"

    def deep() -> str:
        r = http.post(
            f"{url}/terminal/ml-models", headers={"X-API-Key": key}, content=b"[" * 60_000
        )
        assert r.status_code == 400
        return "400"

    def slow() -> str:
        return _raw(srv, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")[:12].decode("latin-1") or "closed"

    # weights: mostly real traffic, a steady share of abuse
    return (
        [valid] * 6
        + [tenant] * 3
        + [unkeyed] * 2
        + [
            garbage,
            bad_request_line,
            lying_length,
            huge_head,
            deep,
            slow,
        ]
    )


@pytest.mark.slow
def test_the_server_survives_load_and_abuse_with_bounded_memory(target: Server) -> None:
    started = time.monotonic()
    random.seed(12)
    http = httpx.Client(timeout=15, limits=httpx.Limits(max_connections=WORKERS))
    kinds = _kinds(target, http)
    pid = target.process.pid
    with http, ThreadPoolExecutor(WORKERS) as pool:  # warm up: caches filled, snapshot built
        list(pool.map(lambda f: f(), [kinds[0], kinds[6], kinds[9]] * 20))
        before = _rss(pid)
        plan = [random.choice(kinds) for _ in range(REQUESTS)]
        outcomes = Counter(pool.map(lambda f: f(), plan))
    after = _rss(pid)
    assert target.process.poll() is None, "the server died"
    with httpx.Client(base_url=target.url, timeout=10) as c:
        assert c.get("/healthz").json()["status"] == "ok"
        r = c.get(f"{API}/m01", headers={"X-API-Key": target.keys["all"]})
        assert r.status_code == 200 and r.json()["id"] == "m01"
    assert sum(outcomes.values()) == REQUESTS
    assert not any(o.startswith(("HTTP/1.1 5", "5")) for o in outcomes), outcomes
    assert after - before < MAX_RSS_GROWTH, f"RSS grew {(after - before) >> 20} MB"
    assert time.monotonic() - started < MAX_SECONDS
