"""A Linkerd port denies every client (`deny`) and no authorization admits any, while routes send traffic to it.

## Why it matters
A Linkerd `Server` without `accessPolicy` denies by default, and
`config.linkerd.io/default-inbound-policy: deny` (on a namespace or pod) closes every
port that has no Server. Only an AuthorizationPolicy (targeting the Server, one of its
HTTPRoutes or the namespace) or a legacy ServerAuthorization opens it again. When routes
show that the Service is meant to be called (an HTTPRoute whose parent or backend it is,
a Linkerd HTTPRoute attached to the Server, a ServiceProfile named after it) and nothing
authorizes any caller, every request is refused: 403 for HTTP, a refused connection
otherwise. Creating a Server "to set the protocol" is the classic way to get there.

## Example
```yaml
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: web-http, namespace: emojivoto}
spec:
  podSelector: {matchLabels: {app: web}}
  port: http
  proxyProtocol: HTTP/1        # no accessPolicy: deny, and no AuthorizationPolicy
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: emojivoto}
spec:
  parentRefs: [{name: web-svc, kind: Service, group: "", port: 80}]
  rules:
  - backendRefs: [{name: web-svc, port: 80}]
```

## Fix
Add an AuthorizationPolicy for the Server (with a MeshTLSAuthentication naming the
callers' service accounts, or a NetworkAuthentication), or set an `accessPolicy` that
admits them (`all-authenticated`, `cluster-unauthenticated`, ...). For a namespace or
pod `deny` default, create a Server for the port first: authorizations attach to Servers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model import hosts
from meshctl.model.objects import Service
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.security import _mtls
from meshctl.security.mtls import LINKERD, VIEW_READS, LinkerdInbound

RULE = Rule(
    "MSH207", "linkerd-deny-without-authorization", Severity.ERROR, __doc__,
    reads=VIEW_READS | {"service_profiles"},
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    view = _mtls.view(ctx)
    implied = _implied_callers(ctx)
    server_routes: dict[tuple[str, str], Origin] = {}
    for route in sorted(mesh.routes, key=lambda r: (r.namespace, r.name)):
        for parent in route.parents:
            if parent.kind == "Server":
                server_routes.setdefault((parent.namespace, parent.name), route.origin)
    found: dict[tuple[Origin, str], list[tuple[Service, int, LinkerdInbound, Origin]]] = defaultdict(list)
    for service in sorted(view.services, key=lambda s: s.fqdn):
        if not service.selector:
            continue
        for port in service.ports:
            for _, side in view.server_sides(service, port):
                inbound = side.linkerd
                if side.dataplane.mesh != LINKERD or not side.intercepted or inbound is None:
                    continue
                if inbound.policy != "deny" or inbound.admits_meshed or not inbound.certain:
                    continue
                server = inbound.server
                evidence = implied.get(service.fqdn) or (
                    server_routes.get((server.namespace, server.name)) if server is not None else None
                )
                where = inbound.origin or (server.origin if server is not None else None)
                if evidence is None or where is None:
                    continue
                found[(where, service.fqdn)].append((service, port.port, inbound, evidence))
    for (origin, _), hits in sorted(found.items(), key=lambda item: (_mtls.sort_key(item[0][0]), item[0][1])):
        service, _, inbound, evidence = hits[0]
        ports = ", ".join(str(p) for p in dict.fromkeys(h[1] for h in hits))
        target = f"{service.name}.{service.namespace} (port {ports})"
        if inbound.server is not None:
            what = (f"{inbound.reason} denies every client of {target} and no AuthorizationPolicy or "
                    "ServerAuthorization admits any caller")
        else:
            what = (f"the {inbound.reason} denies every client of {target}, and no Server selects the port for an "
                    "authorization to attach to")
        yield RULE.on(
            origin,
            f"{what}, yet routes send traffic there: every request is refused",
            related=(ctx.related(evidence, "traffic is routed there by"),),
        )


def _implied_callers(ctx: Analysis) -> dict[str, Origin]:
    """Service FQDN -> the first route or ServiceProfile that implies it is called."""
    mesh = ctx.mesh
    domain = mesh.domain
    found: dict[str, Origin] = {}
    for route in sorted(mesh.routes, key=lambda r: (r.namespace, r.name)):
        targets = [hosts.service_fqdn(p.name, p.namespace, domain) for p in route.parents if p.kind == "Service"]
        targets += [b.fqdn for rule in route.rules for b in rule.backends]
        for target in targets:
            found.setdefault(target, route.origin)
    for profile in sorted(mesh.service_profiles, key=lambda p: (p.namespace, p.name)):
        found.setdefault(profile.name, profile.origin)
    return found
