"""A route splits traffic between several destinations whose weights are all zero.

## Why it matters
With more than one destination, Istio sends each one `weight / sum of weights` of
the traffic, and an unset weight counts as 0. When every weight is 0 there is no
share to give, so Istio's webhook rejects the VirtualService ("total destination
weight = 0") and the routing change never applies. (Since Istio 1.22 the weights
are relative and need not add up to 100: see MSH031 for that warning.)

## Example
```yaml
http:
- route:
  - destination: {host: cart, subset: v1}
  - destination: {host: cart, subset: v2}
    weight: 0
```

## Fix
Give the destinations the shares you mean (`weight: 90` and `weight: 10`), or keep
a single destination, which gets all traffic without a weight.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._istio_weights import weighted_routes

RULE = Rule(
    "MSH020",
    "invalid-route-weights",
    Severity.ERROR,
    __doc__,
    istio_code="IST0106",
    kinds=frozenset({"networking.istio.io/VirtualService"}),
)


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    for route in weighted_routes(doc):
        if len(route.weights) > 1 and route.total == 0:
            yield RULE.at(
                doc,
                route.path,
                f"the weights of these {len(route.weights)} destinations add up to 0; "
                "with several destinations at least one needs a weight above 0",
            )
