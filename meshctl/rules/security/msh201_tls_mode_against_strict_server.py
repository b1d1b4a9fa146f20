"""A DestinationRule sends plaintext or one-way TLS to a port whose server requires mTLS (STRICT).

## Why it matters
`tls.mode: DISABLE` makes the client's sidecar send plaintext, and `SIMPLE` makes it
originate TLS without a client certificate; both also switch off Istio's auto-mTLS for
that destination. When the server's PeerAuthentication is STRICT, its sidecar accepts only
Istio mTLS, so every connection fails (`upstream connect error ... connection termination`).
The precedence is easy to misread: a `portLevelSettings` entry replaces the whole traffic
policy for its port, and a subset's `tls` overrides the DestinationRule's. meshctl also
reports a STRICT port that meshed clients reach without TLS because auto-mTLS is off in the
mesh config (`enableAutoMtls: false`) and no DestinationRule sets `ISTIO_MUTUAL`.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings, namespace: bookinfo}
spec:
  host: ratings
  trafficPolicy:
    tls: {mode: DISABLE}        # plaintext ...
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: bookinfo}
spec:
  mtls: {mode: STRICT}          # ... to a server that accepts only mTLS
```

## Fix
Remove the `tls` block (auto-mTLS then sends Istio mTLS to meshed servers) or set
`tls.mode: ISTIO_MUTUAL`. If the application itself terminates TLS on that port, exempt
the port on the server with `portLevelMtls: {<port>: {mode: PERMISSIVE}}`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.security import _mtls
from meshctl.security.mtls import BROKEN, ISTIO, STRICT, VIEW_READS, MtlsEdge, PeerDecision

RULE = Rule("MSH201", "tls-mode-against-strict-server", Severity.ERROR, __doc__, reads=VIEW_READS)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    auto_off = not _mtls.view(ctx).auto_mtls
    found: dict[tuple[Origin | None, Origin], list[tuple[MtlsEdge, PeerDecision]]] = defaultdict(list)
    for edge in _mtls.edges(ctx):
        tls = edge.client_tls
        if edge.client.mesh != ISTIO or tls is None:
            continue
        if tls.mode not in ("DISABLE", "SIMPLE") and not (auto_off and tls.mode is None):
            continue
        for result in edge.servers:
            peer = result.side.peer
            if result.outcome == BROKEN and result.side.enforces == STRICT and peer is not None and peer.origin:
                found[(tls.origin, peer.origin)].append((edge, peer))
    for (tls_origin, peer_origin), hits in sorted(
        found.items(), key=lambda item: (_mtls.sort_key(item[0][0] or item[0][1]), _mtls.sort_key(item[0][1]))
    ):
        edge, peer = hits[0]
        assert edge.client_tls is not None and peer.policy is not None
        targets = _mtls.shown([h[0].target for h in hits])
        strict = f"PeerAuthentication {peer.policy.name}.{peer.policy.namespace} requires mTLS (STRICT)"
        if tls_origin is None:
            yield RULE.on(
                peer_origin,
                f"{strict} on {targets}, but auto-mTLS is off in the mesh config and no DestinationRule sets "
                "tls.mode ISTIO_MUTUAL for it: meshed clients send plaintext and are refused",
            )
            continue
        tls = edge.client_tls
        assert tls.policy is not None
        what = "plaintext" if tls.mode == "DISABLE" else "one-way TLS without a client certificate"
        yield RULE.on(
            tls_origin,
            f"DestinationRule {tls.policy.name}.{tls.policy.namespace} sets tls.mode {tls.mode} ({tls.level}) "
            f"for {targets}: its clients send {what}, but {strict} there, so every connection is refused",
            related=(ctx.related(peer_origin, "STRICT is set by"),),
        )
