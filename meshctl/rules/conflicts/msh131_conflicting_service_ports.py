"""Services that select the same workload expose one target port as different service ports.

## Why it matters
Istio requires Services that select the same pods and send traffic to the same
container port (`targetPort`) to expose it under the same port number. The sidecar
builds its inbound configuration for that container port from the Services' ports, and
with two port numbers for one target port the settings that depend on the service port
(protocol, port-level DestinationRule and PeerAuthentication settings, the
`destination_service` of metrics) come from only one of them. This is what
`istioctl analyze` reports as IST0137 (DeploymentConflictingPorts). A numeric and a
named `targetPort` are compared as written, as Istio does.

## Example
```yaml
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: bookinfo}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: reviews-public, namespace: bookinfo}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 80, targetPort: 9080}]   # same pods, same container port
```

## Fix
Use the same `port` for the target port in every Service that selects the workload,
or merge the Services into one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import Service, ServicePort, Workload
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.conflicts._selected_workloads import describe, services_by_workload
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH131", "conflicting-service-ports", Severity.WARNING, __doc__, istio_code="IST0137",
    reads=frozenset({"services", "workloads"}),
)

Exposed = tuple[Service, ServicePort]


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    clashes: dict[ServicePort, dict[ServicePort, Service]] = defaultdict(dict)
    owners: dict[ServicePort, Service] = {}
    shared: dict[ServicePort, list[Workload]] = defaultdict(list)
    for workload, services in services_by_workload(ctx.mesh).items():
        by_target: dict[tuple[str, str], list[Exposed]] = defaultdict(list)
        for service in services:
            for port in service.ports:
                by_target[(_target(port), port.protocol)].append((service, port))
        for exposed in by_target.values():
            if len({port.port for _, port in exposed}) < 2:
                continue
            for service, port in exposed:
                others = [(s, p) for s, p in exposed if s is not service and p.port != port.port]
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
            f"Service {service.name!r} exposes targetPort {_target(port)} as port {port.port}, but Service "
            f"{other.name!r} exposes it as port {other_port.port}{more}; both select {describe(shared[port])}, "
            "and Istio needs one service port per target port of a workload",
            related=tuple(ctx.related(_declared_at(p), "conflicts with") for p in others),
        )


def _target(port: ServicePort) -> str:
    """The targetPort as written; unset (or 0) means the service port, as in Kubernetes."""
    if port.target_port in (None, 0, "", "0"):
        return str(port.port)
    return str(port.target_port)


def _declared_at(port: ServicePort) -> Origin:
    return port.origin.at("targetPort") if port.target_port is not None else port.origin.at("port")
