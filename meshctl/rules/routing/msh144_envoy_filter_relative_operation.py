"""An EnvoyFilter without a priority uses an order-dependent patch operation.

## Why it matters
INSERT_BEFORE and INSERT_AFTER place a filter next to another one, and REPLACE and
REMOVE act on a filter some other patch may have added or renamed. EnvoyFilters without
a `priority` are applied in creation order, so whether such a patch finds its anchor
depends on which filter happened to be created first: after a reinstall, a restore from
Git or an upgrade that renames a built-in filter, the patch silently stops applying.
This is what `istioctl analyze` reports as IST0151 (EnvoyFilterUsesRelativeOperation),
once per such patch.

## Example
```yaml
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: ratelimit, namespace: istio-system}
spec:
  workloadSelector:
    labels: {istio: ingressgateway}
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      context: GATEWAY
      listener:
        filterChain:
          filter:
            name: envoy.filters.network.http_connection_manager
            subFilter: {name: envoy.filters.http.router}
    patch:
      operation: INSERT_BEFORE        # relative, and no spec.priority
      value: {name: envoy.filters.http.ratelimit}
```

## Fix
Set `spec.priority` (filters with a lower priority apply first; negative values run
before Istio's own), or use an operation that does not depend on other patches:
INSERT_FIRST or ADD.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.routing._envoy_filter import (
    PinnedPatches,
    describe,
    operation_origin,
    order_dependent,
    patches,
    unprioritized,
)

RULE = Rule(
    "MSH144", "envoy-filter-relative-operation", Severity.WARNING, __doc__, istio_code="IST0151",
    reads=frozenset({"envoy_filters"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    pinned = PinnedPatches(ctx.mesh)
    for envoy_filter, index, patch in patches(ctx.mesh):
        if not (unprioritized(envoy_filter) and order_dependent(patch)):
            continue
        if pinned.elsewhere(envoy_filter, patch):
            continue  # MSH148 reports it, with the proxyVersion-pinned patch
        yield RULE.on(
            operation_origin(patch),
            f"{describe(index, patch)} depends on the order EnvoyFilters are applied in, and this "
            "EnvoyFilter sets no priority, so the patch may not apply; set spec.priority or use "
            "INSERT_FIRST or ADD",
        )
