"""Cold reads at scale: 10,000 models x 10 versions (100,000 versions) by default.

    python benchmarks/reads_bench.py [--models 10000] [--versions 10] [--quick] [--reuse DIR]

Every figure is a whole `modelreg` process, with its peak memory (maximum resident set).
"First" runs start with no cache (as in a fresh clone: `.git/modelreg/` removed); the
baseline, measured in the same run on the same files, is PyYAML's C loader alone
(`yaml.load(..., CSafeLoader)` of every manifest, in a process of its own). `--reuse DIR`
reads a registry `benchmarks/generate.py` made before (generating 10,000 models takes
about a minute).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from core_bench import ENV, MODELREG, row
from generate import generate

# runs a command, then prints its wall time and its peak memory (KiB), as JSON
MEASURE = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
wall = time.perf_counter() - t
print(json.dumps([wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))
"""

C_LOADER = """
import pathlib, sys, yaml
for path in sorted(pathlib.Path(sys.argv[1]).glob("models/*/model.yaml")):
    yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
"""


def measure(args: list[str], cwd: Path, runs: int = 1) -> tuple[float, float]:
    """Best wall time (s) of ``runs`` processes, and the peak memory (MiB) of that run."""
    best = (float("inf"), 0.0)
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", MEASURE, *args],
            cwd=cwd,
            env=ENV,
            check=True,
            capture_output=True,
            text=True,
        )
        wall, kib = json.loads(done.stdout)
        best = min(best, (wall, kib / 1024))
    return best


def shown(figure: tuple[float, float]) -> str:
    return f"{figure[0]:.3f} s {figure[1]:5.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument("--reuse", type=Path, help="a registry generate.py made")
    args = parser.parse_args()
    models = 50 if args.quick else args.models
    with tempfile.TemporaryDirectory(prefix="modelreg-bench-") as tmp:
        reg = args.reuse or generate(Path(tmp) / "reg", models, args.versions)
        models = len(list((reg / "models").iterdir()))
        shutil.rmtree(reg / ".git" / "modelreg", ignore_errors=True)
        print(f"{models} models, cold processes (wall time, peak memory)")
        big = models >= 10_000
        base = measure([sys.executable, "-c", C_LOADER, str(reg)], reg)
        row("baseline: PyYAML C loader, every manifest", shown(base))
        first = measure([*MODELREG, "list", "--json"], reg)
        ratio = f"  ({first[0] / base[0]:.2f}x the C loader)"
        row("list --json, first run (no cache)", shown(first) + ratio, "< 2x, < 200 MiB")
        row("list --json", shown(measure([*MODELREG, "list", "--json"], reg, 3)), "< 0.5 s")
        row("list (table)", shown(measure([*MODELREG, "list"], reg, 3)))
        row("validate, first run", shown(measure([*MODELREG, "validate"], reg)))
        row("validate", shown(measure([*MODELREG, "validate"], reg, 3)), "< 1.5 s")
        search = ["versions", "--where", "metrics.accuracy >= 0.805", "--limit", "20", "--json"]
        row("versions --where --limit 20", shown(measure([*MODELREG, *search], reg, 3)))
        manifest = reg / "models" / "model-00001" / "model.yaml"
        time.sleep(1.1)  # past the index's racy window
        manifest.write_text(manifest.read_text().replace("Synthetic model 1", "Edited model 1"))
        edited = measure([*MODELREG, "list", "--json"], reg)
        row("list --json after one manifest edited", shown(edited))
        row("validate after one manifest edited", shown(measure([*MODELREG, "validate"], reg)))
        subprocess.run(["git", "checkout", "--", "."], cwd=reg, env=ENV, check=True)
        if big:
            print("  (targets are the issue's, at 10,000 models x 10 versions)")


if __name__ == "__main__":
    main()
