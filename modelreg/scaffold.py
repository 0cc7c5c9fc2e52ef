"""The files of a new registry: config, folders, schemas, and the examples around it: the
pull-request and post-merge GitHub workflows, the pre-commit config, and a Kubernetes
Deployment + Service running ``modelreg serve --follow`` replicas.

Workflows install modelreg from the source given at init (``--install-from``: a pip
requirement such as ``modelreg==0.1.0`` on the team's index, or ``git+https://...``);
without one, the source this modelreg was installed from when pip recorded it (PEP 610)
or its release on an index, else nothing: the workflow then stops with a message
instead of installing a name that may not exist.
"""

from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import Path
from typing import Any

from modelreg import retired, yamlio
from modelreg.errors import ConflictError
from modelreg.gitstore import GitStore
from modelreg.layout import CONFIG_FILE, MODELS_DIR
from modelreg.schema import SCHEMAS, parse_config, render

TEMPLATES = Path(__file__).parent / "templates"
WORKFLOW = ".github/workflows/modelreg.yml"
PUBLISH_WORKFLOW = ".github/workflows/modelreg-publish.yml"
PRE_COMMIT = ".pre-commit-config.yaml"
SERVER_DIR = "server/kubernetes"
SERVER_IMAGE = "docker.io/library/python:3.12"  # has git, which GitPython runs
# A pip requirement or URL: no spaces, quotes, `$` or `{` (nothing a shell or Actions expands).
_INSTALL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-\[\],=<>!~+:/@#%&?]{0,499}$")


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


def check_install(spec: str) -> str:
    """``spec`` if it is a pip requirement the templates can hold. Raises ValueError."""
    if not _INSTALL.match(spec):
        raise ValueError(
            f"--install-from {spec!r} is not a pip requirement: give e.g. modelreg==0.1.0 "
            "or git+https://github.com/ORG/modelreg@v0.1.0 (no spaces, quotes, $ or {)"
        )
    return spec


def installed_source() -> str | None:
    """Where this modelreg came from, as a pip requirement CI can install, or None
    (a local folder or an editable checkout: nothing CI could reach)."""
    try:
        dist = metadata.distribution("modelreg")
    except metadata.PackageNotFoundError:
        return None
    raw = dist.read_text("direct_url.json")
    if raw is None:
        return f"modelreg=={dist.version}"  # installed from an index: that release exists
    try:
        direct = json.loads(raw)
    except ValueError:
        return None
    vcs = direct.get("vcs_info")
    url = str(direct.get("url", ""))
    if vcs and vcs.get("vcs") == "git" and not url.startswith("file:"):
        return f"git+{url}@{vcs.get('commit_id')}"
    return None


def _template(name: str) -> str:
    return (TEMPLATES / name).read_text("utf-8")


def workflow(name: str, install: str | None) -> bytes:
    """A workflow template with its ``MODELREG_INSTALL`` set (``""``: not known)."""
    value = json.dumps(check_install(install) if install else "")
    return _template(name).replace("@MODELREG_INSTALL@", value).encode("utf-8")


