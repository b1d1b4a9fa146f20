"""A workload PeerAuthentication turns mTLS off (DISABLE) for a port or workload whose namespace or mesh is STRICT.

## Why it matters
STRICT at the namespace or mesh level says every connection is authenticated and
encrypted. A workload-level `mtls.mode: DISABLE`, or a `portLevelMtls` entry with
`DISABLE`, makes the sidecar accept only plaintext there: callers get no encryption and
no identity, identity-based AuthorizationPolicies cannot work on it, and meshed clients
that force `ISTIO_MUTUAL` fail. It is sometimes deliberate (a metrics port scraped from
outside the mesh), but it is easy to leave behind after a debugging session, and it is
silently inherited by every workload the selector matches.

## Example
```yaml
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec:
  mtls: {mode: STRICT}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  portLevelMtls:
    8080: {mode: DISABLE}      # cart's API port is plaintext in a STRICT namespace
```

## Fix
Remove the exception, or narrow it to the one port that really needs plaintext
(prefer PERMISSIVE, which still accepts mTLS from meshed callers), and document why.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.security.mtls import DISABLE, STRICT, PeerIndex

RULE = Rule(
    "MSH204", "port-mtls-disabled-on-strict-workload", Severity.WARNING, __doc__,
    reads=frozenset({"peer_authentications"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    root = mesh.mesh_config.root_namespace
    peers = PeerIndex(mesh.peer_authentications, root)
    for policy in sorted(mesh.peer_authentications, key=lambda p: (p.namespace, p.name)):
        if not policy.selector or policy.namespace == root:
            continue
        parent = peers.decision(policy.namespace, {}, None)  # the namespace and mesh levels
        own = (policy.mode or "").upper()
        selector = ", ".join(f"{k}={v}" for k, v in sorted(policy.selector.items()))
        above = f"PeerAuthentication {parent.policy.name}.{parent.policy.namespace}" if parent.policy else ""
        related = (ctx.related(parent.origin, "STRICT is set by"),) if parent.origin is not None else ()
        if own == DISABLE and parent.mode == STRICT:
            yield RULE.on(
                policy.origin.at("spec", "mtls", "mode"),
                f"mTLS is DISABLE for every port of the workloads {selector} although their {parent.level} is "
                f"STRICT ({above}): they accept only plaintext, without encryption or caller identity",
                related=related,
            )
            continue
        base = own if own in (STRICT, DISABLE, "PERMISSIVE") else parent.mode
        if base != STRICT:
            continue
        why = "the workload policy" if own == STRICT else f"their {parent.level} ({above})"
        for port, mode in policy.port_modes:
            if mode.upper() != DISABLE:
                continue
            yield RULE.on(
                policy.origin.at("spec", "portLevelMtls", str(port), "mode"),
                f"port {port} of the workloads {selector} accepts only plaintext (DISABLE) although {why} is "
                "STRICT: connections to it are neither encrypted nor authenticated",
                related=related if own != STRICT else (),
            )
