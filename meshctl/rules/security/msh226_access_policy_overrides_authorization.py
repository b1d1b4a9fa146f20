"""A Linkerd Server's `accessPolicy` admits every client, so the authorizations attached to it restrict nothing.

## Why it matters
A Server's `accessPolicy` (default `deny`) decides for the requests no authorization
admits. With `all-unauthenticated` or `audit` it admits every client, so an
AuthorizationPolicy or ServerAuthorization that lists who may call the Server (or one of
its routes) changes nothing: everyone else is admitted by the access policy anyway.
Usually the access policy was relaxed while debugging, or copied from an example that
had no authorizations. Authorizations that admit everyone themselves (`unauthenticated:
true`, no required authentication, a NetworkAuthentication for all addresses) restrict
nothing either way and are not counted.

## Example
```yaml
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: cart-http, namespace: shop}
spec:
  podSelector: {matchLabels: {app: cart}}
  port: http
  accessPolicy: all-unauthenticated     # admits everyone
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: cart-web-only, namespace: shop}
spec:
  targetRef: {group: policy.linkerd.io, kind: Server, name: cart-http}
  requiredAuthenticationRefs:
  - {kind: ServiceAccount, name: web}
```

## Fix
Remove `accessPolicy` (it defaults to `deny`) so the authorizations decide, or remove
the authorizations if the port is meant to be open.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.mesh import selects
from meshctl.model.objects import ServerAuthorization
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.security.authz import ALL_NETWORKS

RULE = Rule(
    "MSH226", "access-policy-overrides-authorization", Severity.WARNING, __doc__,
    reads=frozenset({"linkerd_servers", "linkerd_authorizations", "server_authorizations", "routes",
                     "network_authentications"}),
)

OPEN = ("all-unauthenticated", "audit")


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    servers = [s for s in mesh.linkerd_servers if (s.access_policy or "deny") in OPEN]
    if not servers:
        return
    open_networks = {(n.namespace, n.name) for n in mesh.network_authentications
                     if any(cidr in ALL_NETWORKS for cidr in n.networks)}
    targets: dict[tuple[str, str, str], list[Origin]] = defaultdict(list)
    for policy in mesh.linkerd_authorizations:
        if all(r.kind.lower() == "networkauthentication" and (r.namespace or policy.namespace, r.name) in open_networks
               for r in policy.required_authentications):
            continue  # admits every client itself
        ref = policy.target
        targets[(ref.namespace or policy.namespace, ref.kind.lower(), ref.name)].append(policy.origin)
    routes: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for route in mesh.routes:
        for parent in route.parents:
            if parent.kind.lower() == "server":
                routes[(parent.namespace, parent.name)].append((route.namespace, route.name))
    labels = {id(r.origin.doc): r.labels for r in mesh.resources if r.kind == "Server"}
    legacy: dict[str, list[ServerAuthorization]] = defaultdict(list)
    for authz in mesh.server_authorizations:
        if authz.unauthenticated and (not authz.networks or any(c in ALL_NETWORKS for c in authz.networks)):
            continue  # admits every client itself
        legacy[authz.namespace].append(authz)
    for server in servers:
        ns = server.namespace
        attached = list(targets.get((ns, "server", server.name), []))
        for route_ns, route_name in routes.get((ns, server.name), []):
            for kind in ("httproute", "grpcroute"):
                attached += targets.get((route_ns, kind, route_name), [])
        server_labels = labels.get(id(server.origin.doc), {})
        attached += [a.origin for a in legacy.get(ns, []) if a.server_name == server.name
                     or (a.server_name is None and a.server_selector is not None
                         and selects(a.server_selector, server_labels))]
        if not attached:
            continue
        yield RULE.on(
            server.origin.at("spec", "accessPolicy"),
            f"Server {server.name!r} has accessPolicy {server.access_policy!r}, which admits every client, so "
            + (f"the {len(attached)} authorizations attached to it restrict nothing" if len(attached) > 1
               else "the authorization attached to it restricts nothing"),
            related=tuple(ctx.related(o, "ineffective authorization") for o in attached[:3]),
        )
