"""A route's hostnames never intersect the hostname of the Gateway listener it attaches to.

## Why it matters
A listener with a `hostname` accepts only routes that share at least one hostname with
it; the route serves the intersection. With no intersection the Gateway refuses the
route (`Accepted: False`, reason `NoMatchingListenerHostname`) and its traffic gets
404. Gateway API wildcards match one or more whole labels: `*.example.com` covers
`foo.example.com` and `a.b.example.com`, but never `example.com` itself. A route
without `hostnames` takes the listener's; a listener without one takes any route. When
the parentRef names several listeners (no `sectionName`), the route is reported only
when the hostnames of all the listeners that would otherwise take it miss.

## Example
```yaml
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: public, namespace: shop}
spec:
  gatewayClassName: istio
  listeners:
  - {name: web, port: 80, protocol: HTTP, hostname: "*.shop.example.com"}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: store, namespace: shop}
spec:
  parentRefs: [{name: public, sectionName: web}]
  hostnames: [shop.example.com]       # the wildcard does not cover the apex
  rules:
  - backendRefs: [{name: store, port: 8080}]
```

## Fix
Add a hostname the listener accepts (here `www.shop.example.com`), give the listener a
hostname that covers the route's, or attach the route to another listener.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.gateway_api._attachment import HOSTNAME, attachments
from meshctl.rules.gateway_api._common import listener_label

RULE = Rule(
    "MSH301",
    "hostnames-never-intersect",
    Severity.WARNING,
    __doc__,
    reads=frozenset({"routes", "gateways"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for attachment in attachments(ctx).items:
        if attachment.accepted or attachment.undecided:
            continue
        # listeners that refuse the route for its hostnames alone (they would take it otherwise)
        missed = [v.listener for v in attachment.verdicts if v.refusals == (HOSTNAME,)]
        if not missed:
            continue  # refused for its namespace or kind: MSH305
        route, gateway = attachment.route, attachment.gateway
        which = "listener" if len(missed) == 1 else "listeners"
        yield RULE.on(
            route.origin.at("spec", "hostnames"),
            f"{'hostname' if len(route.hosts) == 1 else 'hostnames'} {', '.join(route.hosts)} "
            f"{'intersects' if len(route.hosts) == 1 else 'intersect'} no hostname of {which} "
            f"{', '.join(listener_label(listener) for listener in missed)} of Gateway "
            f"'{gateway.namespace}/{gateway.name}': the route is not accepted there",
            related=(
                ctx.related(attachment.parent.origin, "attached by parentRef of"),
                *(ctx.related(listener.origin, "listener of") for listener in missed),
            ),
        )
