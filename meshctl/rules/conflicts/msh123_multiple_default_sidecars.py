"""A namespace has more than one Sidecar without a workloadSelector.

## Why it matters
A Sidecar without `workloadSelector` is the default for every workload of its namespace
(in the root namespace, `istio-system` by default, for the whole mesh) that no selecting
Sidecar picks. Istio applies only one of them, and which one is undefined: the egress
hosts, ingress listeners or outbound traffic policy written in the other are silently
ignored, and the winner can change when either object is re-created. This is what
`istioctl analyze` reports as IST0111 (MultipleSidecarsWithoutWorkloadSelectors).

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  egress:
  - hosts: ["./*", "istio-system/*"]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: restrict-egress, namespace: shop}
spec:                                # no workloadSelector: a second namespace default
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
```

## Fix
Merge them into one Sidecar per namespace, or give all but one a `workloadSelector`
that names the workloads it is meant for.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.conflicts._same_workload import several_defaults
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH123",
    "multiple-default-sidecars",
    Severity.ERROR,
    __doc__,
    istio_code="IST0111",
    reads=frozenset({"sidecars"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    defaults = (sidecar for sidecar in ctx.mesh.sidecars if sidecar.selector is None)
    yield from several_defaults(ctx, RULE, defaults, "Sidecar", "without workloadSelector")
