"""An Istio annotation has a value Istio cannot use.

## Why it matters
Istio parses its annotations when it needs them, and a value it cannot parse either
breaks that step or is dropped. For the traffic-capture and readiness annotations
(`traffic.sidecar.istio.io/*`, `readiness.status.sidecar.istio.io/*`,
`status.sidecar.istio.io/port`, `sidecar.istio.io/interceptionMode`,
`sidecar.istio.io/enableCoreDump`) the sidecar injector refuses the pod outright, so
the Deployment's pods are not created. A resource quantity the injector copies into the
proxy container (`sidecar.istio.io/proxyCPU: lots`) makes the pod invalid, and
`sidecar.istio.io/inject: "enabled"` quietly means *do not inject*: the injector
injects only on `y`, `yes`, `true` or `on`. This is what `istioctl analyze` reports as
IST0125 (InvalidAnnotation).

meshctl checks booleans, integers, ports and port lists, CIDR lists, Kubernetes
quantities, enumerations (interception mode, log levels), JSON and ProxyConfig values,
`networking.istio.io/exportTo` namespaces and `galley.istio.io/analyze-suppress`
codes, wherever the annotation applies (a misplaced one is MSH167's).

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
        traffic.sidecar.istio.io/excludeOutboundIPRanges: "10.0.0.0/33"   # no /33 in IPv4
        sidecar.istio.io/proxyCPU: lots
    spec:
      containers: [{name: cart, image: shop/cart:1.4}]
```

## Fix
Write a value of the expected form; the message says which.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.hygiene._istio_annotations import lookup, placements

RULE = Rule(
    "MSH168", "invalid-istio-annotation", Severity.WARNING, __doc__, istio_code="IST0125",
    reads=frozenset({"resources", "workloads"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for placement in placements(ctx):
        annotation = lookup(placement.key)
        if annotation is None or annotation.check is None:
            continue
        if not annotation.applies_to(placement.kind):
            continue  # misplaced: MSH167
        problem = annotation.check(placement.value)
        if problem is None:
            continue
        message = f"{placement.key!r} has an invalid value {placement.value!r}: {problem}"
        if annotation.rejects_pod:
            message += "; Istio's sidecar injector refuses to inject a pod with this value"
        yield RULE.on(placement.origin, message)
