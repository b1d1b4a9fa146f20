"""A DestinationRule subset selects no running, ready pod of its host.

## Why it matters
A subset's cluster holds the host's ready endpoints that carry the subset's labels.
When none is running and ready (the version was scaled to zero, its pods crash-loop,
a rollout renamed the label) every request routed to the subset fails with 503 `UH`
(no healthy upstream), even though the manifests look right: MSH107 checks the
templates, this checks what runs. It is `istioctl analyze`'s IST0173
(DestinationRuleSubsetNotSelectPods) on a live cluster.

A subset no VirtualService routes to is reported as unresolved (info unless the
cluster is read whole): it may be prepared for a rollout.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets:
  - {name: v2, labels: {version: v2}}   # reviews-v2 is scaled to 0
```

## Fix
Scale up or repair the version the subset names, correct the subset's labels, or
route away from it before scaling it down.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.live._live import LiveAnalysis, live_check
from meshctl.rules.references._destinations import destinations

RULE = Rule("MSH502", "subset-selects-no-ready-pod", Severity.ERROR, __doc__, istio_code="IST0173")


@live_check(RULE, needs=("/Pod", "/Service"))
def check(ctx: LiveAnalysis) -> Iterator[Finding]:
    mesh, state = ctx.mesh, ctx.state
    routed = {(b.fqdn, b.subset) for _, b, _ in destinations(mesh) if b.subset}
    for policy in mesh.destination_policies:
        if not policy.subsets or "*" in policy.fqdn:
            continue
        services = [s for s in mesh.services_for(policy.fqdn) if s.selector]
        if not services or not all(state.in_scope(s.namespace) for s in services):
            continue
        pods = [w for s in services for w in mesh.workloads_of(s) if w.is_pod]
        ready = [w for w in pods if w.ready]
        for subset in policy.subsets:
            if not subset.labels:
                continue
            matching = [w for w in pods if all(w.labels.get(k) == v for k, v in subset.labels.items())]
            if any(w.ready for w in matching):
                continue
            shown = ", ".join(f"{k}={v}" for k, v in sorted(subset.labels.items()))
            service = services[0]
            if matching:
                detail = f"its {len(matching)} pod{'s' if len(matching) != 1 else ''} with {shown} are not ready"
            else:
                detail = f"no pod of Service {service.name}.{service.namespace} has {shown} ({len(ready)} ready pods without it)"
            used = (policy.fqdn, subset.name) in routed
            tail = "; traffic routed to it fails with 503 (UH)" if used else "; no VirtualService routes to it yet"
            yield RULE.on(subset.origin.at("labels"), f"subset {subset.name!r}: {detail}{tail}", unresolved=not used)
