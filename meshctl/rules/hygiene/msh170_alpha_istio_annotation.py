"""A resource uses an Istio annotation of an alpha-maturity feature (off by default).

## Why it matters
Alpha features may change or disappear between Istio releases without the usual
deprecation period, and are not covered by Istio's support policy. Configuration that
leans on them (`sidecar.istio.io/bootstrapOverride`, `traffic.sidecar.istio.io/*`,
`proxy.istio.io/overrides` ...) deserves a look before every upgrade. This is what
`istioctl analyze` reports as IST0136 (AlphaAnnotation); like istioctl, meshctl runs
this check only when asked (`--select MSH170`).

Annotations Istio writes itself are skipped: `sidecar.istio.io/status` and the other
generated ones, and on pods that are already injected the capture annotations the
injection template sets (`sidecar.istio.io/interceptionMode`,
`traffic.sidecar.istio.io/includeInboundPorts` ...). Deprecated annotations are MSH169's.

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
        sidecar.istio.io/bootstrapOverride: cart-bootstrap   # alpha
    spec:
      containers: [{name: cart, image: shop/cart:1.4}]
```

## Fix
Nothing is wrong as such: check the feature's status in the release notes before
upgrading, or prefer a beta or stable alternative (ProxyConfig in
`proxy.istio.io/config`, the Telemetry API) where one exists.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.hygiene._istio_annotations import Maturity, lookup, placements

RULE = Rule(
    "MSH170", "alpha-istio-annotation", Severity.INFO, __doc__, istio_code="IST0136",
    default_enabled=False, reads=frozenset({"resources", "workloads"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for placement in placements(ctx):
        annotation = lookup(placement.key)
        if (
            annotation is None
            or annotation.maturity is not Maturity.ALPHA
            or annotation.deprecated
            or annotation.generated
            or (annotation.injected and placement.injected_pod)
            or not annotation.applies_to(placement.kind)
        ):
            continue
        yield RULE.on(
            placement.origin,
            f"annotation {placement.key!r} belongs to an alpha-maturity Istio feature, which may "
            "change or be removed in a later release without a deprecation period",
            key=True,
        )
