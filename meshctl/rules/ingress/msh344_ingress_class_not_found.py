"""An Ingress names a class no IngressClass of the inputs defines, or ends up with no class.

## Why it matters
A controller serves only the Ingresses of its class: `spec.ingressClassName` names an
IngressClass (whose `controller` says which controller it is), the deprecated
`kubernetes.io/ingress.class` annotation names the class a controller was started with.
An Ingress that names neither gets the cluster's default IngressClass (the one annotated
`ingressclass.kubernetes.io/is-default-class: "true"`) when it is created, and none when
there is no default: most controllers then ignore it, and the API server refuses to
create it while several classes are marked default. A misspelt class is the same: the
Ingress is accepted by the API server and served by nobody, and its address stays
empty. Istio serves `ingressClassName: istio` only when an IngressClass `istio` with
controller `istio.io/ingress-controller` exists.

## Example
```yaml
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: web}
spec:
  ingressClassName: ngnix          # no such IngressClass
  defaultBackend: {service: {name: web, port: {number: 80}}}
```

## Fix
Name an existing IngressClass (`kubectl get ingressclass`), create the IngressClass the
controller documents, or mark exactly one class as the default. IngressClasses are
cluster objects often installed with the controller: without `--closed-world`, a class
the inputs do not define is reported as unresolved (info) unless a close name shows a
typo.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.lower.ingress import ISTIO_CONTROLLER, ingress_classes
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.ingress._ingress import Entry, entries

RULE = Rule(
    "MSH344", "ingress-class-not-found", Severity.WARNING, __doc__,
    reads=frozenset({"gateways", "gateway_classes", "routes"}),
)

# classes controllers are started with by default: an annotation naming one needs no IngressClass
KNOWN_ANNOTATION_CLASSES = frozenset({
    "nginx", "traefik", "haproxy", "kong", "gce", "gce-internal", "alb", "contour", "azure/application-gateway",
    "ambassador", "skipper", "citrix", "openshift-default",
})


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    names = sorted({c.name for c in ingress_classes(ctx.mesh)})
    for entry in entries(ctx):
        found = entry.klass
        if found.via == "ingressClassName" and found.ingress_class is None:
            yield from _missing(ctx, entry, names)
        elif found.via == "annotation" and found.ingress_class is None:
            name = found.name or ""
            if name == ctx.mesh.mesh_config.ingress_class or name in KNOWN_ANNOTATION_CLASSES:
                continue
            close = difflib.get_close_matches(name, sorted(set(names) | KNOWN_ANNOTATION_CLASSES), n=1, cutoff=0.8)
            if close:
                yield RULE.on(found.origin, f"kubernetes.io/ingress.class {name!r} is no class a controller of the "
                                            f"inputs or a common default uses; did you mean {close[0]!r}?")
        elif found.via == "none":
            yield from _classless(ctx, entry, names)


def _missing(ctx: Analysis, entry: Entry, names: list[str]) -> Iterator[Finding]:
    found = entry.klass
    name = found.name or ""
    istio = ""
    if name == ctx.mesh.mesh_config.ingress_class:
        istio = f"; Istio serves it only when an IngressClass {name!r} with controller {ISTIO_CONTROLLER} exists"
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.8)
    if close:
        yield RULE.on(found.origin, f"ingressClassName {name!r} matches no IngressClass; did you mean {close[0]!r}?")
    elif ctx.closed_world:
        listed = f"; classes: {', '.join(names)}" if names else ""
        yield RULE.on(found.origin, f"ingressClassName {name!r} matches no IngressClass{listed}{istio}")
    else:
        yield RULE.on(found.origin, f"ingressClassName {name!r} names an IngressClass{istio}", unresolved=True)


def _classless(ctx: Analysis, entry: Entry, names: list[str]) -> Iterator[Finding]:
    defaults = entry.klass.defaults
    where = entry.ingress.origin.at("spec")
    if len(defaults) > 1:
        shown = ", ".join(repr(c.name) for c in defaults)
        yield RULE.on(where, f"{entry.label} names no class and {len(defaults)} IngressClasses are marked default "
                             f"({shown}): the API server refuses to create it (name one in spec.ingressClassName)",
                      key=True, related=tuple(ctx.related(c.origin, "default class") for c in defaults[:2]))
    elif names:
        yield RULE.on(where, f"{entry.label} names no class and no IngressClass of the inputs ({', '.join(names)}) "
                             "is marked default: only a controller that also takes Ingresses without a class "
                             "(ingress-nginx --watch-ingress-without-class) serves it; set spec.ingressClassName",
                      key=True)
    else:
        yield RULE.on(where, f"{entry.label} names no class: the cluster's default IngressClass serves it",
                      key=True, unresolved=True)
