"""A route's backendRef names a Service that does not exist, or a port the Service does not expose.

## Why it matters
A backendRef that cannot be resolved makes the route's status say `ResolvedRefs: False`
(`BackendNotFound`), and the requests the weights would send to it fail (500, as the
Gateway API requires; Linkerd fails that share too): one backend of two at weight 50
fails half the requests. A port the Service does not expose has the same effect. A
RequestMirror backendRef that cannot be resolved mirrors nothing.

## Example
```yaml
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: store, namespace: shop}
spec:
  parentRefs: [{name: public, namespace: ingress}]
  rules:
  - backendRefs:
    - {name: store-v1, port: 8080, weight: 90}
    - {name: store-v2, port: 8000, weight: 10}   # store-v2 listens on 8080
```

## Fix
Correct the name or the port, or add the Service. A backendRef names a Service in the
route's namespace unless it sets `namespace` (which also needs a ReferenceGrant, see
MSH303). Unless `--closed-world` is given, a missing Service is reported as unresolved
(info) when the inputs say nothing about the Services of its namespace (no Service or
workload of it), or mention the namespace only through other Services (no Namespace
object) and hold none of a close name; backends of other kinds (ServiceImport, an
implementation's own kinds) are unresolved too: meshctl checks core Services only.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model import hosts
from meshctl.model.objects import Backend
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.gateway_api._common import (
    by_position,
    gateway_api_routes,
    is_core_service,
    missing_service,
)

RULE = Rule(
    "MSH302",
    "unknown-backend",
    Severity.ERROR,
    __doc__,
    reads=frozenset({"routes", "services", "workloads"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for route in gateway_api_routes(ctx.mesh.routes):
        for rule in route.rules:
            for backend in rule.backends:
                yield from _check(ctx, backend, "backendRef")
            for mirror in rule.mirrors:
                yield from _check(ctx, mirror, "mirror backendRef")


def _check(ctx: Analysis, backend: Backend, role: str) -> Iterator[Finding]:
    if not backend.host:
        return
    if not is_core_service(backend):
        yield RULE.on(
            backend.origin,
            f"{role} names {backend.kind} {backend.host!r}; meshctl resolves core Services only",
            unresolved=True,
        )
        return
    mesh = ctx.mesh
    parts = hosts.split_service_fqdn(backend.fqdn, mesh.domain)
    if parts is None:
        return
    name, ns = parts
    found = mesh.services_for(backend.fqdn)
    if not found:
        error, hint = missing_service(ctx, ns, name)
        if error:
            yield RULE.on(backend.host_origin, f"{role} names no Service '{ns}/{name}'" + hint)
        else:
            yield RULE.on(backend.host_origin, f"{role} names Service '{ns}/{name}'", unresolved=True)
        return
    service = min(found, key=lambda s: by_position(s.origin))
    if backend.port is None or not service.ports or service.port(backend.port) is not None:
        return
    ports = ", ".join(str(p.port) for p in service.ports)
    yield RULE.on(
        backend.origin.at("port"),
        f"{role} port {backend.port}: Service '{ns}/{name}' exposes {ports}",
        related=(ctx.related(service.origin, "see"),),
    )
