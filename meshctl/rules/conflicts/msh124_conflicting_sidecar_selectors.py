"""Two Sidecars select the same workload.

## Why it matters
A workload gets exactly one Sidecar: the one whose `workloadSelector` selects it, else
its namespace's default. When the selectors of two Sidecars in a namespace both select a
workload, Istio applies only one of them to it, and which one is undefined: the egress
hosts, ingress listeners or outbound traffic policy of the other are silently ignored.
The workloads come from the inputs (Deployments, Pods, WorkloadEntries, ...). When none
of the namespace's workloads is among the inputs, equal selectors, or one a subset of the
other, are reported as unresolved (info). This is what `istioctl analyze` reports as
IST0110 (ConflictingSidecarWorkloadSelectors).

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: reviews, namespace: bookinfo}
spec:
  workloadSelector:
    labels: {app: reviews}
  egress:
  - hosts: ["./*"]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: reviews-v2, namespace: bookinfo}
spec:
  workloadSelector:
    labels: {app: reviews, version: v2}   # reviews-v2 pods match both
  egress:
  - hosts: ["./ratings.bookinfo.svc.cluster.local"]
```

## Fix
Make the selectors disjoint (add a label that tells the workloads apart, such as
`version`), or merge the two Sidecars into one.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import SidecarConfig
from meshctl.rules.base import Rule
from meshctl.rules.conflicts._same_workload import (
    MAX_RELATED,
    namespace_conflicts,
    selector_message,
)
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH124",
    "conflicting-sidecar-selectors",
    Severity.ERROR,
    __doc__,
    istio_code="IST0110",
    reads=frozenset({"sidecars", "workloads"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    sidecars = [s for s in ctx.mesh.sidecars if s.selector is not None]
    for conflict in namespace_conflicts(ctx, sidecars, _selector):
        sidecar = conflict.item
        yield RULE.on(
            sidecar.origin.at("spec", "workloadSelector"),
            selector_message("workloadSelector", "Sidecar", conflict, _selector),
            related=tuple(
                ctx.related(o.origin.at("spec", "workloadSelector"), "conflicts with")
                for o in conflict.others[:MAX_RELATED]
            ),
            unresolved=conflict.unresolved,
        )


def _selector(sidecar: SidecarConfig) -> dict[str, str] | None:
    return sidecar.selector
