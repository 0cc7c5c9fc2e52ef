"""A small MLflow registry made through MLflow's client: runs with metrics, params and git
tags, registered models, versions (one deleted, so numbers have a gap), stages, aliases."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class MlflowStore:
    uri: str
    client: Any

    def stage(self, name: str, version: int, stage: str) -> None:
        with warnings.catch_warnings():  # legacy stages are deprecated in MLflow; still used
            warnings.simplefilter("ignore")
            self.client.transition_model_version_stage(name, str(version), stage)


def empty_mlflow_db(path: Path) -> Path:
    """A new MLflow SQLite database at ``path``, its schema created by MLflow."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{path}"
    MlflowClient(tracking_uri=uri, registry_uri=uri).search_registered_models()
    return path


def make_mlflow(tmp_path: Path, artifact_location: str, db: Path) -> MlflowStore:
    """The registry, in the empty MLflow database ``db`` (source files under ``tmp_path``)."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{db}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp = client.create_experiment("churn", artifact_location=artifact_location)
    store = MlflowStore(uri, client)
    files = tmp_path / "mlflow-src"
    files.mkdir()

    def run(n: int, *, folder: bool) -> str:
        r = client.create_run(
            exp,
            tags={
                "mlflow.source.git.commit": COMMIT[:-2] + f"{n:02d}",
                "mlflow.source.git.repoURL": "https://github.com/acme/churn",
                "mlflow.source.name": "train.py",
            },
        )
        rid = r.info.run_id
        client.log_metric(rid, "accuracy", 0.8 + n / 100)
        client.log_metric(rid, "f1", 0.7 + n / 100)
        client.log_param(rid, "learning_rate", str(0.1 / n))
        client.log_param(rid, "layers", "[256, 128]")
        model = files / f"run{n}" / "model"
        model.mkdir(parents=True)
        (model / "model.pkl").write_bytes(bytes([n]) * (1000 + n))
        if folder:
            (model / "MLmodel").write_text(f"flavors: {{}}\nrun: {n}\n")
            client.log_artifacts(rid, str(model), "model")
        else:
            client.log_artifact(rid, str(model / "model.pkl"), "model")
        client.set_terminated(rid)
        return str(rid)

    client.create_registered_model(
        "Churn Model", tags={"team": "risk", "ticket": "RISK-42"}, description="Churn, in MLflow"
    )
    for n in (1, 2, 3):
        rid = run(n, folder=n != 3)
        source = f"{client.get_run(rid).info.artifact_uri}/model"
        client.create_model_version(
            "Churn Model", source, rid, tags={"validated": str(n != 2)}, description=f"v{n}"
        )
    client.delete_model_version("Churn Model", "2")
    store.stage("Churn Model", 1, "Archived")
    store.stage("Churn Model", 3, "Production")
    client.set_registered_model_alias("Churn Model", "champion", "3")
    client.set_registered_model_alias("Churn Model", "previous", "1")

    client.create_registered_model("fraud_detector")
    rid = run(4, folder=False)
    client.create_model_version(
        "fraud_detector", f"{client.get_run(rid).info.artifact_uri}/model", rid
    )
    store.stage("fraud_detector", 1, "Staging")
    return store
