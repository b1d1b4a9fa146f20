"""Two Ingresses of one class send the same host and path to different backends.

## Why it matters
A controller merges every Ingress of its class into one configuration per host. When
two Ingresses claim the same host and the same path (same `pathType`, and for a
`Prefix` the same path up to a trailing `/`) with different backends, only one of them
is served: ingress-nginx's admission webhook refuses the second Ingress (`host ... and
path ... is already defined`), and without it the older Ingress wins; Istio builds one
route table per host from all Ingresses and the one created first takes the requests.
The other team's backend silently receives nothing, and deleting and re-creating an
Ingress can flip the winner.

## Example
```yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: web}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 8080}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: api-v2, namespace: web}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /api/, pathType: Prefix, backend: {service: {name: api-v2, port: {number: 8080}}}}
```

## Fix
Give each path of a host to one Ingress: move the path into the Ingress that owns the
host, or use a longer path for the second backend. Ingresses of different classes are
served by different controllers and do not conflict here (see MSH346 for the entry
points themselves). An ingress-nginx canary Ingress
(`nginx.ingress.kubernetes.io/canary: "true"`) shares its main Ingress's host and path on
purpose and is not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.ingress._ingress import (
    PathEntry,
    backend_label,
    entries,
    path_entries,
    same_backend,
)

ISTIO = "\x00istio"

RULE = Rule(
    "MSH342", "conflicting-ingress-paths", Severity.ERROR, __doc__,
    reads=frozenset({"gateways", "gateway_classes", "routes"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    claims: dict[tuple[str | None, str, tuple[str, str]], list[PathEntry]] = {}
    for entry in entries(ctx):
        if entry.canary:
            continue  # an ingress-nginx canary takes part of its main Ingress's requests by design
        seen: set[tuple[str, tuple[str, str]]] = set()
        for path in path_entries(entry):
            key = (path.host, path.key())
            if key in seen:
                continue  # a duplicate within one Ingress is MSH341's
            seen.add(key)
            served_by = ISTIO if entry.istio else entry.klass.name  # Istio serves all its classes together
            claims.setdefault((served_by, *key), []).append(path)
    for (klass, host, _), paths in claims.items():
        first = paths[0]
        for path in paths[1:]:
            if same_backend(first.backend, path.backend):
                continue
            where = f"host {host!r}" if host else "every host"
            owner = first.entry
            yield RULE.on(
                path.match.origin,
                f"{path.shown()} for {where} is also claimed by {owner.label} ({first.where()}), both "
                f"{_served(klass)}: the controller serves one of "
                f"{backend_label(first.backend)} and {backend_label(path.backend)} for it (the Ingress created "
                "first, for ingress-nginx and Istio), the other gets nothing",
                related=(ctx.related(first.match.origin, "conflicts with"),),
            )


def _served(klass: str | None) -> str:
    if klass == ISTIO:
        return "served by Istio's ingress gateway"
    return f"of class {klass!r}" if klass else "without a class"
