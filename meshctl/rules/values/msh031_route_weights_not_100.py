"""Route weights do not add up to 100, so the split is not the one the numbers suggest.

## Why it matters
Since Istio 1.22 weights are relative: each destination gets `weight / sum of
weights` of the traffic, and an unset weight counts as 0. Istio accepts weights
of 80 and 10, but the split is then 88.9% / 11.1%, not 80% / 10%: usually one
weight was lowered without raising another. A single destination always gets all
traffic, so a weight other than 100 on it does nothing.

## Example
```yaml
http:
- route:
  - destination: {host: cart, subset: v1}
    weight: 80
  - destination: {host: cart, subset: v2}
    weight: 10        # 80 + 10 = 90
```

## Fix
Make the weights add up to 100 (`80` and `20`), so they read as percentages; on a
single destination, drop the weight.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._istio_weights import WeightedRoute, weighted_routes

RULE = Rule(
    "MSH031",
    "route-weights-not-100",
    Severity.WARNING,
    __doc__,
    kinds=frozenset({"networking.istio.io/VirtualService"}),
)

MAX_LISTED = 4


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    for route in weighted_routes(doc):
        if len(route.weights) == 1:
            weight = route.weights[0]
            if weight not in (0, 100):
                yield RULE.at(
                    doc,
                    route.path,
                    f"the only destination has weight {weight}; a single destination gets "
                    "all traffic whatever its weight",
                )
        elif route.total not in (0, 100):
            yield RULE.at(
                doc,
                route.path,
                f"weights add up to {route.total}, not 100; Istio treats them as relative, "
                f"so the split is {_shares(route)}",
            )


def _shares(route: WeightedRoute) -> str:
    parts = [
        f"{name} {100 * weight / route.total:.1f}%"
        for name, weight in zip(route.names, route.weights, strict=True)
    ]
    if len(parts) > MAX_LISTED:
        parts = [*parts[:MAX_LISTED], f"and {len(parts) - MAX_LISTED} more"]
    return ", ".join(parts)
