"""A TrafficSplit or Linkerd HTTPRoute rule gives every backend a weight of 0.

## Why it matters
Weights are relative: each backend gets `weight / sum of weights` of the requests.
When every weight is 0 there is nothing to share out and no backend is chosen, so
every request to the service (or matching the route rule) fails. In a
TrafficSplit (split.smi-spec.io) weights are quantities in v1alpha1 (`"500m"`,
`1`) and integers later; `0`, `"0m"` and `"0.0"` are all zero. In a
policy.linkerd.io HTTPRoute an unset `weight` counts as 1.

## Example
```yaml
apiVersion: split.smi-spec.io/v1alpha2
kind: TrafficSplit
spec:
  service: web-svc
  backends:
  - {service: web-v1, weight: 0}
  - {service: web-v2, weight: 0}
```

## Fix
Give the backend that should take the traffic a positive weight (`web-v1: 100`,
`web-v2: 0` to send everything to v1), or remove the split.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._walk import find, mapping, number

TRAFFIC_SPLIT = "split.smi-spec.io/TrafficSplit"
HTTP_ROUTE = "policy.linkerd.io/HTTPRoute"

RULE = Rule(
    "MSH065",
    "all-weights-zero",
    Severity.ERROR,
    __doc__,
    kinds=frozenset({TRAFFIC_SPLIT, HTTP_ROUTE}),
)

# A Kubernetes quantity: a decimal number, then a binary or decimal suffix or an exponent.
QUANTITY = re.compile(
    r"[+-]?(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?"
)
DEFAULT_ROUTE_WEIGHT = 1


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    if doc.kind_key == TRAFFIC_SPLIT:
        backends = mapping(doc.data.get("spec")).get("backends")
        if (
            isinstance(backends, list)
            and backends
            and all(_quantity_is_zero(mapping(b).get("weight")) for b in backends)
        ):
            message = f"{_all(len(backends), 'backends')} weight 0, so no backend gets any traffic"
            yield RULE.at(doc, ("spec", "backends"), message)
        return
    for path, refs in find(doc.data, "spec.rules[].backendRefs"):
        if isinstance(refs, list) and refs and all(_route_weight(ref) == 0 for ref in refs):
            message = (
                f"{_all(len(refs), 'backendRefs')} weight 0, so requests matching this rule fail"
            )
            yield RULE.at(doc, path, message)


def _all(count: int, what: str) -> str:
    return f"all {count} {what} have" if count > 1 else f"the only entry of {what} has"


def _quantity_is_zero(value: object) -> bool:
    """Whether a TrafficSplit weight is zero (False when it is not a quantity at all)."""
    if isinstance(value, str):
        match = QUANTITY.fullmatch(value)
        return match is not None and Decimal(match["number"]) == 0
    return number(value) == 0


def _route_weight(ref: object) -> int | None:
    """A backendRef's weight, 1 when unset, None when it is not a number."""
    weight = mapping(ref).get("weight")
    return DEFAULT_ROUTE_WEIGHT if weight is None else number(weight)
