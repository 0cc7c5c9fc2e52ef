"""What the push tests ask of a bare remote: versions on a branch, its tip, linear history."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import git

MODEL = "churn-xgb"


def remote_versions(remote: Path, model: str = MODEL, ref: str = "main") -> list[int]:
    """The version numbers of ``model`` on the remote's ``ref``, in file order."""
    text = git(remote, "show", f"{ref}:models/{model}/model.yaml")
    return [v["version"] for v in yaml.safe_load(text).get("versions", [])]


def remote_tip(remote: Path, ref: str = "main") -> str:
    return git(remote, "rev-parse", ref).strip()


def assert_linear(remote: Path, ref: str = "main") -> None:
    """No merge commits, and every update of the remote branch was a fast-forward."""
    assert git(remote, "rev-list", "--merges", ref).strip() == ""
    log = (remote / "logs" / "refs" / "heads" / ref).read_text().splitlines()
    for line in log:
        old, new = line.split()[:2]
        if set(old) != {"0"}:
            git(remote, "merge-base", "--is-ancestor", old, new)  # raises if not
