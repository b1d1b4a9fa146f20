"""A Gateway's `gatewayClassName` matches no GatewayClass.

## Why it matters
A Gateway is implemented by the controller of its GatewayClass. With no GatewayClass
of that name, no controller picks the Gateway up: it is never programmed, gets no
address, and every route attached to it stays unserved, without any error beyond an
empty status. The usual causes are a typo and a class name from another
implementation (`istio`, `linkerd`, `envoy-gateway`, `cilium`, ...) than the one the
cluster runs.

## Example
```yaml
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: istio}
spec:
  controllerName: istio.io/gateway-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: public, namespace: ingress}
spec:
  gatewayClassName: isito                 # typo
  listeners:
  - {name: web, port: 80, protocol: HTTP}
```

## Fix
Use the name of an installed GatewayClass (`kubectl get gatewayclass`). Each
implementation installs its own classes, so the GatewayClasses among the inputs are
rarely all the cluster's: the rule warns when the inputs show the mistake (a
GatewayClass of a close name) and otherwise reports the class as unresolved (info)
unless `--closed-world` is given. The classes istiod creates itself (`istio`,
`istio-remote`, `istio-waypoint`, `istio-east-west`) and template placeholders
(`{GATEWAY_CLASS_NAME}`, `${CLASS}`) are not checked.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.gateway_api._common import by_position, gateway_api_gateways

RULE = Rule(
    "MSH307",
    "gateway-class-not-found",
    Severity.WARNING,
    __doc__,
    reads=frozenset({"gateways", "gateway_classes"}),
)

# GatewayClasses istiod creates by itself: never among the manifests, never reported
ISTIO_BUILTIN = frozenset({"istio", "istio-remote", "istio-waypoint", "istio-east-west"})


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    gateway_classes = [c for c in ctx.mesh.gateway_classes if c.source_kind == "GatewayClass"]  # not IngressClasses
    classes = {c.name: c for c in sorted(gateway_classes, key=lambda c: by_position(c.origin), reverse=True)}
    for gateway in gateway_api_gateways(ctx.mesh.gateways):
        name = gateway.class_name
        if not name or name in classes or name in ISTIO_BUILTIN or "{" in name or "$" in name:
            continue
        origin = gateway.origin.at("spec", "gatewayClassName")
        close = difflib.get_close_matches(name, sorted(classes), n=1, cutoff=0.8)
        if not close and not ctx.closed_world:
            # the classes among the inputs are not all the cluster's (each implementation
            # installs its own): only a near miss shows the mistake
            yield RULE.on(origin, f"gatewayClassName {name!r} names a GatewayClass", unresolved=True)
            continue
        message = f"gatewayClassName {name!r} matches no GatewayClass"
        if close:
            message += f"; did you mean {close[0]!r}?"
        elif classes:
            message += f"; classes: {', '.join(sorted(classes))}"
        yield RULE.on(origin, message, related=(ctx.related(classes[close[0]].origin, "see"),) if close else ())
