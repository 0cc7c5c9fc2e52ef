"""The ``kubernetes`` target: plain Kubernetes objects for a GitOps engine.

Per served version one ``apps/v1`` Deployment, one ``v1`` Service and, when
autoscaled, one ``autoscaling/v2`` HorizontalPodAutoscaler (the Deployment then
has no ``spec.replicas``: the HPA owns it). An A/B test adds a Gateway API
``HTTPRoute`` splitting traffic between the versions' Services by weight.

Options (``deploy.targets.kubernetes`` in ``modelreg.yaml``): ``namespace``
(default ``default``), ``image`` (a model server reading ``MODEL_URI``),
``port`` (8080), ``cpu_request`` (``500m``, set when the hardware profile has
none: HPA utilisation is measured against it), ``gateway`` (``NAME`` or
``NAMESPACE/NAME`` of the Gateway an A/B route attaches to) and ``hostname``.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

from modelreg import yamlio
from modelreg.deploy.target import Rendered, RenderRequest, artifact_uri, dns_name
from modelreg.errors import RuleViolationError

if TYPE_CHECKING:
    from modelreg.manifest import Version

DEFAULT_IMAGE = "docker.io/seldonio/mlserver:1.6.1"
DEFAULT_GATEWAY = "modelreg-gateway"
GPU_RESOURCE = "nvidia.com/gpu"


def yaml_file(obj: dict[str, Any]) -> bytes:
    """A Kubernetes object as YAML bytes, keys in the order given."""
    # through JSON so that no part is shared: YAML would write shared parts as aliases
    return yamlio.dumps(json.loads(json.dumps(obj))).encode("utf-8")


def resources(request: RenderRequest) -> dict[str, Any]:
    """Container resources: the hardware profile's, with a CPU request (HPA utilisation is
    measured against it) and the profile's GPUs as limits when it names none."""
    profile = request.hardware
    k8s = profile.kubernetes if profile is not None else None
    out: dict[str, Any] = copy.deepcopy(dict(k8s.resources)) if k8s else {}
    requests = out.setdefault("requests", {})
    requests.setdefault("cpu", str(request.option("cpu_request", "500m")))
    if profile is not None and profile.gpus:
        out.setdefault("limits", {}).setdefault(GPU_RESOURCE, profile.gpus)
    return {key: out[key] for key in sorted(out)}


def placement(request: RenderRequest) -> dict[str, Any]:
    """``nodeSelector`` and ``tolerations`` of the hardware profile (empty ones left out)."""
    k8s = request.hardware.kubernetes if request.hardware is not None else None
    out: dict[str, Any] = {}
    if k8s is not None and k8s.node_selector:
        out["nodeSelector"] = dict(sorted(k8s.node_selector.items()))
    if k8s is not None and k8s.tolerations:
        out["tolerations"] = [dict(t) for t in k8s.tolerations]
    return out


