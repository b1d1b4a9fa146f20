"""Configuration that shapes a real proxy but is not part of the emitted one, named as losses.

Istio applies these per proxy; the output describes one proxy, so only the resources
that would select it (its namespace, the root namespace, its labels) are reported.
"""

from __future__ import annotations

from meshctl.emit.envoy.build import Build
from meshctl.model.mesh import selects

Labels = dict[str, str]


def report_unsupported(build: Build, namespace: str, labels: Labels | None, *, inbound: bool = False) -> None:
    mesh = build.mesh
    scope = {namespace, mesh.mesh_config.root_namespace}

    def applies(ns: str, selector: Labels | None) -> bool:
        return ns in scope and (not selector or labels is None or selects(selector, labels))

    for envoy_filter in mesh.envoy_filters:
        if applies(envoy_filter.namespace, envoy_filter.selector):
            for patch in envoy_filter.patches:
                what = f"{patch.apply_to} {patch.operation}".strip()
                build.losses.envoy_filter(
                    patch.origin, f"EnvoyFilter {envoy_filter.name}.{envoy_filter.namespace}: the {what} patch "
                                  "is not applied to the output")
    for sidecar in mesh.sidecars:
        if applies(sidecar.namespace, sidecar.selector) and sidecar.egress_hosts and not inbound:
            build.losses.approximated(
                sidecar.origin, f"Sidecar {sidecar.name}.{sidecar.namespace} limits what this proxy sees; the "
                                "output includes every service visible by exportTo")
    for telemetry in mesh.telemetries:
        if applies(telemetry.namespace, telemetry.selector):
            build.losses.dropped(telemetry.origin, f"Telemetry {telemetry.name}.{telemetry.namespace} (access "
                                                   "logs, metrics, tracing) is not emitted")
    for policy in mesh.workload_policies:
        if applies(policy.namespace, policy.selector):
            build.losses.dropped(policy.origin, f"{policy.kind} {policy.name}.{policy.namespace} is not emitted")
    if inbound:
        for authn in mesh.request_authentications:
            if applies(authn.namespace, authn.selector):
                build.losses.dropped(authn.origin, f"RequestAuthentication {authn.name}.{authn.namespace}: JWT "
                                                   "validation (jwt_authn) is not emitted, so requests with a bad "
                                                   "token are not rejected and claims never match")
