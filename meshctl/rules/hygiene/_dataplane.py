"""Which dataplane a namespace or workload asks for: Istio injection labels, Linkerd annotations.

The injection rules (MSH163, MSH164, MSH175), the UID rule (MSH165) and the port-naming
rule (MSH160) share these readings of labels and annotations::

    Namespace shop {istio-injection: enabled}            -> injection_enabled() is True
    Namespace shop {istio-injection: enabled, istio.io/rev: canary}
                                                         -> conflicting_labels() names both
    Deployment web {annotations: {linkerd.io/inject: enabled}}
                                                         -> linkerd_meshed() is True
"""

from __future__ import annotations

from meshctl.model.objects import Labels, Namespace, Workload

INJECTION_LABEL = "istio-injection"
REVISION_LABEL = "istio.io/rev"
DATAPLANE_MODE_LABEL = "istio.io/dataplane-mode"
SIDECAR_INJECT = "sidecar.istio.io/inject"
LINKERD_INJECT = "linkerd.io/inject"
PROXY_CONTAINER = "istio-proxy"
PROXY_UID = 1337

# Istio's injector and analyzers leave these alone (inject.IgnoredNamespaces).
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "local-path-storage"})

# Labels Linkerd puts on its own namespaces (control plane and extensions).
_LINKERD_NAMESPACE_LABELS = (
    "linkerd.io/is-control-plane", "linkerd.io/control-plane-ns", "linkerd.io/extension",
)

# Labels of Services and pods that Istio installs or generates (util.IsIstioControlPlane, plus
# the Services the gateway controllers create for Gateway API gateways).
_GATEWAY_MANAGED_LABELS = ("gateway.networking.k8s.io/gateway-name", "gateway.istio.io/managed")


def injection_enabled(namespace: Namespace | None) -> bool:
    """Istio's sidecar injector injects the namespace's pods, as the analyzers read the labels.

    ``istio.io/rev`` alone, or ``istio-injection: enabled`` alone; both together is a
    conflict (MSH164), and ambient mode is not sidecar injection.
    """
    if namespace is None:
        return False
    labels = namespace.labels
    if labels.get(DATAPLANE_MODE_LABEL) == "ambient":
        return False
    if REVISION_LABEL in labels:
        return INJECTION_LABEL not in labels
    return labels.get(INJECTION_LABEL) == "enabled"


def has_dataplane_label(namespace: Namespace) -> bool:
    """The namespace says what Istio should do with its pods, one way or another."""
    return any(key in namespace.labels for key in (INJECTION_LABEL, REVISION_LABEL, DATAPLANE_MODE_LABEL))


def conflicting_labels(namespace: Namespace) -> tuple[str, ...]:
    """The dataplane labels that contradict ``istio-injection`` on this namespace (may be empty).

    ``istio-injection`` with ``istio.io/rev``: the legacy label wins and the revision is
    ignored, whatever the values. ``istio-injection`` with ``istio.io/dataplane-mode``:
    only ``enabled`` with ``ambient`` asks for two dataplanes at once (``disabled`` with
    ``ambient``, or ``enabled`` with ``none``, say the same thing twice).
    """
    labels = namespace.labels
    injection = labels.get(INJECTION_LABEL)
    if injection is None:
        return ()
    found = []
    if REVISION_LABEL in labels:
        found.append(REVISION_LABEL)
    if injection == "enabled" and labels.get(DATAPLANE_MODE_LABEL) == "ambient":
        found.append(DATAPLANE_MODE_LABEL)
    return tuple(found)


def opted(labels: Labels, annotations: Labels) -> str | None:
    """The pod's own ``sidecar.istio.io/inject`` value (the label wins over the annotation)."""
    value = labels.get(SIDECAR_INJECT, annotations.get(SIDECAR_INJECT))
    return value.lower() if value is not None else None


def linkerd_namespace(namespace: Namespace | None) -> bool:
    """Linkerd decides for this namespace: annotated for injection (either way) or Linkerd's own."""
    if namespace is None:
        return False
    if LINKERD_INJECT in namespace.annotations:
        return True
    return any(key in namespace.labels for key in _LINKERD_NAMESPACE_LABELS)


def linkerd_meshed(workload: Workload, namespace: Namespace | None) -> bool:
    """The workload runs (or will run) the Linkerd proxy, so Istio's conventions do not apply to it."""
    if workload.has_linkerd_proxy:
        return True
    own = workload.annotations.get(LINKERD_INJECT)
    if own is not None:
        return own in ("enabled", "ingress")
    return namespace is not None and namespace.annotations.get(LINKERD_INJECT) in ("enabled", "ingress")


def istio_managed(labels: Labels) -> bool:
    """Labels of Istio's own objects: ``istio: ...``, ``release: istio``, ``app: istiod``, gateways."""
    return (
        "istio" in labels
        or labels.get("release") == "istio"
        or labels.get("app") == "istiod"
        or any(key in labels for key in _GATEWAY_MANAGED_LABELS)
    )
