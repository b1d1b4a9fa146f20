"""A Linkerd retry, timeout, circuit-breaking or inbound-policy annotation sits where Linkerd never reads it.

## Why it matters
Linkerd reads these annotations only on some objects, and a misplaced or misspelt one
is ignored without a word:

- `retry.linkerd.io/{http,grpc,limit,timeout}` and
  `timeout.linkerd.io/{request,response,idle}` on a **Service**, or on an HTTPRoute or
  GRPCRoute attached to a Service (not on one attached only to a Server: inbound
  routes do not retry), never on a Deployment, pod template, Namespace or VirtualService;
- `retry.linkerd.io/http` only on a Service or an HTTPRoute, `retry.linkerd.io/grpc`
  only on a Service or a GRPCRoute;
- `balancer.linkerd.io/failure-accrual*` only on the Service clients address;
- `config.linkerd.io/default-inbound-policy` only on a Namespace or a pod (template):
  on a Server or a Service it does nothing (a Server has `accessPolicy`);
- any other key under `retry.linkerd.io/` or `timeout.linkerd.io/` (such as
  `retry.linkerd.io/attempts`) is not a Linkerd annotation.

The requests are then neither retried nor timed out as intended.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: books
  namespace: booksapp
  annotations:
    retry.linkerd.io/http: 5xx          # Linkerd reads retries from the Service
    timeout.linkerd.io/request: 2s
spec:
  selector: {matchLabels: {app: books}}
  template:
    metadata: {labels: {app: books}}
    spec:
      containers: [{name: books, image: buoyantio/booksapp:v0.0.5}]
```

## Fix
Move the annotations to the Service (defaults for every route to it) or to the
HTTPRoute/GRPCRoute attached to it, with the keys Linkerd documents.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import Route
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.linkerd._linkerd import (
    ACCRUAL_PREFIX,
    RETRY_PREFIX,
    TIMEOUT_PREFIX,
    is_service_parent,
    pod_metadata,
)

RULE = Rule(
    "MSH331", "linkerd-annotation-ignored", Severity.WARNING, __doc__,
    reads=frozenset({"resources", "routes", "workloads"}),
)

ROUTE_KEYS = {
    RETRY_PREFIX + "http": ("Service", "HTTPRoute"),
    RETRY_PREFIX + "grpc": ("Service", "GRPCRoute"),
    RETRY_PREFIX + "limit": ("Service", "HTTPRoute", "GRPCRoute"),
    RETRY_PREFIX + "timeout": ("Service", "HTTPRoute", "GRPCRoute"),
    TIMEOUT_PREFIX + "request": ("Service", "HTTPRoute", "GRPCRoute"),
    TIMEOUT_PREFIX + "response": ("Service", "HTTPRoute", "GRPCRoute"),
    TIMEOUT_PREFIX + "idle": ("Service", "HTTPRoute", "GRPCRoute"),
}
ROUTE_KINDS = ("HTTPRoute", "GRPCRoute")
DEFAULT_INBOUND_POLICY = "config.linkerd.io/default-inbound-policy"
# Where the proxy injector reads proxy configuration (a controller's own metadata is left
# alone here: whether the injector sees it is not settled).
POD_KINDS = ("Namespace", "Pod", "pod template", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
             "Job", "CronJob")


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    routes: dict[Origin, Route] | None = None
    for resource in mesh.resources:
        keys = [k for k in resource.annotations if _linkerd_key(k)]
        if not keys:
            continue
        route = None
        if resource.kind in ROUTE_KINDS:
            routes = routes if routes is not None else {r.origin: r for r in mesh.routes}
            route = routes.get(resource.origin)
        for key in sorted(keys):
            problem = _problem(key, resource.kind, route)
            if problem:
                yield RULE.on(resource.origin.at("metadata", "annotations", key), f"{key} {problem}", key=True)
    for workload in mesh.workloads:
        if workload.kind == "Pod":
            continue  # its metadata is the resource's, checked above
        for key in sorted(k for k in workload.annotations if _linkerd_key(k)):
            problem = _problem(key, "pod template", None)
            if problem:
                yield RULE.on(pod_metadata(workload).at("annotations", key), f"{key} {problem}", key=True)


def _linkerd_key(key: str) -> bool:
    return key.startswith((RETRY_PREFIX, TIMEOUT_PREFIX, ACCRUAL_PREFIX)) or key == DEFAULT_INBOUND_POLICY


def _problem(key: str, kind: str, route: Route | None) -> str | None:
    """Why Linkerd ignores ``key`` on an object of ``kind``; None when it reads it."""
    if key == DEFAULT_INBOUND_POLICY:
        if kind in POD_KINDS:
            return None
        advice = "; a Server sets its own accessPolicy" if kind == "Server" else ""
        return (
            f"is read only on a Namespace or a pod (template), not on {_article(kind)}: Linkerd ignores it "
            f"here{advice}"
        )
    if key.startswith(ACCRUAL_PREFIX):
        if kind == "Service":
            return None
        return f"is read only on a Service, not on {_article(kind)}: Linkerd ignores it here"
    places = ROUTE_KEYS.get(key)
    if places is None:
        known = ", ".join(sorted(k for k in ROUTE_KEYS if k.startswith(key.split("/")[0])))
        return f"is not an annotation Linkerd knows ({known}), so it does nothing"
    if kind not in places:
        where = " or ".join(_article(p) for p in places)
        swap = {"GRPCRoute": RETRY_PREFIX + "grpc", "HTTPRoute": RETRY_PREFIX + "http"}.get(kind)
        hint = f"; use {swap}" if swap and key.startswith(RETRY_PREFIX) and swap != key else ""
        return f"is read only on {where}, not on {_article(kind)}: Linkerd ignores it here{hint}"
    if route is not None and _inbound(route):
        return (
            "is read only on routes attached to a Service; this route is attached to a Server "
            "(inbound), where Linkerd neither retries nor times out"
        )
    return None


def _inbound(route: Route) -> bool:
    """A route attached to Servers only: an inbound (authorization) route."""
    parents = route.parents
    return (
        bool(parents)
        and not any(is_service_parent(p) for p in parents)
        and any(p.kind.lower() == "server" for p in parents)
    )


def _article(kind: str) -> str:
    return f"an {kind}" if kind[:1] in "AEIOU" or kind.startswith("HTTP") else f"a {kind}"
