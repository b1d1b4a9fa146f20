"""A ServiceProfile (or SMI TrafficSplit) makes Linkerd ignore its Service's HTTPRoutes and retry and timeout annotations.

## Why it matters
ServiceProfiles are Linkerd's legacy routing API and they still take precedence: while
a profile with routes (or `dstOverrides`) exists for a Service, the client proxies use
it and silently ignore every HTTPRoute and GRPCRoute attached to that Service, the
`retry.linkerd.io/*` and `timeout.linkerd.io/*` annotations of the Service and of its
routes, and its `balancer.linkerd.io/failure-accrual` circuit breaking. The
`linkerd-smi` extension implements a TrafficSplit by writing such a profile, so a
TrafficSplit has the same effect. The new configuration looks applied and does nothing.

A profile in the Service's namespace applies to every client; one in a client's
namespace applies to that namespace's clients, so it overrides the routes those
clients would use.

## Example
```yaml
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: books.booksapp.svc.cluster.local, namespace: booksapp}
spec:
  routes:
  - {name: GET /books.json, condition: {method: GET, pathRegex: /books\\.json}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: books-retries
  namespace: booksapp
  annotations: {retry.linkerd.io/http: 5xx}      # ignored while the profile exists
spec:
  parentRefs: [{group: "", kind: Service, name: books, port: 7002}]
  rules:
  - backendRefs: [{name: books, port: 7002}]
```

## Fix
Migrate the profile to the HTTPRoute (matches, weighted backendRefs) and annotations
(retries, timeouts), then delete the profile; or keep the profile and drop the routes
and annotations it overrides. A profile without routes and `dstOverrides` is not used
for routing and is not reported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from meshctl.diagnostics import Finding, Related, Severity
from meshctl.model.objects import Route, Service
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.linkerd._linkerd import (
    ACCRUAL_PREFIX,
    RETRY_PREFIX,
    TIMEOUT_PREFIX,
    is_service_parent,
    linkerd_reads,
    listed,
    profiled_service,
    route_label,
)

RULE = Rule(
    "MSH325", "service-profile-overrides-routes", Severity.WARNING, __doc__,
    reads=frozenset({"service_profiles", "traffic_splits", "routes", "services"}),
)
PREFIXES = (RETRY_PREFIX, TIMEOUT_PREFIX, ACCRUAL_PREFIX)


@dataclass(frozen=True)
class _Overridden:
    routes: tuple[Route, ...]
    annotations: tuple[str, ...]  # the Service's
    service: Service | None


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    if not mesh.service_profiles and not mesh.traffic_splits:
        return
    routes: dict[tuple[str, str], list[Route]] = defaultdict(list)
    for route in mesh.routes:
        if linkerd_reads(route):
            keys = {(p.namespace, p.name) for p in route.parents if is_service_parent(p)}
            for key in sorted(keys):
                routes[key].append(route)
    for profile in mesh.service_profiles:
        target = profiled_service(profile.name)
        if target is None or profile.route_count == 0:
            continue
        name, namespace, _ = target
        found = _overridden(ctx, routes, name, namespace, profile.namespace)
        if found is None:
            continue
        clients = "" if profile.namespace == namespace else f" for clients in namespace {profile.namespace!r}"
        yield _finding(
            ctx, profile.origin.at("metadata", "name"),
            f"ServiceProfile {profile.name!r} has routes, so Linkerd ignores{clients}", name, found,
        )
    for split in mesh.traffic_splits:
        found = _overridden(ctx, routes, split.service, split.namespace, split.namespace)
        if found is None:
            continue
        yield _finding(
            ctx, split.origin.at("spec", "service"),
            "the linkerd-smi extension implements this TrafficSplit with a ServiceProfile, so Linkerd ignores",
            split.service, found,
        )


def _overridden(
    ctx: Analysis, routes: dict[tuple[str, str], list[Route]], name: str, namespace: str, profile_ns: str
) -> _Overridden | None:
    """What the profile hides: routes whose clients it also covers, and the Service's annotations."""
    shadowed = tuple(
        r for r in routes.get((namespace, name), [])
        if profile_ns == namespace or r.namespace in (namespace, profile_ns)
    )
    service = ctx.mesh.service(name, namespace)
    annotations = tuple(
        sorted(k for k in (service.annotations if service else {}) if k.startswith(PREFIXES))
    )
    if not shadowed and not annotations:
        return None
    return _Overridden(shadowed, annotations, service)


def _finding(ctx: Analysis, where: Origin, prefix: str, name: str, found: _Overridden) -> Finding:
    parts = []
    if found.routes:
        parts.append("the " + listed([route_label(r) for r in found.routes], 3))
    if found.annotations:
        parts.append("the annotations " + listed(found.annotations, 3))
    related: list[Related] = [ctx.related(r.origin, "ignored:") for r in found.routes[:3]]
    if found.annotations and found.service is not None:
        related.append(ctx.related(found.service.origin.at("metadata", "annotations"), "ignored annotations of"))
    return RULE.on(
        where,
        f"{prefix} {' and '.join(parts)} of Service {name!r}; migrate the profile to the routes "
        "or remove what it overrides",
        related=tuple(related),
    )
