"""Two Telemetry resources select the same workload.

## Why it matters
A workload gets one selecting Telemetry on top of the namespace and mesh defaults: the
one whose `selector` selects it. When the selectors of two Telemetries in a namespace
both select a workload, Istio applies only one of them to it, and which one is
undefined: the metrics overrides, tracing sampling or access logging of the other are
silently ignored. The workloads come from the inputs (Deployments, Pods,
WorkloadEntries, ...). When none of the namespace's workloads is among the inputs, equal
selectors, or one a subset of the other, are reported as unresolved (info). Telemetries
attached with `targetRefs` are not compared. This is what `istioctl analyze` reports as
IST0159 (ConflictingTelemetryWorkloadSelectors).

## Example
```yaml
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: reviews-tracing, namespace: bookinfo}
spec:
  selector:
    matchLabels: {app: reviews}
  tracing:
  - randomSamplingPercentage: 100
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: reviews-logs, namespace: bookinfo}
spec:
  selector:
    matchLabels: {app: reviews}          # the same pods
  accessLogging:
  - providers: [{name: envoy}]
```

## Fix
Merge the two into one Telemetry for those workloads, or make the selectors disjoint.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import TelemetryConfig
from meshctl.rules.base import Rule
from meshctl.rules.conflicts._same_workload import (
    MAX_RELATED,
    namespace_conflicts,
    selector_message,
)
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH126",
    "conflicting-telemetry-selectors",
    Severity.ERROR,
    __doc__,
    istio_code="IST0159",
    reads=frozenset({"telemetries", "workloads"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    # An empty selector is the namespace default (MSH125), and targetRefs attach elsewhere.
    telemetries = [t for t in ctx.mesh.telemetries if t.selector and not t.target_refs]
    for conflict in namespace_conflicts(ctx, telemetries, _selector):
        telemetry = conflict.item
        yield RULE.on(
            telemetry.origin.at("spec", "selector"),
            selector_message("selector", "Telemetry", conflict, _selector),
            related=tuple(
                ctx.related(o.origin.at("spec", "selector"), "conflicts with")
                for o in conflict.others[:MAX_RELATED]
            ),
            unresolved=conflict.unresolved,
        )


def _selector(telemetry: TelemetryConfig) -> dict[str, str] | None:
    return telemetry.selector
