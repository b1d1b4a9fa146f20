"""An IngressClass names no valid controller, or a parameters reference in the wrong scope.

## Why it matters
`spec.controller` is how a controller recognises its classes: the API server requires
a domain-prefixed path (`example.com/ingress-controller`, at most 250 characters) and
never lets it change afterwards. `spec.parameters` points at a controller-specific
object: with `scope: Namespace` it needs a `namespace`, with `scope: Cluster` (the
default) it must not have one; `apiGroup`, when set, must be a DNS name. The API server
rejects the IngressClass otherwise.

## Example
```yaml
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: external}
spec:
  controller: nginx                   # no domain prefix
  parameters:
    kind: IngressParameters
    name: external
    scope: Namespace                  # but no namespace
```

## Fix
Use the controller string the controller's documentation gives (`k8s.io/ingress-nginx`,
`istio.io/ingress-controller`, ...), and give `parameters` a `namespace` exactly when
its `scope` is `Namespace`.
"""

import re
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._ingress import CLASS_KINDS, MAX_LABEL, dns_subdomain_problem, spec

RULE = Rule("MSH078", "invalid-ingress-class", Severity.ERROR, __doc__, kinds=CLASS_KINDS)

HTTP_PATH = re.compile(r"[A-Za-z0-9/\-._~%!$&'()*+,;=:]+")


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    data = spec(doc)
    controller = data.get("controller")
    if isinstance(controller, str) and controller:
        problem = controller_problem(controller)
        if problem:
            yield RULE.at(doc, ("spec", "controller"), f"controller {controller!r} {problem}")
    parameters = data.get("parameters")
    if not isinstance(parameters, dict):
        return
    where = ("spec", "parameters")
    group = parameters.get("apiGroup")
    if isinstance(group, str) and group:
        problem = dns_subdomain_problem(group)
        if problem:
            yield RULE.at(doc, (*where, "apiGroup"), f"apiGroup {group!r} {problem}")
    scope = parameters.get("scope", "Cluster")
    namespace = parameters.get("namespace")
    if scope == "Namespace" and not isinstance(namespace, str):
        yield RULE.at(doc, (*where, "scope"), "scope is Namespace but the parameters name no namespace")
    elif scope == "Cluster" and namespace is not None:
        yield RULE.at(doc, (*where, "namespace"), "namespace is set but the scope is Cluster (the default); "
                                                  "set scope: Namespace or remove the namespace")
    elif isinstance(namespace, str):
        problem = _namespace_problem(namespace)
        if problem:
            yield RULE.at(doc, (*where, "namespace"), f"namespace {namespace!r} {problem}")


def _namespace_problem(value: str) -> str | None:
    if len(value) <= MAX_LABEL and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", value):
        return None
    return "is not a namespace name (a DNS-1123 label: lower-case letters, digits and '-')"


def controller_problem(value: str) -> str | None:
    """Why ``value`` is not a domain-prefixed path (``example.com/ingress``), or None."""
    domain, slash, path = value.partition("/")
    if not slash or not domain or not path:
        return "must be a domain-prefixed path such as 'example.com/ingress-controller'"
    problem = dns_subdomain_problem(domain)
    if problem:
        return f"has domain {domain!r}, which {problem}"
    if not HTTP_PATH.fullmatch(path):
        return f"has path {path!r} with characters a path may not contain"
    return None
