"""More than one IngressClass is marked as the cluster's default.

## Why it matters
The API server writes the default IngressClass into every new Ingress that names no
class. With several classes annotated `ingressclass.kubernetes.io/is-default-class:
"true"` there is no single default: the admission plugin refuses to create Ingresses
without `ingressClassName` (recent Kubernetes releases pick the newest default instead,
which changes silently when a class is re-installed). It usually happens when a second
controller is installed with its chart's "default class" switch left on.

## Example
```yaml
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: istio
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: istio.io/ingress-controller}
```

## Fix
Keep the annotation on one IngressClass (or on none, and name the class in every
Ingress).
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.lower.ingress import DEFAULT_CLASS_ANNOTATION, ingress_classes
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.gateway_api._common import by_position

RULE = Rule(
    "MSH345", "multiple-default-ingress-classes", Severity.WARNING, __doc__,
    reads=frozenset({"gateway_classes"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    defaults: dict[str, object] = {}
    found = []
    for c in sorted(ingress_classes(ctx.mesh), key=lambda c: by_position(c.origin)):
        if c.default and c.name not in defaults:
            defaults[c.name] = c
            found.append(c)
    if len(found) < 2:
        return
    names = ", ".join(repr(c.name) for c in found)
    for c in found[1:]:
        yield RULE.on(
            c.origin.at("metadata", "annotations", DEFAULT_CLASS_ANNOTATION),
            f"IngressClass {c.name!r} is marked default, and so is {found[0].name!r} ({len(found)} defaults: "
            f"{names}): Ingresses without ingressClassName are refused, or get whichever default is newest",
            related=(ctx.related(found[0].origin, "also the default:"),),
        )
