"""An IngressClass's default-class annotation is neither "true" nor "false".

## Why it matters
The API server makes an IngressClass the default (the class it writes into every new
Ingress that names none) only when `ingressclass.kubernetes.io/is-default-class` is
exactly the string `"true"`. `"True"`, `"yes"` or `"1"` are quietly taken as false: new
Ingresses without a class get no class, and most controllers then ignore them.

## Example
```yaml
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations:
    ingressclass.kubernetes.io/is-default-class: "True"   # not "true": not the default
spec:
  controller: k8s.io/ingress-nginx
```

## Fix
Write `"true"` (quoted, lower case), or remove the annotation.
"""

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._ingress import CLASS_KINDS, DEFAULT_CLASS_ANNOTATION

RULE = Rule("MSH079", "invalid-default-class-annotation", Severity.WARNING, __doc__, kinds=CLASS_KINDS)


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    value = doc.annotations.get(DEFAULT_CLASS_ANNOTATION)
    if value is None or value in ("true", "false"):
        return
    yield RULE.at(doc, ("metadata", "annotations", DEFAULT_CLASS_ANNOTATION),
                  f"{DEFAULT_CLASS_ANNOTATION} is {value!r}; only \"true\" makes the class the default, "
                  "so it is not")
