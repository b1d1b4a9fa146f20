"""An EnvoyFilter patch uses REPLACE where Istio does not support it.

## Why it matters
Istio implements REPLACE only for HTTP_FILTER and NETWORK_FILTER (and, in its code,
VIRTUAL_HOST). On a LISTENER, CLUSTER, ROUTE_CONFIGURATION, HTTP_ROUTE or any other
`applyTo`, the patch is silently ignored: the proxy keeps the configuration you meant to
replace. This is what `istioctl analyze` reports as IST0152
(EnvoyFilterUsesReplaceOperationIncorrectly).

## Example
```yaml
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: reviews-cluster, namespace: bookinfo}
spec:
  configPatches:
  - applyTo: CLUSTER
    match:
      cluster: {service: reviews.bookinfo.svc.cluster.local}
    patch:
      operation: REPLACE              # ignored for CLUSTER
      value: {connect_timeout: 2s}
```

## Fix
Use MERGE to change fields of the object, or REMOVE it and ADD a new one; keep REPLACE
for HTTP_FILTER, NETWORK_FILTER and VIRTUAL_HOST patches.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.routing._envoy_filter import REPLACEABLE, describe, operation_origin, patches

RULE = Rule(
    "MSH145", "envoy-filter-replace-misused", Severity.ERROR, __doc__, istio_code="IST0152",
    reads=frozenset({"envoy_filters"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for _, index, patch in patches(ctx.mesh):
        if patch.operation == "REPLACE" and patch.apply_to and patch.apply_to not in REPLACEABLE:
            yield RULE.on(
                operation_origin(patch),
                f"{describe(index, patch)}: Istio ignores REPLACE on {patch.apply_to} (it replaces only "
                f"{', '.join(REPLACEABLE[:-1])} and {REPLACEABLE[-1]} entries); use MERGE, or REMOVE and ADD",
            )
