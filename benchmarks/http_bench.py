"""Catalog benchmark: export time (1,000 and 10,000 models) and HTTP throughput/latency.

    .venv/bin/python benchmarks/http_bench.py [--models 1000] [--export-sizes 1000,10000]
        [--duration 5] [--connections 32]

Registries are built in a temporary folder (manifests written as files, one git
commit). The server runs as its own process on 127.0.0.1; the load generator is
`wrk` when installed, else a small asyncio keep-alive client. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from modelreg import Registry
from modelreg.export import export, read_catalog
from modelreg.keys import READ_SCOPE, Keyring, save

GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}
FRAMEWORKS = ("pytorch", "tensorflow", "xgboost", "sklearn", "onnx", "custom")
STAGES = ("none", "staging", "production")


def manifest(i: int) -> str:
    versions = []
    for n in range(1, 4):
        versions.append(f"""\
  - version: {n}
    label: v1.{n}.0
    description: Version {n} of model {i}
    stage: {STAGES[n - 1]}
    created_at: 2025-01-{n + 10:02d}T10:00:00Z
    metrics: {{accuracy: 0.{80 + n}, f1_score: 0.{70 + n}}}
    hyperparameters: {{learning_rate: 0.001, layers: [128, 64]}}
    training:
      trained_at: 2025-01-{n + 9:02d}T12:00:00Z
      data_window: {{start: 2024-01-01T00:00:00Z, end: 2024-12-31T23:59:59Z}}
      epochs: {10 + n}
      train_loss: 0.02
      validation_loss: 0.03
      early_stop_epoch: {10 + n}
    artifacts:
      model: {{uri: s3://bench/models/m{i:05d}/{n}/model.bin}}
      encoders: {{uri: s3://bench/models/m{i:05d}/{n}/encoders.pkl}}
      config: {{uri: s3://bench/models/m{i:05d}/{n}/config.json}}
""")
    return f"""\
apiVersion: modelreg/v1
kind: Model
id: m{i:05d}
name: Benchmark model {i}
description: A synthetic model for the catalog benchmark, number {i}
type: forecasting
framework: {FRAMEWORKS[i % len(FRAMEWORKS)]}
source: automl
owner: user_{i % 50}
organization: org_{i % 5}
workspace: ws_{i % 20}
customer: customer-{i % 10}
tags: [bench, group-{i % 7}]
created_at: 2025-01-01T00:00:00Z
versions:
{"".join(versions)}"""


def build_registry(path: Path, count: int) -> Path:
    reg = Registry.init(path)
    for i in range(count):
        folder = reg.root / "models" / f"m{i:05d}"
        folder.mkdir(parents=True)
        (folder / "model.yaml").write_text(manifest(i))
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "add", "models"], cwd=reg.root, check=True, env=env)
    subprocess.run(
        ["git", "commit", "-q", "-m", f"{count} models"], cwd=reg.root, check=True, env=env
    )
    return reg.root


def bench_export(base: Path, count: int) -> None:
    root = build_registry(base / f"reg{count}", count)
    cache = root / ".git" / "modelreg"
    shutil.rmtree(cache, ignore_errors=True)
    t0 = time.perf_counter()
    catalog = read_catalog(Registry.open(root, ref="HEAD"))
    t1 = time.perf_counter()
    catalog = read_catalog(Registry.open(root, ref="HEAD"))  # manifest cache warm
    t2 = time.perf_counter()
    dest = base / f"out{count}"
    first = export(catalog, str(dest))
    t3 = time.perf_counter()
    second = export(catalog, str(dest))
    t4 = time.perf_counter()
    print(
        f"export {count:>6} models: read (cold parse) {t1 - t0:6.2f} s | read (warm) "
        f"{t2 - t1:6.2f} s | first export {t3 - t2:6.2f} s ({len(first.written)} files) | "
        f"unchanged re-export {t4 - t3:6.2f} s ({len(second.written)} written)"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(root: Path, keys_file: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modelreg",
            "-R",
            str(root),
            "serve",
            "--port",
            str(port),
            "--keys",
            str(keys_file),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("server did not start")


UNCACHED_LUA = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. "&search=" .. tostring(counter % 50000 + 1000))
end
"""


def run_wrk(
    url: str, headers: dict[str, str], duration: int, connections: int, script: str | None = None
) -> tuple[float, float, float]:
    args = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script is not None:
        args += ["-s", script]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", out, re.M)
        assert m, out
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
        return float(m.group(1)) * scale

    return rps, pct("50"), pct("99")


async def _client(
    host: str, port: int, request: bytes, stop: float, latencies: list[float]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    while time.perf_counter() < stop:
        t = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        m = re.search(rb"content-length: (\d+)", head, re.I)
        if m:
            await reader.readexactly(int(m.group(1)))
        latencies.append((time.perf_counter() - t) * 1000)
    writer.close()


def run_python(
    url: str, headers: dict[str, str], duration: int, connections: int
) -> tuple[float, float, float]:
    rest = url.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    lines = [f"GET /{path} HTTP/1.1", f"Host: {hostport}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    latencies: list[float] = []

    async def main() -> None:
        stop = time.perf_counter() + duration
        await asyncio.gather(
            *(_client(host, int(port), request, stop, latencies) for _ in range(connections))
        )

    t0 = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, q[49], q[98]


def bench_http(base: Path, count: int, duration: int, connections: int) -> None:
    root = build_registry(base / f"served{count}", count)
    ring, key = Keyring().add("bench", [READ_SCOPE])
    keys_file = base / "keys.yaml"
    save(ring, keys_file)
    proc, url = start_server(root, keys_file)
    load = run_wrk if shutil.which("wrk") else run_python
    print(
        f"\nHTTP, {count}-model catalog, 1 server process, load generator "
        f"{'wrk' if load is run_wrk else 'asyncio'} ({connections} connections, "
        f"{duration} s each), same 2-core machine:"
    )
    try:
        auth = {"Authorization": f"Bearer {key}"}
        cases = [
            ("list page (20 models)", "/api/v1/model-registry/models", {}),
            (
                "list page, filtered",
                "/api/v1/model-registry/models?framework=onnx&tag=group-3&sort=name:asc&limit=20",
                {},
            ),
            ("single model", "/api/v1/model-registry/models/m00042", {}),
            (
                "single model, gzip",
                "/api/v1/model-registry/models/m00042",
                {"Accept-Encoding": "gzip"},
            ),
        ]
        for label, path, extra in cases:
            headers = {**auth, **extra}
            etag = httpx.get(url + path, headers=headers).headers["etag"]
            rps, p50, p99 = load(url + path, headers, duration, connections)
            print(f"  {label:<26} {rps:9.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
            rps, p50, p99 = load(
                url + path, {**headers, "If-None-Match": etag}, duration, connections
            )
            print(
                f"  {label + ' -> 304':<26} {rps:9.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
            )
        if load is run_wrk:
            # Every request a new search: no response cache, a filter over all models.
            script = base / "uncached.lua"
            script.write_text(UNCACHED_LUA)
            rps, p50, p99 = run_wrk(
                url + "/api/v1/model-registry/models?limit=20",
                auth,
                duration,
                connections,
                str(script),
            )
            print(
                f"  {'list, new search each':<26} {rps:9.0f} req/s  p50 {p50:6.2f} ms  "
                f"p99 {p99:6.2f} ms"
            )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--export-sizes", default="1000,10000")
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    os.environ.update(GIT_ENV)
    with tempfile.TemporaryDirectory(prefix="modelreg-bench-") as tmp:
        base = Path(tmp)
        for size in (int(s) for s in args.export_sizes.split(",") if s):
            bench_export(base, size)
        bench_http(base, args.models, args.duration, args.connections)


if __name__ == "__main__":
    main()
