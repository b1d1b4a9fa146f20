"""A VirtualService is bound to a Gateway none of whose servers accept its hosts.

## Why it matters
A gateway serves a VirtualService's routes only for the hosts its servers list, and a
server host `ns/host` admits only VirtualServices of namespace `ns` (`*/` any namespace,
`./` the Gateway's own; no prefix means `*/`). When no server host matches any of the
VirtualService's hosts, or matches them only for other namespaces, the gateway never
uses the VirtualService and requests for those hosts get 404 at the ingress. This is
what `istioctl analyze` reports as IST0132 (VirtualServiceHostNotFoundInGateway).

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: ingress}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["./*.example.com"]     # only VirtualServices of namespace ingress
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: shop}
spec:
  hosts: [shop.example.org]        # .org, and namespace shop
  gateways: [ingress/public]
  http:
  - route:
    - destination: {host: shop}
```

## Fix
Add the host to a server of the Gateway (with a namespace part that admits the
VirtualService's namespace, e.g. `shop/shop.example.com` or `*/shop.example.com`), or
correct the VirtualService's hosts or gateway.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model import hosts
from meshctl.model.objects import Route
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.references._gateway_refs import (
    ISTIO_KIND,
    BoundServer,
    GatewayRef,
    bound_servers,
    gateway_refs,
)

RULE = Rule(
    "MSH108",
    "host-not-in-gateway",
    Severity.WARNING,
    __doc__,
    istio_code="IST0132",
    reads=frozenset({"routes", "gateways"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    for route in mesh.routes:
        if route.source_kind != "VirtualService" or not route.hosts:
            continue
        for ref in gateway_refs(route):
            if not ref.in_spec:
                continue
            servers = bound_servers(mesh, ref)
            if servers:  # an unknown gateway is MSH105's concern
                yield from _check(ctx, route, ref, servers)


def _server_hosts(server: BoundServer) -> list[tuple[str, str]]:
    """(namespace pattern, host) for each host the server accepts; "*" is any namespace."""
    gateway, listener = server.gateway, server.listener
    if gateway.source_kind == ISTIO_KIND:
        return [hosts.split_gateway_host(h, gateway.namespace) for h in listener.hosts]
    # allowedRoutes: Same admits the Gateway's namespace; All, and Selector (labels unknown), any
    allowed = gateway.namespace if listener.allowed_namespaces == "Same" else "*"
    return [(allowed, h) for h in listener.hosts]


def _check(
    ctx: Analysis, route: Route, ref: GatewayRef, servers: list[BoundServer]
) -> Iterator[Finding]:
    domain = ctx.mesh.domain
    names = {name for h in route.hosts for name in (h, hosts.fqdn(h, route.namespace, domain))}
    offered: list[str] = []
    other_namespaces: list[str] = []
    for server in servers:
        for ns_pattern, host in _server_hosts(server):
            offered.append(host if ns_pattern == "*" else f"{ns_pattern}/{host}")
            if not any(hosts.overlap(host, name) for name in names):
                continue
            if ns_pattern in ("*", route.namespace):
                return
            other_namespaces.append(ns_pattern)
    gateway = servers[0].gateway
    if gateway.source_kind == ISTIO_KIND:
        named, parts = f"Gateway {ref.key!r}", "server"
    else:
        named, parts = (
            f"Gateway API Gateway '{gateway.namespace}/{gateway.name}' (behind {ref.shown!r})",
            "listener",
        )
    wanted = ", ".join(repr(h) for h in route.hosts)
    if other_namespaces:
        allowed = ", ".join(repr(n) for n in sorted(set(other_namespaces)))
        message = (
            f"{named} accepts {wanted} only for VirtualServices in namespace {allowed}, "
            f"not {route.namespace!r}"
        )
    else:
        shown = sorted(set(offered))
        listed = ", ".join(repr(h) for h in shown[:5]) + (", ..." if len(shown) > 5 else "")
        message = (
            f"no {parts} of {named} accepts {wanted}; its {parts}s accept {listed or 'no host'}"
        )
    yield RULE.on(ref.origin, message, related=(ctx.related(gateway.origin, "bound to"),))
