"""Version search figures: `modelreg versions` across 1,000 models x 10 versions.

    python benchmarks/versions_bench.py [--models 1000] [--versions 10] [--quick]

Cold figures are whole `modelreg` processes (interpreter start included), best of
a few runs; "first run" is the very first on a fresh repository (no manifest cache
yet); `list --label` is the model listing's label selector. The baseline, measured in
the same run, is `modelreg list --json` (every
model, no versions searched) and `modelreg --version` (start-up alone).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from core_bench import ENV, MODELREG, row
from generate import generate

SEARCH = [
    "versions",
    "--where",
    "metrics.accuracy >= 0.805",
    "--sort",
    "-metrics.accuracy",
    "--limit",
    "20",
    "--json",
]


def cold(args: list[str], cwd: Path, runs: int = 3) -> str:
    """Best wall time of ``runs`` cold processes, and the CPU time (user + system) of
    that run: on a busy machine the CPU time is the steadier figure."""
    best = (float("inf"), 0.0)
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run([*MODELREG, *args], cwd=cwd, env=ENV, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = min(best, (wall, cpu))
    return f"{best[0]:.3f} s (cpu {best[1]:.3f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    args = parser.parse_args()
    models = 50 if args.quick else args.models
    with tempfile.TemporaryDirectory(prefix="modelreg-bench-") as tmp:
        reg = generate(Path(tmp) / "reg", models, args.versions)
        print(f"{models} models x {args.versions} versions ({models * args.versions} versions)")
        row("first run, no cache: versions --where --sort", cold(SEARCH, reg, runs=1))
        target = "< 0.5 s" if models == 1000 else ""
        row("versions --where --sort --limit, cold", cold(SEARCH, reg), target)
        by_stage = ["versions", "--stage", "production", "--framework", "xgboost", "--json"]
        row("versions --stage --framework, cold", cold(by_stage, reg), target)
        every = ["versions", "--json"]
        row("versions --json (every version), cold", cold(every, reg))
        labelled = ["list", "--label", "team=risk", "--label", "tier", "--json"]
        row("list --label team=risk --label tier, cold", cold(labelled, reg))
        row("baseline: list --json, cold", cold(["list", "--json"], reg))
        row("baseline: --version (start-up), cold", cold(["--version"], reg))


if __name__ == "__main__":
    main()
