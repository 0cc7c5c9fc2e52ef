"""A third-party target, installed into a folder on the path (a real dist-info with an
entry point in ``modelreg.targets``), is listed and used like the built-in ones; a broken
plugin is a clear error naming its entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from modelreg import Registry
from modelreg.deploy import DeployRequest, installed_targets, load_target
from modelreg.errors import TargetError

ACME = '''\
"""A third-party deploy target for the Acme PaaS."""

from modelreg.deploy.target import Rendered, RenderRequest


class AcmeTarget:
    name = "acme"
    description = "Acme PaaS app manifest"

    def render(self, request: RenderRequest) -> Rendered:
        body = (
            f"app: {request.model.id}\\n"
            f"version: {request.version.version}\\n"
            f"replicas: {request.replicas}\\n"
            f"size: {request.options.get('size', 'small')}\\n"
        )
        return Rendered(
            files={"app/acme.yaml": body.encode()},
            endpoint_url=f"https://{request.model.id}.acme.example",
            warnings=("acme runs in one region only",),
        )


class CrashingTarget:
    name = "crashing"
    description = "raises while rendering"

    def render(self, request):
        raise KeyError("image")


class NotATarget:
    pass
'''

ENTRY_POINTS = """\
[modelreg.targets]
acme = acme_target:AcmeTarget
broken = acme_target:Missing
crashing = acme_target:CrashingTarget
notatarget = acme_target:NotATarget
"""


def install_plugin(site: Path) -> Path:
    """What ``pip install acme-target`` leaves in site-packages."""
    site.mkdir(parents=True)
    (site / "acme_target.py").write_text(ACME)
    info = site / "acme_target-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-target\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return site


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = install_plugin(tmp_path / "site")
    monkeypatch.delitem(sys.modules, "acme_target", raising=False)
    monkeypatch.syspath_prepend(str(site))
    return site


def test_installed_plugin_is_listed_with_its_distribution(plugin: Path) -> None:
    found = {t.name: t for t in installed_targets()}
    assert {"acme", "kubernetes", "kserve", "sagemaker"} <= set(found)
    acme = found["acme"]
    assert (acme.distribution, acme.description, acme.error) == (
        "acme-target 0.1",
        "Acme PaaS app manifest",
        None,
    )
    assert found["broken"].error is not None
    assert "broken = acme_target:Missing" in found["broken"].error
    assert "not a deploy target" in (found["notatarget"].error or "")


def test_broken_plugins_are_clear_errors(plugin: Path, reg: Registry) -> None:
    with pytest.raises(TargetError, match=r"target 'broken' cannot be loaded: entry point"):
        load_target("broken")
    with pytest.raises(TargetError, match="'notatarget' is not a deploy target"):
        load_target("notatarget")
    with pytest.raises(TargetError, match="'crashing' failed to render: KeyError"):
        reg.deploy("churn-xgb", DeployRequest(), target="crashing")
    assert reg.get("churn-xgb").deployment is None


def test_plugin_deploys_through_the_library(plugin: Path, reg: Registry, deploy_root: Path) -> None:
    result = reg.deploy("churn-xgb@3", DeployRequest(replicas=3), target="acme")
    path = deploy_root / "deploy/acme/churn-xgb/app/acme.yaml"
    assert path.read_text() == "app: churn-xgb\nversion: 3\nreplicas: 3\nsize: small\n"
    assert result.warnings == ("acme runs in one region only",)
    assert reg.get("churn-xgb").deployment.endpoint_url == (  # type: ignore[union-attr]
        "https://churn-xgb.acme.example"
    )
    reg.undeploy("churn-xgb")
    assert not path.exists()


def test_plugin_through_the_cli_in_a_new_process(tmp_path: Path, deploy_root: Path) -> None:
    site = install_plugin(tmp_path / "site2")
    env = {**os.environ, "PYTHONPATH": str(site)}

    def modelreg(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "modelreg", *args],
            cwd=deploy_root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    listed = modelreg("targets")
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert "acme-target 0.1" in rows["acme"] and "Acme PaaS app manifest" in rows["acme"]
    assert "BROKEN" in rows["broken"]
    deployed = modelreg("deploy", "churn-xgb", "--target", "acme", "--json")
    assert deployed.returncode == 0, deployed.stderr
    data: dict[str, Any] = json.loads(deployed.stdout)
    assert data["files"] == ["deploy/acme/churn-xgb/app/acme.yaml"]
    assert "warning: acme runs in one region only" in deployed.stderr
    assert (deploy_root / "deploy/acme/churn-xgb/app/acme.yaml").is_file()
    broken = modelreg("deploy", "churn-xgb", "--target", "broken")
    assert broken.returncode == 1
    assert broken.stderr.startswith("error: target 'broken' cannot be loaded")
    assert "Traceback" not in broken.stderr
