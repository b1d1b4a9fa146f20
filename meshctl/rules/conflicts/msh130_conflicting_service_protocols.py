"""Services that select the same workload give one port number different protocols.

## Why it matters
The sidecar of a pod sets up each port it serves for one protocol. When two Services
select the same pods and both expose port 9080, one named `http-api` (HTTP) and one
named `grpc` or `tcp-api`, Istio applies only one of those protocols (the oldest
Service's), so the traffic of the other Service is handled with the wrong one: HTTP
routing, retries and metrics are lost, or binary traffic is broken by an HTTP parser.
This is what `istioctl analyze` reports as IST0116 (DeploymentAssociatedToMultipleServices).
The protocol is the one the port's `appProtocol` or name prefix declares; ports that
declare none (Istio sniffs their protocol) and UDP ports are not compared.

As in Istio, only workloads in the mesh count: an `istio-proxy` container, the pod's
`sidecar.istio.io/inject: "true"`, or a namespace labelled `istio-injection: enabled` or
`istio.io/rev`. When the inputs do not contain the workload's Namespace, the finding is
reported as unresolved (info) unless `--closed-world` is given.

## Example
```yaml
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: bookinfo}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: reviews-internal, namespace: bookinfo}
spec:
  selector: {app: reviews}
  ports: [{name: tcp-internal, port: 9080}]   # same pods, same port, TCP
```

## Fix
Name (or `appProtocol`) the port the same way in every Service that selects the
workload, or expose the other protocol on a different port.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import Protocol, ServicePort
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.conflicts._selected_workloads import port_clashes, target_port
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH130", "conflicting-service-protocols", Severity.WARNING, __doc__, istio_code="IST0116",
    reads=frozenset({"services", "workloads"}),
)

UNCOMPARED = (Protocol.UNKNOWN, Protocol.UDP)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for clash in port_clashes(ctx, _number, lambda a, b: a.mesh_protocol != b.mesh_protocol):
        port, service = clash.port, clash.service
        other_port, other, more = clash.first_other()
        target = target_port(port)
        if target == target_port(other_port):
            effect = f"whose sidecar serves container port {target} with only one protocol"
        else:
            effect = "and Istio requires the Services of a workload to agree on a port's protocol"
        message = (
            f"port {port.port} of Service {service.name!r} is {_protocol(port)}, but "
            f"{_protocol(other_port)} in Service {other.name!r}{more}; both select "
            f"{clash.describe()}, {effect}"
        )
        if not clash.in_mesh:
            message += f", if namespace {service.namespace!r} injects Istio sidecars"
        yield RULE.on(
            _declared_at(port), message, unresolved=not clash.in_mesh,
            related=tuple(
                ctx.related(_declared_at(p), "conflicts with") for p in clash.others
            ),
        )


def _number(port: ServicePort) -> int | None:
    """Ports are compared by number when they declare a protocol Istio applies (not UDP or
    sniffed)."""
    if port.protocol == "UDP" or port.mesh_protocol in UNCOMPARED:
        return None
    return port.port


def _protocol(port: ServicePort) -> str:
    if port.app_protocol:
        source = f"appProtocol {port.app_protocol!r}"
    else:
        source = f"port name {port.name!r}"
    return f"{port.mesh_protocol.value.upper()} ({source})"


def _declared_at(port: ServicePort) -> Origin:
    if port.app_protocol:
        return port.origin.at("appProtocol")
    return port.origin.at("name")
