"""An Ingress lists the same path twice for one host: one of the two never gets a request.

## Why it matters
Kubernetes Ingress does not try paths in order: for a request, the longest matching path
wins and an `Exact` path beats a `Prefix` one of the same length, so a broader or earlier
path never hides a narrower one. Two paths hide each other only when they match exactly
the same requests: the same `pathType` and the same path, where a `Prefix` matches by
whole segments and ignores a trailing `/` (`/api` and `/api/` are one path). Rules with
the same host are merged, so the duplicate may sit in another rule of the Ingress. Which
of the two serves the requests is up to the controller; when they name different
backends, the other backend silently receives nothing.

## Example
```yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: web}
spec:
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 8080}}}}
      - {path: /api/, pathType: Prefix, backend: {service: {name: api-v2, port: {number: 8080}}}}
```

## Fix
Keep one path per host, pathType and path; to send part of the traffic elsewhere, use a
longer path (`/api/v2`) or an `Exact` path. Paths of the same host in two Ingresses are
MSH342.
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

RULE = Rule(
    "MSH341", "duplicate-ingress-path", Severity.WARNING, __doc__,
    reads=frozenset({"gateways", "gateway_classes", "routes"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for entry in entries(ctx):
        first: dict[tuple[str, tuple[str, str]], PathEntry] = {}
        for path in path_entries(entry):
            key = (path.host, path.key())
            earlier = first.setdefault(key, path)
            if earlier is path:
                continue
            host = f"host {path.host!r}" if path.host else "every host"
            same = "the same path" if earlier.value == path.value else "the same path (a Prefix ignores a trailing '/')"
            if same_backend(earlier.backend, path.backend):
                outcome = "it is redundant"
            else:
                outcome = (f"only one of {backend_label(earlier.backend)} and {backend_label(path.backend)} gets the "
                           "requests, which one is up to the controller")
            yield RULE.on(
                path.match.origin,
                f"{path.shown()} for {host} repeats {earlier.where()}, {same}: {outcome}",
                related=(ctx.related(earlier.match.origin, "first listed in"),),
            )
