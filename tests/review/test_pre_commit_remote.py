"""The remote pre-commit hook of docs/review.md, run by pre-commit itself against this
repository's own clone: the documented ``rev`` must resolve and the hook must work there.

pre-commit installs a ``language: python`` hook with ``pip install .`` in a fresh
virtualenv. No index is reachable here, so pip is told to install modelreg alone
(``PIP_NO_DEPS``, no build isolation, no index) and the hook's environment finds
the dependencies, and hatchling to build the wheel, on ``PYTHONPATH``: the
site-packages of the interpreter running the tests. modelreg itself is not there
(it is installed editable, through a ``.pth`` file that ``PYTHONPATH`` does not
read), so the hook runs the modelreg built from the pinned commit.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import yaml

from modelreg import Registry
from tests.conftest import git

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "review.md"
SHA = re.compile(r"^[0-9a-f]{40}$")
PATHS = ("purelib", "platlib")  # where the dependencies are installed (often one folder)


def _documented() -> dict[str, Any]:
    """The one YAML block of docs/review.md that takes the hook from a repository."""
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(), flags=re.S)
    found = [
        repo
        for block in blocks
        for repo in (yaml.safe_load(block) or {}).get("repos", [])
        if repo["repo"] != "local"
    ]
    assert len(found) == 1, found
    repo: dict[str, Any] = found[0]
    return repo


def _pre_commit(cwd: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "PIP_NO_INDEX": "1",
        "PIP_NO_DEPS": "1",
        "PIP_NO_BUILD_ISOLATION": "0",  # pip's inverted spelling: build isolation off
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "VIRTUALENV_NO_PERIODIC_UPDATE": "1",
        "PYTHONPATH": os.pathsep.join(dict.fromkeys(sysconfig.get_paths()[k] for k in PATHS)),
    }
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_documented_rev_is_a_commit_offering_the_hook() -> None:
    repo = _documented()
    rev = str(repo["rev"])
    assert SHA.match(rev), f"rev {rev!r} is not a commit SHA"
    assert git(ROOT, "cat-file", "-t", rev).strip() == "commit"
    (offered,) = yaml.safe_load(git(ROOT, "show", f"{rev}:.pre-commit-hooks.yaml"))
    (hook,) = repo["hooks"]
    assert hook["id"] == offered["id"] == "modelreg-validate"
    (current,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert current["id"] == offered["id"]  # the id users pinned still exists


def test_pre_commit_runs_the_hook_at_the_documented_rev(registry: Registry, tmp_path: Path) -> None:
    repo = {**_documented(), "repo": str(ROOT)}
    config = registry.root / ".pre-commit-config.yaml"
    config.write_text(yaml.safe_dump({"repos": [repo]}))
    git(registry.root, "add", "-A")
    git(registry.root, "commit", "-qm", "pre-commit: the hook from the modelreg repository")
    home = tmp_path / "pre-commit-home"

    ok = _pre_commit(registry.root, home, "run", "--all-files")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "modelreg validate" in ok.stdout and "Passed" in ok.stdout
    installed = list(home.glob("repo*/py_env-*/lib/python*/site-packages/modelreg/__init__.py"))
    assert len(installed) == 1, "the hook's own modelreg, built from the pinned commit"

    bad = registry.root / "models/broken/model.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_text("apiVersion: modelreg/v1\nkind: Model\nid: broken\nname: B\nframework: jax\n")
    git(registry.root, "add", "-A")
    refused = _pre_commit(registry.root, home, "run", "--all-files")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "models/broken/model.yaml:" in refused.stdout and "framework" in refused.stdout

    # the documented way to move the pin: a commit SHA again, one that exists
    updated = _pre_commit(registry.root, home, "autoupdate", "--freeze")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    (after,) = yaml.safe_load(config.read_text())["repos"]
    assert SHA.match(str(after["rev"])), after
    assert git(ROOT, "cat-file", "-t", str(after["rev"])).strip() == "commit"
