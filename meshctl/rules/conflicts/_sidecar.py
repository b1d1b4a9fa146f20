"""Does a workload run an Istio sidecar, as ``util.DeploymentInMesh`` reads it?

Istio's Service-association analyzers (IST0116, IST0137) look only at workloads in the
mesh: an ``istio-proxy`` container already in the spec, the pod's own
``sidecar.istio.io/inject``, or its namespace's ``istio-injection: enabled`` /
``istio.io/rev`` label. A namespace the inputs do not describe leaves it unknown::

    Namespace shop {istio-injection: enabled}, Deployment cart in shop  -> True
    Namespace shop {},                         Deployment cart in shop  -> False
    no Namespace shop,                         Deployment cart in shop  -> None
"""

from __future__ import annotations

from meshctl.model.mesh import MeshModel
from meshctl.model.objects import Workload

SIDECAR_INJECT = "sidecar.istio.io/inject"
INJECTION_LABEL = "istio-injection"
REVISION_LABEL = "istio.io/rev"
DATAPLANE_MODE_LABEL = "istio.io/dataplane-mode"
LINKERD_INJECT = "linkerd.io/inject"


def has_sidecar(mesh: MeshModel, workload: Workload, *, closed_world: bool = False) -> bool | None:
    """True, False, or None when the workload's namespace is not among the inputs."""
    if workload.has_istio_proxy:
        return True
    if workload.has_linkerd_proxy:
        return False
    own = workload.labels.get(SIDECAR_INJECT, workload.annotations.get(SIDECAR_INJECT))
    if own is not None:
        return own.lower() == "true"
    if workload.annotations.get(LINKERD_INJECT) in ("enabled", "ingress"):
        return False
    namespace = mesh.namespaces.get(workload.namespace)
    if namespace is None:
        return False if closed_world else None
    labels = namespace.labels
    if labels.get(DATAPLANE_MODE_LABEL) == "ambient":
        return False
    if REVISION_LABEL in labels and INJECTION_LABEL not in labels:
        return True
    return labels.get(INJECTION_LABEL) == "enabled"
