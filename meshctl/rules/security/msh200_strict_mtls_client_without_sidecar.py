"""A STRICT mTLS port is called by clients that have no sidecar, so their connections are refused.

## Why it matters
With `mtls.mode: STRICT` the server's proxy accepts only Istio mTLS. A client without a
sidecar (a namespace without injection, a pod with `sidecar.istio.io/inject: "false"`, a
host-network pod, or a pod of another mesh such as Linkerd) can only send plaintext
(Linkerd sends its own mTLS only to Linkerd pods): the handshake fails and the caller sees
`connection reset by peer` or `upstream connect error`, with nothing in the server's logs.
It typically appears when STRICT is switched on before every caller is migrated.

Clients are unknown in general (a Deployment does not say what it calls), so meshctl
reports an unmeshed client namespace only when the inputs tie it to the server: a mesh
route defined in the client's namespace sends traffic to the Service (a VirtualService
bound to the mesh, or an HTTPRoute whose parent is the Service), or an ALLOW
AuthorizationPolicy of the server admits the client's namespace or service account. It
reports once per deciding PeerAuthentication field and client namespace. Pods whose
injection the inputs do not show (their namespace is not among them, or no Namespace
among the inputs is labelled for injection) are not reported.

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata: {name: legacy}                  # no istio-injection label
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec:
  mtls: {mode: STRICT}                    # shop accepts only mTLS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cart, namespace: legacy}
spec:
  hosts: [cart.shop.svc.cluster.local]    # legacy's clients call cart
  http:
  - route:
    - destination: {host: cart.shop.svc.cluster.local}
```

## Fix
Inject the clients (label their namespace `istio-injection: enabled` and restart them),
or keep the server PERMISSIVE until they are migrated (a namespace-level PERMISSIVE, or
`portLevelMtls` on the ports they use). `meshctl analyze --explain-mtls` prints the
outcome of every client group and Service port.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Related, Severity
from meshctl.model.objects import Workload
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.security import _mtls
from meshctl.security.mtls import BROKEN, LINKERD, STRICT, VIEW_READS, MtlsEdge, ServerSide

RULE = Rule(
    "MSH200", "strict-mtls-client-without-sidecar", Severity.ERROR, __doc__,
    reads=VIEW_READS | {"authorization_policies"},
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    routes = _mtls.route_callers(ctx)
    found: dict[tuple[Origin, str], list[tuple[MtlsEdge, ServerSide, list[Workload], Origin]]] = defaultdict(list)
    for edge in _mtls.edges(ctx):
        if edge.client.mesh not in (None, LINKERD) or not edge.client.certain:
            continue
        for result in edge.servers:
            side = result.side
            if result.outcome != BROKEN or side.enforces != STRICT or side.peer is None or side.peer.origin is None:
                continue
            for namespace in edge.client.namespaces:
                clients = edge.client.workloads_in(namespace)
                evidence = routes.origin(edge.service.fqdn, namespace)
                if evidence is None:
                    for w in side.workloads:
                        evidence = _mtls.named(_mtls.istio_callers(ctx, w), namespace, clients, edge.service.namespace)
                        if evidence is not None:
                            break
                if evidence is not None:
                    found[(side.peer.origin, namespace)].append((edge, side, clients, evidence))
    for (origin, namespace), hits in sorted(found.items(), key=lambda item: (_mtls.sort_key(item[0][0]), item[0][1])):
        edge, side, clients, evidence = hits[0]
        assert side.peer is not None and side.peer.policy is not None
        policy = side.peer.policy
        targets = _mtls.shown([h[0].target for h in hits])
        first = clients[0]
        more = f" and {len(clients) - 1} more" if len(clients) > 1 else ""
        related: list[Related] = [
            ctx.related(first.origin, "client without a sidecar:"),
            ctx.related(evidence, "the client is tied to the server by"),
        ]
        reason = _mtls.view(ctx).dataplane(first)
        if reason.origin is not None and reason.origin != first.origin:
            related.append(ctx.related(reason.origin, "no sidecar because of"))
        yield RULE.on(
            origin,
            f"PeerAuthentication {policy.name}.{policy.namespace} requires mTLS (STRICT) on {targets}, but "
            f"namespace {namespace!r} calls it from workloads without an Istio sidecar "
            f"({first.kind} {first.name}{more}: "
            f"{reason.reason}): their plaintext connections are refused",
            related=tuple(related),
        )
