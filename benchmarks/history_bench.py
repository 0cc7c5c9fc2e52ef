"""One model's history at 1,000 models x 10 versions registered round robin (10,000
commits), the workload of issue 17, target 2: a lookup, not a walk.

    python benchmarks/history_bench.py [--models 1000] [--versions 10] [--registry DIR]

With ``--registry DIR`` the registry is built there once and reused by later runs
(building 10,000 commits takes minutes). Figures: a fresh clone's first history
(it writes the commit-graph and derives what it keeps), the second and later ones as
fresh processes (``history``, ``--stage``, ``--alias``), the first after one more
commit, and in process; beside them, baselines measured in the same run: a bare
interpreter, the CLI's imports, and plain ``git log -- PATH`` (the walk a lookup
replaces). Fresh processes are timed as the best of several runs; the load average is
printed at the start and the end: on a busy machine only the ratios mean much.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from core_bench import load, timed
from generate import GIT_ENV

import modelreg
from modelreg import Registry

ENV = {**os.environ, **GIT_ENV}
MODELREG = [sys.executable, "-m", "modelreg"]


def row(name: str, value: str, target: str = "") -> None:
    print(f"  {name:<52} {value:>10}   {target}", flush=True)


def best(argv: list[str], cwd: Path, runs: int = 5) -> float:
    """Best wall time of ``runs`` whole processes."""
    out = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=ENV, check=True, stdout=subprocess.DEVNULL)
        out = min(out, time.perf_counter() - t)
    return out


def settle(git_dir: Path, limit: float = 300.0) -> float:
    """Wait for git's background maintenance (``gc --auto`` detaches) to finish, so that
    it does not share the CPU with the figures; the seconds waited."""
    t = time.perf_counter()
    pid_file = git_dir / "gc.pid"
    while pid_file.exists() and time.perf_counter() - t < limit:
        try:
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            break  # a stale file, or one gone meanwhile
        time.sleep(0.5)
    return time.perf_counter() - t


def build(folder: Path, models: int, versions: int) -> None:
    """``models`` models, then ``versions`` versions each, round robin, one commit each
    (as ``benchmarks/peers.py`` registers them)."""
    names = [f"model-{i:05d}" for i in range(models)]
    t = time.perf_counter()
    with Registry.init(folder) as reg:
        for name in names:
            reg.create_model(name, name=name, framework="sklearn")
        for v in range(1, versions + 1):
            for name in names:
                reg.register_version(name, metrics={"accuracy": 0.5 + v / 1000})
                if name == names[len(names) // 2] and v % 3 == 0:  # the probe: audits
                    reg.set_alias(f"{name}@{v}", "champion")
                    reg.set_stage(name, v, "production")
    spent = time.perf_counter() - t
    print(f"  built {models * (versions + 1):,} commits in {spent:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--registry", type=Path, help="build here once, reuse later")
    args = parser.parse_args()
    compileall.compile_dir(Path(modelreg.__file__).parent, quiet=1)
    print(f"load average at the start: {load()} ({os.cpu_count()} CPUs)")
    print(f"\n{args.models:,} models x {args.versions} versions, round robin")
    with tempfile.TemporaryDirectory(prefix="modelreg-history-") as tmp:
        built = args.registry or Path(tmp) / "built"
        if not (built / "modelreg.yaml").is_file():
            build(built, args.models, args.versions)
        settle(built / ".git")
        clone = Path(tmp) / "clone"
        subprocess.run(
            ["git", "clone", "--quiet", "--no-local", str(built), str(clone)], env=ENV, check=True
        )
        probe = f"model-{args.models // 2:05d}"
        path = f"models/{probe}/model.yaml"
        history = [*MODELREG, "history", probe, "--json"]
        first = best(history, clone, runs=1)
        row("fresh clone: first history (builds what it keeps)", f"{first:.3f} s")
        cold = best(history, clone)
        row("history MODEL --json, fresh process", f"{cold:.3f} s", "target < 0.3 s")
        for extra in (["--stage", "production"], ["--alias", "champion"]):
            best([*history, *extra], clone, runs=1)  # the first derives who held what
            t = best([*history, *extra], clone)
            row(f"history MODEL {' '.join(extra)} --json", f"{t:.3f} s", "target < 0.3 s")
        with Registry.open(clone) as reg:
            reg.register_version(probe, metrics={"accuracy": 0.9})
        settle(clone / ".git")
        t = best(history, clone, runs=1)
        row("  after one more commit: the first history", f"{t:.3f} s")
        row("  and the next", f"{best(history, clone):.3f} s")
        reg = Registry.open(clone)
        reg.history(probe)
        t = min(timed(lambda: reg.history(probe)) for _ in range(20))
        row("history, in process (library)", f"{t * 1000:.2f} ms", "target < 5 ms")
        t = min(timed(lambda: reg.stage_history(probe, "production")) for _ in range(20))
        row("stage history, in process (library)", f"{t * 1000:.2f} ms")
        reg.close()
        row("baseline: python -c pass", f"{best([sys.executable, '-c', 'pass'], clone):.3f} s")
        t = best([sys.executable, "-c", "import modelreg.cli, modelreg.registry"], clone)
        row("baseline: importing the CLI and the registry", f"{t:.3f} s")
        t = best(["git", "log", "--format=%H", "--", path], clone)
        row("baseline: git log -- PATH (with its commit-graph)", f"{t:.3f} s")
        shutil.rmtree(clone / ".git" / "modelreg", ignore_errors=True)
        t = best(history, clone, runs=1)
        row("  history with what it keeps deleted (derives again)", f"{t:.3f} s")
    print(f"\nload average at the end: {load()}")


if __name__ == "__main__":
    main()
