"""Deploy and undeploy through the library: one commit each, files and manifest together,
bad requests refused with nothing changed."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from modelreg import Registry
from modelreg.deploy import DeployRequest
from modelreg.deploy.target import dns_name
from modelreg.errors import ModelregError, NotFoundError, ReadOnlyError, RuleViolationError
from modelreg.manifest import Autoscaling, Challenger
from modelreg.vocabulary import Status
from tests.conftest import git, head


def _changed(root: Path, rev: str = "HEAD") -> list[str]:
    return git(root, "show", "--name-only", "--format=", rev).split()


def test_deploy_writes_specs_and_the_deployment_block_in_one_commit(
    reg: Registry, deploy_root: Path
) -> None:
    before = head(deploy_root)
    request = DeployRequest.build(hardware="cpu-small", replicas=2, autoscale=(1, 4, 75))
    result = reg.deploy("churn-xgb@production", request, target="kubernetes")
    assert git(deploy_root, "rev-parse", "HEAD~1").strip() == before
    assert result.commit == head(deploy_root)
    folder = "deploy/kubernetes/churn-xgb"
    specs = [f"{folder}/{kind}-v3.yaml" for kind in ("deployment", "hpa", "service")]
    assert sorted(_changed(deploy_root)) == sorted([*specs, "models/churn-xgb/model.yaml"])
    for path, data in result.files.items():
        assert (deploy_root / path).read_bytes() == data
    assert git(deploy_root, "status", "--porcelain") == ""
    message = git(deploy_root, "log", "-1", "--format=%s")
    assert message.strip() == "churn-xgb: deploy version 3 to kubernetes"
    model = Registry.open(deploy_root).get("churn-xgb")
    assert model.status == Status.DEPLOYED
    d = model.deployment
    assert d is not None
    assert (d.target, d.version, d.hardware, d.replicas) == ("kubernetes", 3, "cpu-small", 2)
    assert d.autoscaling == Autoscaling(min_replicas=1, max_replicas=4, target_cpu_utilization=75)
    assert d.endpoint_url == "http://churn-xgb-v3.models.svc.cluster.local"
    assert d.deployed_at.tzinfo is not None
    assert abs(dt.datetime.now(dt.timezone.utc) - d.deployed_at) < dt.timedelta(minutes=5)


def test_default_version_is_the_latest_not_archived_and_default_target_from_config(
    reg: Registry,
) -> None:
    result = reg.deploy("churn-xgb")  # v5 is archived; modelreg.yaml: default kubernetes
    assert (result.target, result.deployment.version) == ("kubernetes", 4)
    assert result.deployment.replicas == 1
    assert reg.get("churn-xgb").deployment == result.deployment


def test_a_version_in_the_request_and_in_the_reference_must_agree(reg: Registry) -> None:
    assert reg.deploy("churn-xgb", DeployRequest(version=2), dry_run=True).deployment.version == 2
    assert reg.deploy("churn-xgb@2", DeployRequest(version=2), dry_run=True).deployment.version == 2
    with pytest.raises(RuleViolationError, match="different versions"):
        reg.deploy("churn-xgb@production", DeployRequest(version=2), dry_run=True)


def test_redeploy_replaces_the_earlier_specs_on_any_target(
    reg: Registry, deploy_root: Path
) -> None:
    ab = DeployRequest.build(challenger=4, traffic=10)
    first = reg.deploy("churn-xgb@3", ab, target="kubernetes")
    assert "deploy/kubernetes/churn-xgb/httproute.yaml" in first.files
    second = reg.deploy("churn-xgb@3", DeployRequest(), target="kubernetes")
    assert set(second.removed) == {
        "deploy/kubernetes/churn-xgb/deployment-v4.yaml",
        "deploy/kubernetes/churn-xgb/service-v4.yaml",
        "deploy/kubernetes/churn-xgb/httproute.yaml",
    }
    third = reg.deploy("churn-xgb@3", DeployRequest(), target="kserve")
    assert set(third.removed) == set(second.files)
    assert not (deploy_root / "deploy" / "kubernetes").exists()
    assert sorted(p.name for p in (deploy_root / "deploy").rglob("*") if p.is_file()) == [
        "inferenceservice.yaml"
    ]
    assert git(deploy_root, "status", "--porcelain") == ""


def test_the_same_request_again_changes_no_spec_file(reg: Registry, deploy_root: Path) -> None:
    request = DeployRequest.build(hardware="gpu-a100-40gb", challenger=4, traffic=30)
    reg.deploy("churn-xgb@3", request, target="sagemaker")
    reg.deploy("churn-xgb@3", request, target="sagemaker")
    # only deployed_at moves (if the clock did): GitOps sees no change to the specs
    assert set(_changed(deploy_root)) <= {"models/churn-xgb/model.yaml"}


def test_dry_run_renders_and_changes_nothing(reg: Registry, deploy_root: Path) -> None:
    before = head(deploy_root)
    result = reg.deploy("churn-xgb@3", DeployRequest(), target="kserve", dry_run=True)
    assert result.dry_run and result.commit is None
    assert list(result.files) == ["deploy/kserve/churn-xgb/inferenceservice.yaml"]
    assert head(deploy_root) == before
    assert not (deploy_root / "deploy").exists()
    assert reg.get("churn-xgb").deployment is None


def test_undeploy_removes_specs_and_block_in_one_commit(reg: Registry, deploy_root: Path) -> None:
    deployed = reg.deploy("churn-xgb@3", DeployRequest.build(challenger=4, traffic=5))
    with pytest.raises(RuleViolationError, match="undeploy it before deleting"):
        reg.delete("churn-xgb")
    before = head(deploy_root)
    result = reg.undeploy("churn-xgb")
    assert git(deploy_root, "rev-parse", "HEAD~1").strip() == before
    assert set(result.removed) == set(deployed.files)
    assert set(_changed(deploy_root)) == {*deployed.files, "models/churn-xgb/model.yaml"}
    assert not (deploy_root / "deploy").exists()
    model = Registry.open(deploy_root).get("churn-xgb")
    assert model.deployment is None and model.status == Status.REGISTERED
    assert git(deploy_root, "log", "-1", "--format=%s").strip() == (
        "churn-xgb: undeploy from kubernetes"
    )


def test_undeploy_of_a_model_not_deployed_is_an_error(reg: Registry, deploy_root: Path) -> None:
    before = head(deploy_root)
    with pytest.raises(RuleViolationError, match="churn-xgb is not deployed"):
        reg.undeploy("churn-xgb")
    with pytest.raises(NotFoundError):
        reg.undeploy("no-such-model")
    assert head(deploy_root) == before


def _bad(**kwargs: object) -> Callable[[], DeployRequest]:
    return lambda: DeployRequest.build(**kwargs)  # type: ignore[arg-type]


BAD: dict[str, tuple[str, str | None, Callable[[], DeployRequest], type[Exception], str]] = {
    "min above max": ("churn-xgb", None, _bad(autoscale=(5, 2, 70)), RuleViolationError, "min"),
    "traffic 0": ("churn-xgb", None, _bad(challenger=4, traffic=0), RuleViolationError, "1..99"),
    "traffic 100": (
        "churn-xgb",
        None,
        _bad(challenger=4, traffic=100),
        RuleViolationError,
        "1..99",
    ),
    "cpu 0": ("churn-xgb", None, _bad(autoscale=(1, 2, 0)), RuleViolationError, "CPU"),
    "replicas 0": ("churn-xgb", None, _bad(replicas=0), RuleViolationError, "replicas"),
    "challenger alone": ("churn-xgb", None, _bad(challenger=4), RuleViolationError, "traffic"),
    "unknown version": ("churn-xgb@9", None, DeployRequest, NotFoundError, "no version 9"),
    "archived version": ("churn-xgb@1", None, DeployRequest, RuleViolationError, "archived"),
    "archived challenger": (
        "churn-xgb@3",
        None,
        _bad(challenger=5, traffic=10),
        RuleViolationError,
        "challenger churn-xgb@5 is archived",
    ),
    "unknown challenger": (
        "churn-xgb@3",
        None,
        _bad(challenger=8, traffic=10),
        NotFoundError,
        "no version 8",
    ),
    "challenger is version": (
        "churn-xgb@3",
        None,
        _bad(challenger=3, traffic=10),
        RuleViolationError,
        "another version",
    ),
    "unknown hardware": (
        "churn-xgb",
        None,
        _bad(hardware="tpu-v5"),
        NotFoundError,
        "unknown hardware profile 'tpu-v5'",
    ),
    "unknown target": ("churn-xgb", "nomad", DeployRequest, NotFoundError, "no deploy target"),
    "unknown model": ("nope", None, DeployRequest, NotFoundError, "nope"),
    "no artifact": ("bare", None, DeployRequest, RuleViolationError, "no artifact"),
    "custom framework on kserve": (
        "doc-ocr",
        "kserve",
        DeployRequest,
        RuleViolationError,
        "model_format",
    ),
    "artifact outside S3 on sagemaker": (
        "doc-ocr",
        "sagemaker",
        DeployRequest,
        RuleViolationError,
        "from S3",
    ),
    "profile without sagemaker mapping": (
        "churn-xgb",
        "sagemaker",
        _bad(hardware="k8s-only"),
        RuleViolationError,
        "no sagemaker mapping",
    ),
    "hpa to zero": (
        "churn-xgb",
        "kubernetes",
        _bad(autoscale=(0, 3, 50)),
        RuleViolationError,
        "min replicas of 1",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_requests_are_clear_errors_and_change_nothing(
    reg: Registry, deploy_root: Path, case: str
) -> None:
    spec, target, make, error, text = BAD[case]
    before = head(deploy_root)
    with pytest.raises(error, match=text):
        reg.deploy(spec, make(), target=target)
    assert issubclass(error, ModelregError)
    assert head(deploy_root) == before
    assert git(deploy_root, "status", "--porcelain") == ""
    assert not (deploy_root / "deploy").exists()


def test_a_redeploy_refused_keeps_the_previous_deployment(reg: Registry, deploy_root: Path) -> None:
    first = reg.deploy("churn-xgb@3", DeployRequest.build(challenger=4, traffic=10))
    before = head(deploy_root)
    with pytest.raises(NotFoundError):
        reg.deploy("churn-xgb@3", DeployRequest.build(hardware="tpu-v5"), target="kserve")
    assert head(deploy_root) == before
    assert reg.get("churn-xgb").deployment == first.deployment
    assert reg.get("churn-xgb").deployment.challenger == Challenger(  # type: ignore[union-attr]
        version=4, traffic_percent=10
    )


def test_a_registry_at_a_ref_renders_but_does_not_write(reg: Registry, deploy_root: Path) -> None:
    old = Registry.open(deploy_root, ref="HEAD")
    assert old.deploy("churn-xgb@3", DeployRequest(), dry_run=True).files
    with pytest.raises(ReadOnlyError):
        old.deploy("churn-xgb@3", DeployRequest())


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:8]


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("churn-xgb",), "churn-xgb"),
        (("churn-xgb", "v3"), "churn-xgb-v3"),
        (("churn_xgb.v2", "v3"), "churn-xgb-v2-v3-" + _digest("churn_xgb.v2", "v3")),
        (
            ("customer_validation_lstm",),
            "customer-validation-lstm-" + _digest("customer_validation_lstm"),
        ),
        (("3d-model",), "m-3d-model-" + _digest("3d-model")),
        (("a" * 80,), "a" * 54 + "-" + _digest("a" * 80)),
    ],
)
def test_dns_names_are_valid_labels(parts: tuple[str, ...], expected: str) -> None:
    name = dns_name(*parts)
    assert name == expected
    assert len(name) <= 63 and name[0].isalpha() and not name.endswith("-")


def test_ids_that_differ_only_in_what_a_label_forbids_get_different_names() -> None:
    ids = ["a-b", "a_b", "a.b", "a__b", "A-b"]
    names = {dns_name(i) for i in ids}
    assert len(names) == len(ids)
    assert all(dns_name(i) == dns_name(i) for i in ids)


def test_a_dry_run_at_a_ref_sees_the_spec_files_of_that_commit(
    reg: Registry, deploy_root: Path
) -> None:
    deployed = reg.deploy("churn-xgb@3", DeployRequest.build(challenger=4, traffic=10))
    reg.undeploy("churn-xgb")
    then = Registry.open(deploy_root, ref="HEAD~1")
    plan = then.deploy("churn-xgb@3", DeployRequest(), target="kserve", dry_run=True)
    assert set(plan.removed) == set(deployed.files)
    now = reg.deploy("churn-xgb@3", DeployRequest(), target="kserve", dry_run=True)
    assert now.removed == ()
