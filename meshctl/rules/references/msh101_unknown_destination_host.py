"""A route sends traffic to a host that no Service or ServiceEntry defines.

## Why it matters
The sidecar has no cluster for that host, so every request the route sends there
fails with 503 (`NR`/`UH`), and a mirror to it silently mirrors nothing. The most
common causes are a typo, a short name used from another namespace (short names are
resolved in the *route's* namespace), and a missing ServiceEntry for an external host.
This is what `istioctl analyze` reports as IST0101 (ReferencedResourceNotFound).

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reveiws}      # no such Service
```

## Fix
Correct the host, write the full name (`ratings.prod.svc.cluster.local`) for a
Service in another namespace, or add a ServiceEntry for an external host. A host in
a namespace none of the inputs describe, and the Services of Istio's installation in
the root namespace (istiod, the default ingress, egress and east-west gateways), are
reported as unresolved (info) unless `--closed-world` is given.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model import hosts
from meshctl.model.objects import Backend, Route
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH101", "unknown-destination-host", Severity.ERROR, __doc__, istio_code="IST0101",
    reads=frozenset({"routes", "services", "service_entries"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for route in ctx.mesh.routes:
        if route.source_kind != "VirtualService":
            continue
        for rule in route.rules:
            for backend in rule.backends:
                yield from _check(ctx, route, backend, "destination")
            for mirror in rule.mirrors:
                yield from _check(ctx, route, mirror, "mirror")


def _check(ctx: Analysis, route: Route, backend: Backend, role: str) -> Iterator[Finding]:
    mesh = ctx.mesh
    host = backend.fqdn
    if not host or "*" in host or mesh.services_for(host) or _declared(ctx, route, host):
        return
    service = hosts.split_service_fqdn(host, mesh.domain)
    shown = f"{backend.host!r}" + (f" ({host})" if host != backend.host else "")
    if service is not None and (ctx.outside_inputs(service[1]) or _control_plane(ctx, *service)):
        yield RULE.on(
            backend.host_origin, f"{role} host {shown} is in namespace {service[1]!r}", unresolved=True
        )
        return
    message = f"{role} host {shown} matches no Service or ServiceEntry"
    close = difflib.get_close_matches(host, _candidates(ctx, route, host, service), n=1, cutoff=0.8)
    if close:
        message += f"; did you mean {close[0]!r}?"
    elif service is None and "." in backend.host and not backend.host.endswith(mesh.domain):
        message += "; an external host needs a ServiceEntry"
    yield RULE.on(backend.host_origin, message)


def _candidates(ctx: Analysis, route: Route, host: str, service: tuple[str, str] | None) -> list[str]:
    """Hosts worth suggesting: Services of the namespace meant, ServiceEntry hosts of the domain.

    Never the whole mesh: on a large mesh with many bad hosts that would be quadratic.
    """
    namespace = service[1] if service is not None else route.namespace
    found = [s.fqdn for s in ctx.mesh.services_in(namespace)]
    domain = host.split(".", 1)[-1]
    found += [h for e in ctx.mesh.service_entries for h in e.hosts if h.split(".", 1)[-1] == domain]
    return found


CONTROL_PLANE = ("istiod", "istio-ingressgateway", "istio-egressgateway", "istio-eastwestgateway")


def _control_plane(ctx: Analysis, name: str, namespace: str) -> bool:
    """istiod and the default gateways in the root namespace come with the installation."""
    return (
        not ctx.closed_world
        and namespace == ctx.mesh.mesh_config.root_namespace
        and any(name == n or name.startswith(n + "-") for n in CONTROL_PLANE)
    )


def _declared(ctx: Analysis, route: Route, host: str) -> bool:
    """A ServiceEntry (exact or wildcard) visible from the route's namespace declares it."""
    return any(
        hosts.visible(entry.export_to, entry.namespace, route.namespace)
        for entry in ctx.mesh.entries_for(host)
    )
