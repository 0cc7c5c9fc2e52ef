"""The ``sagemaker`` target: one CloudFormation template.

A ``AWS::SageMaker::Model`` per served version, one ``EndpointConfig`` whose
``ProductionVariants`` carry ``InitialVariantWeight`` (the A/B split), one
``Endpoint``, and per variant, when autoscaled, an Application Auto Scaling
``ScalableTarget`` with a target-tracking policy on ``CPUUtilization``.
SageMaker reports CPU utilisation summed over an instance's vCPUs (0..100 x
vCPUs), so the target value is the asked percentage times the profile's vCPUs.

Options (``deploy.targets.sagemaker``): ``execution_role_arn`` and ``image``
(defaults of the template's parameters), ``instance_type`` (without a hardware
profile, ``ml.m5.large``), ``region`` (for the endpoint URL).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from modelreg.deploy.target import Rendered, RenderRequest, artifact_uri, dns_name
from modelreg.errors import RuleViolationError

if TYPE_CHECKING:
    from modelreg.manifest import Version

FILE = "template.json"
DEFAULT_INSTANCE = "ml.m5.large"


def _variant(version: Version) -> str:
    return f"v{version.version}"


def _logical(kind: str, version: Version) -> str:
    return f"{kind}V{version.version}"


class SageMakerTarget:
    """An AWS SageMaker real-time endpoint as a CloudFormation template."""

    name = "sagemaker"
    description = "AWS SageMaker endpoint as a CloudFormation template; A/B by variant weights"

    def render(self, request: RenderRequest) -> Rendered:
        """``template.json`` (sorted keys). Raises :class:`RuleViolationError` for a hardware
        profile without a SageMaker mapping, an artifact outside S3, or scaling to zero."""
        model = request.model
        warnings: list[str] = []
        instance_type, vcpus = self._instance(request, warnings)
        endpoint_name = dns_name(model.id)
        scaling = request.autoscaling
        autoscaled = scaling is not None and scaling.enabled
        if scaling is not None and autoscaled and scaling.min_replicas < 1:
            raise RuleViolationError("sagemaker: an endpoint variant cannot scale below 1 instance")
        role: dict[str, Any] = {"Type": "String", "Description": "IAM role SageMaker assumes"}
        if request.option("execution_role_arn"):
            role["Default"] = str(request.option("execution_role_arn"))
        image: dict[str, Any] = {"Type": "String", "Description": "Inference container image"}
        if request.option("image"):
            image["Default"] = str(request.option("image"))
        resources: dict[str, Any] = {}
        variants = []
        endpoint_name_attr = {"Fn::GetAtt": ["Endpoint", "EndpointName"]}
        for version, weight in request.variants:
            uri = artifact_uri(model, version)
            if not uri.startswith("s3://"):
                raise RuleViolationError(
                    f"sagemaker loads model data from S3; {model.id}@{version.version}'s "
                    f"artifact is {uri}"
                )
            resources[_logical("Model", version)] = {
                "Type": "AWS::SageMaker::Model",
                "Properties": {
                    "ExecutionRoleArn": {"Ref": "ExecutionRoleArn"},
                    "PrimaryContainer": {
                        "Image": {"Ref": "ImageUri"},
                        "ModelDataUrl": uri,
                        "Environment": {
                            "MODEL_ID": model.id,
                            "MODEL_VERSION": str(version.version),
                            "MODEL_FRAMEWORK": model.framework.value,
                        },
                    },
                },
            }
            count = request.replicas
            if scaling is not None and autoscaled:
                count = min(max(count, scaling.min_replicas), scaling.max_replicas)
            variants.append(
                {
                    "VariantName": _variant(version),
                    "ModelName": {"Fn::GetAtt": [_logical("Model", version), "ModelName"]},
                    "InitialInstanceCount": count,
                    "InstanceType": instance_type,
                    "InitialVariantWeight": weight,
                }
            )
            if scaling is not None and autoscaled:
                resources[_logical("ScalableTarget", version)] = {
                    "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                    "Properties": {
                        "MinCapacity": scaling.min_replicas,
                        "MaxCapacity": scaling.max_replicas,
                        "ResourceId": {
                            "Fn::Join": [
                                "/",
                                ["endpoint", endpoint_name_attr, "variant", _variant(version)],
                            ]
                        },
                        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                        "ServiceNamespace": "sagemaker",
                    },
                }
                resources[_logical("ScalingPolicy", version)] = {
                    "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
                    "Properties": {
                        "PolicyName": f"{endpoint_name}-{_variant(version)}-cpu",
                        "PolicyType": "TargetTrackingScaling",
                        "ScalingTargetId": {"Ref": _logical("ScalableTarget", version)},
                        "TargetTrackingScalingPolicyConfiguration": {
                            "TargetValue": scaling.target_cpu_utilization * vcpus,
                            "CustomizedMetricSpecification": {
                                "MetricName": "CPUUtilization",
                                "Namespace": "/aws/sagemaker/Endpoints",
                                "Statistic": "Average",
                                "Dimensions": [
                                    {"Name": "EndpointName", "Value": endpoint_name_attr},
                                    {"Name": "VariantName", "Value": _variant(version)},
                                ],
                            },
                        },
                    },
                }
        resources["EndpointConfig"] = {
            "Type": "AWS::SageMaker::EndpointConfig",
            "Properties": {"ProductionVariants": variants},
        }
        resources["Endpoint"] = {
            "Type": "AWS::SageMaker::Endpoint",
            "Properties": {
                "EndpointName": endpoint_name,
                "EndpointConfigName": {"Fn::GetAtt": ["EndpointConfig", "EndpointConfigName"]},
            },
        }
        served = " and ".join(f"{_variant(v)} ({w}%)" for v, w in request.variants)
        template = {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": f"modelreg: {model.id} {served} on SageMaker",
            "Parameters": {"ExecutionRoleArn": role, "ImageUri": image},
            "Resources": resources,
            "Outputs": {"EndpointName": {"Value": endpoint_name_attr}},
        }
        region = request.option("region")
        url = (
            f"https://runtime.sagemaker.{region}.amazonaws.com/endpoints/{endpoint_name}/invocations"
            if region
            else None
        )
        data = (json.dumps(template, indent=2, sort_keys=True) + "\n").encode("utf-8")
        return Rendered(files={FILE: data}, endpoint_url=url, warnings=tuple(warnings))

    def _instance(self, request: RenderRequest, warnings: list[str]) -> tuple[str, int]:
        profile = request.hardware
        if profile is None:
            return str(request.option("instance_type", DEFAULT_INSTANCE)), 1
        sm = profile.sagemaker
        if sm is None:
            raise RuleViolationError(
                f"hardware profile {request.hardware_name!r} has no sagemaker mapping "
                "(add hardware.<name>.sagemaker.instance_type to modelreg.yaml)"
            )
        if sm.gpus is not None and profile.gpus and sm.gpus > profile.gpus:
            warnings.append(
                f"hardware {request.hardware_name} asks for {profile.gpus} GPU but "
                f"{sm.instance_type} has {sm.gpus}: {sm.gpus - profile.gpus} GPUs per "
                "instance stay idle"
            )
        if sm.vcpus is None:
            warnings.append(
                f"hardware {request.hardware_name} gives no sagemaker.vcpus: the CPU target "
                "is taken as for 1 vCPU (SageMaker sums CPUUtilization over all vCPUs)"
            )
        return sm.instance_type, sm.vcpus or 1
