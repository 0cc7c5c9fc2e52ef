"""The CI workflow and pre-commit files: written by `init`, shipped in registry_example/,
and the commands in them are commands this CLI accepts."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from modelreg import Registry
from modelreg.scaffold import PUBLISH_WORKFLOW
from modelreg.scaffold import workflow as render_workflow
from tests.conftest import RunCli
from tests.review.pullrequest import commit, edit

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "modelreg" / "templates"
WORKFLOW = ".github/workflows/modelreg.yml"
PRE_COMMIT = ".pre-commit-config.yaml"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def test_pre_commit_hook_definition() -> None:
    (hook,) = load(ROOT / ".pre-commit-hooks.yaml")
    assert hook["id"] == "modelreg-validate"
    assert hook["entry"] == "modelreg validate"
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    for path in ("modelreg.yaml", "models/churn/model.yaml", "ml/reg/models/a.b/model.yaml"):
        assert files.search(path), path
    for path in ("models/churn/notes.md", "schemas/model.schema.json", "models/model.yaml"):
        assert not files.search(path), path


def test_pre_commit_template_is_the_hook_run_locally(
    registry: Registry,
    run_cli: RunCli,
) -> None:
    (repo,) = load(TEMPLATES / "pre-commit-config.yaml")["repos"]
    (hook,) = repo["hooks"]
    (defined,) = load(ROOT / ".pre-commit-hooks.yaml")
    assert repo["repo"] == "local"  # resolves with no download and no release tag
    assert hook["language"] == "system"
    for key in ("id", "entry", "pass_filenames", "files"):
        assert hook[key] == defined[key], key
    argv = [*shlex.split(hook["entry"])[1:], *hook.get("args", [])]
    assert run_cli(*argv, cwd=registry.root).code == 0


def test_the_pre_commit_hook_refuses_an_edited_released_version(
    churn: Registry, tmp_path: Path
) -> None:
    """pre-commit itself runs the hook `init` wrote, with the modelreg under test on PATH."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"),
    }

    def hook() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "--all-files"],
            cwd=churn.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    ok = hook()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    edit(churn.root / "models/churn-xgb/model.yaml", "accuracy: 0.92", "accuracy: 0.99")
    refused = hook()
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "models/churn-xgb/model.yaml:" in refused.stdout
    assert "versions[1].metrics" in refused.stdout


def test_init_writes_the_workflow_and_pre_commit_config(
    tmp_path: Path,
    run_cli: RunCli,
) -> None:
    reg = Registry.init(tmp_path / "reg", install_from="modelreg==0.1.0")
    assert (reg.root / WORKFLOW).read_bytes() == render_workflow(
        "github-workflow.yml", "modelreg==0.1.0"
    )
    assert (reg.root / PRE_COMMIT).read_bytes() == (
        TEMPLATES / "pre-commit-config.yaml"
    ).read_bytes()
    workflow = load(reg.root / WORKFLOW)
    assert "pull_request" in workflow.get("on", workflow.get(True))
    steps = workflow["jobs"]["review"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    assert steps[0]["with"]["fetch-depth"] == 0
    # the workflow's own modelreg commands, run as CI would on a pull request
    reg.create_model("m", name="M", framework="onnx")
    reg.register_version("m", metrics={"auc": 0.7})
    from tests.conftest import git

    git(reg.root, "checkout", "-qb", "feature")
    edit(reg.root / "models/m/model.yaml", "auc: 0.7", "auc: 0.9")
    commit(reg.root, "change a released version")
    clone = tmp_path / "clone"  # what actions/checkout gives: origin/<base> and the head
    git(tmp_path, "clone", "-q", f"file://{reg.root}", str(clone))
    git(clone, "checkout", "-q", "feature")
    commands = [
        line
        for step in steps
        for line in step.get("run", "").replace("\\\n", " ").splitlines()
        if line.strip().startswith("modelreg")
    ]
    outputs = {}
    for command in commands:
        command = command.replace("${{ github.base_ref }}", "main").split(">")[0]
        argv = shlex.split(command.replace('"$REGISTRY"', str(clone)))
        assert argv[0] == "modelreg"
        outputs[argv[3]] = run_cli(*argv[1:])
    assert set(outputs) == {"validate", "diff"}
    assert outputs["validate"].code == 3
    assert outputs["validate"].out.startswith("::error file=models/m/model.yaml,line=")
    assert outputs["diff"].code == 0 and "<!-- modelreg-diff -->" in outputs["diff"].out


def test_the_workflow_checks_the_registry_on_linux_macos_and_windows() -> None:
    workflow = yaml.safe_load(render_workflow("github-workflow.yml", "modelreg==0.1.0"))
    job = workflow["jobs"]["platforms"]
    assert set(job["strategy"]["matrix"]["os"]) == {
        "ubuntu-latest",
        "macos-latest",
        "windows-latest",
    }
    assert job["runs-on"] == "${{ matrix.os }}"
    run = job["steps"][-1]["run"]
    assert "validate" in run and "list" in run


def test_registry_example_ships_the_same_files() -> None:
    example = ROOT / "registry_example"
    assert (example / WORKFLOW).read_bytes() == render_workflow("github-workflow.yml", None)
    assert (example / PUBLISH_WORKFLOW).read_bytes() == render_workflow("github-publish.yml", None)
    assert (example / PRE_COMMIT).read_bytes() == (
        TEMPLATES / "pre-commit-config.yaml"
    ).read_bytes()
