"""Generate a synthetic registry: N models x V versions, as a real git repository.

    python benchmarks/generate.py --models 1000 --versions 10 --out /tmp/reg

Manifests are written with modelreg's own dumper (the documented key order),
then committed once with the git command line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

from modelreg import yamlio
from modelreg.manifest import Model
from modelreg.render import HEADER
from modelreg.schema import SCHEMAS, render

FRAMEWORKS = ["pytorch", "tensorflow", "xgboost", "sklearn", "onnx", "custom"]
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@modelreg.dev",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@modelreg.dev",
}


def manifest(i: int, versions: int) -> str:
    base = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    model = Model.model_validate(
        {
            "id": f"model-{i:05d}",
            "name": f"Synthetic model {i}",
            "description": "A generated model for benchmarks",
            "type": "forecasting",
            "framework": FRAMEWORKS[i % len(FRAMEWORKS)],
            "source": "automl",
            "owner": f"user_{i % 17}",
            "organization": f"org_{i % 5}",
            "workspace": f"ws_{i % 11}",
            "customer": f"customer-{i % 23}",
            "tags": ["synthetic", f"group-{i % 7}"],
            "created_at": base,
            "versions": [
                {
                    "version": v,
                    "label": f"v1.{v}.0",
                    "description": f"Run {v}",
                    "stage": "production"
                    if v == versions
                    else "archived"
                    if v < versions - 2
                    else "none",
                    "created_at": base + dt.timedelta(days=v),
                    "metrics": {"accuracy": 0.8 + v / 1000, "f1_score": 0.7 + v / 1000},
                    "hyperparameters": {
                        "layers": [256, 128],
                        "learning_rate": 0.001,
                        "optimizer": "adam",
                    },
                    "training": {
                        "trained_at": base + dt.timedelta(days=v),
                        "epochs": 10 + v,
                        "train_loss": 0.1,
                        "validation_loss": 0.12,
                    },
                    "artifacts": {
                        "model": {
                            "uri": f"s3://bench/model-{i:05d}/{v}/model/model.bin",
                            "sha256": "0" * 64,
                            "size": 1024,
                        }
                    },
                }
                for v in range(1, versions + 1)
            ],
        }
    )
    return HEADER + yamlio.dumps(model.to_document())


def generate(out: Path, models: int, versions: int) -> Path:
    shutil.rmtree(out, ignore_errors=True)
    (out / "models").mkdir(parents=True)
    (out / "schemas").mkdir()
    (out / "modelreg.yaml").write_text("apiVersion: modelreg/v1\nkind: Registry\nname: bench\n")
    for name in SCHEMAS:
        (out / "schemas" / name).write_text(render(name))
    for i in range(models):
        folder = out / "models" / f"model-{i:05d}"
        folder.mkdir()
        (folder / "model.yaml").write_text(manifest(i, versions))
    env = {**os.environ, **GIT_ENV}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "generated"]):
        subprocess.run(["git", *args], cwd=out, env=env, check=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    generate(args.out, args.models, args.versions)
    print(f"{args.models} models x {args.versions} versions in {args.out}")


if __name__ == "__main__":
    main()
