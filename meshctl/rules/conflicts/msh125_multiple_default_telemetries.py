"""A namespace has more than one Telemetry without a selector or targetRefs.

## Why it matters
A Telemetry without `selector` and `targetRefs` is the default for every workload of
its namespace; in the root namespace (`istio-system` by default) it is the mesh-wide
default, which namespace defaults then override. Istio applies only one default per
namespace, and which one is undefined: the metrics, tracing or access-logging settings
of the other are silently ignored. The root namespace's mesh-wide Telemetry counts in
its own namespace only, so one mesh-wide and one namespace default is fine. A `selector`
without labels selects the whole namespace and counts as a default too.
This is what `istioctl analyze` reports as IST0160 (MultipleTelemetriesWithoutWorkloadSelectors).

## Example
```yaml
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: tracing, namespace: shop}
spec:
  tracing:
  - randomSamplingPercentage: 10
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: access-logs, namespace: shop}
spec:                                # no selector: a second namespace default
  accessLogging:
  - providers: [{name: envoy}]
```

## Fix
Merge them into one Telemetry per namespace, or give all but one a `selector` (or
`targetRefs`) naming the workloads it is meant for.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.conflicts._same_workload import several_defaults
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH125",
    "multiple-default-telemetries",
    Severity.ERROR,
    __doc__,
    istio_code="IST0160",
    reads=frozenset({"telemetries"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    defaults = (telemetry for telemetry in ctx.mesh.telemetries if not telemetry.selector and not telemetry.target_refs)
    yield from several_defaults(ctx, RULE, defaults, "Telemetry", "without selector labels or targetRefs")
