"""Clients without a Linkerd proxy call a Linkerd port whose policy admits only authenticated (meshed) clients.

## Why it matters
Linkerd authenticates a client by its proxy's mTLS identity. A client without the
Linkerd proxy (an uninjected namespace, `linkerd.io/inject: disabled`, or a pod of
another mesh) arrives unauthenticated, and a port whose policy requires
authentication refuses it: HTTP gets 403, other protocols a refused connection. The
policy is the port's `Server` (`accessPolicy: all-authenticated`,
`cluster-authenticated`, or `deny` with AuthorizationPolicies that require a
`MeshTLSAuthentication` or a ServiceAccount), or, for a port without a Server, the
`config.linkerd.io/default-inbound-policy` annotation of the pod or namespace.

As for Istio (MSH200), meshctl reports an unmeshed client namespace only when the
inputs tie it to the server: a route in its namespace whose parent is the Service, or
the server's authorizations naming its service accounts or namespace (the client is
expected, but cannot present the identity). A port nobody is admitted to at all is
MSH207's case.

## Example
```yaml
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: books-http, namespace: booksapp}
spec:
  podSelector: {matchLabels: {app: books}}
  port: service
  accessPolicy: all-authenticated      # only meshed clients
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: traffic, namespace: loadgen}    # loadgen is not injected
```

## Fix
Inject the clients (`linkerd.io/inject: enabled` on their namespace or pod template,
then restart them), or admit them explicitly: an AuthorizationPolicy with a
`NetworkAuthentication` for their addresses, or `accessPolicy: all-unauthenticated`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import Workload
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.security import _mtls
from meshctl.security.mtls import BROKEN, LINKERD, VIEW_READS, LinkerdInbound, MtlsEdge

RULE = Rule(
    "MSH206", "linkerd-unauthenticated-client-to-authenticated-server", Severity.ERROR, __doc__,
    reads=VIEW_READS | {"mesh_tls_authentications"},
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    routes = _mtls.route_callers(ctx)
    found: dict[tuple[Origin, str], list[tuple[MtlsEdge, LinkerdInbound, list[Workload], Origin]]] = defaultdict(list)
    for edge in _mtls.edges(ctx):
        if edge.client.mesh == LINKERD or not edge.client.certain:
            continue
        for result in edge.servers:
            side, inbound = result.side, result.side.linkerd
            if (result.outcome != BROKEN or side.dataplane.mesh != LINKERD or inbound is None or not inbound.certain
                    or not inbound.admits_meshed or inbound.admits_unauthenticated):
                continue
            where = inbound.origin or (inbound.server.origin if inbound.server is not None else None)
            if where is None:
                continue
            callers = _mtls.linkerd_callers(ctx, inbound.server) if inbound.server is not None else {}
            for namespace in edge.client.namespaces:
                clients = edge.client.workloads_in(namespace)
                evidence = routes.origin(edge.service.fqdn, namespace) or _mtls.named(
                    callers, namespace, clients, edge.service.namespace)
                if evidence is not None:
                    found[(where, namespace)].append((edge, inbound, clients, evidence))
    for (origin, namespace), hits in sorted(found.items(), key=lambda item: (_mtls.sort_key(item[0][0]), item[0][1])):
        edge, inbound, clients, evidence = hits[0]
        first = clients[0]
        more = f" and {len(clients) - 1} more" if len(clients) > 1 else ""
        reason = _mtls.view(ctx).dataplane(first).reason
        yield RULE.on(
            origin,
            f"{inbound.reason} admits only authenticated (meshed) clients on "
            f"{_mtls.shown([h[0].target for h in hits])}, "
            f"but namespace {namespace!r} calls it from workloads without the Linkerd proxy ({first.kind} "
            f"{first.name}{more}: {reason}): they are refused",
            related=(
                ctx.related(first.origin, "client without a proxy:"),
                ctx.related(evidence, "the client is tied to the server by"),
            ),
        )
