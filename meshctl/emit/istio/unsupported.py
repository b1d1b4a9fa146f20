"""Linkerd and Gateway API objects with no Istio equivalent, reported where they are written.

    HTTPLocalRateLimitPolicy  Istio needs an EnvoyFilter (local_ratelimit) for it
    EgressNetwork             outboundTrafficPolicy REGISTRY_ONLY and ServiceEntries
    ExternalWorkload          a WorkloadEntry (the VM runs an Istio sidecar)
    ReferenceGrant            nothing: VirtualServices route across namespaces without one
    GatewayClass              nothing: the Istio Gateway selects the ingress pods
    anything else             not translated
"""

from __future__ import annotations

from meshctl.emit.istio.build import Build
from meshctl.emit.sources import family_of

HANDLED = frozenset({
    "Server", "AuthorizationPolicy", "MeshTLSAuthentication", "NetworkAuthentication", "ServerAuthorization",
    "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute", "ServiceProfile", "TrafficSplit", "Gateway",
    "HTTPLocalRateLimitPolicy", "ExternalWorkload", "ReferenceGrant", "GatewayClass", "EgressNetwork",
})
NOTES = {
    "HTTPLocalRateLimitPolicy": "Istio has no rate-limit resource (it needs an EnvoyFilter with the local_ratelimit "
                                "filter); the HTTPLocalRateLimitPolicy is not translated",
    "EgressNetwork": "Istio controls egress with outboundTrafficPolicy REGISTRY_ONLY (meshConfig or a Sidecar) and "
                     "ServiceEntries; the EgressNetwork is not translated",
    "ExternalWorkload": "an ExternalWorkload becomes a WorkloadEntry running an Istio sidecar; not translated",
}


def report_unsupported(build: Build) -> None:
    for meta in sorted(build.mesh.resources, key=lambda r: (r.kind, r.namespace or "", r.name)):
        family = family_of(meta.origin)
        if family not in ("linkerd", "gateway-api") or not build.wanted(meta.origin):
            continue
        if meta.kind in NOTES:
            build.losses.dropped(meta.origin, NOTES[meta.kind])
        elif meta.kind == "ReferenceGrant":
            build.losses.approximated(meta.origin, "VirtualServices route to other namespaces without a "
                                      "ReferenceGrant; nothing is emitted for it")
        elif meta.kind == "GatewayClass":
            build.losses.approximated(meta.origin, "Istio Gateways select the ingress gateway pods; nothing is "
                                      "emitted for the GatewayClass")
        elif meta.kind not in HANDLED:
            build.losses.dropped(meta.origin, f"{meta.kind} ({meta.api_version}) has no Istio translation")
