"""Publishing: register with --push against a local bare remote, and the cost of one retry.

    python benchmarks/push_bench.py [--n 30]

A bare repository in a temporary folder is the remote; two clones write to it.
"retry" is a push rejected because the other clone pushed first: fetch, move
the branch to the new tip, register again, push again.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from core_bench import cold, row
from generate import GIT_ENV

from modelreg import Registry

os.environ.update(GIT_ENV)
MODEL = "bench-model"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def setup(root: Path) -> tuple[Path, Path, Path]:
    bare = root / "remote.git"
    git(root, "init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    seed = Registry.init(root / "seed")
    seed.create_model(MODEL, name="Bench", framework="onnx")
    git(seed.root, "remote", "add", "origin", str(bare))
    git(seed.root, "push", "--quiet", "origin", "main")
    for name in ("a", "b"):
        git(root, "clone", "--quiet", str(bare), name)
    return bare, root / "a", root / "b"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=30, help="operations per figure")
    n = parser.parse_args().n
    with tempfile.TemporaryDirectory() as tmp:
        _, a_path, b_path = setup(Path(tmp))
        a, b = Registry.open(a_path), Registry.open(b_path)
        print(f"\npublish against a local bare remote ({n} operations each)")

        def register(reg: Registry) -> object:
            return reg.register_version(MODEL, label=reg.root.name, metrics={"accuracy": 0.5})

        t = time.perf_counter()
        for _ in range(n):
            a.publish(register, push=False)
        local = (time.perf_counter() - t) / n
        row("register, local commit only", f"{1 / local:.0f} ops/s")
        git(a_path, "push", "--quiet", "origin", "main")

        t = time.perf_counter()
        for _ in range(n):
            a.publish(register, push=True)
        pushed = (time.perf_counter() - t) / n
        row("register --push, no contention", f"{1 / pushed:.1f} ops/s")
        row("  per operation", f"{pushed * 1000:.1f} ms")

        total, retries = 0.0, 0
        for _ in range(n):
            b.publish(register, push=True)  # b goes first: a's first push is rejected
            t = time.perf_counter()
            done = a.publish(register, push=True)
            total += time.perf_counter() - t
            retries += done.retries
        with_retry = total / n
        row("register --push, behind by one (one retry)", f"{with_retry * 1000:.1f} ms")
        row("  cost of the retry", f"{(with_retry - pushed) * 1000:.1f} ms")
        row("  retries seen", f"{retries} of {n}")

        best = cold(["register", MODEL, "--push"], a_path)
        row("modelreg register --push, cold process", f"{best:.3f} s")


if __name__ == "__main__":
    main()
