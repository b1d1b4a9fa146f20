"""An Ingress of Istio's class uses something Istio's ingress gateway ignores or reads differently.

## Why it matters
Istio turns each Ingress of its class into a Gateway and one VirtualService per host,
and leaves out what that translation cannot carry, logging it at most:

- `spec.defaultBackend`: ignored; requests no rule matches get 404 from the gateway;
- a `resource` backend, or a rule with a host and no `http` paths: dropped;
- a `tls` entry without `secretName`: no HTTPS server for its hosts;
- an `ImplementationSpecific` path (the v1beta1 default) that does not end in `/*` or
  `.*`: matched *exactly*, so `/api` does not match `/api/users`, where ingress-nginx
  matches a prefix;
- an `Exact` path beside a `Prefix` of the same path with a trailing `/` (`/api` and
  `/api/`, in any Istio Ingress for the host): Istio orders paths by their written
  length, so the Prefix comes first and takes `/api` too; the Exact path never matches;
- annotations of other controllers (`nginx.ingress.kubernetes.io/rewrite-target`,
  `ssl-redirect`, auth, CORS, canaries, ...): ignored, the behaviour they configured is gone.

These are what goes wrong when an Ingress moves to the `istio` class during a migration.

## Example
```yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: web
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /     # ignored by Istio
spec:
  ingressClassName: istio
  defaultBackend: {service: {name: web, port: {number: 80}}}   # ignored by Istio
  rules:
  - http:
      paths:
      - {path: /api, pathType: ImplementationSpecific, backend: {service: {name: api, port: {number: 8080}}}}
```

## Fix
Write what Istio can read: a rule without host with path `/` (`Prefix`) instead of the
default backend, `pathType: Prefix` (or `Exact`), a `secretName` on every TLS entry
(the Secret in the ingress gateway's namespace), and move rewrites, redirects and the
like to a VirtualService bound to a Gateway (or an HTTPRoute), which express them.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.ingress._ingress import (
    IMPLEMENTATION_SPECIFIC,
    Entry,
    PathEntry,
    entries,
    path_entries,
)

RULE = Rule(
    "MSH348", "ingress-ignored-by-istio", Severity.WARNING, __doc__,
    reads=frozenset({"gateways", "gateway_classes", "routes"}),
)

# annotation prefixes of other controllers: Istio reads none of them
FOREIGN = (
    "nginx.ingress.kubernetes.io/", "nginx.org/", "traefik.ingress.kubernetes.io/", "haproxy.org/",
    "konghq.com/", "alb.ingress.kubernetes.io/", "ingress.kubernetes.io/",
)
ISTIO_PREFIX_SUFFIXES = ("/*", ".*")


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    served = [e for e in entries(ctx) if e.istio]
    for entry in served:
        yield from _ignored(entry)
    yield from _slash_prefixes(ctx, served)


def _slash_prefixes(ctx: Analysis, served: list[Entry]) -> Iterator[Finding]:
    """Istio sorts an Ingress host's paths by written length: Prefix '/a/' before Exact '/a'."""
    prefixes: dict[tuple[str, str], PathEntry] = {}
    exact: list[PathEntry] = []
    for entry in served:
        for path in path_entries(entry):
            if path.kind == "Prefix" and path.value.endswith("/") and path.value.rstrip("/"):
                prefixes.setdefault((path.host, path.value.rstrip("/")), path)
            elif path.kind == "Exact":
                exact.append(path)
    for path in exact:
        prefix = prefixes.get((path.host, path.value))
        if prefix is None:
            continue
        yield RULE.on(path.match.origin.at("path"),
                      f"Istio orders an Ingress host's paths by their written length: Prefix {prefix.value!r} comes "
                      f"before this Exact {path.value!r} and also matches it, so it never does (Kubernetes gives "
                      "Exact the precedence); write the Prefix without the trailing '/'",
                      related=(ctx.related(prefix.match.origin, "the Prefix path:"),))


def _ignored(entry: Entry) -> Iterator[Finding]:
    ingress = entry.ingress
    foreign = [k for k in ingress.annotations if k.startswith(FOREIGN)]
    if foreign:
        yield RULE.on(ingress.origin.at("metadata", "annotations", foreign[0]),
                      f"Istio's ingress gateway ignores the annotations of other controllers: "
                      f"{', '.join(foreign[:4])}{' and more' if len(foreign) > 4 else ''}", key=True)
    if entry.default is not None:
        yield RULE.on(entry.default.origin, "Istio ignores the default backend: requests no rule matches get 404; "
                                            "add a rule without host and a Prefix path '/' instead", key=True)
    for route in entry.rules:
        if not route.rules and route.hosts:
            yield RULE.on(route.origin, f"the rule for host {route.hosts[0]!r} has no http paths; Istio drops it")
    for path in path_entries(entry):
        backend = path.backend
        if backend is not None and backend.kind != "Service":
            yield RULE.on(backend.origin, f"Istio routes only to Services: the {backend.kind} backend of "
                                          f"{path.shown()} is dropped with its path")
        value = path.value
        if path.kind == IMPLEMENTATION_SPECIFIC and value and not value.endswith(ISTIO_PREFIX_SUFFIXES):
            yield RULE.on(path.match.origin.at("path"),
                          f"Istio matches ImplementationSpecific path {value!r} exactly (only {value!r}, not "
                          f"{value.rstrip('/')}/...), where ingress-nginx matches a prefix; use pathType Prefix "
                          "or Exact to say which")
    for listener in ingress.listeners:
        if listener.protocol == "HTTPS" and listener.secret_name is None:
            hosts = ", ".join(listener.hosts)
            yield RULE.on(listener.origin, f"Istio skips a TLS entry without secretName: no HTTPS for {hosts}",
                          key=True)
