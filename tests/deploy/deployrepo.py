"""The deploy tests' registry, cases and validators (real ones, from PyPI)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import cfnlint.api
import jsonschema
import kubernetes_validate
import yaml

from modelreg.deploy import DeployRequest

HERE = Path(__file__).resolve().parent
RESOURCES = HERE / "resources" / "registry"
GOLDEN = HERE / "golden"
SCHEMAS = HERE / "schemas"
TARGETS = ("kubernetes", "kserve", "sagemaker")
# a recent Kubernetes release known to kubernetes-validate
KUBERNETES_VERSION = "1.33.0"

CASES: dict[str, tuple[str, DeployRequest]] = {
    "plain": ("churn-xgb@production", DeployRequest.build(replicas=2)),
    "autoscaled": (
        "churn-xgb@3",
        DeployRequest.build(hardware="cpu-small", autoscale=(2, 6, 60)),
    ),
    "gpu": ("churn-xgb@production", DeployRequest.build(hardware="gpu-a100-40gb")),
    "ab": (
        "churn-xgb@production",
        DeployRequest.build(hardware="cpu-small", autoscale=(1, 5, 70), challenger=4, traffic=20),
    ),
}


def build_registry(dest: Path) -> Path:
    """A copy of resources/registry in a new git repository with one commit."""
    shutil.copytree(RESOURCES, dest)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "init"]):
        subprocess.run(["git", *args], cwd=dest, check=True, capture_output=True)
    return dest


def kubernetes_problems(obj: dict[str, Any]) -> list[str]:
    """kubernetes-validate --strict for built-in kinds; the project's schemas for the CRDs
    (kubernetes-validate knows no CRDs)."""
    kind = obj.get("kind")
    if kind in ("HTTPRoute", "InferenceService"):
        schema = json.loads((SCHEMAS / f"{str(kind).lower()}.schema.json").read_text())
        validator = jsonschema.Draft202012Validator(schema)
        return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(obj)]
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{list(exc.path)}: {exc.message}"]
    return []


def cfn_problems(text: str) -> list[str]:
    """Every cfn-lint match (errors, warnings and informational) of a template."""
    return [str(m) for m in cfnlint.api.lint(text, regions=["eu-west-1"])]


def problems(path: str, data: bytes) -> list[str]:
    if path.endswith(".json"):
        return cfn_problems(data.decode("utf-8"))
    out = []
    for doc in yaml.safe_load_all(data):
        out += kubernetes_problems(doc)
    return out
