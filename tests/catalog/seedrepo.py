"""A real registry holding the models of both seed documents, committed at the seeds' times.

The manifests are written as files and committed with the git command line at
pinned dates, so that times from git (createdAt/updatedAt) equal the seed's.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

SEEDS = Path(__file__).parent / "seeds"

HEADER = "# yaml-language-server: $schema=../../schemas/model.schema.json\n"

CHURN_V1 = """\
apiVersion: modelreg/v1
kind: Model
id: model_abc123
name: Churn Prediction XGBoost
description: XGBoost model for customer churn prediction trained on Q4 2024 data
type: classification
framework: xgboost
source: automl
owner: user_456
organization: org_xyz
workspace: ws_001
customer: acme
tags: [production, churn, xgboost]
created_at: 2025-01-15T10:30:00Z
versions:
  - version: 1
    description: Initial training
    created_at: 2025-01-15T10:30:00Z
    metrics: {accuracy: 0.89, f1_score: 0.87}
    artifacts:
      model: {uri: s3://models/churn-xgb/v1}
"""

CHURN_REST = """\
  - version: 2
    description: Retrained with feature engineering
    created_at: 2025-01-22T14:00:00Z
    metrics: {accuracy: 0.92, f1_score: 0.91}
    artifacts:
      model: {uri: s3://models/churn-xgb/v2}
  - version: 3
    description: Hyperparameter tuning
    stage: production
    created_at: 2025-02-01T09:00:00Z
    metrics: {accuracy: 0.94, f1_score: 0.93}
    artifacts:
      model: {uri: s3://models/churn-xgb/v3}
deployment:
  target: kserve
  version: 3
  hardware: gpu-a100-40gb
  replicas: 2
  endpoint_url: https://models.strongly.ai/v1/predict/model_abc123
  deployed_at: 2025-02-01T10:00:00Z
"""

LSTM = """\
apiVersion: modelreg/v1
kind: Model
id: customer_validation_lstm
name: Customer validation LSTM
type: forecasting
framework: tensorflow
source: experiment
owner: user_789
organization: org_energy
workspace: ws_002
customer: demo-customer
tags: [lstm]
created_at: 2025-01-23T12:00:00Z
versions:
  - version: 1
    label: v1.2.0
    stage: production
    created_at: 2025-01-23T12:00:00Z
    metrics: {validation_loss: 0.0289}
    hyperparameters:
      layers: [256, 256, 128]
      learning_rate: 0.0005
      dropout: 0.3
      optimizer: adam
    training:
      trained_at: 2025-01-23T12:00:00Z
      data_window: {start: 2024-01-01T00:00:00Z, end: 2024-12-31T23:59:59Z}
      epochs: 18
      train_loss: 0.0234
      validation_loss: 0.0289
      early_stop_epoch: 18
    artifacts:
      model:
        uri: s3://sa-api-client-output/customer_tailored/demo-customer/models/customer_validation_model_demo-customer_20250123_120000.h5
      encoders:
        uri: s3://sa-api-client-output/customer_tailored/demo-customer/models/customer_validation_encoders_demo-customer_20250123_120000.pkl
      config:
        uri: s3://sa-api-client-output/customer_tailored/demo-customer/models/validation_model_config_20250123_120000.json
"""


def seed(name: str) -> Any:
    return json.loads((SEEDS / name).read_text())


def _commit(root: Path, files: dict[str, str], message: str, when: str) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    subprocess.run(["git", "add", *files], cwd=root, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=root, check=True, env=env)


def build_seed_registry(path: Path) -> Path:
    """A registry at ``path`` with model_abc123 (seed 003) and customer_validation_lstm (000)."""
    from modelreg import Registry

    root = Registry.init(path).root
    churn = "models/model_abc123/model.yaml"
    _commit(root, {churn: HEADER + CHURN_V1}, "model_abc123: create", "2025-01-15T10:30:00Z")
    _commit(
        root,
        {"models/customer_validation_lstm/model.yaml": HEADER + LSTM},
        "customer_validation_lstm: create",
        "2025-01-23T12:00:00Z",
    )
    _commit(
        root,
        {churn: HEADER + CHURN_V1 + CHURN_REST},
        "model_abc123: v2, v3, deploy",
        "2025-02-01T10:00:00Z",
    )
    return root
