"""Which mesh a model object was written for, so ``--from`` can pick what to translate.

>>> family("networking.istio.io/v1"), family("policy.linkerd.io/v1beta3"), family("gateway.networking.k8s.io/v1")
('istio', 'linkerd', 'gateway-api')
>>> family("networking.k8s.io/v1", "Ingress"), family("networking.k8s.io/v1", "NetworkPolicy")
('ingress', 'kubernetes')
"""

from __future__ import annotations

from meshctl.model.origin import Origin

FAMILIES = ("istio", "linkerd", "gateway-api", "ingress")
INGRESS_GROUPS = ("networking.k8s.io", "extensions")
INGRESS_TARGETS = ("istio", "gateway-api")  # Linkerd has no ingress: it keeps the controller


def family(api_version: str, kind: str = "") -> str:
    """istio, linkerd, gateway-api, ingress (Kubernetes Ingress), or kubernetes for the rest."""
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    if group.endswith("istio.io"):
        return "istio"
    if group.endswith("linkerd.io") or group == "split.smi-spec.io":
        return "linkerd"
    if group in ("gateway.networking.k8s.io", "gateway.networking.x-k8s.io"):
        return "gateway-api"
    if kind == "Ingress" and group in INGRESS_GROUPS:
        return "ingress"
    return "kubernetes"


def family_of(origin: Origin) -> str:
    return family(origin.doc.api_version, origin.doc.kind)


def wanted(origin: Origin, source: str, target: str) -> bool:
    """Is this object translated? ``--from auto`` takes every mesh family except the
    target's, and Ingresses for the targets that have an ingress."""
    found = family_of(origin)
    if found == "kubernetes":
        return False
    if source == "auto":
        return found != target and (found != "ingress" or target in INGRESS_TARGETS)
    return found == source
