"""A route's destination has no port, and its Service or ServiceEntry exposes several.

## Why it matters
When a destination leaves out `port`, Istio takes the host's only port if it has one;
otherwise it uses the port the request arrived on. That works for a sidecar whose
listener port is one of the destination's ports, but not at a gateway (the listener is
the gateway's 80 or 443) nor when the destination host differs from the routed one: the
proxy then looks for a cluster that does not exist and answers 503 (`NC`/`NR`). Which
port the traffic lands on is left to chance. This is what `istioctl analyze` reports
as IST0112 (VirtualServiceDestinationPortSelectorRequired); unlike istioctl, meshctl
stays silent on a mesh-only VirtualService routing a host to itself, where the
sidecar's listener port always picks the right port (istioctl's most reported noise).

## Example
```yaml
apiVersion: v1
kind: Service
metadata: {name: checkout, namespace: shop}
spec:
  selector: {app: checkout}
  ports:
  - {name: http, port: 8080}
  - {name: grpc, port: 9090}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: checkout, namespace: shop}
spec:
  hosts: [shop.example.com]
  gateways: [public]
  http:
  - route:
    - destination: {host: checkout}     # 8080 or 9090?
```

## Fix
Set `destination.port.number` to one of the ports the message lists.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model import hosts
from meshctl.model.objects import Route
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.references._destinations import destinations, served_by

RULE = Rule(
    "MSH104", "destination-port-required", Severity.ERROR, __doc__, istio_code="IST0112",
    reads=frozenset({"routes", "services", "service_entries"}),
)


def _listener_port_decides(ctx: Analysis, route: Route, fqdn: str) -> bool:
    """A sidecar routing one of the route's own hosts uses the port the request came in on."""
    mesh_only = all(p.kind == "mesh" for p in route.parents)
    return mesh_only and fqdn in {hosts.fqdn(h, route.namespace, ctx.mesh.domain) for h in route.hosts}


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for route, backend, role in destinations(ctx.mesh):
        if backend.port is not None or _listener_port_decides(ctx, route, backend.fqdn):
            continue
        served = served_by(ctx.mesh, route, backend.fqdn)
        if served is None:
            continue  # an unknown host is MSH101's finding
        if served.fewest_ports < 2:
            continue  # one port (or none): Istio takes it
        yield RULE.on(
            backend.host_origin,
            f"{role} {backend.host!r} names no port, but {served.describe()} exposes several "
            f"({', '.join(served.ports.values())}): set port.number to one of them",
            related=(ctx.related(served.origin, "ports are declared by"),),
        )
