"""A DestinationRule forces Istio mTLS (ISTIO_MUTUAL) to workloads that have no sidecar to terminate it.

## Why it matters
Auto-mTLS sends mTLS only to endpoints that run a proxy. An explicit
`tls.mode: ISTIO_MUTUAL` sends it to every endpoint: a workload without a sidecar (its
namespace is not injected, it opts out with `sidecar.istio.io/inject: "false"`, it runs
on the host network, or its port bypasses the proxy through
`traffic.sidecar.istio.io/excludeInboundPorts`) receives a TLS handshake it cannot
answer, and every request fails (`upstream connect error ... reset before headers`,
or the application logs garbage bytes). This often follows a mesh-wide
`host: "*.local"` DestinationRule copied from the mTLS migration guide.

meshctl reports it only when the inputs show that the workload has no proxy; a
workload whose injection they do not show is not reported.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: legacy-db, namespace: shop}
spec:
  host: legacy-db
  trafficPolicy:
    tls: {mode: ISTIO_MUTUAL}     # the pods behind legacy-db run without a sidecar
```

## Fix
Drop the `tls` block and let auto-mTLS decide per endpoint, or set `tls.mode: DISABLE`
for that host (or port) — or inject the workload.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.security import _mtls
from meshctl.security.mtls import BROKEN, ISTIO, VIEW_READS, MtlsEdge, ServerSide

RULE = Rule("MSH202", "istio-mutual-to-workload-without-sidecar", Severity.ERROR, __doc__, reads=VIEW_READS)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    found: dict[tuple[Origin, str], list[tuple[MtlsEdge, ServerSide]]] = defaultdict(list)
    for edge in _mtls.edges(ctx):
        tls = edge.client_tls
        if edge.client.mesh != ISTIO or tls is None or tls.mode != "ISTIO_MUTUAL" or tls.origin is None:
            continue
        for result in edge.servers:
            side = result.side
            unproxied = side.dataplane.mesh is None or not side.intercepted
            if result.outcome == BROKEN and unproxied and side.certain:
                found[(tls.origin, edge.service.fqdn)].append((edge, side))
    for (origin, _), hits in sorted(found.items(), key=lambda item: (_mtls.sort_key(item[0][0]), item[0][1])):
        edge, side = hits[0]
        tls = edge.client_tls
        assert tls is not None and tls.policy is not None
        targets = _mtls.shown([h[0].target for h in hits])
        first = side.workloads[0]
        if side.dataplane.mesh is None:
            why = side.dataplane.reason
            related = [ctx.related(first.origin, "workload without a sidecar:")]
            if side.dataplane.origin is not None and side.dataplane.origin != first.origin:
                related.append(ctx.related(side.dataplane.origin, "no sidecar because of"))
        else:
            why = f"port {side.target_port} bypasses its sidecar"
            related = [ctx.related(side.bypass_origin or first.origin, "the port is taken from the sidecar by")]
        yield RULE.on(
            origin,
            f"DestinationRule {tls.policy.name}.{tls.policy.namespace} sets tls.mode ISTIO_MUTUAL ({tls.level}) for "
            f"{targets}, but {side.names()} ({why}) cannot terminate Istio mTLS: every connection fails",
            related=tuple(related),
        )
