"""Istio kinds with no Linkerd counterpart, each reported once at the object.

Ingress Gateways need a Gateway API implementation (``--to gateway-api``); ServiceEntries
map only approximately to EgressNetworks and ExternalWorkloads, which need information
the inputs do not carry; JWT validation, telemetry, Wasm and Envoy patches have no
equivalent in Linkerd's proxy.
"""

from __future__ import annotations

from meshctl.emit.linkerd.context import TARGET, Build
from meshctl.emit.sources import family_of, wanted


def report(build: Build) -> None:
    mesh = build.mesh
    losses = build.losses
    for gateway in sorted(mesh.gateways, key=lambda g: (g.namespace, g.name)):
        if gateway.source_kind == "IstioGateway" and build.wanted(gateway.origin):
            losses.dropped(gateway.origin, f"Gateway {gateway.name}.{gateway.namespace}: Linkerd has no ingress; use a "
                                           "Gateway API implementation (--to gateway-api) and mesh its pods "
                                           "(linkerd.io/inject: enabled)")
    for entry in sorted(mesh.service_entries, key=lambda e: (e.namespace, e.name)):
        if build.wanted(entry.origin):
            what = ("an EgressNetwork (2.17+) with routes for its hosts" if entry.location == "MESH_EXTERNAL"
                    else "ExternalWorkloads with a Service (a Linkerd proxy on the machine)")
            losses.dropped(entry.origin, f"ServiceEntry {entry.name}.{entry.namespace}: not translated; the nearest "
                                         f"Linkerd equivalent is {what}")
    for w in sorted(mesh.workloads, key=lambda w: (w.namespace, w.name)):
        if w.kind == "WorkloadEntry" and build.wanted(w.origin):
            losses.dropped(w.origin, f"WorkloadEntry {w.name}.{w.namespace}: not translated (an ExternalWorkload needs a "
                                     "Linkerd proxy on the machine and its identity)")
    for authn in sorted(mesh.request_authentications, key=lambda a: (a.namespace, a.name)):
        if build.wanted(authn.origin):
            losses.dropped(authn.origin, f"RequestAuthentication {authn.name}.{authn.namespace}: Linkerd does not "
                                         "validate JWTs; move the validation to the application or the ingress")
    for sidecar in sorted(mesh.sidecars, key=lambda s: (s.namespace, s.name)):
        if build.wanted(sidecar.origin):
            losses.dropped(sidecar.origin, f"Sidecar {sidecar.name}.{sidecar.namespace}: Linkerd proxies need no "
                                           "configuration scoping; egress restrictions would be an EgressNetwork "
                                           "with trafficPolicy Deny; not translated")
    for envoy_filter in sorted(mesh.envoy_filters, key=lambda f: (f.namespace, f.name)):
        if build.wanted(envoy_filter.origin):
            losses.dropped(envoy_filter.origin, f"EnvoyFilter {envoy_filter.name}.{envoy_filter.namespace}: Linkerd's "
                                                "proxy is not Envoy; not translated")
    for telemetry in sorted(mesh.telemetries, key=lambda t: (t.namespace, t.name)):
        if build.wanted(telemetry.origin):
            losses.dropped(telemetry.origin, f"Telemetry {telemetry.name}.{telemetry.namespace}: not translated "
                                             "(Linkerd's metrics and tracing are configured at install)")
    for policy in sorted(mesh.workload_policies, key=lambda p: (p.namespace, p.name)):
        if build.wanted(policy.origin):
            losses.dropped(policy.origin, f"{policy.kind} {policy.name}.{policy.namespace}: no Linkerd equivalent")
    for route in sorted(mesh.routes, key=lambda r: (r.namespace, r.name)):
        if family_of(route.origin) == "gateway-api" and wanted(route.origin, build.options.source, TARGET):
            losses.approximated(route.origin, f"{route.source_kind} {route.name}.{route.namespace}: Gateway API routes "
                                              "are not rewritten by the Istio -> Linkerd translation; Linkerd reads "
                                              "Service-parented ones as they are (apart from unsupported filters)")
