"""Services that select the same workload expose one target port as different service ports.

## Why it matters
The sidecar builds one inbound filter chain per container port of its pod. When two
Services select the same pods and send traffic to the same `targetPort` under different
port numbers (`reviews` port 9080 and `reviews-public` port 80, both to 9080), that chain
is built from only one of them (the oldest): its protocol, and the Service name that
metrics and access logs report (`destination_service`), apply to the traffic of both.
This is what `istioctl analyze` reports as IST0137 (DeploymentConflictingPorts). A
numeric and a named `targetPort` are compared as written, as Istio does; two ports of
one Service sharing a target port are not reported on their own.

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

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import ServicePort
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.conflicts._selected_workloads import port_clashes, target_port
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH131", "conflicting-service-ports", Severity.WARNING, __doc__, istio_code="IST0137",
    reads=frozenset({"services", "workloads"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for clash in port_clashes(ctx, _target_key, lambda a, b: a.port != b.port):
        port, service = clash.port, clash.service
        other_port, other, more = clash.first_other()
        message = (
            f"Service {service.name!r} exposes targetPort {target_port(port)} as port {port.port}, "
            f"but Service {other.name!r} exposes it as port {other_port.port}{more}; both select "
            f"{clash.describe()}, whose sidecar takes the settings of that target port from only "
            "one of them"
        )
        if not clash.in_mesh:
            message += f", if namespace {service.namespace!r} injects Istio sidecars"
        yield RULE.on(
            _declared_at(port), message, unresolved=not clash.in_mesh,
            related=tuple(
                ctx.related(_declared_at(p), "conflicts with") for p in clash.others
            ),
        )


def _target_key(port: ServicePort) -> tuple[str, str]:
    """Ports are compared by target port, TCP and UDP apart."""
    return (target_port(port), port.protocol)


def _declared_at(port: ServicePort) -> Origin:
    return port.origin.at("targetPort" if port.target_port is not None else "port")
