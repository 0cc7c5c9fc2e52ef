"""Shared fixtures: a pinned git identity, real registries in tmp_path, the CLI in-process."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# Nothing may depend on the developer's own git config.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
os.environ.update(GIT_ENV)
# Manifests in the tests name S3 buckets; nothing may look for a cloud metadata service.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ.pop("MODELREG_REGISTRY", None)


@pytest.fixture
def registry(tmp_path: Path):  # type: ignore[no-untyped-def]
    from modelreg import Registry

    return Registry.init(tmp_path / "reg")


@pytest.fixture
def churn(registry):  # type: ignore[no-untyped-def]
    """A registry with one model and two versions (the second in production)."""
    registry.create_model(
        "churn-xgb",
        name="Churn Prediction XGBoost",
        framework="xgboost",
        source="automl",
        tags=["churn", "xgboost"],
        workspace="ws_001",
    )
    registry.register_version("churn-xgb", label="v1.0.0", metrics={"accuracy": 0.89})
    registry.register_version(
        "churn-xgb", label="v1.1.0", metrics={"accuracy": 0.92}, stage="production"
    )
    return registry


@dataclass
class Result:
    code: int
    out: str
    err: str


RunCli = Callable[..., Result]  # the run_cli fixture


@pytest.fixture
def run_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Result]]:
    """Run ``modelreg ARGS`` in-process (from ``cwd``), returning exit code, stdout, stderr."""
    from modelreg.cli import main

    def run(*args: str, cwd: Path | None = None) -> Result:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    yield run


def git(cwd: Path, *args: str) -> str:
    import subprocess

    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def head(root: Path) -> str:
    """The commit HEAD of the repository at ``root`` points at."""
    return git(root, "rev-parse", "HEAD").strip()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
