"""A ServiceProfile's name is not the fully qualified name of the service it describes.

## Why it matters
Linkerd finds a ServiceProfile by name: the destination controller looks up the
profile named after the fully qualified name of the service a request goes to,
`<service>.<namespace>.svc.<cluster domain>` (`web.emojivoto.svc.cluster.local`),
or after the host name of an external service. A profile named anything else is
accepted by the API server but never used: its routes, retries and timeouts
silently do nothing. A name without a dot, a `.svc` name without the cluster domain
or without the namespace cannot be the name of any service.

## Example
```yaml
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: web-svc                  # Linkerd never looks this name up
  namespace: emojivoto
```

## Fix
Name the profile after the service's fully qualified name, here
`web-svc.emojivoto.svc.cluster.local` (with your cluster domain if it is not
`cluster.local`). `linkerd profile --template web-svc -n emojivoto` prints one.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule

RULE = Rule(
    "MSH067",
    "service-profile-name-not-fqdn",
    Severity.ERROR,
    __doc__,
    kinds=frozenset({"linkerd.io/ServiceProfile"}),
)

DEFAULT_DOMAIN = "svc.cluster.local"


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    name = doc.name.rstrip(".")
    if not name:
        return
    problem = _problem(name, doc.namespace or "<namespace>")
    if problem:
        yield RULE.at(
            doc,
            ("metadata", "name"),
            f"ServiceProfile name {doc.name!r} {problem[0]}, so Linkerd never uses the profile; "
            f"name it {problem[1]}",
        )


def _problem(name: str, namespace: str) -> tuple[str, str] | None:
    """What is wrong with ``name`` and the name it likely means, or None."""
    labels = name.split(".")
    service = labels[0]
    usual = f"{service}.{namespace}.{DEFAULT_DOMAIN}"
    if len(labels) == 1:
        return "is not a fully qualified name", usual
    if labels[-1] == "svc":
        if len(labels) == 3:
            return "has no cluster domain", f"{name}.cluster.local"
        return "is not of the form <service>.<namespace>.svc.<cluster domain>", usual
    if name.endswith(f".{DEFAULT_DOMAIN}") and len(labels) != len(usual.split(".")):
        return f"is not of the form <service>.<namespace>.{DEFAULT_DOMAIN}", usual
    return None
