"""A route sends traffic to a Service that has no ready endpoints.

## Why it matters
A Service with a selector is only as good as its ready pods: with none (every pod
failing its readiness probe, the Deployment scaled to zero, a selector that matches
nothing running) the proxies and gateways that route to it answer 503 `UH` (no
healthy upstream) for every request, although every manifest is valid. Reading the
EndpointSlices shows it before users do.

Only Services that a VirtualService, an HTTPRoute or another route sends traffic to
are reported, once per route and Service, on the route's destination.

## Example
```
VirtualService reviews.shop -> Service reviews.shop: EndpointSlices list 3 addresses,
none ready (the pods fail their readiness probe)
```

## Fix
Find why the pods are not ready (`kubectl describe pod`, `kubectl get endpointslices -l
kubernetes.io/service-name=reviews -n shop`), or route elsewhere until they are.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import Service
from meshctl.rules.base import Rule
from meshctl.rules.live._live import LiveAnalysis, live_check

RULE = Rule("MSH504", "routed-service-without-ready-endpoints", Severity.ERROR, __doc__)


@live_check(RULE, needs=("/Service", "discovery.k8s.io/EndpointSlice"))
def check(ctx: LiveAnalysis) -> Iterator[Finding]:
    mesh, state = ctx.mesh, ctx.state
    endpoints: dict[tuple[str, str], list[bool]] = {}
    for group in mesh.endpoints:
        endpoints.setdefault((group.namespace, group.service), []).extend(e.ready for e in group.endpoints)
    seen: set[tuple[str, str, str, str]] = set()
    for route in mesh.routes:
        for rule in route.rules:
            for backend in rule.backends:
                for service in mesh.services_for(backend.fqdn):
                    if not _judged(service) or not state.in_scope(service.namespace):
                        continue
                    key = (route.namespace, route.name, service.namespace, service.name)
                    if key in seen:
                        continue
                    seen.add(key)
                    addresses = endpoints.get((service.namespace, service.name), [])
                    if any(addresses):
                        continue
                    detail = (
                        f"its EndpointSlices list {len(addresses)} address{'es' if len(addresses) != 1 else ''}, none ready"
                        if addresses else "it has no endpoints at all (no running pod matches its selector)"
                    )
                    yield RULE.on(
                        backend.host_origin,
                        f"{route.source_kind} {route.name} routes to Service {service.name}.{service.namespace}, "
                        f"but {detail}: requests fail with 503 (no healthy upstream)",
                    )


def _judged(service: Service) -> bool:
    return bool(service.selector) and service.type != "ExternalName"
