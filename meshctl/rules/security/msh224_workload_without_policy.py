"""A workload serves traffic but no AuthorizationPolicy covers it, while others of its namespace are covered.

## Why it matters
Policies usually come one per workload (`selector`), and a new workload added to a
namespace whose neighbours all have one is easily forgotten: without a policy Istio
allows every caller. This is information, not an error: a workload may be open on
purpose (a public frontend), in which case a namespace-wide default makes that choice
explicit.

Only workloads a Service selects (servers) with an Istio sidecar, or whose namespace
the inputs do not describe, are considered; a policy in the root namespace or without
a selector covers every workload it applies to. AUDIT policies do not count.

## Example
```yaml
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  rules: [{from: [{source: {principals: [cluster.local/ns/shop/sa/web]}}]}]
# Deployment payments (app: payments) in shop: no policy selects it
```

## Fix
Add a policy for the workload, or a namespace-wide allow-nothing policy
(`spec: {}` without a selector) with per-workload ALLOW policies on top.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import AuthorizationPolicy, Workload
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.security.authz import istio_sidecar, linkerd_proxy, policy_applies
from meshctl.security.mtls import VIEW_READS

RULE = Rule(
    "MSH224", "workload-without-policy", Severity.INFO, __doc__,
    reads=VIEW_READS | {"authorization_policies"},
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    by_ns: dict[str, list[AuthorizationPolicy]] = defaultdict(list)
    for policy in mesh.authorization_policies:
        if policy.action != "AUDIT":
            by_ns[policy.namespace].append(policy)
    if not by_ns:
        return
    root = by_ns.get(mesh.mesh_config.root_namespace, [])
    if any(not p.selector and not p.target_refs for p in root):
        return  # a mesh-wide policy covers every workload
    servers: dict[str, list[Workload]] = defaultdict(list)
    seen: set[int] = set()
    for service in mesh.services:
        if service.namespace not in by_ns:
            continue
        for workload in mesh.workloads_of(service):
            if id(workload) not in seen:
                seen.add(id(workload))
                servers[workload.namespace].append(workload)
    for namespace in sorted(servers):
        local = by_ns[namespace]
        if any(not p.selector and not p.target_refs for p in local):
            continue  # a namespace-wide policy covers them all
        covered: dict[int, AuthorizationPolicy] = {}
        uncovered: list[Workload] = []
        for workload in servers[namespace]:
            if istio_sidecar(mesh, workload) is False or linkerd_proxy(mesh, workload) is True:
                continue
            found = next((p for p in local + root if policy_applies(mesh, p, workload)), None)
            if found is None:
                uncovered.append(workload)
            elif found.namespace == namespace:
                covered[id(workload)] = found
        if not covered or not uncovered:
            continue
        example = next(iter(covered.values()))
        for workload in uncovered:
            yield RULE.on(
                workload.origin,
                f"{workload.kind} {workload.name!r} is covered by no AuthorizationPolicy, while {len(covered)} other "
                f"workload{'s' if len(covered) > 1 else ''} of namespace {namespace!r} "
                f"{'are' if len(covered) > 1 else 'is'}: Istio allows every caller",
                related=(ctx.related(example.origin, "for example, covered by"),),
            )
