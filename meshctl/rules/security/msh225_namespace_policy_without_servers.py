"""A Linkerd AuthorizationPolicy targets a Namespace that has no Server: it authorizes nothing.

## Why it matters
An AuthorizationPolicy whose `targetRef` is a Namespace applies to the Servers (and
their routes) defined in that namespace, not to its workloads: ports without a Server
follow the default inbound policy (`config.linkerd.io/default-inbound-policy`, or the
cluster default). In a namespace with no Server, such a policy admits nothing and
restricts nothing. Authors coming from Istio, where a policy without a selector covers
every workload of its namespace, expect otherwise.

Reported only when the inputs hold workloads of that namespace (so its Servers would be
among them too).

## Example
```yaml
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: shop-internal, namespace: shop}
spec:
  targetRef: {kind: Namespace, name: shop}
  requiredAuthenticationRefs:
  - {kind: MeshTLSAuthentication, name: shop-clients, group: policy.linkerd.io}
# no Server in namespace shop
```

## Fix
Create Servers for the ports to protect (a Server closes its port to everything its
authorizations do not admit), or set the namespace's default inbound policy.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH225", "namespace-policy-without-servers", Severity.WARNING, __doc__,
    reads=frozenset({"linkerd_authorizations", "linkerd_servers", "workloads"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    with_servers = {s.namespace for s in mesh.linkerd_servers}
    for policy in mesh.linkerd_authorizations:
        target = policy.target
        if target.kind.lower() != "namespace":
            continue
        namespace = target.name
        if namespace != policy.namespace or namespace in with_servers or not mesh.workloads_in(namespace):
            continue
        yield RULE.on(
            target.origin,
            f"AuthorizationPolicy {policy.name!r} targets namespace {namespace!r}, which has no Server: a "
            "Namespace target covers only the namespace's Servers and routes, so it authorizes nothing and every "
            "port keeps the default inbound policy",
        )
