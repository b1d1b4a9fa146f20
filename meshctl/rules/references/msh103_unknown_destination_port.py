"""A route sends traffic to a port that the destination's Service or ServiceEntry does not expose.

## Why it matters
`destination.port.number` picks the Service port (not the container's `targetPort`).
The sidecar builds one cluster per host and Service port, so a port the host does not
expose has no cluster and every request the route sends there fails with 503 (`NR`);
a mirror to it mirrors nothing. Using the container port instead of the Service port
is the most common cause. This is what `istioctl analyze` reports as IST0101
(ReferencedResourceNotFound, "host:port").

## Example
```yaml
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: bookinfo}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 80, targetPort: 9080}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination:
        host: reviews
        port: {number: 9080}    # the container port; the Service exposes 80
```

## Fix
Use one of the ports the Service (or ServiceEntry) lists, which the message names,
or add the port to the Service. Leave `port` out when the host exposes a single port.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import Backend
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.references._destinations import (
    Served,
    destination_field,
    destinations,
    served_by,
)

RULE = Rule(
    "MSH103", "unknown-destination-port", Severity.ERROR, __doc__, istio_code="IST0101",
    reads=frozenset({"routes", "services", "service_entries"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for route, backend, role in destinations(ctx.mesh):
        if backend.port is None:
            continue
        served = served_by(ctx.mesh, route, backend.fqdn)
        if served is None:
            continue  # an unknown host is MSH101's finding
        ports = served.ports
        if not ports or backend.port in ports:
            continue  # a host without declared ports takes any (ExternalName, headless)
        message = (
            f"{role} port {backend.port} is not a port of {served.describe()}; "
            f"it exposes {', '.join(ports.values())}"
        )
        message += _target_port_hint(served, backend)
        yield RULE.on(
            destination_field(backend, "port", "number"), message,
            related=(ctx.related(served.origin, "ports are declared by"),),
        )


def _target_port_hint(served: Served, backend: Backend) -> str:
    """Did the route name the container port behind a Service port?"""
    for service in served.services:
        for port in service.ports:
            if port.target_port == backend.port and port.port != backend.port:
                return (
                    f" ({backend.port} is the targetPort of Service port {port.port}: "
                    f"use {port.port})"
                )
    return ""
