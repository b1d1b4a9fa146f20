"""A gateway route sends a host's traffic past the subset routing its mesh VirtualService defines.

## Why it matters
A VirtualService bound only to the `mesh` gateway programs the sidecars; it does not
apply at an ingress gateway. When a gateway-bound VirtualService routes to the host
without naming a subset, the gateway sends its requests to every pod of the host,
so the version pinning, canary split or header routing the mesh VirtualService
defines by subset does not apply to traffic that enters through the gateway. When
every subset the mesh routes use selects every pod of the host (a single version
deployed), the gateway reaches the same pods and nothing is reported.
This is what `istioctl analyze` reports as IST0140 (IngressRouteRulesNotAffected).

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bookinfo, namespace: bookinfo}
spec:
  hosts: ["bookinfo.example.com"]
  gateways: [bookinfo-gateway]
  http:
  - route:
    - destination: {host: reviews}      # reaches v1, v2 and v3 alike
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
```

## Fix
Route to the subsets in the gateway VirtualService too (the same split), or bind the
VirtualService that splits the host to the gateway as well (`gateways: [mesh,
bookinfo/bookinfo-gateway]`) and route the gateway host to it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model import hosts
from meshctl.model.mesh import selects
from meshctl.model.objects import Backend, Route, RouteRule
from meshctl.model.subsumption import MESH
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH142", "ingress-bypasses-subsets", Severity.WARNING, __doc__, istio_code="IST0140",
    reads=frozenset({"routes", "services", "workloads", "destination_policies"}),
)

Splits = dict[str, list[tuple[Route, Backend]]]


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    splits = _mesh_subset_routes(ctx.mesh.routes, ctx.mesh.domain)
    if not splits:
        return
    for route in ctx.mesh.routes:
        if route.source_kind != "VirtualService" or not any(p.kind != MESH for p in route.parents):
            continue
        for rule in route.rules:
            if not _applies_at_gateway(rule):
                continue
            for backend in rule.backends:
                found = [(r, b) for r, b in splits.get(backend.fqdn, ()) if r is not route]
                if backend.subset is None and found and not _same_pods(ctx, backend.fqdn, found):
                    yield _finding(ctx, backend, found)


def _same_pods(ctx: Analysis, fqdn: str, found: list[tuple[Route, Backend]]) -> bool:
    """Does every subset the mesh routes use select every pod of the host (bookinfo's
    `productpage` has v1 only)? Then the gateway reaches the very same pods. Only said
    when the Service, its pods and the subsets' DestinationRules are all known."""
    mesh = ctx.mesh
    pods = [w for service in mesh.services_for(fqdn) for w in mesh.workloads_of(service)]
    if not pods:
        return False
    policies = mesh.policies_for(fqdn)
    for name in {b.subset for _, b in found}:
        defined = [s for p in policies for s in p.subsets if s.name == name]
        if not defined or any(not selects(s.labels, w.labels) for s in defined for w in pods):
            return False
    return True


def _mesh_subset_routes(routes: list[Route], domain: str) -> Splits:
    """Host FQDN -> (mesh VirtualService for that host, its destination with a subset)."""
    out: Splits = defaultdict(list)
    for route in routes:
        if route.source_kind != "VirtualService" or not route.binds_mesh or not route.hosts:
            continue
        own = {hosts.fqdn(h, route.namespace, domain) for h in route.hosts}
        for rule in route.rules:
            if rule.protocol != "http" or not _applies_in_mesh(rule):
                continue
            for backend in rule.backends:
                if backend.subset and backend.fqdn in own:
                    out[backend.fqdn].append((route, backend))
    return out


def _applies_in_mesh(rule: RouteRule) -> bool:
    return not rule.matches or any(not m.gateways or MESH in m.gateways for m in rule.matches)


def _applies_at_gateway(rule: RouteRule) -> bool:
    return not rule.matches or any(not m.gateways or any(g != MESH for g in m.gateways) for m in rule.matches)


def _finding(ctx: Analysis, backend: Backend, found: list[tuple[Route, Backend]]) -> Finding:
    route = found[0][0]
    subsets = sorted({b.subset or "" for r, b in found if r is route})
    shown = f"{backend.host!r}" + (f" ({backend.fqdn})" if backend.fqdn != backend.host else "")
    message = (
        f"gateway traffic to {shown} has no subset, so it skips the subset routing of mesh "
        f"VirtualService {route.name}.{route.namespace} (subsets {', '.join(subsets)}): "
        f"that VirtualService does not apply at the gateway"
    )
    others = sorted({(r.namespace, r.name) for r, _ in found} - {(route.namespace, route.name)})
    if others:
        message += f"; VirtualService {', '.join(f'{n}.{ns}' for ns, n in others)} too"
    first: dict[int, Backend] = {}
    for r, b in found:
        first.setdefault(id(r), b)
    related = tuple(ctx.related(b.origin, "routes by subset:") for b in first.values())
    return RULE.on(backend.host_origin, message, related=related)
