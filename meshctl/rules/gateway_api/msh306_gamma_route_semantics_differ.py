"""A GAMMA route (parent a Service) uses something Istio and Linkerd interpret differently.

## Why it matters
Istio and Linkerd both read Gateway API HTTPRoutes and GRPCRoutes attached to a
Service, but not the same way, so a route written for one mesh can behave differently,
or not at all, in the other (or while migrating between them):

- **filters**: Linkerd supports only the header modifiers and RequestRedirect
  (GRPCRoute: the header modifiers); a URLRewrite, RequestMirror, CORS, ExtensionRef or
  ExternalAuth filter, on the rule or on a backendRef, makes it drop the *whole route*.
  Istio applies URLRewrite, RequestMirror and CORS (and refuses ExtensionRef and
  ExternalAuth on sidecars).
- **a rule without backendRefs** (and no redirect): Istio answers 500, as the spec
  says; Linkerd forwards the request to the parent Service.
- **`timeouts.request`**: Istio applies it; Linkerd ignores it on gateway-group routes
  before 2.20 (`timeout.linkerd.io/request` works in every version).
- **`timeouts.backendRequest`**: Istio uses it as the per-try timeout with a retry, and
  as the whole route's timeout without one; Linkerd never uses it.
- **`retry`** (experimental): Istio retries; Linkerd reads only `retry.linkerd.io/*`
  annotations. Conversely Linkerd's `retry.linkerd.io/*` and `timeout.linkerd.io/*`
  annotations are ignored by Istio.
- **`group: core`** on the Service parentRef: Linkerd reads it as the core group; Istio
  matches the group exactly and does not attach the route.
- **RequestRedirect `statusCode` 303, 307 or 308** (Gateway API v1.5): Istio 1.30 serves
  it; Linkerd reads Gateway API up to 1.2.1 and 2.20 ignores objects using newer values.

One finding per route lists every difference that applies to it.

## Example
```yaml
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: cart, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: cart, port: 8080}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v1}}]
    filters:
    - type: URLRewrite                  # Linkerd ignores this whole route
      urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}
    backendRefs: [{name: cart-v1, port: 8080}]
    timeouts: {request: 2s}             # Linkerd < 2.20 ignores it
```

## Fix
Follow the dual-mesh recipe: filters limited to the header modifiers and
RequestRedirect (with an explicit 301 or 302), explicit backendRefs on every rule,
timeouts both as `timeouts.request` and as the `timeout.linkerd.io/request`
annotation, retries both as `retry` and as `retry.linkerd.io/*` annotations,
`group: ""` on Service parents. If only one mesh will ever read the route, ignore this
info (`--ignore MSH306`).
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import Route
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.gateway_api._common import gateway_api_routes, is_service_parent
from meshctl.rules.gateway_api._pending import (
    backend_filters,
    backend_request_timeout,
    has_retry,
    redirect_status,
)

RULE = Rule(
    "MSH306",
    "gamma-route-semantics-differ",
    Severity.INFO,
    __doc__,
    reads=frozenset({"routes"}),
)

KINDS = ("HTTPRoute", "GRPCRoute")
LINKERD_FILTERS = {
    "HTTPRoute": frozenset({"RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect"}),
    "GRPCRoute": frozenset({"RequestHeaderModifier", "ResponseHeaderModifier"}),
}
ISTIO_REFUSES = frozenset({"ExtensionRef", "ExternalAuth"})
NEW_REDIRECT_CODES = frozenset({303, 307, 308})
RETRY_PREFIX = "retry.linkerd.io/"
TIMEOUT_PREFIX = "timeout.linkerd.io/"

Difference = tuple[Origin, str]


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for route in gateway_api_routes(ctx.mesh.routes):
        if route.source_kind not in KINDS or not any(is_service_parent(p) for p in route.parents):
            continue
        found = list(_differences(route))
        if not found:
            continue
        (origin, _), rest = found[0], found[1:]
        if rest:
            text = "; ".join(f"({i}) {d}" for i, (_, d) in enumerate(found, 1))
        else:
            text = found[0][1]
        yield RULE.on(
            origin,
            f"Istio and Linkerd read this GAMMA route differently: {text}",
            related=tuple(ctx.related(o, f"({i + 2}) in") for i, (o, _) in enumerate(rest)),
        )


def _differences(route: Route) -> Iterator[Difference]:
    annotations = route.annotations
    retry_annotations = sorted(k for k in annotations if k.startswith(RETRY_PREFIX))
    for parent in route.parents:
        if is_service_parent(parent) and parent.group == "core":
            yield (
                parent.origin.at("group"),
                ("parentRef `group: core` is the core group to Linkerd, but Istio matches the "
                 'group exactly and does not attach the route (write `group: ""`)'),
            )
            break
    supported = LINKERD_FILTERS[route.source_kind]
    any_timeout = any_retry = False
    for rule in route.rules:
        where = f"rule {rule.index}"
        for index, kind in enumerate(rule.filters):
            if kind and kind not in supported:
                yield rule.origin.at("filters", index), _filter(kind, where)
        for backend in rule.backends:
            for index, kind in enumerate(backend_filters(backend)):
                if kind not in supported:
                    yield backend.origin.at("filters", index), _filter(kind, f"a backendRef of {where}")
        status = redirect_status(rule)
        if status is not None and status[1] in NEW_REDIRECT_CODES:
            yield (
                rule.origin.at("filters", status[0], "requestRedirect", "statusCode"),
                (f"{where} redirects with status {status[1]}, a Gateway API v1.5 value: Istio "
                 "serves it, Linkerd (which reads Gateway API up to 1.2.1) ignores the route"),
            )
        if not rule.backends and not rule.redirect:
            yield (
                rule.origin,
                f"{where} has no backendRefs: Istio answers 500, Linkerd forwards to the parent Service",
            )
        if rule.timeout is not None:
            any_timeout = True
            if f"{TIMEOUT_PREFIX}request" not in annotations:
                yield (
                    rule.origin.at("timeouts", "request"),
                    (f"{where} timeouts.request is applied by Istio but ignored by Linkerd before "
                     "2.20 (add the timeout.linkerd.io/request annotation)"),
                )
        if backend_request_timeout(rule) is not None:
            yield (
                rule.origin.at("timeouts", "backendRequest"),
                (f"{where} timeouts.backendRequest is Istio's per-try timeout (its route timeout "
                 "when there is no retry) and is never used by Linkerd"),
            )
        if has_retry(rule):
            any_retry = True
            if not retry_annotations:
                yield (
                    rule.origin.at("retry"),
                    f"{where} retry is applied by Istio; Linkerd reads only retry.linkerd.io annotations",
                )
    if retry_annotations and not any_retry:
        yield (
            route.origin.at("metadata", "annotations", retry_annotations[0]),
            (f"annotations {', '.join(retry_annotations)} make Linkerd retry; Istio ignores them "
             "(no rule has a retry stanza)"),
        )
    for key in sorted(k for k in annotations if k.startswith(TIMEOUT_PREFIX)):
        if key == f"{TIMEOUT_PREFIX}request" and any_timeout:
            continue
        yield (
            route.origin.at("metadata", "annotations", key),
            f"annotation {key} is applied by Linkerd and ignored by Istio",
        )


def _filter(kind: str, where: str) -> str:
    if kind in ISTIO_REFUSES:
        return f"{where} uses filter {kind}: Linkerd ignores the whole route, Istio refuses the filter on sidecars"
    if kind == "CORS":
        return (
            f"{where} uses filter CORS: Istio applies it, Linkerd rejects the route "
            "(admission before 2.20) or ignores it (2.20)"
        )
    return f"{where} uses filter {kind}: Istio applies it, Linkerd ignores the whole route"
