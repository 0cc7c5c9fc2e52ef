"""Version search figures: `modelreg versions` across 1,000 models x 10 versions.

    python benchmarks/versions_bench.py [--models 1000] [--versions 10] [--quick]

Cold figures are whole `modelreg` processes (interpreter start included), best of
a few runs; "first run" is the very first on a fresh repository (no manifest cache
yet). The baseline, measured in the same run, is `modelreg list --json` (every
model, no versions searched) and `modelreg --version` (start-up alone).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from core_bench import cold, row
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
        row("first run, no cache: versions --where --sort", f"{cold(SEARCH, reg, runs=1):.3f} s")
        target = "< 0.5 s" if models == 1000 else ""
        row("versions --where --sort --limit, cold", f"{cold(SEARCH, reg):.3f} s", target)
        by_stage = ["versions", "--stage", "production", "--framework", "xgboost", "--json"]
        row("versions --stage --framework, cold", f"{cold(by_stage, reg):.3f} s", target)
        every = ["versions", "--json"]
        row("versions --json (every version), cold", f"{cold(every, reg):.3f} s")
        row("baseline: list --json, cold", f"{cold(['list', '--json'], reg):.3f} s")
        row("baseline: --version (start-up), cold", f"{cold(['--version'], reg):.3f} s")


if __name__ == "__main__":
    main()
