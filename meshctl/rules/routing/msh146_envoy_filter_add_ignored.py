"""An EnvoyFilter patch uses ADD on a ROUTE_CONFIGURATION or HTTP_ROUTE, where it is ignored.

## Why it matters
ADD appends to a list (listeners, clusters, virtual hosts, network or HTTP filters).
For `applyTo: ROUTE_CONFIGURATION` or `HTTP_ROUTE` Istio ignores it without a word, so
the route you meant to add never reaches the proxy. This is what `istioctl analyze`
reports as IST0153 (EnvoyFilterUsesAddOperationIncorrectly).

## Example
```yaml
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: extra-route, namespace: bookinfo}
spec:
  configPatches:
  - applyTo: HTTP_ROUTE
    match:
      context: SIDECAR_OUTBOUND
      routeConfiguration: {vhost: {name: "reviews.bookinfo.svc.cluster.local:9080"}}
    patch:
      operation: ADD                  # ignored for HTTP_ROUTE
      value: {name: healthz, match: {prefix: /healthz}, direct_response: {status: 200}}
```

## Fix
Add routes with a VirtualService, or patch the VIRTUAL_HOST with MERGE (or a route with
INSERT_FIRST/INSERT_BEFORE); change an existing route or route configuration with MERGE.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.routing._envoy_filter import ROUTE_LEVEL, describe, operation_origin, patches

RULE = Rule(
    "MSH146", "envoy-filter-add-ignored", Severity.ERROR, __doc__, istio_code="IST0153",
    reads=frozenset({"envoy_filters"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for _, index, patch in patches(ctx.mesh):
        if patch.operation == "ADD" and patch.apply_to in ROUTE_LEVEL:
            yield RULE.on(
                operation_origin(patch),
                f"{describe(index, patch)}: Istio ignores ADD on {patch.apply_to}, so nothing is added; "
                "use MERGE, or add routes with a VirtualService",
            )
