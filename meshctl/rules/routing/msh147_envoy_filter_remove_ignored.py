"""An EnvoyFilter patch uses REMOVE on a ROUTE_CONFIGURATION or HTTP_ROUTE, where it is ignored.

## Why it matters
Istio's analyzer treats REMOVE on `applyTo: ROUTE_CONFIGURATION` or `HTTP_ROUTE` as
ignored: the route configuration or route you meant to remove stays in the proxy and
keeps serving traffic. This is what `istioctl analyze` reports as IST0154
(EnvoyFilterUsesRemoveOperationIncorrectly).

## Example
```yaml
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: drop-route, namespace: bookinfo}
spec:
  configPatches:
  - applyTo: ROUTE_CONFIGURATION
    match:
      context: SIDECAR_OUTBOUND
      routeConfiguration: {portNumber: 9080}
    patch:
      operation: REMOVE               # ignored for ROUTE_CONFIGURATION
```

## Fix
Stop the traffic with a VirtualService (a `directResponse` or a narrower match) or a
Sidecar that does not import the host; change a route configuration with MERGE.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.routing._envoy_filter import ROUTE_LEVEL, describe, operation_origin, patches

RULE = Rule(
    "MSH147", "envoy-filter-remove-ignored", Severity.ERROR, __doc__, istio_code="IST0154",
    reads=frozenset({"envoy_filters"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for _, index, patch in patches(ctx.mesh):
        if patch.operation == "REMOVE" and patch.apply_to in ROUTE_LEVEL:
            yield RULE.on(
                operation_origin(patch),
                f"{describe(index, patch)}: Istio ignores REMOVE on {patch.apply_to}, so nothing is removed; "
                "use a VirtualService or Sidecar to stop the traffic, or MERGE to change the configuration",
            )
