"""modelreg deploy / undeploy / targets, in-process against a real registry."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import git, head

Run = Callable[..., Any]


def test_targets_lists_the_built_in_targets(run_cli: Run, deploy_root: Path) -> None:
    r = run_cli("targets", cwd=deploy_root)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].split() == ["TARGET", "PROVIDED", "BY", "DESCRIPTION"]
    assert [line.split()[0] for line in lines[1:4]] == ["kserve", "kubernetes", "sagemaker"]
    data = json.loads(run_cli("targets", "--json", cwd=deploy_root).out)
    by_name = {t["name"]: t for t in data}
    assert by_name["kubernetes"]["entry_point"] == "modelreg.deploy.kubernetes:KubernetesTarget"
    assert by_name["kubernetes"]["distribution"].startswith("modelreg ")
    assert all(t["error"] is None for t in by_name.values())


def test_deploy_writes_and_commits_and_reports(run_cli: Run, deploy_root: Path) -> None:
    before = head(deploy_root)
    r = run_cli(
        "deploy",
        "churn-xgb@production",
        "--target",
        "kubernetes",
        "--hardware",
        "cpu-small",
        "--autoscale",
        "1:5@70",
        "--challenger",
        "4",
        "--traffic",
        "10",
        cwd=deploy_root,
    )
    assert r.code == 0, r.err
    assert r.out.startswith("Version 3 of churn-xgb deployed to kubernetes (challenger 4 at 10%)")
    assert "wrote   deploy/kubernetes/churn-xgb/httproute.yaml" in r.out
    assert "endpoint http://models.example.com" in r.out
    assert git(deploy_root, "rev-parse", "HEAD~1").strip() == before
    manifest = yaml.safe_load((deploy_root / "models/churn-xgb/model.yaml").read_text())
    assert manifest["deployment"]["challenger"] == {"version": 4, "traffic_percent": 10}
    assert manifest["deployment"]["autoscaling"]["max_replicas"] == 5


def test_deploy_json_and_warnings_on_stderr(run_cli: Run, deploy_root: Path) -> None:
    r = run_cli(
        "deploy", "churn-xgb", "-t", "sagemaker", "--hardware", "gpu-a100-40gb", "--json",
        cwd=deploy_root,
    )  # fmt: skip
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["files"] == ["deploy/sagemaker/churn-xgb/template.json"]
    assert data["commit"] == head(deploy_root)
    assert data["deployment"]["version"] == 4
    assert data["endpoint_url"].endswith("/endpoints/churn-xgb/invocations")
    assert "ml.p4d.24xlarge has 8" in r.err and r.err.startswith("warning: ")
    assert data["warnings"] and "ml.p4d.24xlarge has 8" in data["warnings"][0]


def test_dry_run_prints_the_specs_and_changes_nothing(run_cli: Run, deploy_root: Path) -> None:
    before = head(deploy_root)
    r = run_cli("deploy", "churn-xgb@3", "--target", "kserve", "--dry-run", cwd=deploy_root)
    assert r.code == 0, r.err
    assert r.out.startswith("---\n# deploy/kserve/churn-xgb/inferenceservice.yaml\n")
    body = yaml.safe_load(r.out)
    assert body["kind"] == "InferenceService"
    r = run_cli("deploy", "churn-xgb@3", "--target", "kubernetes", "--dry-run", cwd=deploy_root)
    docs = list(yaml.safe_load_all(r.out))  # every spec, as `kubectl apply -f -` reads them
    files = [line[2:] for line in r.out.splitlines() if line.startswith("# deploy/")]
    assert len(files) >= 2 and len(docs) == r.out.count("---\n")
    assert {"Deployment", "Service"} <= {d["kind"] for d in docs}
    r = run_cli("deploy", "churn-xgb@3", "--dry-run", "--json", cwd=deploy_root)
    data = json.loads(r.out)
    assert data["dry_run"] is True and data["commit"] is None
    assert "kind: Deployment" in data["contents"]["deploy/kubernetes/churn-xgb/deployment-v3.yaml"]
    assert head(deploy_root) == before
    assert git(deploy_root, "status", "--porcelain") == ""


def test_usage_errors(run_cli: Run, deploy_root: Path) -> None:
    r = run_cli("deploy", "churn-xgb", "--autoscale", "1-5", cwd=deploy_root)
    assert r.code == 2 and "is not MIN:MAX@CPU" in r.err
    r = run_cli("deploy", "churn-xgb", "--challenger", "4", cwd=deploy_root)
    assert r.code == 2 and "--challenger and --traffic go together" in r.err
    r = run_cli("deploy", "churn-xgb", "--replicas", "0", cwd=deploy_root)
    assert r.code == 2


def test_refused_requests_name_the_problem(run_cli: Run, deploy_root: Path) -> None:
    before = head(deploy_root)
    cases = [
        (["--autoscale", "5:2@70"], 5, "min replicas (5) is greater than max replicas (2)"),
        (["--challenger", "4", "--traffic", "100"], 5, "1..99 percent, not 100"),
        (["--hardware", "tpu"], 4, "unknown hardware profile 'tpu'"),
        (["--target", "nomad"], 4, "no deploy target 'nomad' is installed"),
    ]
    for args, code, text in cases:
        r = run_cli("deploy", "churn-xgb", *args, cwd=deploy_root)
        assert (r.code, r.out) == (code, ""), (args, r.err)
        assert r.err.startswith("error: ") and text in r.err, r.err
    r = run_cli("deploy", "churn-xgb@1", cwd=deploy_root)
    assert r.code == 5 and "archived" in r.err
    assert head(deploy_root) == before
    assert git(deploy_root, "status", "--porcelain") == ""


def test_undeploy(run_cli: Run, deploy_root: Path) -> None:
    r = run_cli("undeploy", "churn-xgb", cwd=deploy_root)
    assert r.code == 5 and "error: churn-xgb is not deployed" in r.err
    assert run_cli("deploy", "churn-xgb", cwd=deploy_root).code == 0
    r = run_cli("undeploy", "churn-xgb", "--json", cwd=deploy_root)
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["target"] == "kubernetes" and data["commit"] == head(deploy_root)
    assert "deploy/kubernetes/churn-xgb/deployment-v4.yaml" in data["removed"]
    assert not (deploy_root / "deploy").exists()
    assert "deployment" not in yaml.safe_load(
        (deploy_root / "models/churn-xgb/model.yaml").read_text()
    )


def test_help_explains_with_examples(run_cli: Run, deploy_root: Path) -> None:
    for command in ("deploy", "undeploy", "targets"):
        r = run_cli(command, "--help", cwd=deploy_root)
        assert r.code == 0 and "Example" in r.out, command
    assert "MIN:MAX@CPU" in run_cli("deploy", "--help", cwd=deploy_root).out
