"""What the limits table costs on the read path: validating a manifest of 10,000
versions with the scan of free-form values (hyperparameters, model fields), and
without it (the baseline), in the same run. The typed checks (finite numbers,
artifact URIs, ids) run in both: they are part of pydantic's validation.

    .venv/bin/python benchmarks/limits_bench.py [--versions 10000] [--rounds 7]

Best of ``rounds`` for each, interleaved. Target: the scan adds at most 30 %.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from modelreg import manifest
from modelreg.manifest import Model

TARGET = 0.30


def document(versions: int) -> dict[str, Any]:
    return {
        "id": "m",
        "name": "M",
        "framework": "onnx",
        "versions": [
            {
                "version": i + 1,
                "created_at": "2025-01-01T00:00:00Z",
                "metrics": {"accuracy": 0.5, "f1_score": 0.4},
                "hyperparameters": {"layers": [256, 128], "learning_rate": 0.001, "opt": "adam"},
                "training": {"epochs": 10, "train_loss": 0.1, "validation_loss": 0.2},
                "artifacts": {
                    "model": {"uri": f"s3://bucket/m/{i + 1}/model.bin", "sha256": "0" * 64}
                },
            }
            for i in range(versions)
        ],
    }


def best(doc: dict[str, Any], rounds: int) -> float:
    out = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        Model.model_validate(doc)
        out = min(out, time.perf_counter() - t)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    doc = document(args.versions)
    scan = manifest.limits.first
    with_scan, without = [], []
    for _ in range(2):
        with_scan.append(best(doc, args.rounds))
        manifest.limits.first = lambda *a, **k: None  # the baseline: no limits scan
        try:
            without.append(best(doc, args.rounds))
        finally:
            manifest.limits.first = scan
    base, scanned = min(without), min(with_scan)
    cost = scanned / base - 1
    print(f"Validate one manifest of {args.versions:,} versions (best of {args.rounds}):")
    print(f"  baseline, no free-form scan  {base * 1000:8.0f} ms")
    print(f"  with the free-form scan      {scanned * 1000:8.0f} ms")
    verdict = "met" if cost <= TARGET else "MISSED"
    print(f"  cost of the scan: {cost:+.0%} (target <= {TARGET:.0%}: {verdict})")


if __name__ == "__main__":
    main()
