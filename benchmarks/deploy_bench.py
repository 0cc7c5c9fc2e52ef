"""Deploy benchmark: render time per target, a deploy commit, a cold `modelreg deploy`.

    .venv/bin/python benchmarks/deploy_bench.py [--runs 200]

Runs against a copy of registry_example/ made into a git repository in a
temporary folder. "render" is the target alone (pure: request in, bytes out),
"plan" adds resolving the request against the registry (dry run), "commit" is a
real deploy (specs + manifest, one commit), "cold" a whole `modelreg deploy
--dry-run` process, interpreter start included.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from core_bench import ENV, cold, row

from modelreg import Registry
from modelreg.deploy import DeployRequest, load_target, render, render_request

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("kubernetes", "kserve", "sagemaker")
CASES = {
    "plain": DeployRequest.build(replicas=2),
    "gpu+autoscale": DeployRequest.build(hardware="gpu-a100-40gb", autoscale=(1, 5, 70)),
    "a/b": DeployRequest.build(
        hardware="cpu-small", autoscale=(1, 5, 70), challenger=2, traffic=10
    ),
}


def median_us(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "reg"
        shutil.copytree(ROOT / "registry_example", root)
        for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "init"]):
            subprocess.run(["git", *cmd], cwd=root, env=ENV, check=True, capture_output=True)
        reg = Registry.open(root)
        print(f"deploy benchmark (median of {args.runs} runs)")
        for target in TARGETS:
            plugin = load_target(target)
            for case, request in CASES.items():
                req = render_request(reg, "churn-xgb@production", request, target)
                us = median_us(partial(render, plugin, req), args.runs)
                row(f"render {target} {case}", f"{us:.0f} us")
            plan = partial(
                reg.deploy, "churn-xgb@production", CASES["a/b"], target=target, dry_run=True
            )
            row(f"plan (dry run) {target} a/b", f"{median_us(plan, args.runs):.0f} us")
        for target in TARGETS:
            runs = 10
            t = time.perf_counter()
            for i in range(runs):
                reg.deploy(
                    "churn-xgb@production", DeployRequest.build(replicas=1 + i % 3), target=target
                )
            row(f"deploy commit {target}", f"{(time.perf_counter() - t) / runs * 1e3:.1f} ms")
        best = cold(["deploy", "churn-xgb", "--target", "kubernetes", "--dry-run"], root)
        row("cold `modelreg deploy --dry-run` (best of 3)", f"{best * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
