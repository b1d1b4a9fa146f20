"""The mesh model -> Envoy configuration for one proxy, as Istio's control plane builds it.

Before: a MeshModel and the proxy to compile (a client sidecar's outbound view, a
gateway, or a workload's inbound side). After: a static v3 bootstrap that ``envoy -c``
runs, the same resources as xDS lists, and the losses: what the output could not carry.

The semantics follow ``envoy-translation.md`` (Istio's Pilot): names, defaults (no route
timeout, two retries, LEAST_REQUEST, unlimited circuit breakers), the order of routes
and where the first catch-all ends them. The function is pure: nothing is read or
written here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from meshctl.diagnostics import Finding
from meshctl.emit.envoy import clusters, gateway, inbound, output, sidecar
from meshctl.emit.envoy.build import Build
from meshctl.emit.envoy.options import PROXY_KINDS, EnvoyOptions
from meshctl.emit.envoy.unsupported import report_unsupported
from meshctl.errors import UsageError
from meshctl.model.mesh import MeshModel

Json = dict[str, Any]

__all__ = ["PROXY_KINDS", "EnvoyOptions", "EnvoyOutput", "translate"]


@dataclass
class EnvoyOutput:
    bootstrap: Json
    findings: list[Finding]
    proxy: str  # what was compiled, for the summary line: "gateway public.ingress"
    _build: Build = field(repr=False)
    _listeners: list[Json] = field(repr=False)

    @cached_property
    def xds(self) -> dict[str, list[Json]]:
        """The same resources as xDS lists (listeners refer to route configurations by name)."""
        return output.xds(self._build, self._listeners)


def translate(mesh: MeshModel, options: EnvoyOptions) -> EnvoyOutput:
    if options.proxy == "gateway":
        build, listeners, label = _gateway(mesh, options)
    elif options.proxy == "inbound":
        build, listeners, label = _inbound(mesh, options)
    else:
        build, listeners, label = _sidecar(mesh, options)
    clusters.builtin_clusters(build)
    clusters.report_dns_subsets(build)
    return EnvoyOutput(output.bootstrap(build, listeners), build.losses.findings, label, build, listeners)


def _sidecar(mesh: MeshModel, options: EnvoyOptions) -> tuple[Build, list[Json], str]:
    namespace = options.namespace or next((r.namespace for r in mesh.routes), None) or "default"
    build = Build(mesh, options, namespace)
    listeners = sidecar.sidecar_listeners(build)
    clusters.all_outbound_clusters(build)
    sidecar.report_unserved_hosts(build, {l["address"]["socket_address"]["port_value"] for l in listeners})
    report_unsupported(build, namespace, None)
    return build, listeners, f"the outbound sidecar view of namespace {namespace}"


def _gateway(mesh: MeshModel, options: EnvoyOptions) -> tuple[Build, list[Json], str]:
    name, namespace = _target(options)
    found = gateway.find_gateway(mesh, name, namespace)
    build = Build(mesh, options, gateway.proxy_namespace(mesh, found))
    listeners = gateway.gateway_listeners(build, found)
    clusters.all_outbound_clusters(build)
    report_unsupported(build, namespace, found.selector)
    return build, listeners, f"gateway {name}.{namespace}"


def _inbound(mesh: MeshModel, options: EnvoyOptions) -> tuple[Build, list[Json], str]:
    name, namespace = _target(options)
    build = Build(mesh, options, namespace)
    workload = inbound.find_workload(mesh, name, namespace)
    if workload is None:
        known = ", ".join(sorted(f"{w.name}.{w.namespace}" for w in mesh.workloads)) or "none"
        raise UsageError(f"workload {name}.{namespace} is not in the inputs", hint=f"workloads in the inputs: {known}")
    listeners = inbound.inbound_listeners(build, workload)
    report_unsupported(build, namespace, workload.labels, inbound=True)
    return build, listeners, f"the inbound side of {workload.kind} {name}.{namespace}"


def _target(options: EnvoyOptions) -> tuple[str, str]:
    if options.target is None:
        raise UsageError(f"--proxy {options.proxy} needs a NAME.NAMESPACE", hint=f"--proxy {options.proxy} NAME.NAMESPACE")
    return options.target
