"""A registry for the site tests: several models, a history of promotions, a deployment
with an A/B split, a model card, and hostile text wherever a manifest takes free text."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from modelreg import Registry
from modelreg.manifest import Challenger, Deployment

HOSTILE_NAME = '<script>window.__pwned = "name"</script>Evil & Co'
HOSTILE_DESCRIPTION = '"><img src=x onerror="window.__pwned=\'description\'"> <b>bold?</b>'
HOSTILE_CUSTOMER = "</script><script>window.__pwned='customer'</script>"
HOSTILE_TAG = "<i>tag</i>"
HOSTILE_CARD = (
    "# Hostile card\n\n<script>window.__pwned = 'card'</script>\n\n"
    "[click me](javascript:window.__pwned='link') and "
    "<img src=x onerror=\"window.__pwned='img'\">\n"
)
CARD = (
    "# Churn model\n\nPredicts **churn** for subscription customers.\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |\n"
)
ACCURACY = (0.81, 0.86, 0.84, 0.9)


def build_site_registry(root: Path) -> Registry:
    reg = Registry.init(root)
    reg.create_model(
        "churn-xgb",
        name="Churn Prediction XGBoost",
        framework="xgboost",
        source="automl",
        tags=["churn", "xgboost"],
        customer="acme",
        description="XGBoost model for customer churn prediction",
        labels={"team": "risk"},
    )
    for i, acc in enumerate(ACCURACY, start=1):
        reg.register_version(
            "churn-xgb",
            label=f"v1.{i}.0",
            metrics={"accuracy": acc, "f1_score": acc - 0.05},
            artifacts={"model": _artifact(root, f"churn-{i}.bst", i)},
        )
    reg.set_stage("churn-xgb", 2, "production")
    reg.set_stage("churn-xgb", 3, "challenger")
    reg.set_stage("churn-xgb", 4, "production")
    reg.set_alias("churn-xgb@2", "champion")
    reg.set_alias("churn-xgb@4", "champion")
    with reg.transaction() as tx:
        tx.set_deployment(
            "churn-xgb",
            Deployment(
                target="kserve",
                version=4,
                challenger=Challenger(version=3, traffic_percent=10),
                replicas=2,
                deployed_at=dt.datetime(2025, 2, 1, 10, tzinfo=dt.timezone.utc),
            ),
            message="churn-xgb: deploy v4 with v3 as challenger at 10%",
        )
    (root / "models/churn-xgb/README.md").write_text(CARD)
    reg.create_model(
        "evil-model",
        name=HOSTILE_NAME,
        framework="pytorch",
        source="experiment",
        description=HOSTILE_DESCRIPTION,
        customer=HOSTILE_CUSTOMER,
        tags=[HOSTILE_TAG],
    )
    reg.register_version("evil-model", metrics={"<b>loss</b>": 0.5})
    (root / "models/evil-model/README.md").write_text(HOSTILE_CARD)
    reg.create_model(
        "grid-onnx", name="Grid load", framework="onnx", source="manual", tags=["grid"]
    )
    reg.register_version(
        "grid-onnx",
        metrics={"mape": 0.07},
        stage="staging",
        lineage={
            "parent": "churn-xgb@4",
            "code": {"repository": "https://github.com/acme/grid", "commit": "0123abcd" * 5},
            "datasets": [{"uri": "s3://data/grid/2024.parquet", "role": "train"}],
        },
    )
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "model cards"], cwd=root, check=True)
    return Registry.open(root)


def _artifact(root: Path, name: str, i: int) -> Path:
    path = root.parent / "files" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"weights" * 1000 * i)
    return path
