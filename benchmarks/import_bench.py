"""Import of an MLflow registry: 100 models x 10 versions by default.

The MLflow registry is made here through MLflow's client (SQLite store), each
version with its run (3 metrics, 3 params, a git commit tag) and one small
artifact file. In the same run:

- MLflow's own read   what any importer must ask MLflow's client for: every
                      registered model, its versions, their runs and download URIs
- import              ``modelreg import mlflow`` as a library call: that read, the
                      plan, the artifacts read for size and sha256, one commit per model
- second import       the same again: nothing new, nothing written

Target: the import within a small factor of MLflow's own read (the ratio is printed).

    .venv/bin/python benchmarks/import_bench.py [--models 100] [--versions 10]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import GIT_ENV  # noqa: E402

from modelreg import Registry  # noqa: E402
from modelreg.importers import mlflow as importer  # noqa: E402


def make(tmp: Path, models: int, versions: int) -> str:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp = client.create_experiment("bench", artifact_location=(tmp / "mlruns").as_uri())
    files = tmp / "files"
    now = int(time.time() * 1000)
    for m in range(models):
        name = f"model-{m:03d}"
        client.create_registered_model(name, tags={"team": "bench"}, description=f"Model {m}")
        for v in range(1, versions + 1):
            run = client.create_run(exp, tags={"mlflow.source.git.commit": f"{m:020x}{v:020x}"})
            rid = run.info.run_id
            client.log_batch(
                rid,
                metrics=[Metric(k, 0.5 + v / 100, now, 0) for k in ("accuracy", "f1", "auc")],
                params=[Param(k, str(v)) for k in ("lr", "depth", "epochs")],
            )
            path = files / name / str(v) / "model.bin"
            path.parent.mkdir(parents=True)
            path.write_bytes(os.urandom(4096))
            client.create_model_version(name, path.as_uri(), rid)
        client.set_registered_model_alias(name, "champion", str(versions))
    return uri


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--versions", type=int, default=10)
    args = parser.parse_args()
    os.environ.update(GIT_ENV)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    warnings.simplefilter("ignore")  # MLflow's own deprecation notices
    # SQLite syncs each of MLflow's thousands of small transactions: on tmpfs, making
    # the registry takes seconds instead of many minutes (both sides read it from there)
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(prefix="modelreg-import-", dir=shm) as tmp_name:
        tmp = Path(tmp_name)
        start = time.perf_counter()
        uri = make(tmp, args.models, args.versions)
        made = time.perf_counter() - start
        reg = Registry.init(tmp / "reg")

        importer.read(uri)  # warm-up: MLflow opens its engine and checks its schema once
        start = time.perf_counter()
        read = importer.read(uri)
        mlflow_read = time.perf_counter() - start

        start = time.perf_counter()
        result = importer.apply(reg, importer.plan(reg, importer.read(uri)), tracking_uri=uri)
        imported = time.perf_counter() - start

        start = time.perf_counter()
        again = importer.apply(reg, importer.plan(reg, importer.read(uri)), tracking_uri=uri)
        second = time.perf_counter() - start

        count = sum(len(m.versions) for m in read)
        assert len(result.commits) == args.models and again.commits == ()
        assert sum(len(m.versions) for m in reg.models()) == count
        print(f"\nimport of {args.models} models x {args.versions} versions from MLflow (SQLite)")
        print(f"  {'making it through MLflow':<26} {made:8.2f} s   (set-up, not timed below)")
        print(f"  {'MLflow own read':<26} {mlflow_read:8.2f} s   baseline")
        print(
            f"  {'import':<26} {imported:8.2f} s   {imported / mlflow_read:.2f}x the read; "
            f"{len(result.commits)} commits, {count} versions"
        )
        print(f"  {'second import (no-op)':<26} {second:8.2f} s   {second / mlflow_read:.2f}x")


if __name__ == "__main__":
    main()
