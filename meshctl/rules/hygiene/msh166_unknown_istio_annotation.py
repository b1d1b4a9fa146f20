"""An annotation in a prefix Istio owns is not one Istio defines.

## Why it matters
Istio reads a fixed set of annotations; anything else under its prefixes is ignored
without a word. A misspelt or mis-prefixed name (`sidecar.istio.io/proxyCpu`,
`sidecar.istio.io/excludeOutboundIPRanges` instead of
`traffic.sidecar.istio.io/excludeOutboundIPRanges`) looks configured in review and does
nothing in the cluster: the proxy keeps its default resources, traffic you meant to
exclude still goes through the sidecar. This is what `istioctl analyze` reports as
IST0108 (UnknownAnnotation).

meshctl checks the `metadata.annotations` of every resource and the pod templates of
Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs. It reports
unknown names only under the prefixes whose annotations it knows completely:
`sidecar.istio.io`, `traffic.sidecar.istio.io`, `status.sidecar.istio.io`,
`readiness.status.sidecar.istio.io`, `proxy.istio.io`, `prometheus.istio.io`,
`inject.istio.io` and `galley.istio.io`. Annotations of other meshes and tools
(`linkerd.io/*`, `config.linkerd.io/*`, `kiali.io/*`) are not Istio's and are left alone.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  template:
    metadata:
      labels: {app: cart}
      annotations:
        sidecar.istio.io/proxyCpu: 200m      # the annotation is proxyCPU
    spec:
      containers: [{name: cart, image: shop/cart:1.4}]
```

## Fix
Correct the name (the message suggests the closest Istio annotation), or remove it.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.hygiene._istio_annotations import placements, suggest, unknown

RULE = Rule(
    "MSH166", "unknown-istio-annotation", Severity.WARNING, __doc__, istio_code="IST0108",
    reads=frozenset({"resources", "workloads"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for placement in placements(ctx):
        if not unknown(placement.key):
            continue
        message = f"Istio defines no annotation {placement.key!r}, so it has no effect"
        guess = suggest(placement.key)
        if guess is not None:
            message += f"; did you mean {guess!r}?"
        yield RULE.on(placement.origin, message, key=True)