def server_objects(
    *,
    name: str,
    install: str | None,
    remote_url: str | None,
    branch: str,
    replicas: int = 2,
    fetch_interval: str = "30s",
    namespace: str = "default",
    image: str = SERVER_IMAGE,
) -> dict[str, bytes]:
    """``deployment.yaml`` and ``service.yaml``: N replicas of ``modelreg serve --follow``,
    each cloning the registry's remote and following its branch."""
    from modelreg.deploy.kubernetes import yaml_file
    from modelreg.deploy.target import dns_name

    app = dns_name(name, "catalog")
    labels = {
        "app.kubernetes.io/name": "modelreg-server",
        "app.kubernetes.io/instance": app,
        "app.kubernetes.io/managed-by": "modelreg",
    }
    metadata_ = {"name": app, "namespace": namespace, "labels": labels}
    script = (
        'set -eu\n[ -n "$MODELREG_INSTALL" ] || { echo "set MODELREG_INSTALL (a pip '
        'requirement for modelreg) in deployment.yaml" >&2; exit 1; }\n'
        'python -m pip install --no-cache-dir "$MODELREG_INSTALL"\n'
        'git clone --quiet --branch "$BRANCH" "$REMOTE_URL" /srv/registry\n'
        "exec modelreg -R /srv/registry serve --host 0.0.0.0 --port 8080 "
        '--keys /etc/modelreg/keys.yaml --follow "origin/$BRANCH" '
        '--fetch-interval "$FETCH_INTERVAL"\n'
    )
    probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10}
    container: dict[str, Any] = {
        "name": "modelreg",
        "image": image,
        "command": ["sh", "-c", script],
        "env": [
            {"name": "MODELREG_INSTALL", "value": install or ""},
            {"name": "REMOTE_URL", "value": remote_url or "https://git.example.com/REGISTRY.git"},
            {"name": "BRANCH", "value": branch},
            {"name": "FETCH_INTERVAL", "value": fetch_interval},
        ],
        "ports": [{"name": "http", "containerPort": 8080}],
        "readinessProbe": {**probe, "initialDelaySeconds": 5},
        "livenessProbe": {**probe, "initialDelaySeconds": 120},
        "resources": {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"memory": "1Gi"},
        },
        "volumeMounts": [{"name": "keys", "mountPath": "/etc/modelreg", "readOnly": True}],
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata_,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/instance": app}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [container],
                    "volumes": [
                        {
                            "name": "keys",
                            # kubectl create secret generic modelreg-keys \
                            #   --from-file=keys.yaml=.modelreg/keys.yaml
                            "secret": {"secretName": "modelreg-keys", "optional": True},
                        }
                    ],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata_,
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/instance": app},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }
    return {"deployment.yaml": yaml_file(deployment), "service.yaml": yaml_file(service)}


def examples(name: str, install: str | None) -> dict[str, bytes]:
    """The workflows, pre-commit config and server manifests (path -> bytes)."""
    out = {
        WORKFLOW: workflow("github-workflow.yml", install),
        PUBLISH_WORKFLOW: workflow("github-publish.yml", install),
        PRE_COMMIT: (TEMPLATES / "pre-commit-config.yaml").read_bytes(),
    }
    for file, data in server_objects(
        name=name, install=install, remote_url=None, branch="main"
    ).items():
        out[f"{SERVER_DIR}/{file}"] = data
    return out


def files(
    root: Path, name: str, artifact_root: str | None = None, install: str | None = None
) -> dict[str, bytes | None]:
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
        retired.RETIRED_FILE: retired.dumps({}),
        ".gitignore": b"# the default local artifact store, and API keys of `modelreg serve`\n"
        b"/artifacts/\n/.modelreg/\n",
    }
    for schema_name in SCHEMAS:
        out[f"schemas/{schema_name}"] = render(schema_name).encode()
    for dest, data in examples(name, install or installed_source()).items():
        if not (root / dest).exists():
            out[dest] = data
    return out


def create(
    path: Path,
    name: str | None = None,
    artifact_root: str | None = None,
    install: str | None = None,
) -> Path:
    """Commit a new registry's files in ``path`` (a new git repository unless inside one);
    its root. Raises :class:`ConflictError` when ``path`` holds a registry already, and
    ValueError for an ``install`` that is not a pip requirement."""
    if install is not None:
        check_install(install)
    root = path.resolve()
    root.mkdir(parents=True, exist_ok=True)
    if (root / CONFIG_FILE).exists():
        raise ConflictError(f"{root / CONFIG_FILE} already exists")
    name = name or root.name
    store = GitStore.init(root)
    try:
        with store.lock():
            store.commit(
                files(root, name, artifact_root, install), f"Initialise modelreg registry {name}"
            )
    finally:
        store.close()
    return root
