"""Fixtures for writers in different clones: a bare repository as the remote, and clones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import git
from tests.push.pushrepo import MODEL


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare repository holding a registry with one model and one version, which
    refuses any non-fast-forward update (so a force push could not go unnoticed)."""
    from modelreg import Registry

    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    git(bare, "config", "receive.denyNonFastForwards", "true")
    git(bare, "config", "core.logAllRefUpdates", "true")
    seed = Registry.init(tmp_path / "seed")
    seed.create_model(MODEL, name="Churn", framework="xgboost")
    seed.register_version(MODEL, label="v1", metrics={"accuracy": 0.9})
    git(seed.root, "remote", "add", "origin", str(bare))
    git(seed.root, "push", "--quiet", "origin", "main")
    return bare


@pytest.fixture
def clone(remote: Path, tmp_path: Path) -> Callable[[str], Path]:
    """``clone("a")``: a fresh clone of the remote in tmp_path/a (the registry at its top)."""

    def make(name: str) -> Path:
        git(tmp_path, "clone", "--quiet", str(remote), name)
        return tmp_path / name

    return make
