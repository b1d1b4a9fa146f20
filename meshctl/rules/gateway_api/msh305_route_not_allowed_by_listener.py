"""A route attaches to a Gateway listener whose `allowedRoutes` does not admit it.

## Why it matters
A listener decides which routes may attach to it: `allowedRoutes.namespaces.from` is
`Same` (the default: only routes in the Gateway's namespace), `All`, or `Selector`
(namespaces whose labels match; every Namespace carries
`kubernetes.io/metadata.name`), and `allowedRoutes.kinds` lists the route kinds it
takes, by default those of its protocol (HTTPRoute and GRPCRoute on HTTP and HTTPS,
TLSRoute and TCPRoute on TLS, TCPRoute on TCP, UDPRoute on UDP). A route the listener
does not admit is refused (`Accepted: False`, reason `NotAllowedByListeners`) and its
traffic never reaches the backends. This, not a ReferenceGrant, is what governs a
parentRef across namespaces. When the parentRef names several listeners (no
`sectionName`), the route is reported only when none of them admits it.

## Example
```yaml
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: public, namespace: ingress}
spec:
  gatewayClassName: istio
  listeners:
  - name: web
    port: 80
    protocol: HTTP                    # allowedRoutes defaults to namespaces from: Same
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: store, namespace: shop}
spec:
  parentRefs: [{name: public, namespace: ingress}]
  rules:
  - backendRefs: [{name: store, port: 8080}]
```

## Fix
Let the listener admit the route's namespace (`allowedRoutes.namespaces.from: All`, or
`Selector` with a label the namespace carries), list the route's kind in
`allowedRoutes.kinds`, or attach the route to a listener of the right protocol. When
the Selector's labels depend on a Namespace object that is not among the inputs, the
finding is unresolved (info) unless `--closed-world` is given.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import Gateway, Route
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.gateway_api._attachment import (
    HOSTNAME,
    KIND,
    NAMESPACE,
    ListenerVerdict,
    attachments,
)
from meshctl.rules.gateway_api._common import DEFAULT_KINDS, listener_label

RULE = Rule(
    "MSH305",
    "route-not-allowed-by-listener",
    Severity.ERROR,
    __doc__,
    reads=frozenset({"routes", "gateways"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for attachment in attachments(ctx).items:
        verdicts = attachment.verdicts
        if attachment.accepted or any(v.refusals == (HOSTNAME,) for v in verdicts):
            continue  # accepted, or refused only for its hostnames somewhere: MSH301
        route, gateway = attachment.route, attachment.gateway
        shown = f"Gateway '{gateway.namespace}/{gateway.name}'"
        related = tuple(ctx.related(v.listener.origin, "listener of") for v in verdicts)
        if attachment.undecided:
            pending = [v for v in verdicts if v.undecided and not v.refusals]
            verb = "admits" if len(pending) == 1 else "admit"
            yield RULE.on(
                attachment.parent.origin,
                f"{_listeners(pending)} of {shown} {verb} namespaces labelled "
                f"{_selector(pending[0])}: whether namespace {route.namespace!r} is one depends on "
                "a Namespace object",
                related=related,
                unresolved=True,
            )
            continue
        reasons = "; ".join(dict.fromkeys(_reason(v, gateway, route) for v in verdicts))
        yield RULE.on(
            attachment.parent.origin,
            f"{route.source_kind} of namespace {route.namespace!r} is not allowed by {shown}: {reasons}",
            related=related,
        )


def _listeners(verdicts: list[ListenerVerdict]) -> str:
    which = "listener" if len(verdicts) == 1 else "listeners"
    return f"{which} {', '.join(listener_label(v.listener) for v in verdicts)}"


def _selector(verdict: ListenerVerdict) -> str:
    selector = verdict.listener.allowed_selector or {}
    return ", ".join(f"{k}={v}" for k, v in sorted(selector.items())) or "by matchExpressions"


def _reason(verdict: ListenerVerdict, gateway: Gateway, route: Route) -> str:
    listener = verdict.listener
    parts = []
    if KIND in verdict.refusals:
        explicit = [k for k in listener.allowed_kinds if k]
        if explicit and route.source_kind not in explicit:
            parts.append(f"allowedRoutes.kinds lists only {', '.join(explicit)}")
        else:
            kinds = ", ".join(sorted(DEFAULT_KINDS.get(listener.protocol, ())))
            parts.append(f"a {listener.protocol} listener takes {kinds}")
    if NAMESPACE in verdict.refusals:
        origin = listener.allowed_namespaces
        if origin == "Same":
            parts.append(f"it admits routes of namespace {gateway.namespace!r} only (from: Same)")
        else:
            parts.append(f"namespace {route.namespace!r} does not match its selector ({_selector(verdict)})")
    if HOSTNAME in verdict.refusals:
        parts.append("and the hostnames do not intersect")
    return f"listener {listener_label(listener)}: " + ", ".join(parts)
