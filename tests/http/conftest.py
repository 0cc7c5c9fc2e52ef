"""A real server process on 127.0.0.1 over a real registry, and keys for it."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelreg.keys import READ_SCOPE, WRITE_SCOPE, Keyring, Tenant, save
from tests.conftest import free_port

_spec = importlib.util.spec_from_file_location(
    "modelreg_test_seedrepo", Path(__file__).parents[1] / "catalog" / "seedrepo.py"
)
assert _spec is not None and _spec.loader is not None
seedrepo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(seedrepo)


@dataclass
class Server:
    url: str
    root: Path
    keys_file: Path | None
    process: subprocess.Popen[bytes]
    keys: dict[str, str] = field(default_factory=dict)

    def client(self, key: str | None = None, header: str = "bearer") -> httpx.Client:
        headers = {}
        if key is not None:
            headers = (
                {"Authorization": f"Bearer {key}"} if header == "bearer" else {"X-API-Key": key}
            )
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 15.0
    ) -> dict[str, Any]:
        """Poll /healthz until predicate(body) holds (bounded), return the body."""
        deadline = time.monotonic() + timeout
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            body = httpx.get(f"{self.url}/healthz", timeout=5).json()
            if predicate(body):
                return body
            time.sleep(0.05)
        raise AssertionError(f"server never reached the expected state: {body}")


def start_server(root: Path, keys_file: Path | None, *extra: str) -> Server:
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "modelreg",
        "-R",
        str(root),
        "serve",
        "--port",
        str(port),
        "--reload-interval",
        "50",
        *extra,
    ]
    if keys_file is not None:
        args += ["--keys", str(keys_file)]
    process = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy()
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"server exited: {process.stderr.read().decode()}"  # type: ignore[union-attr]
            )
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return Server(url, root, keys_file, process)
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("server did not answer /healthz within 30 s")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    if server.process.stderr is not None:
        server.process.stderr.close()


KEYS = {
    "admin": ([READ_SCOPE], Tenant()),
    "org_xyz": ([READ_SCOPE], Tenant(organization="org_xyz")),
    "demo": ([READ_SCOPE], Tenant(customer="demo-customer")),
    "ws_002": ([READ_SCOPE], Tenant(workspace="ws_002")),
    "writer": ([WRITE_SCOPE], Tenant()),
}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The seed registry served with keys (shared by the read-only tests)."""
    base = tmp_path_factory.mktemp("served")
    root = seedrepo.build_seed_registry(base / "reg")
    ring, made = Keyring(), {}
    for name, (scopes, tenant) in KEYS.items():
        ring, made[name] = ring.add(name, scopes, tenant)
    keys_file = base / "keys.yaml"
    save(ring, keys_file)
    srv = start_server(root, keys_file)
    srv.keys = made
    yield srv
    stop_server(srv)
