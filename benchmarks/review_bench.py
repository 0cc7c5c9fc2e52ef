"""Pull-request figures: `validate --base` and `diff` when a PR touches one manifest.

    python benchmarks/review_bench.py [--models 1000] [--versions 10] [--quick]

A synthetic registry on `main`; a branch `feature` appends a version to one
manifest by hand (as a person editing YAML would) and commits it. Cold figures
are whole `modelreg` processes (interpreter start included), best of a few runs;
"fresh clone" is the first run in a new clone, as in CI (no manifest cache).
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from core_bench import ENV, MODELREG, row
from generate import generate


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=ENV, check=True, capture_output=True)


def cold(args: list[str], cwd: Path, runs: int = 3) -> str:
    """Best wall time of ``runs`` fresh processes, and the CPU time (user + system) of
    that run: on a shared machine the CPU time is the steadier figure."""
    best, cpu = float("inf"), 0.0
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(
            [*MODELREG, *args],
            cwd=cwd,
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if wall < best:
            best = wall
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return f"{best:.3f} s (cpu {cpu:.3f} s)"


def pull_request(reg_dir: Path) -> None:
    """A branch that appends one hand-written version to one manifest."""
    git(reg_dir, "checkout", "-qb", "feature")
    manifest = reg_dir / "models" / "model-00007" / "model.yaml"
    manifest.write_text(
        manifest.read_text()
        + "- version: 99\n  stage: staging\n  created_at: 2026-01-01T00:00:00Z\n"
        "  metrics:\n    accuracy: 0.97\n"
    )
    git(reg_dir, "commit", "-qam", "model-00007: version 99 by hand")


def bench(root: Path, models: int, versions: int) -> None:
    reg_dir = generate(root / f"r{models}", models, versions)
    pull_request(reg_dir)
    print(f"\n{models} models x {versions} versions, a PR touching one manifest")
    clone = root / f"clone{models}"
    git(root, "clone", "-q", f"file://{reg_dir}", str(clone))
    git(clone, "checkout", "-q", "feature")
    t = cold(["validate", "--base", "origin/main", "--format", "github"], clone, runs=1)
    row("validate --base, fresh clone (no cache)", t)
    t = cold(["validate", "--base", "main"], reg_dir)
    row("validate --base, cold process", t, "< 1 s at 1,000" if models == 1000 else "")
    row("validate (no base), cold process", cold(["validate"], reg_dir))
    t = cold(["diff", "main", "--format", "markdown"], reg_dir)
    row("diff --format markdown, cold process", t)
    broken = min(10, models)
    break_manifests(reg_dir, broken)
    t = cold(["validate"], reg_dir)
    row(f"validate, {broken} broken manifests, cold", t, "within 0.3 s of validate (no base)")
    git(reg_dir, "checkout", "-q", "--", ".")


def break_manifests(reg_dir: Path, count: int) -> None:
    """Hand edits that the YAML dialect, the schema and the rules each refuse, in
    ``count`` manifests: validate reads each as far as it can and reports everything."""
    for i in range(1, count + 1):
        manifest = reg_dir / "models" / f"model-{i:05d}" / "model.yaml"
        text = re.sub(
            r"(?m)^framework: .*$", "framework: sklern\nlabels:\n  team: 1.10", manifest.read_text()
        )
        text = re.sub(r"(?m)^  stage: .*$", "  stage: production", text, count=2)
        manifest.write_text(
            re.sub(r"(?m)^  created_at: ", "  stage: no\n  created_at: ", text, count=1)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="a tiny registry, for a smoke run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="modelreg-review-bench-") as tmp:
        bench(Path(tmp), 20 if args.quick else args.models, args.versions)


if __name__ == "__main__":
    main()
