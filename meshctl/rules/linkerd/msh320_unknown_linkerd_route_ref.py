"""A Linkerd HTTPRoute names a parent Server or Service, or a backend Service or port, that does not exist.

## Why it matters
Linkerd's own `HTTPRoute` (`policy.linkerd.io`) is attached to a `Server` (inbound:
the target of per-route AuthorizationPolicies) or to a `Service` (outbound routing,
like a Gateway API route attached to a Service). A parent that does not exist leaves
the route attached to nothing: its authorization or routing silently never applies.
A `kind: Service` parent without `group: core` is the same mistake in disguise: this
CRD fills in `group: policy.linkerd.io`, which has no Service kind, so Linkerd does
not read it as a Service. A parent `port` the Service does not have attaches the route
to no port. A backend Service that does not exist, or a backend `port` the Service does
not declare, fails the requests sent to it (Linkerd 2.19 and later refuse requests to
undeclared Service ports), for that backend's share of the weight.

## Example
```yaml
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: authors-get, namespace: booksapp}
spec:
  parentRefs:
  - {group: policy.linkerd.io, kind: Server, name: authors-srv}   # the Server is authors-server
  rules:
  - matches: [{path: {value: /authors.json}, method: GET}]
---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: books-split, namespace: booksapp}
spec:
  parentRefs: [{group: core, kind: Service, name: books, port: 7002}]
  rules:
  - backendRefs:
    - {name: books, port: 7002}
    - {name: books-v2, port: 7020}    # books-v2 listens on 7002
```

## Fix
Correct the name or port, or add the missing Server or Service. A missing one is an
error when the inputs own its namespace (a Namespace object) or one of a close name
suggests a typo; otherwise the inputs may simply not hold it (documentation snippets,
one team's part of a repository) and it is reported as unresolved (info), unless
`--closed-world` is given. Gateway API routes (`gateway.networking.k8s.io`), which
Linkerd reads too when a Service is their parent, are checked by MSH300 and MSH302.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import Backend, ParentRef, Route, Service
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.linkerd._linkerd import (
    CORE_GROUPS,
    LINKERD_ROUTE,
    is_server_parent,
    is_service_parent,
    listed,
    missing,
    same,
    server_index,
)

RULE = Rule(
    "MSH320", "unknown-linkerd-route-ref", Severity.ERROR, __doc__,
    reads=frozenset({"routes", "services", "linkerd_servers"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for route in ctx.mesh.routes:
        if route.source_kind != LINKERD_ROUTE:
            continue  # Gateway API routes: MSH300 and MSH302
        outbound = False
        for parent in route.parents:
            if is_service_parent(parent):
                outbound = True
                yield from _service_parent(ctx, parent)
            elif is_server_parent(parent):
                yield from _server_parent(ctx, parent)
        if not outbound:
            continue  # a Server-parented route has no backends Linkerd uses
        for rule in route.rules:
            for backend in rule.backends:
                if backend.kind == "Service":
                    yield from _backend(ctx, route, backend)


def _service_parent(ctx: Analysis, parent: ParentRef) -> Iterator[Finding]:
    if parent.group.lower() not in CORE_GROUPS:
        yield RULE.on(
            parent.origin.at("group"),
            f"parentRef kind Service has group {parent.group!r} (what the CRD fills in when group is "
            "omitted), so Linkerd does not read it as a Service and the route attaches to nothing; "
            "write group: core",
        )
        return
    service = ctx.mesh.service(parent.name, parent.namespace)
    if service is None:
        yield missing(
            RULE, ctx, parent.origin.at("name"), "parentRef Service", parent.name, parent.namespace,
            _service_names(ctx, parent.namespace), "so the route applies to nothing", "Services",
        )
        return
    if parent.port is not None and not _has_port(service, parent.port):
        yield RULE.on(
            parent.origin.at("port"),
            f"parentRef port {parent.port} is not a port of Service {service.name!r} "
            f"({_ports(service)}), so the route applies to no port of it",
            related=(ctx.related(service.origin, "defined by"),),
        )


def _server_parent(ctx: Analysis, parent: ParentRef) -> Iterator[Finding]:
    if not same(parent.group, "policy.linkerd.io"):
        return  # a Server of another group is no Linkerd Server: the route is misconfigured elsewhere
    index = server_index(ctx)
    if index.server(parent.namespace, parent.name) is None:
        yield missing(
            RULE, ctx, parent.origin.at("name"), "parentRef Server", parent.name, parent.namespace,
            index.names(parent.namespace),
            "so the route (and any AuthorizationPolicy targeting it) applies to nothing", "Servers",
        )


def _backend(ctx: Analysis, route: Route, backend: Backend) -> Iterator[Finding]:
    services = ctx.mesh.services_for(backend.fqdn)
    namespace = backend.fqdn.split(".")[1] if backend.fqdn.count(".") >= 2 else route.namespace
    if not services:
        yield missing(
            RULE, ctx, backend.host_origin, "backendRef Service", backend.host, namespace,
            _service_names(ctx, namespace), "so requests sent to this backend fail", "Services",
        )
        return
    service = services[0]
    if backend.port is not None and not _has_port(service, backend.port):
        yield RULE.on(
            backend.origin.at("port"),
            f"backendRef port {backend.port} is not a port of Service {service.name!r} ({_ports(service)}); "
            "requests sent to this backend fail",
            related=(ctx.related(service.origin, "defined by"),),
        )


def _service_names(ctx: Analysis, namespace: str) -> list[str]:
    return sorted(s.name for s in ctx.mesh.services_in(namespace))


def _has_port(service: Service, port: int) -> bool:
    if service.type == "ExternalName" or not service.ports:
        return True  # nothing declared to compare with
    return service.port(port) is not None


def _ports(service: Service) -> str:
    return "ports: " + listed(str(p.port) for p in service.ports)
