"""Core figures: registering, listing, validating, show and history, at several sizes.

    python benchmarks/core_bench.py [--sizes 100,1000,10000] [--quick]

Cold figures are whole `modelreg` processes (interpreter start included), timed
as the best of a few runs; "first" is the very first run on a fresh clone (no
manifest cache yet). Targets from the issue are printed beside the figures, and
baselines measured in the same run beside the write figures: `git commit` of the
same one-manifest change, a bare interpreter, the CLI's imports. The load
average is printed at the start and the end: on a busy machine only the ratios
to the baselines mean much.
"""

from __future__ import annotations

import argparse
import compileall
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate import GIT_ENV, generate

import modelreg
from modelreg import Registry

ENV = {**os.environ, **GIT_ENV}
# what a cold `modelreg register` cannot do without: the CLI, the manifest models, the
# transaction, libgit2 and the lock
WRITE_IMPORTS = "import modelreg.cli, modelreg.transaction, modelreg.registry, pygit2, filelock"
MODELREG = [sys.executable, "-m", "modelreg"]


def cold(args: list[str], cwd: Path, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([*MODELREG, *args], cwd=cwd, env=ENV, check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t)
    return best


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def row(name: str, value: str, target: str = "") -> None:
    print(f"  {name:<44} {value:>14}   {target}", flush=True)


def bench_size(root: Path, models: int, versions: int, register_n: int) -> None:
    reg_dir = generate(root / f"r{models}", models, versions)
    print(f"\n{models} models x {versions} versions")
    first = cold(["list", "--json"], reg_dir, runs=1)
    row("list --json, first run (no cache)", f"{first:.3f} s")
    t = cold(["list", "--json"], reg_dir)
    row("list --json, cold process", f"{t:.3f} s", "< 0.5 s at 1,000" if models == 1000 else "")
    t = cold(["validate"], reg_dir)
    row("validate, cold process", f"{t:.3f} s", "< 1.5 s at 1,000" if models == 1000 else "")
    row("show MODEL, cold process", f"{cold(['show', 'model-00001'], reg_dir):.3f} s")
    row("history MODEL, cold process", f"{cold(['history', 'model-00001'], reg_dir):.3f} s")
    reg = Registry.open(reg_dir)
    ids = [f"model-{i % models:05d}" for i in range(register_n)]
    for model_id in set(ids):
        reg.get(model_id)
    t = timed(lambda: [reg.register_version(m, metrics={"accuracy": 0.9}) for m in ids])
    ours = t / register_n
    target = ">= 300 /s" if models <= 1000 else ">= 88 /s (before libgit2)"
    row(
        f"library register, {register_n} commits ({reg.store.engine})", f"{1 / ours:.0f} /s", target
    )
    base = _git_commit_baseline(reg_dir, ids[: max(10, register_n // 10)])
    row("baseline: git commit of a one-manifest change", f"{base * 1000:.1f} ms")
    row("  modelreg register / git commit (time ratio)", f"{ours / base:.2f}")
    hook = reg_dir / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 0\n")
    hook.chmod(0o755)
    n_git = max(10, register_n // 10)
    reg = Registry.open(reg_dir)
    t = timed(lambda: [reg.register_version(m, metrics={"accuracy": 0.9}) for m in ids[:n_git]])
    row(f"library register, {n_git} commits ({reg.store.engine}: hook)", f"{n_git / t:.0f} /s")
    hook.unlink()
    t = cold(["register", "model-00002", "--metric", "accuracy=0.9"], reg_dir)
    row("modelreg register, cold process", f"{t:.3f} s", "< 0.3 s")
    row("  baseline: python -c pass, cold process", f"{_bare_python():.3f} s")
    row("  baseline: importing the CLI", f"{_bare_python('import modelreg.cli'):.3f} s")
    row("  baseline: importing what a write uses", f"{_bare_python(WRITE_IMPORTS):.3f} s")
    reg = Registry.open(reg_dir)
    n = 10_000
    t = timed(lambda: _transaction(reg, [f"model-{i % models:05d}" for i in range(n)]))
    row(f"transaction of {n:,} versions, one commit", f"{t:.2f} s", "< 10 s")
    touched = min(n, models)
    add, commit = _git_bulk_baseline(reg_dir, touched)
    row(f"  baseline: git add of {touched:,} changed manifests", f"{add:.2f} s")
    row("  baseline: git commit of them", f"{commit:.2f} s")
    check = subprocess.run(
        ["git", "status", "--porcelain"], cwd=reg_dir, capture_output=True, text=True, check=True
    ).stdout
    assert check == "", f"working tree not clean after the benchmark: {check[:200]}"


def _git_commit_baseline(reg_dir: Path, ids: list[str]) -> float:
    """Seconds per ``git commit`` of a one-manifest change (the same kind of change a
    register makes), measured in the same run."""
    paths = [f"models/{model_id}/model.yaml" for model_id in ids]
    t = time.perf_counter()
    for i, path in enumerate(paths):
        with open(reg_dir / path, "a") as fh:
            fh.write(f"# baseline change {i}\n")
        subprocess.run(
            ["git", "commit", "--quiet", "-m", f"baseline {i}", "--", path],
            cwd=reg_dir,
            env=ENV,
            check=True,
        )
    return (time.perf_counter() - t) / len(paths)


def _git_bulk_baseline(reg_dir: Path, n: int) -> tuple[float, float]:
    """Seconds of ``git add`` and of ``git commit`` of ``n`` manifests changed at once
    (each with a line appended in place): what git itself pays for such a commit."""
    for i in range(n):
        with open(reg_dir / "models" / f"model-{i:05d}" / "model.yaml", "a") as fh:
            fh.write("# baseline change\n")
    add = timed(lambda: subprocess.run(["git", "add", "models"], cwd=reg_dir, env=ENV, check=True))
    commit = timed(
        lambda: subprocess.run(
            ["git", "commit", "--quiet", "-m", "baseline"], cwd=reg_dir, env=ENV, check=True
        )
    )
    return add, commit


def _bare_python(code: str = "pass", runs: int = 3) -> float:
    """Seconds of the best of ``runs`` interpreters running ``code`` (what every
    ``modelreg`` process pays before it does anything)."""
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=ENV, check=True)
        best = min(best, time.perf_counter() - t)
    return best


def load() -> str:
    """The load average (1, 5, 15 min): figures taken on a busy machine say so."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _transaction(reg: Registry, ids: list[str]) -> None:
    with reg.transaction("benchmark transaction"):
        for model_id in ids:
            reg.register_version(model_id, metrics={"accuracy": 0.9})


def bench_one_big_model(root: Path, versions: int) -> None:
    reg_dir = generate(root / "big", 1, versions)
    print(f"\n1 model x {versions:,} versions")
    cold(["list", "--json"], reg_dir, runs=1)
    row("list --json, cold process", f"{cold(['list', '--json'], reg_dir):.3f} s")
    row("show MODEL@latest, cold process", f"{cold(['show', 'model-00000@latest'], reg_dir):.3f} s")
    reg = Registry.open(reg_dir)
    reg.get("model-00000")
    t = timed(lambda: [reg.register_version("model-00000") for _ in range(20)])
    row(f"library register, 20 commits ({reg.store.engine})", f"{20 / t:.1f} /s", ">= 100 /s")
    reg.close()
    size = (reg_dir / "models/model-00000/model.yaml").stat().st_size
    base = _git_commit_baseline(reg_dir, ["model-00000"] * 5)
    row(f"baseline: git commit of the {size / 2**20:.1f} MiB manifest", f"{base * 1000:.1f} ms")
    manifest = reg_dir / "models/model-00000/model.yaml"
    stored = min(
        timed(
            lambda: subprocess.run(
                ["git", "hash-object", "-w", str(manifest)],
                cwd=reg_dir,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        )
        for _ in range(5)
    )
    row("baseline: git hash-object -w of it (store only)", f"{stored * 1000:.1f} ms")
    row("  modelreg register / git commit (time ratio)", f"{t / 20 / base:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--big", type=int, default=10_000, help="versions of the one big model")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    args = parser.parse_args()
    sizes = [20] if args.quick else [int(s) for s in args.sizes.split(",")]
    big = 200 if args.quick else args.big
    # timed as an installed package runs: compiled once, not at every start
    compileall.compile_dir(Path(modelreg.__file__).parent, quiet=1)
    print(f"load average at the start: {load()} ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory(prefix="modelreg-bench-") as tmp:
        for size in sizes:
            bench_size(Path(tmp), size, args.versions, register_n=50 if args.quick else 300)
        bench_one_big_model(Path(tmp), big)
    print(f"\nload average at the end: {load()}")


if __name__ == "__main__":
    main()
