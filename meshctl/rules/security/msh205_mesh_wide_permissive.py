"""The mesh-wide mTLS mode is PERMISSIVE, and plaintext connections rely on it.

## Why it matters
Istio starts PERMISSIVE so that workloads can be migrated one by one: servers accept
both mTLS and plaintext. Left in place, it means any client without a sidecar can talk
to any meshed workload unencrypted and unauthenticated, and identity-based
authorization does not hold for those connections. meshctl lists the connections that
run in plaintext only because of the mesh-wide setting (no namespace or workload
PeerAuthentication decides them): they are what switching the mesh to STRICT would
break, and what is left to migrate.

It reports one summary (info), at the root-namespace PeerAuthentication when it is
among the inputs and says PERMISSIVE, otherwise at the first such connection's Service
(Istio's default applies when no mesh-wide policy exists). Only connections whose
proxies the inputs show count, and only when the inputs use Istio.

## Example
```yaml
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec:
  mtls: {mode: PERMISSIVE}     # legacy/unmeshed -> cart.shop:8080 runs in plaintext
```

## Fix
Move the remaining clients into the mesh (`meshctl analyze --explain-mtls` lists them),
then set the mesh-wide policy to STRICT; keep PERMISSIVE only where a namespace or
workload policy says so explicitly.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.security import _mtls
from meshctl.security.mtls import PERMISSIVE, PLAINTEXT, VIEW_READS, MtlsEdge

RULE = Rule("MSH205", "mesh-wide-permissive", Severity.INFO, __doc__, reads=VIEW_READS)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    view = _mtls.view(ctx)
    if not view.uses_istio:
        return
    policy = view.mesh_policy
    if policy is not None and (policy.mode or "").upper() not in (PERMISSIVE, "UNSET", ""):
        return
    plain: list[MtlsEdge] = []
    for edge in _mtls.edges(ctx):
        if not edge.certain:
            continue
        for result in edge.servers:
            peer = result.side.peer
            if (result.outcome == PLAINTEXT and result.side.enforces == PERMISSIVE and peer is not None
                    and peer.level in ("mesh", "default")):
                plain.append(edge)
                break
    if not plain:
        return
    examples = _mtls.shown([f"{e.client.label()} -> {e.target}" for e in plain], limit=3)
    count = (f"{len(plain)} client-to-Service connection{'s' if len(plain) > 1 else ''} of the inputs "
             f"{'are' if len(plain) > 1 else 'is'} plaintext")
    if policy is not None and (policy.mode or "").upper() == PERMISSIVE:
        yield RULE.on(
            policy.origin.at("spec", "mtls", "mode"),
            f"the mesh-wide PeerAuthentication is PERMISSIVE, so {count} ({examples}); migrate "
            "those clients into the mesh, then make it STRICT",
        )
        return
    where = (f"the PeerAuthentication {policy.name}.{policy.namespace} leaves it UNSET" if policy is not None
             else f"no PeerAuthentication without selector in {view.root!r} among the inputs")
    first = plain[0]
    yield RULE.on(
        first.service.origin,
        f"no mesh-wide mTLS mode is set ({where}), so Istio's default "
        f"PERMISSIVE applies: {count} ({examples}); migrate those clients into the mesh, then "
        f"add a STRICT PeerAuthentication in {view.root!r}",
        related=(ctx.related(policy.origin, "mesh-wide policy"),) if policy is not None else (),
    )
