"""An Ingress and a mesh gateway (Istio Gateway or Gateway API Gateway) both serve one host.

## Why it matters
An Ingress is served by its controller's load balancer, a Gateway by the gateway
deployment behind its own Service: two entry points with two addresses. Which one a
client reaches for the host depends only on where the host's DNS record (or the
external load balancer) points; the other one's routes, TLS certificate, retries and
authorization never apply to those clients, and the two drift apart. This is the normal
state in the middle of a migration from Ingress to a mesh gateway, and the usual cause
of "my VirtualService does nothing". When the Ingress is of Istio's class and the Istio
Gateway runs on the same ingress gateway pods, both are one entry point: their routes
for the host are merged into one table and, for requests both match, the one created
first wins.

## Example
```yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: web}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: web}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [shop.example.com]
```

## Fix
Decide which entry point owns the host: point DNS at it and remove the host from the
other (delete the Ingress rule once the Gateway serves the host, or the reverse). During
a migration, give the new entry point a temporary host name (`new.shop.example.com`)
until it is switched over. Only named hosts are compared: an Ingress rule without host
and a Gateway server for `*` are not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.lower.ingress import istio_gateway_selector
from meshctl.model import hosts
from meshctl.model.objects import Gateway, Route
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.gateway_api._common import by_position
from meshctl.rules.ingress._ingress import Entry, entries, rule_host_origin

RULE = Rule(
    "MSH346", "ingress-beside-mesh-gateway", Severity.WARNING, __doc__,
    reads=frozenset({"gateways", "gateway_classes", "routes"}),
)

MESH_KINDS = {"IstioGateway": "Istio Gateway", "Gateway": "Gateway API Gateway"}


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    gateways = sorted((g for g in ctx.mesh.gateways if g.source_kind in MESH_KINDS), key=lambda g: by_position(g.origin))
    if not gateways:
        return
    named = [(g, _hosts(g)) for g in gateways]
    for entry in entries(ctx):
        for gateway, served in named:
            hit = _overlap(entry, served)
            if hit is None:
                continue
            route, host, other = hit
            yield RULE.on(
                rule_host_origin(route),
                f"host {host!r} of {entry.label} ({entry.class_label()}) is also served by "
                f"{MESH_KINDS[gateway.source_kind]} {gateway.name}.{gateway.namespace} ({other!r}): "
                + _which(ctx, entry, gateway),
                related=(ctx.related(gateway.origin, "the gateway:"),),
            )


def _hosts(gateway: Gateway) -> list[str]:
    """The named hosts of the gateway's HTTP and HTTPS servers (not ``*``)."""
    out: list[str] = []
    for listener in gateway.listeners:
        if listener.protocol not in ("HTTP", "HTTPS", "HTTP2", "GRPC"):
            continue
        for host in listener.hosts:
            name = host.partition("/")[2] if "/" in host else host
            if name and name != "*" and name not in out:
                out.append(name)
    return out


def _overlap(entry: Entry, served: list[str]) -> tuple[Route, str, str] | None:
    for route in entry.rules:
        for host in route.hosts:
            for other in served:
                if hosts.overlap(host, other):
                    return route, host, other
    return None


def _which(ctx: Analysis, entry: Entry, gateway: Gateway) -> str:
    same_pods = gateway.source_kind == "IstioGateway" and gateway.selector == istio_gateway_selector(ctx.mesh)
    if entry.istio and same_pods:
        return ("both run on Istio's ingress gateway: on a port they share, their routes for the host are merged "
                "and, for requests both match, the one created first wins")
    return ("they are different entry points (different load balancers), so clients reach the one the host's DNS "
            "points at and the other's routes, TLS and policies never apply to them")
