"""The ``kserve`` target: one ``serving.kserve.io/v1beta1`` InferenceService.

The model format comes from the framework, the ``storageUri`` from the
version's model artifact; replicas as ``minReplicas``/``maxReplicas``, with
``scaleMetric: cpu`` and ``scaleTarget`` when autoscaled. An A/B test is
KServe's canary rollout: the spec names the challenger's ``storageUri`` and
``canaryTrafficPercent``; KServe keeps the rest of the traffic on the last
ready revision, which must be the production version.

Options (``deploy.targets.kserve``): ``namespace`` (``default``), ``domain``
(the ingress domain, for the endpoint URL), ``model_format`` (required for
``framework: custom``), ``runtime`` (a ServingRuntime name), ``cpu_request``.
"""

from __future__ import annotations

from typing import Any

from modelreg.deploy.kubernetes import placement, resources, yaml_file
from modelreg.deploy.target import Rendered, RenderRequest, artifact_uri, dns_name
from modelreg.errors import RuleViolationError
from modelreg.vocabulary import Framework

FORMATS = {
    Framework.PYTORCH: "pytorch",
    Framework.TENSORFLOW: "tensorflow",
    Framework.XGBOOST: "xgboost",
    Framework.SKLEARN: "sklearn",
    Framework.ONNX: "onnx",
}
FILE = "inferenceservice.yaml"
# the schemes KServe's storage initializer downloads from
SCHEMES = (
    "s3://",
    "gs://",
    "https://",
    "http://",
    "pvc://",
    "hdfs://",
    "webhdfs://",
    "hf://",
    "oci://",
)


class KServeTarget:
    """A KServe InferenceService; A/B as a canary traffic split."""

    name = "kserve"
    description = "KServe InferenceService (v1beta1); A/B as a canary traffic split"

    def render(self, request: RenderRequest) -> Rendered:
        """``inferenceservice.yaml``. Raises :class:`RuleViolationError` for a custom
        framework without a ``model_format`` option, a version without an artifact, or an
        artifact in a store KServe cannot read."""
        model = request.model
        fmt = FORMATS.get(model.framework) or request.option("model_format")
        if not fmt:
            raise RuleViolationError(
                f"kserve: {model.id} has framework {model.framework}; set "
                "deploy.targets.kserve.model_format in modelreg.yaml"
            )
        namespace = str(request.option("namespace", "default"))
        name = dns_name(model.id, max_length=45)  # KServe appends "-predictor-..." to it
        served = request.challenger or request.version
        spec_model: dict[str, Any] = {"modelFormat": {"name": str(fmt)}}
        runtime = request.option("runtime")
        if runtime:
            spec_model["runtime"] = str(runtime)
        uri = artifact_uri(model, served)
        if not uri.startswith(SCHEMES):
            raise RuleViolationError(
                f"kserve cannot load {model.id}@{served.version} from {uri} "
                f"(storageUri schemes: {', '.join(s[:-3] for s in SCHEMES)}): set artifacts.root "
                "in modelreg.yaml to such a store and register the version again, or deploy "
                "with --target kubernetes"
            )
        spec_model["storageUri"] = uri
        spec_model["resources"] = resources(request)
        scaling = request.autoscaling
        predictor: dict[str, Any] = {}
        if scaling is not None and scaling.enabled:
            predictor["minReplicas"] = scaling.min_replicas
            predictor["maxReplicas"] = scaling.max_replicas
            predictor["scaleMetric"] = "cpu"
            predictor["scaleTarget"] = scaling.target_cpu_utilization
        else:
            predictor["minReplicas"] = request.replicas
            predictor["maxReplicas"] = request.replicas
        if request.challenger is not None:
            predictor["canaryTrafficPercent"] = request.traffic_percent
        predictor.update(placement(request))
        predictor["model"] = spec_model
        labels = {
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/managed-by": "modelreg",
            "modelreg.dev/version": str(request.version.version),
        }
        if request.challenger is not None:
            labels["modelreg.dev/challenger"] = str(request.challenger.version)
        service = {
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"predictor": predictor},
        }
        domain = request.option("domain")
        host = f"{name}.{namespace}.{domain}" if domain else f"{name}.{namespace}.svc.cluster.local"
        warnings: tuple[str, ...] = ()
        current = request.current
        if request.challenger is not None and (
            current is None
            or current.target != self.name
            or current.version != request.version.version
        ):
            warnings = (
                f"kserve splits canary traffic against the last ready revision: deploy "
                f"{model.id}@{request.version.version} without a challenger first, or the "
                "challenger gets all the traffic",
            )
        return Rendered(
            files={FILE: yaml_file(service)},
            endpoint_url=f"http://{host}/v1/models/{name}:predict",
            warnings=warnings,
        )
