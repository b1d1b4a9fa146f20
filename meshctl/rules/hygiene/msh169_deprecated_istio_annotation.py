"""A resource uses an Istio annotation that is deprecated.

## Why it matters
Deprecated annotations keep working for a while and are then removed, at which point
Istio ignores them without a word: stats you relied on disappear, injection choices
stop applying. `sidecar.istio.io/inject` as an *annotation* is the common one: the
injector's webhook selects pods by the `sidecar.istio.io/inject` *label*, which is what
Istio documents now. This is what `istioctl analyze` reports as IST0135
(DeprecatedAnnotation).

As istioctl does, meshctl stays quiet about the `sidecar.istio.io/inject` annotation
when the same metadata also has the label (kept on purpose for older injectors).

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  template:
    metadata:
      labels: {app: cart}
      annotations:
        sidecar.istio.io/inject: "false"     # use the label
    spec:
      containers: [{name: cart, image: shop/cart:1.4}]
```

## Fix
Use the replacement the message names (for the injection switch, the
`sidecar.istio.io/inject` label in the pod template's `metadata.labels`).
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.hygiene._istio_annotations import LABELS, lookup, placements

RULE = Rule(
    "MSH169", "deprecated-istio-annotation", Severity.INFO, __doc__, istio_code="IST0135",
    reads=frozenset({"resources", "workloads"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for placement in placements(ctx):
        annotation = lookup(placement.key)
        if annotation is None or not annotation.deprecated:
            continue
        if not annotation.applies_to(placement.kind):
            continue  # misplaced: MSH167 says where it belongs
        if placement.key in LABELS and placement.key in placement.labels:
            continue  # the label is there too: kept for compatibility, on purpose
        message = f"annotation {placement.key!r} is deprecated"
        if placement.key in LABELS:
            message += f"; use the {placement.key} label ({placement.where}.labels) instead"
        elif annotation.replacement:
            message += f"; use {annotation.replacement} instead"
        else:
            message += " and has no replacement; remove it"
        yield RULE.on(placement.origin, message, key=True)
