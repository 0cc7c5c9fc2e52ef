"""Publishing: register with --push against a local bare remote, the cost of one retry,
and many clones pushing at once.

    python benchmarks/push_bench.py [--n 30] [--clones 20] [--each 5]

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
    parser.add_argument("--clones", type=int, default=20, help="writers at once")
    parser.add_argument("--each", type=int, default=5, help="registers per writer")
    args = parser.parse_args()
    n, clones, each = args.n, args.clones, args.each
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

    with tempfile.TemporaryDirectory() as tmp:
        many_writers(Path(tmp), clones, each)


def many_writers(root: Path, clones: int, each: int) -> None:
    """``clones`` clones, each a process registering ``each`` versions of one model with
    --push, all started at once: every version must land, each number once."""
    bare, _, _ = setup(root)
    paths = []
    for i in range(clones):
        git(root, "clone", "--quiet", str(bare), f"w{i}")
        paths.append(root / f"w{i}")
    script = (
        "import sys\n"
        "from modelreg import Registry\n"
        "reg = Registry.open(sys.argv[1])\n"
        "tries = 0\n"
        "for n in range(int(sys.argv[2])):\n"
        "    done = reg.publish(lambda r: r.register_version("
        f"{MODEL!r}, label=f'{{reg.root.name}}-{{n}}'), push=True)\n"
        "    tries += done.retries\n"
        "print(tries)\n"
    )
    print(f"\n{clones} clones x {each} registers with --push at once (one process each)")
    t = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(p), str(each)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **GIT_ENV},
        )
        for p in paths
    ]
    retries, failed = 0, 0
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode:
            failed += 1
            print(f"  a writer failed: {err.strip().splitlines()[-1:]}")
        else:
            retries += int(out.strip() or 0)
    spent = time.perf_counter() - t
    text = subprocess.run(
        ["git", "show", f"main:models/{MODEL}/model.yaml"],
        cwd=bare,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    import yaml

    numbers = [v["version"] for v in yaml.safe_load(text).get("versions", [])]
    landed = len(numbers)
    row("versions landed", f"{landed} of {clones * each}", "all, none refused")
    row("version numbers unique", str(len(set(numbers)) == landed), "True")
    row("writers that gave up", str(failed), "0")
    row("retries (re-applied on a newer tip)", str(retries))
    row("wall time", f"{spent:.1f} s")
    row("pushes landed per second", f"{landed / spent:.1f} /s")


if __name__ == "__main__":
    main()
