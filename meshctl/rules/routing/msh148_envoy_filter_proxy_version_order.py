r"""An unprioritized EnvoyFilter patches, relative to others, a filter another patch pins to a proxyVersion.

## Why it matters
A patch with `match.proxy.proxyVersion` applies only to proxies of that version. When
another, unprioritized patch inserts next to, replaces or removes a filter that a
version-pinned patch merges, replaces or removes, the result depends both on creation
order and on the proxy version: during an upgrade, proxies of the new version no longer
get the pinned patch, and the relative one loses its anchor or acts on a different
filter. This is what `istioctl analyze` reports as IST0155
(EnvoyFilterUsesRelativeOperationWithProxyVersion), instead of IST0151.

## Example
```yaml
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: stats-1-22, namespace: istio-system}
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      proxy: {proxyVersion: '^1\.22.*'}
      listener: {filterChain: {filter: {subFilter: {name: istio.stats}}}}
    patch: {operation: MERGE, value: {name: istio.stats}}
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: before-stats, namespace: istio-system}
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      listener: {filterChain: {filter: {subFilter: {name: istio.stats}}}}
    patch:
      operation: INSERT_BEFORE        # no priority, and istio.stats is version-pinned above
      value: {name: envoy.filters.http.lua}
```

## Fix
Set `spec.priority` on the EnvoyFilter so it applies after the version-specific one, or
use INSERT_FIRST or ADD, and keep version-pinned patches of a filter in one EnvoyFilter.
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
    "MSH148", "envoy-filter-proxy-version-order", Severity.WARNING, __doc__, istio_code="IST0155",
    reads=frozenset({"envoy_filters"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    pinned = PinnedPatches(ctx.mesh)
    for envoy_filter, index, patch in patches(ctx.mesh):
        if not (unprioritized(envoy_filter) and order_dependent(patch)):
            continue
        others = pinned.elsewhere(envoy_filter, patch)
        if not others:
            continue
        other = others[0][1]
        yield RULE.on(
            operation_origin(patch),
            f"{describe(index, patch)} depends on the order EnvoyFilters are applied in, this EnvoyFilter "
            f"sets no priority, and a {other.operation} of {patch.filter_name!r} is pinned to proxyVersion "
            f"'{other.proxy_version}', so the patch may stop applying when proxies are upgraded; "
            "set spec.priority or use INSERT_FIRST or ADD",
            related=tuple(ctx.related(o.origin.at("match", "proxy", "proxyVersion"), "pinned by")
                          for _, o in others),
        )
