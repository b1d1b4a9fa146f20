"""A reference across namespaces has no ReferenceGrant in the target namespace allowing it.

## Why it matters
Gateway API lets an object refer into another namespace only when that namespace
agrees: a ReferenceGrant *in the target namespace* must list the referring kind and
namespace in `from` (group, kind, namespace) and the target's kind in `to` (group,
kind, and optionally its name). Without one, a route's cross-namespace backendRef is
not resolved (`ResolvedRefs: False`, reason `RefNotPermitted`) and the requests it
would carry fail with 500; a Gateway listener whose `tls.certificateRefs` names a
Secret in another namespace gets no certificate and is not programmed. A ReferenceGrant
in the route's own namespace, or one whose `from` names another kind (HTTPRoute vs
GRPCRoute) or namespace, does not count. A GAMMA route's backendRef to the very
Service it is attached to (a consumer route) needs no grant. Attaching to a Gateway in
another namespace is not governed by ReferenceGrant but by the listener's
`allowedRoutes` (MSH305).

## Example
```yaml
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: store, namespace: web}
spec:
  parentRefs: [{name: public, namespace: ingress}]
  rules:
  - backendRefs: [{name: store, namespace: shop, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: allow-web, namespace: shop}
spec:
  from: [{group: gateway.networking.k8s.io, kind: GRPCRoute, namespace: web}]   # not HTTPRoute
  to: [{group: "", kind: Service}]
```

## Fix
Add (or extend) a ReferenceGrant in the target namespace whose `from` names the
referring kind and namespace and whose `to` names the target's kind (and name, to
allow only that object). Linkerd does not enforce ReferenceGrants for mesh routes, but
Istio and the Gateway API do. A target namespace whose Services, workloads and
ReferenceGrants are not among the inputs is reported as unresolved (info) unless
`--closed-world` is given.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Related, Severity
from meshctl.model import hosts
from meshctl.model.objects import Backend, Gateway, ReferenceGrant, Route
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.gateway_api._common import (
    CORE_GROUPS,
    GROUP,
    by_position,
    gateway_api_gateways,
    gateway_api_routes,
    is_core_service,
    is_service_parent,
    services_unknown,
)
from meshctl.rules.gateway_api._pending import backend_namespace

RULE = Rule(
    "MSH303",
    "missing-reference-grant",
    Severity.ERROR,
    __doc__,
    reads=frozenset({"routes", "gateways", "reference_grants", "services", "workloads"}),
)


def _group(group: str) -> str:
    return "" if group in CORE_GROUPS else group


class _Grants:
    """ReferenceGrants by the namespace they live in (the target namespace)."""

    def __init__(self, grants: list[ReferenceGrant]) -> None:
        self.by_ns: dict[str, list[ReferenceGrant]] = defaultdict(list)
        for grant in sorted(grants, key=lambda g: by_position(g.origin)):
            self.by_ns[grant.namespace].append(grant)

    def allows(self, frm: tuple[str, str, str], target_ns: str, to: tuple[str, str, str]) -> bool:
        from_group, from_kind, from_ns = frm
        to_group, to_kind, to_name = _group(to[0]), to[1], to[2]
        for grant in self.by_ns.get(target_ns, ()):
            if not any(
                _group(g) == from_group and k == from_kind and n == from_ns for g, k, n in grant.from_
            ):
                continue
            if any(_group(g) == to_group and k == to_kind and (n is None or n == to_name) for g, k, n in grant.to):
                return True
        return False


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    grants = _Grants(mesh.reference_grants)
    for route in gateway_api_routes(mesh.routes):
        parents = {(p.namespace, p.name) for p in route.parents if is_service_parent(p)}
        for rule in route.rules:
            for backend in (*rule.backends, *rule.mirrors):
                yield from _backend(ctx, grants, route, backend, parents)
    for gateway in gateway_api_gateways(mesh.gateways):
        yield from _certificates(ctx, grants, gateway)


def _target(backend: Backend, route: Route, domain: str) -> tuple[str, str, str, str] | None:
    """(group, kind, namespace, name) of what the backendRef names."""
    if is_core_service(backend):
        parts = hosts.split_service_fqdn(backend.fqdn, domain)
        return None if parts is None else ("", "Service", parts[1], parts[0])
    kind, _, group = backend.kind.partition(".")
    return group, kind, backend_namespace(backend, route), backend.host


def _backend(
    ctx: Analysis, grants: _Grants, route: Route, backend: Backend, parents: set[tuple[str, str]]
) -> Iterator[Finding]:
    if not backend.host:
        return
    target = _target(backend, route, ctx.mesh.domain)
    if target is None:
        return
    group, kind, ns, name = target
    if ns == route.namespace or (is_core_service(backend) and (ns, name) in parents):
        return
    frm = (GROUP, route.source_kind, route.namespace)
    if grants.allows(frm, ns, (group, kind, name)):
        return
    shown = f"{kind} '{ns}/{name}'"
    yield from _report(
        ctx, grants, backend.origin.at("namespace"), f"backendRef to {shown}", route.source_kind,
        route.namespace, ns,
    )


def _certificates(ctx: Analysis, grants: _Grants, gateway: Gateway) -> Iterator[Finding]:
    for listener in gateway.listeners:
        for index, ref in enumerate(listener.credential_names):
            ns, _, name = ref.partition("/")
            if ns == gateway.namespace:
                continue
            if grants.allows((GROUP, "Gateway", gateway.namespace), ns, ("", "Secret", name)):
                continue
            yield from _report(
                ctx, grants, listener.origin.at("tls", "certificateRefs", index, "namespace"),
                f"certificateRef to Secret '{ns}/{name}'", "Gateway", gateway.namespace, ns,
            )


def _report(
    ctx: Analysis, grants: _Grants, origin: Origin, what: str, kind: str, from_ns: str, ns: str
) -> Iterator[Finding]:
    message = (
        f"{what} crosses namespaces ({from_ns} -> {ns}) and no ReferenceGrant in {ns!r} "
        f"allows it from {kind}s of {from_ns!r}"
    )
    if services_unknown(ctx, ns) and not grants.by_ns.get(ns):
        yield RULE.on(origin, message, unresolved=True)
        return
    misplaced = [
        grant for grant in grants.by_ns.get(from_ns, ())
        if any(g == GROUP and k == kind and n == from_ns for g, k, n in grant.from_)
    ]
    if misplaced:
        message += (
            f"; ReferenceGrant '{from_ns}/{misplaced[0].origin.ref.name}' is in the referring "
            "namespace, but a grant must live in the target's"
        )
    related: tuple[Related, ...] = tuple(
        ctx.related(grant.origin, "other references are granted by") for grant in grants.by_ns.get(ns, ())[:3]
    )
    yield RULE.on(origin, message, related=related)
