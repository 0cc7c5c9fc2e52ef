"""Every rendered spec passes a real validator: kubernetes-validate --strict for built-in
kinds, the project's JSON Schemas (strict) for the HTTPRoute and InferenceService CRDs,
cfn-lint for the SageMaker templates. Each validator is first shown to reject a broken spec."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from modelreg import Registry
from modelreg.deploy import DeployResult
from tests.deploy.deployrepo import (
    CASES,
    TARGETS,
    build_registry,
    cfn_problems,
    kubernetes_problems,
    problems,
)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], DeployResult]:
    reg = Registry.open(build_registry(tmp_path_factory.mktemp("validate") / "reg"))
    return {
        (target, case): reg.deploy(spec, request, target=target, dry_run=True)
        for target in TARGETS
        for case, (spec, request) in CASES.items()
    }


def _docs(result: DeployResult) -> dict[str, Any]:
    """Rendered YAML objects by file name (one object per file)."""
    return {p.rsplit("/", 1)[1]: yaml.safe_load(d) for p, d in result.files.items()}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("target", TARGETS)
def test_every_rendered_spec_passes_its_validator(
    rendered: dict[tuple[str, str], DeployResult], target: str, case: str
) -> None:
    result = rendered[target, case]
    assert result.files
    for path, data in result.files.items():
        assert problems(path, data) == [], path


def test_kubernetes_validate_rejects_unknown_fields_and_wrong_types(
    rendered: dict[tuple[str, str], DeployResult],
) -> None:
    deployment = _docs(rendered["kubernetes", "plain"])["deployment-v3.yaml"]
    assert kubernetes_problems(deployment) == []
    extra = copy.deepcopy(deployment)
    extra["spec"]["replica"] = 2
    assert kubernetes_problems(extra)
    wrong = copy.deepcopy(deployment)
    wrong["spec"]["replicas"] = "two"
    assert kubernetes_problems(wrong)


def test_crd_schemas_reject_what_the_crds_reject(
    rendered: dict[tuple[str, str], DeployResult],
) -> None:
    route = _docs(rendered["kubernetes", "ab"])["httproute.yaml"]
    assert kubernetes_problems(route) == []
    heavy = copy.deepcopy(route)
    heavy["spec"]["rules"][0]["backendRefs"][0]["weight"] = 1_000_001
    assert kubernetes_problems(heavy)
    service = _docs(rendered["kserve", "ab"])["inferenceservice.yaml"]
    assert kubernetes_problems(service) == []
    unknown = copy.deepcopy(service)
    unknown["spec"]["predictor"]["canaryTraffic"] = 20
    assert kubernetes_problems(unknown)
    metric = copy.deepcopy(service)
    metric["spec"]["predictor"]["scaleMetric"] = "gpu"
    assert kubernetes_problems(metric)


def test_cfn_lint_rejects_a_broken_template(
    rendered: dict[tuple[str, str], DeployResult],
) -> None:
    (data,) = rendered["sagemaker", "ab"].files.values()
    assert cfn_problems(data.decode()) == []
    template = json.loads(data)
    template["Resources"]["ModelV3"]["Properties"]["PrimaryContainer"]["ModelDataUrl"] = "/tmp/m"
    assert any("ModelDataUrl" in p or "/tmp/m" in p for p in cfn_problems(json.dumps(template)))
    template = json.loads(data)
    template["Resources"]["Endpoint"]["Properties"]["EndpointConfigName"] = {"Ref": "Nowhere"}
    assert any("Nowhere" in p for p in cfn_problems(json.dumps(template)))


# ----------------------------------------------------------------- what the specs say


def test_kubernetes_hpa_owns_replicas_and_cpu_requests_are_set(
    rendered: dict[tuple[str, str], DeployResult],
) -> None:
    plain = _docs(rendered["kubernetes", "plain"])
    assert plain["deployment-v3.yaml"]["spec"]["replicas"] == 2
    assert "hpa-v3.yaml" not in plain
    scaled = _docs(rendered["kubernetes", "autoscaled"])
    deployment = scaled["deployment-v3.yaml"]
    assert "replicas" not in deployment["spec"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["requests"]["cpu"] == "500m"
    hpa = scaled["hpa-v3.yaml"]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 6)
    assert hpa["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["metrics"][0]["resource"]["target"]["averageUtilization"] == 60


def test_kubernetes_gpu_profile_sets_gpu_limits_node_selector_and_tolerations(
    rendered: dict[tuple[str, str], DeployResult],
) -> None:
    pod = _docs(rendered["kubernetes", "gpu"])["deployment-v3.yaml"]["spec"]["template"]["spec"]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert pod["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-tesla-a100"}
    assert pod["tolerations"][0]["key"] == "nvidia.com/gpu"


def test_ab_splits_traffic_on_every_target(
    rendered: dict[tuple[str, str], DeployResult],
) -> None:
    k8s = _docs(rendered["kubernetes", "ab"])
    backends = k8s["httproute.yaml"]["spec"]["rules"][0]["backendRefs"]
    assert [(b["name"], b["weight"]) for b in backends] == [
        ("churn-xgb-v3", 80),
        ("churn-xgb-v4", 20),
    ]
    assert {"deployment-v3.yaml", "deployment-v4.yaml", "service-v4.yaml"} <= set(k8s)
    assert k8s["httproute.yaml"]["spec"]["parentRefs"] == [
        {"name": "public", "namespace": "gateways"}
    ]
    predictor = _docs(rendered["kserve", "ab"])["inferenceservice.yaml"]["spec"]["predictor"]
    assert predictor["canaryTrafficPercent"] == 20
    assert predictor["model"]["storageUri"] == "s3://models/churn-xgb/4/model.bst"
    (data,) = rendered["sagemaker", "ab"].files.values()
    template = json.loads(data)
    variants = template["Resources"]["EndpointConfig"]["Properties"]["ProductionVariants"]
    assert [(v["VariantName"], v["InitialVariantWeight"]) for v in variants] == [
        ("v3", 80),
        ("v4", 20),
    ]
    assert {"ScalableTargetV3", "ScalingPolicyV3", "ScalableTargetV4", "ScalingPolicyV4"} <= set(
        template["Resources"]
    )


def test_sagemaker_cpu_target_counts_every_vcpu_and_warns_about_idle_gpus(
    rendered: dict[tuple[str, str], DeployResult],
) -> None:
    (data,) = rendered["sagemaker", "autoscaled"].files.values()
    policy = json.loads(data)["Resources"]["ScalingPolicyV3"]["Properties"]
    # cpu-small has 2 vCPUs; SageMaker's CPUUtilization sums them (0..200 %)
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 120
    gpu = rendered["sagemaker", "gpu"]
    assert any("ml.p4d.24xlarge has 8" in w for w in gpu.warnings)
    assert not rendered["sagemaker", "plain"].warnings


def test_kserve_plain_pins_replicas_and_autoscaled_uses_cpu_metric(
    rendered: dict[tuple[str, str], DeployResult],
) -> None:
    plain = _docs(rendered["kserve", "plain"])["inferenceservice.yaml"]["spec"]["predictor"]
    assert (plain["minReplicas"], plain["maxReplicas"]) == (2, 2)
    assert plain["model"]["modelFormat"] == {"name": "xgboost"}
    scaled = _docs(rendered["kserve", "autoscaled"])["inferenceservice.yaml"]["spec"]["predictor"]
    assert (scaled["minReplicas"], scaled["maxReplicas"], scaled["scaleMetric"]) == (2, 6, "cpu")
    assert scaled["scaleTarget"] == 60
