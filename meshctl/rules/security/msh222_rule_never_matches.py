"""A field of an AuthorizationPolicy rule can never match, or matches something else than it says.

## Why it matters
Istio compares what a rule says with the request as Envoy sees it, and some mistakes
make part of a rule dead without any error:

- a path without a leading slash (`api/*`) never matches (request paths start with
  `/`); `*`, `*.png` and `/api/*` are the wildcard forms;
- methods are compared case-sensitively, so `get` never matches;
- `ports` holds the port the workload receives on (the container port), not the
  Service port: `80` never matches a pod listening on 8080;
- `methods: []` is the same as leaving `methods` out: it matches every method;
- `paths`, `methods`, `hosts`, `requestPrincipals` and `request.*` conditions are
  HTTP-only. On a TCP port Istio leaves an ALLOW rule that uses them out (it never
  matches), and ignores them in a DENY rule (which then denies every connection from
  its sources);
- `hosts` is compared with the request's Host header as written: a short Service name
  (`cart`) matches only clients that call it by that exact name, without a port.

When every rule of an ALLOW policy is dead, MSH220 reports the policy instead.

## Example
```yaml
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  rules:
  - to: [{operation: {methods: [GET]}}]
  - from: [{source: {namespaces: [ops]}}]
    to: [{operation: {paths: ["admin/*"]}}]   # never matches
```

## Fix
Write paths with a leading slash, methods in upper case and the workload's port; use
`ports`, principals and namespaces (not HTTP fields) for TCP services; write hosts as
clients send them (`cart.shop.svc.cluster.local`, and `cart.shop.svc.cluster.local:*`
for requests with a port).
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.security._authorization import dead_allow, defects

RULE = Rule(
    "MSH222", "rule-never-matches", Severity.WARNING, __doc__,
    reads=frozenset({"authorization_policies", "workloads", "services"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    found = defects(ctx)
    for policy in ctx.mesh.authorization_policies:
        mine = found.get(id(policy), [])
        if not mine or dead_allow(policy, mine):
            continue  # MSH220 reports a policy none of whose rules can match
        for defect in mine:
            yield RULE.on(defect.origin, f"{policy.action} rule {defect.rule} of {policy.name!r}: {defect.message}")
