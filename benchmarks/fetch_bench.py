"""Fetch by reference: one large artifact (512 MiB by default) cold and warm.

In the same run, on a local artifact store (file://):

- pull (baseline)   ``ArtifactStore.pull`` into a fresh file: copy + sha256, no cache
- fetch, cold       ``modelreg.fetch`` with an empty cache: download, check, admit
- fetch, warm       ``modelreg.fetch`` again: the bytes are found by digest
- fetch, warm CLI   ``modelreg fetch`` as a whole new process (interpreter start included)
- re-hash           sha256 of the cached file: what a warm fetch would cost if it
                    checked the bytes again instead of trusting their name

Target: a warm fetch under 50 ms (a digest lookup, not a re-hash).

    .venv/bin/python benchmarks/fetch_bench.py [--size-mib 512] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from artifacts_bench import make_file  # noqa: E402
from generate import GIT_ENV  # noqa: E402

import modelreg  # noqa: E402
from modelreg import Registry  # noqa: E402
from modelreg.cachedir import CacheDir  # noqa: E402

WORK = ROOT / "benchmarks" / ".work" / "fetch"


def median(fn: Callable[[], object], repeat: int, before: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def row(name: str, seconds: float, target: str = "") -> None:
    print(f"  {name:<22} {seconds * 1000:10.1f} ms   {target}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3, help="runs of the cold figures")
    args = parser.parse_args()
    os.environ.update(GIT_ENV)

    src = WORK / f"src-{args.size_mib}.bin"
    make_file(src, args.size_mib << 20)
    with tempfile.TemporaryDirectory(prefix="modelreg-fetch-") as tmp:
        run(Path(tmp), src, args)


def run(tmp: Path, src: Path, args: argparse.Namespace) -> None:
    # the registry is its own git repository, outside any other
    reg_dir = tmp / "reg"
    reg = Registry.init(reg_dir, artifact_root=(tmp / "store").as_uri())
    reg.create_model("big", name="Big", framework="custom")
    version = reg.register_version("big", artifacts={"model": src}, stage="production")
    artifact = version.artifacts["model"]
    cache = CacheDir(tmp / "cache")
    os.environ["MODELREG_CACHE"] = str(cache.root)

    def empty_cache() -> None:
        shutil.rmtree(cache.root, ignore_errors=True)

    out = tmp / "pulled.bin"

    def no_pull() -> None:
        out.unlink(missing_ok=True)

    pull = median(lambda: reg.artifact_store.pull(artifact, out), args.repeat, no_pull)
    no_pull()
    cold = median(lambda: modelreg.fetch("big@production", reg), args.repeat, empty_cache)
    got = modelreg.fetch("big@production", reg)
    assert got.file().stat().st_size == args.size_mib << 20 and got.downloaded == 0
    warm = median(lambda: modelreg.fetch("big@production", reg), 20, lambda: None)
    warm_path = median(lambda: modelreg.fetch("big@production", reg_dir), 20, lambda: None)
    cli = median(
        lambda: subprocess.run(
            [sys.executable, "-m", "modelreg", "-R", str(reg_dir), "fetch", "big@production"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        5,
        lambda: None,
    )

    def rehash() -> None:
        with open(got.file(), "rb") as fh:
            hashlib.file_digest(fh, "sha256")

    again = median(rehash, args.repeat, lambda: None)
    print(f"\nfetch of one {args.size_mib} MiB artifact (file:// store), median")
    row("pull (baseline)", pull, "copy + sha256, no cache")
    row("fetch, cold", cold, f"{cold / pull:.2f}x the pull")
    row("fetch, warm", warm, "target < 50 ms (Registry given)")
    row("fetch, warm by path", warm_path, "target < 50 ms (registry opened too)")
    row("fetch, warm CLI", cli, "a whole `modelreg fetch` process")
    row("re-hash (not done)", again, "what checking the bytes again would cost")


if __name__ == "__main__":
    main()