class KubernetesTarget:
    """Kubernetes Deployment, Service and HPA per version; A/B through a Gateway API HTTPRoute."""

    name = "kubernetes"
    description = "Kubernetes Deployment + Service + HPA; A/B via a Gateway API HTTPRoute"

    def render(self, request: RenderRequest) -> Rendered:
        """One YAML file per object. Raises :class:`RuleViolationError` for an HPA
        asked to scale to zero or a version without an artifact."""
        namespace = str(request.option("namespace", "default"))
        scaling = request.autoscaling
        if scaling is not None and scaling.enabled and scaling.min_replicas < 1:
            raise RuleViolationError(
                "kubernetes: a HorizontalPodAutoscaler needs min replicas of 1 or more"
            )
        files: dict[str, bytes] = {}
        backends = []
        for version, weight in request.variants:
            objects = self._version_objects(request, version, namespace)
            for kind, obj in objects:
                files[f"{kind}-v{version.version}.yaml"] = yaml_file(obj)
            backends.append(
                {"name": objects[1][1]["metadata"]["name"], "port": 80, "weight": weight}
            )
        model_name = dns_name(request.model.id)
        hostname = request.option("hostname")
        endpoint: str | None
        if request.challenger is None:
            service = backends[0]["name"]
            endpoint = f"http://{service}.{namespace}.svc.cluster.local"
        else:
            files["httproute.yaml"] = yaml_file(
                self._route(request, model_name, namespace, backends)
            )
            endpoint = f"http://{hostname}" if hostname else None
        return Rendered(files=files, endpoint_url=endpoint)

    def _labels(self, request: RenderRequest, version: Version) -> dict[str, str]:
        return {
            "app.kubernetes.io/name": dns_name(request.model.id),
            "app.kubernetes.io/instance": dns_name(request.model.id, f"v{version.version}"),
            "app.kubernetes.io/version": str(version.version),
            "app.kubernetes.io/managed-by": "modelreg",
        }

    def _version_objects(
        self, request: RenderRequest, version: Version, namespace: str
    ) -> list[tuple[str, dict[str, Any]]]:
        model = request.model
        name = dns_name(model.id, f"v{version.version}")
        labels = self._labels(request, version)
        metadata = {"name": name, "namespace": namespace, "labels": labels}
        selector = {"app.kubernetes.io/instance": name}
        port = int(request.option("port", 8080))
        container = {
            "name": "model",
            "image": str(request.option("image", DEFAULT_IMAGE)),
            "ports": [{"name": "http", "containerPort": port}],
            "env": [
                {"name": "MODEL_ID", "value": model.id},
                {"name": "MODEL_VERSION", "value": str(version.version)},
                {"name": "MODEL_FRAMEWORK", "value": model.framework.value},
                {"name": "MODEL_URI", "value": artifact_uri(model, version)},
            ],
            "resources": resources(request),
        }
        pod: dict[str, Any] = {"containers": [container], **placement(request)}
        scaling = request.autoscaling
        autoscaled = scaling is not None and scaling.enabled
        spec: dict[str, Any] = {} if autoscaled else {"replicas": request.replicas}
        spec["selector"] = {"matchLabels": selector}
        spec["template"] = {"metadata": {"labels": labels}, "spec": pod}
        deployment = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": metadata,
            "spec": spec,
        }
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata,
            "spec": {
                "type": "ClusterIP",
                "selector": selector,
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            },
        }
        out: list[tuple[str, dict[str, Any]]] = [("deployment", deployment), ("service", service)]
        if scaling is not None and autoscaled:
            out.append(
                (
                    "hpa",
                    {
                        "apiVersion": "autoscaling/v2",
                        "kind": "HorizontalPodAutoscaler",
                        "metadata": metadata,
                        "spec": {
                            "scaleTargetRef": {
                                "apiVersion": "apps/v1",
                                "kind": "Deployment",
                                "name": name,
                            },
                            "minReplicas": scaling.min_replicas,
                            "maxReplicas": scaling.max_replicas,
                            "metrics": [
                                {
                                    "type": "Resource",
                                    "resource": {
                                        "name": "cpu",
                                        "target": {
                                            "type": "Utilization",
                                            "averageUtilization": scaling.target_cpu_utilization,
                                        },
                                    },
                                }
                            ],
                        },
                    },
                )
            )
        return out

    def _route(
        self,
        request: RenderRequest,
        name: str,
        namespace: str,
        backends: list[dict[str, Any]],
    ) -> dict[str, Any]:
        gateway = str(request.option("gateway", DEFAULT_GATEWAY))
        gw_namespace, _, gw_name = gateway.rpartition("/")
        parent: dict[str, Any] = {"name": gw_name}
        if gw_namespace:
            parent["namespace"] = gw_namespace
        spec: dict[str, Any] = {"parentRefs": [parent]}
        hostname = request.option("hostname")
        if hostname:
            spec["hostnames"] = [str(hostname)]
        spec["rules"] = [{"backendRefs": backends}]
        return {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {
                    "app.kubernetes.io/name": name,
                    "app.kubernetes.io/managed-by": "modelreg",
                },
            },
            "spec": spec,
        }
