"""Services that select the same workload give one port number different protocols.

## Why it matters
The sidecar of a pod sets up each port it serves for one protocol. When two Services
select the same pods and both expose port 9080, one named `http-api` (HTTP) and one
named `grpc` or `tcp-api`, Istio can only apply one of those protocols to the port, so
the traffic of the other Service is parsed with the wrong one: HTTP routing, retries
and metrics are lost, or binary traffic is broken by an HTTP parser. This is what
`istioctl analyze` reports as IST0116 (DeploymentAssociatedToMultipleServices). The
protocol is the one the port's `appProtocol` or name prefix declares; ports that
declare none (Istio sniffs their protocol) and UDP ports are not compared.

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

from collections import defaultdict
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import Protocol, Service, ServicePort, Workload
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.conflicts._selected_workloads import describe, services_by_workload
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH130", "conflicting-service-protocols", Severity.WARNING, __doc__, istio_code="IST0116",
    reads=frozenset({"services", "workloads"}),
)

Exposed = tuple[Service, ServicePort]
UNCOMPARED = (Protocol.UNKNOWN, Protocol.UDP)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    clashes: dict[ServicePort, dict[ServicePort, Service]] = defaultdict(dict)
    owners: dict[ServicePort, Service] = {}
    shared: dict[ServicePort, list[Workload]] = defaultdict(list)
    for workload, services in services_by_workload(ctx.mesh).items():
        by_number: dict[int, list[Exposed]] = defaultdict(list)
        for service in services:
            for port in service.ports:
                if port.protocol != "UDP" and port.mesh_protocol not in UNCOMPARED:
                    by_number[port.port].append((service, port))
        for exposed in by_number.values():
            if len({port.mesh_protocol for _, port in exposed}) < 2:
                continue
            for service, port in exposed:
                others = [(s, p) for s, p in exposed if s is not service and p.mesh_protocol != port.mesh_protocol]
                if others:
                    owners[port] = service
                    shared[port].append(workload)
                    clashes[port].update({p: s for s, p in others})
    for port, others in clashes.items():
        service = owners[port]
        other_port, other = next(iter(others.items()))
        more = f" (and {len(others) - 1} more)" if len(others) > 1 else ""
        yield RULE.on(
            _declared_at(port),
            f"port {port.port} of Service {service.name!r} is {_protocol(port)}, but {_protocol(other_port)} in "
            f"Service {other.name!r}{more}; both select {describe(shared[port])}, whose sidecar can treat "
            f"port {port.port} as only one protocol",
            related=tuple(ctx.related(_declared_at(p), "conflicts with") for p in others),
        )


def _protocol(port: ServicePort) -> str:
    source = f"appProtocol {port.app_protocol!r}" if port.app_protocol else f"port name {port.name!r}"
    return f"{port.mesh_protocol.value.upper()} ({source})"


def _declared_at(port: ServicePort) -> Origin:
    if port.app_protocol:
        return port.origin.at("appProtocol")
    return port.origin.at("name")
