"""Where things are in a registry: the config file, the models folder, the manifests.
Names only (no pydantic, no I/O), for the read paths that need nothing else."""

from __future__ import annotations

CONFIG_FILE = "modelreg.yaml"
MODELS_DIR = "models"
MANIFEST_FILE = "model.yaml"
DEFAULT_ARTIFACT_ROOT = "artifacts"


def manifest_path(model_id: str) -> str:
    """The manifest of ``model_id``, relative to the registry root."""
    return f"{MODELS_DIR}/{model_id}/{MANIFEST_FILE}"
