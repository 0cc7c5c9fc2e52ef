"""What the HTTP server's bounds cost: the same app under uvicorn's plain httptools
protocol (the baseline) and under modelreg's bounded one, in the same run.

    .venv/bin/python benchmarks/bounds_bench.py [--models 200] [--duration 3] [--connections 32]

Both servers run as processes on 127.0.0.1, one after the other, and are driven
by the same asyncio keep-alive client (or wrk when installed). Target: the
bounded protocol within 10 % of the baseline's requests per second.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from http_bench import GIT_ENV, build_registry, run_python, run_wrk

from modelreg.keys import READ_SCOPE, Keyring, save

SERVER = """
import sys, uvicorn
from pathlib import Path
from modelreg.http import Follower, create_app
from modelreg.http.bounds import DEFAULT, uvicorn_settings
root, keys, port, mode = sys.argv[1:5]
settings = uvicorn_settings(DEFAULT)
if mode == "plain":
    settings["http"] = "httptools"
app = create_app(Follower(root, "HEAD", keys_file=Path(keys)))
uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False,
            loop="uvloop", lifespan="on", **settings)
"""
TARGET = 0.10


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(root: Path, keys: Path, mode: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(root), str(keys), str(port), mode],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--duration", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    os.environ.update(GIT_ENV)
    load = run_wrk if shutil.which("wrk") else run_python
    with tempfile.TemporaryDirectory(prefix="modelreg-bench-") as tmp:
        base = Path(tmp)
        root = build_registry(base / "reg", args.models)
        ring, key = Keyring().add("bench", [READ_SCOPE])
        save(ring, base / "keys.yaml")
        path = "/api/v1/model-registry/models/m00042"
        headers = {"Authorization": f"Bearer {key}"}
        print(
            f"HTTP bounds, single model route, {args.connections} connections, "
            f"{args.duration} s each, load generator {'wrk' if load is run_wrk else 'asyncio'}:"
        )
        results = {}
        for mode in ("plain", "bounded", "plain", "bounded"):  # interleaved against drift
            proc, url = _serve(root, base / "keys.yaml", mode)
            try:
                rps, p50, p99 = load(url + path, headers, args.duration, args.connections)
            finally:
                proc.terminate()
                proc.wait(timeout=10)
            results.setdefault(mode, []).append(rps)
            label = "baseline: uvicorn httptools" if mode == "plain" else "bounded (16 KiB, 10 s)"
            print(f"  {label:<30} {rps:9.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
        plain, bounded = max(results["plain"]), max(results["bounded"])
        cost = 1 - bounded / plain
        verdict = "met" if cost <= TARGET else "MISSED"
        print(
            f"  cost of the bounds: {cost:+.1%} of the baseline (target <= {TARGET:.0%}: {verdict})"
        )


if __name__ == "__main__":
    main()
