"""A route Linkerd reads uses a filter Linkerd does not support, so Linkerd ignores the whole route.

## Why it matters
Linkerd reads Gateway API `HTTPRoute` and `GRPCRoute` attached to a Service (GAMMA)
to route the meshed clients' requests. It supports only some filters: on an HTTPRoute
`RequestHeaderModifier`, `ResponseHeaderModifier` and `RequestRedirect`; on a
GRPCRoute the two header modifiers. When a rule (or one of its backendRefs) uses any other filter (`URLRewrite`,
`RequestMirror`, `ExtensionRef`, `CORS`, `ExternalAuth`), Linkerd's policy controller
fails to convert the route and drops **all** of it (a "Failed to convert route"
warning in its log): none of its rules, matches, weights or timeouts apply, and the
Service's traffic goes by its other routes or to the Service itself. The route still
looks accepted. `CORS` and `ExternalAuth` are newer than Gateway API v1.2.1: Linkerd
2.20 (the newest, assumed here) ignores a route using them; earlier versions' webhook
rejects it.

Linkerd's own HTTPRoute (`policy.linkerd.io`) admits only supported filters (its
schema rejects the others), so only Gateway API routes are checked, and only when the
inputs show Linkerd runs there: the Service's or the route's namespace is annotated
`linkerd.io/inject: enabled`, the Service's pods are meshed, or the route carries
Linkerd annotations. (Istio implements these filters.)

## Example
```yaml
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: books-v2-canary, namespace: booksapp}
spec:
  parentRefs: [{group: "", kind: Service, name: books, port: 7002}]
  rules:
  - matches: [{headers: [{name: x-canary, value: "true"}]}]
    filters:
    - type: URLRewrite                  # Linkerd drops the whole route
      urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}}
    backendRefs: [{name: books-v2, port: 7002}]
```

## Fix
Remove the filter or move it: rewrite paths in the application or at the ingress
gateway, and mirror traffic with a tool that supports it. Keep the other rules in a
route of their own so they apply.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import Route, Workload
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.gateway_api._pending import backend_filters
from meshctl.rules.linkerd._linkerd import GATEWAY_ROUTE_KINDS, INJECT, is_service_parent, listed

RULE = Rule(
    "MSH326", "route-filter-disables-route", Severity.ERROR, __doc__,
    reads=frozenset({"routes", "services", "workloads"}),
)

# The newest Linkerd this rule describes; what each unsupported filter does there.
LINKERD_VERSION = "2.20"
_NOT_IMPLEMENTED = "not implemented"
_TOO_NEW = "newer than Gateway API v1.2.1, the newest Linkerd reads; before 2.20 its webhook rejects the route"
UNSUPPORTED: dict[str, dict[str, str]] = {
    "HTTPRoute": {
        "URLRewrite": _NOT_IMPLEMENTED,
        "RequestMirror": _NOT_IMPLEMENTED,
        "ExtensionRef": _NOT_IMPLEMENTED,
        "CORS": _TOO_NEW,
        "ExternalAuth": _TOO_NEW,
    },
    "GRPCRoute": {
        "RequestMirror": _NOT_IMPLEMENTED,
        "ExtensionRef": _NOT_IMPLEMENTED,
    },
}


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    if not ctx.memo("linkerd.present", lambda: _linkerd_present(mesh)):
        return  # nothing in the inputs says Linkerd runs: Istio (or another mesh) reads the routes
    for route in mesh.routes:
        if route.source_kind not in GATEWAY_ROUTE_KINDS:
            continue
        if not any(is_service_parent(p) for p in route.parents):
            continue
        table = UNSUPPORTED[route.source_kind]
        found = list(_unsupported(route, table))
        if not found or not _linkerd_runs(mesh, route):
            continue
        where, kind = found[0]
        others = sorted({k for _, k in found[1:]} - {kind})
        also = f"; the route also uses {listed(others)}" if others else ""
        count = len(route.rules)
        lost = f"none of its {count} rules apply" if count != 1 else "its rule never applies"
        yield RULE.on(
            where,
            f"Linkerd {LINKERD_VERSION} does not support filter {kind} ({table[kind]}{also}): its policy "
            f"controller drops the whole {route.source_kind}, so {lost}",
        )


def _unsupported(route: Route, table: dict[str, str]) -> Iterator[tuple[Origin, str]]:
    """(the filter's type field, the filter) for each filter Linkerd does not support, in order."""
    for rule in route.rules:
        for j, kind in enumerate(rule.filters):
            if kind in table:
                yield rule.origin.at("filters", j, "type"), kind
        for backend in rule.backends:
            for j, kind in enumerate(backend_filters(backend)):
                if kind in table:
                    yield backend.origin.at("filters", j, "type"), kind


def _linkerd_present(mesh: MeshModel) -> bool:
    """Anything in the inputs says Linkerd runs: injection, meshed pods, Linkerd route annotations."""
    return (
        any(n.annotations.get(INJECT) in ("enabled", "ingress") for n in mesh.namespaces.values())
        or any(_meshed(w) for w in mesh.workloads)
        or any("linkerd.io/" in key for r in mesh.routes for key in r.annotations)
    )


def _linkerd_runs(mesh: MeshModel, route: Route) -> bool:
    """The inputs show Linkerd's proxies read this route: annotations, injection, meshed pods."""
    if any("linkerd.io/" in key for key in route.annotations):
        return True
    if _injected(mesh, route.namespace):
        return True
    for parent in route.parents:
        if not is_service_parent(parent):
            continue
        if _injected(mesh, parent.namespace):
            return True
        service = mesh.service(parent.name, parent.namespace)
        if service is not None and any(_meshed(w) for w in mesh.workloads_of(service)):
            return True
    return False


def _injected(mesh: MeshModel, namespace: str) -> bool:
    found = mesh.namespaces.get(namespace)
    return found is not None and found.annotations.get(INJECT) in ("enabled", "ingress")


def _meshed(workload: Workload) -> bool:
    return workload.has_linkerd_proxy or workload.annotations.get(INJECT) in ("enabled", "ingress")
