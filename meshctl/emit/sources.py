"""Which mesh a model object was written for, so ``--from`` can pick what to translate.

>>> family("networking.istio.io/v1"), family("policy.linkerd.io/v1beta3"), family("gateway.networking.k8s.io/v1")
('istio', 'linkerd', 'gateway-api')
"""

from __future__ import annotations

from meshctl.model.origin import Origin

FAMILIES = ("istio", "linkerd", "gateway-api")


def family(api_version: str) -> str:
    """istio, linkerd, gateway-api, or kubernetes for the core and apps groups."""
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    if group.endswith("istio.io"):
        return "istio"
    if group.endswith("linkerd.io") or group == "split.smi-spec.io":
        return "linkerd"
    if group in ("gateway.networking.k8s.io", "gateway.networking.x-k8s.io"):
        return "gateway-api"
    return "kubernetes"


def family_of(origin: Origin) -> str:
    return family(origin.doc.api_version)


def wanted(origin: Origin, source: str, target: str) -> bool:
    """Is this object translated? ``--from auto`` takes every mesh family except the target's."""
    found = family_of(origin)
    if found == "kubernetes":
        return False
    return found != target if source == "auto" else found == source
