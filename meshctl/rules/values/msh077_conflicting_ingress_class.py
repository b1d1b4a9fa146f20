"""An Ingress names its class both in spec.ingressClassName and in the kubernetes.io/ingress.class annotation.

## Why it matters
The annotation is the pre-1.18 way of choosing a controller and is deprecated; the API
server refuses to create an Ingress that sets both. Controllers that still read the
annotation read it *first*, so when the two disagree the Ingress is served by the
controller the annotation names, not the one the field names. meshctl also warns
(MSH013) on the annotation alone: move to `spec.ingressClassName`, which needs an
IngressClass of that name in the cluster (for Istio's class `istio`, one whose
`controller` is `istio.io/ingress-controller`: Istio ignores `ingressClassName: istio`
without it).

## Example
```yaml
kind: Ingress
metadata:
  annotations:
    kubernetes.io/ingress.class: nginx
spec:
  ingressClassName: istio
```

## Fix
Keep one: `spec.ingressClassName` (and the IngressClass it names), and remove the
annotation.
"""

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.input import msh013_deprecated_field as deprecated
from meshctl.rules.values._ingress import CLASS_ANNOTATION, INGRESS_KINDS, spec

RULE = Rule("MSH077", "conflicting-ingress-class", Severity.ERROR, __doc__, kinds=INGRESS_KINDS)


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    annotation = doc.annotations.get(CLASS_ANNOTATION)
    if not isinstance(annotation, str):
        return
    where = ("metadata", "annotations", CLASS_ANNOTATION)
    field = spec(doc).get("ingressClassName")
    if isinstance(field, str):
        same = "the same class" if field == annotation else f"class {field!r}, the annotation wins where it is read"
        yield RULE.at(doc, where, f"kubernetes.io/ingress.class {annotation!r} and spec.ingressClassName are both "
                                  f"set ({same}); the API server refuses to create an Ingress with both")
        return
    hint = " (with an IngressClass whose controller is istio.io/ingress-controller)" if annotation == "istio" else ""
    yield deprecated.RULE.at(doc, where, f"the kubernetes.io/ingress.class annotation is deprecated; use "
                                         f"spec.ingressClassName: {annotation}{hint}", key=True)
