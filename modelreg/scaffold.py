"""The files of a new registry: config, folders, schemas, CI workflow and pre-commit examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelreg import retired, yamlio
from modelreg.config import CONFIG_FILE, MODELS_DIR
from modelreg.errors import ConflictError
from modelreg.gitstore import GitStore
from modelreg.schema import SCHEMAS, parse_config, render

TEMPLATES = Path(__file__).parent / "templates"
EXAMPLES = (
    ("github-workflow.yml", ".github/workflows/modelreg.yml"),
    ("pre-commit-config.yaml", ".pre-commit-config.yaml"),
)


def files(root: Path, name: str, artifact_root: str | None = None) -> dict[str, bytes | None]:
    """What ``modelreg init`` commits in ``root`` (examples only where no such file is)."""
    config: dict[str, Any] = {"apiVersion": "modelreg/v1", "kind": "Registry", "name": name}
    if artifact_root:
        config["artifacts"] = {"root": artifact_root}
    text = "# yaml-language-server: $schema=schemas/registry.schema.json\n" + yamlio.dumps(config)
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
