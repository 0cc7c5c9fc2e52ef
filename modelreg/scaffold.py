"""The files of a new registry: config, folders, schemas, CI workflow and pre-commit examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelreg import yamlio
from modelreg.config import CONFIG_FILE, MODELS_DIR
from modelreg.errors import ConflictError
from modelreg.gitstore import GitStore
from modelreg.schema import SCHEMAS, parse_config, render

TEMPLATES = Path(__file__).parent / "templates"
EXAMPLES = (
    ("github-workflow.yml", ".github/workflows/modelreg.yml"),
    ("pre-commit-config.yaml", ".pre-commit-config.yaml"),
)


STORE_NOTE = """\
# Artifacts go to ./artifacts (git-ignored). A shared store lets others and deploy
# targets read them: artifacts: {root: s3://bucket/models} (or gs://, az://, ...).
"""

# What `modelreg init` writes after the registry's name: the profiles and target that
# `modelreg deploy --help` uses, to edit or extend (schemas/registry.schema.json).
DEPLOY_DEFAULTS = """\
# Hardware profiles, named by `modelreg deploy --hardware NAME`: each maps onto every target.
hardware:
  cpu-small:
    description: 1 vCPU, 2 GiB
    kubernetes:
      resources:
        requests: {cpu: 500m, memory: 1Gi}
        limits: {cpu: "1", memory: 2Gi}
    sagemaker: {instance_type: ml.m5.large, vcpus: 2}
  gpu-a100-40gb:
    description: one NVIDIA A100 40 GB
    gpus: 1
    kubernetes:
      resources:
        requests: {cpu: "4", memory: 32Gi, nvidia.com/gpu: 1}
        limits: {cpu: "8", memory: 64Gi, nvidia.com/gpu: 1}
      tolerations:
      - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}
    sagemaker: {instance_type: ml.p4d.24xlarge, vcpus: 96, gpus: 8}
# `modelreg deploy` without --target uses default_target; `modelreg targets` lists them.
deploy:
  default_target: kubernetes
  targets:
    kubernetes: {namespace: models}
    kserve: {namespace: models}  # reads artifacts from s3://, gs://, ... (not a local folder)
"""


def files(root: Path, name: str, artifact_root: str | None = None) -> dict[str, bytes | None]:
    """What ``modelreg init`` commits in ``root`` (examples only where no such file is)."""
    config: dict[str, Any] = {"apiVersion": "modelreg/v1", "kind": "Registry", "name": name}
    if artifact_root:
        config["artifacts"] = {"root": artifact_root}
    text = (
        "# yaml-language-server: $schema=schemas/registry.schema.json\n"
        + yamlio.dumps(config)
        + ("" if artifact_root else STORE_NOTE)
        + DEPLOY_DEFAULTS
    )
    parse_config(text, CONFIG_FILE)
    out: dict[str, bytes | None] = {
        CONFIG_FILE: text.encode(),
        f"{MODELS_DIR}/.gitkeep": b"",
        ".gitignore": b"# the default local artifact store, and API keys of `modelreg serve`\n"
        b"/artifacts/\n/.modelreg/\n",
    }
    for schema_name in SCHEMAS:
        out[f"schemas/{schema_name}"] = render(schema_name).encode()
    for src, dest in EXAMPLES:
        if (TEMPLATES / src).is_file() and not (root / dest).exists():
            out[dest] = (TEMPLATES / src).read_bytes()
    return out


def create(path: Path, name: str | None = None, artifact_root: str | None = None) -> Path:
    """Commit a new registry's files in ``path`` (a new git repository unless inside one);
    its root. Raises :class:`ConflictError` when ``path`` holds a registry already."""
    root = path.resolve()
    root.mkdir(parents=True, exist_ok=True)
    if (root / CONFIG_FILE).exists():
        raise ConflictError(f"{root / CONFIG_FILE} already exists")
    name = name or root.name
    store = GitStore.init(root)
    try:
        with store.lock():
            store.commit(files(root, name, artifact_root), f"Initialise modelreg registry {name}")
    finally:
        store.close()
    return root
