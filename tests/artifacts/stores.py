"""Helpers for the artifact tests: the S3 server process, a TCP relay to cut, the stores."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from modelreg import Registry
from modelreg.yamlio import dumps
from tests.conftest import free_port, git

# moto accepts any credentials; nothing may look for real ones (or a metadata service)
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


class Relay:
    """A TCP relay on 127.0.0.1 in front of the S3 server. :meth:`cut` drops every
    connection and refuses new ones, as a server that stops would; :meth:`restore`
    accepts again (the server behind it kept its state)."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.port = free_port()
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:  # the server is busy or restarting: this client only is refused
                client.close()
                continue
            with self._lock:
                self._socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(1 << 16):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            socks, self._socks = self._socks, []
        for s in socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


@dataclass
class S3Server:
    port: int
    relay: Relay
    process: subprocess.Popen[bytes]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.relay.port}"

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3", endpoint_url=f"http://127.0.0.1:{self.port}", region_name="us-east-1"
        )

    def stop(self) -> None:
        self.relay.cut()
        self.process.terminate()
        self.process.wait(timeout=10)

    def new_bucket(self) -> str:
        name = f"b-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name


@dataclass
class Store:
    """One kind of artifact store, as a registry's ``artifacts:`` config sees it."""

    kind: str
    root: str
    options: dict[str, Any] = field(default_factory=dict)
    s3: S3Server | None = None

    def fs(self) -> Any:
        import fsspec

        return fsspec.core.url_to_fs(self.root, **self.options)[0]

    def url(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def read(self, uri: str) -> bytes:
        return bytes(self.fs().cat_file(uri))

    def write(self, uri: str, data: bytes) -> None:
        fs = self.fs()
        fs.makedirs(fs._parent(uri), exist_ok=True)
        fs.pipe_file(uri, data)

    def exists(self, uri: str) -> bool:
        return bool(self.fs().exists(uri))


def make_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    if kind == "file":
        return Store(kind, (tmp_path / "store").as_uri())
    if kind == "memory":
        return Store(kind, f"memory:///store-{uuid.uuid4().hex[:12]}")
    server: S3Server = request.getfixturevalue("s3_server")
    bucket = server.new_bucket()
    options = {
        "endpoint_url": server.endpoint,
        # a stopped server is an error now, not after minutes of retries
        "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 2},
    }
    return Store(kind, f"s3://{bucket}/models", options, server)


def registry_on(path: Path, store: Store) -> Registry:
    """A new registry whose modelreg.yaml points at ``store`` (committed)."""
    reg = Registry.init(path)
    config = {
        "apiVersion": "modelreg/v1",
        "kind": "Registry",
        "name": "artifacts-test",
        "artifacts": {"root": store.root, "storage_options": store.options},
    }
    (path / "modelreg.yaml").write_text(dumps(config))
    git(path, "commit", "-qam", "artifact store")
    reg = Registry.open(path)
    reg.create_model("churn-xgb", name="Churn", framework="xgboost")
    return reg


def payload(tmp_path: Path, name: str = "model.bst", size: int = 300_000, seed: int = 1) -> Path:
    """A local file of ``size`` pseudo-random bytes."""
    import random

    path = tmp_path / "src" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(random.Random(seed).randbytes(size))
    return path


def start_s3() -> S3Server:
    """moto's standalone S3 server in its own process on 127.0.0.1, behind a relay."""
    os.environ.update(S3_ENV)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **S3_ENV},
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("moto server did not start") from None
            time.sleep(0.05)
    return S3Server(port, Relay(port), proc)
