"""An ALLOW AuthorizationPolicy has rules, but none of them can ever match: it denies everything.

## Why it matters
When any ALLOW policy selects a workload, Istio denies every request that no ALLOW rule
matches. A policy whose author wrote rules meant to let something through, but whose
every rule can never match, therefore closes the workload to all callers (403, or a
refused TCP connection) instead of admitting the few it names. The usual causes: paths
without a leading slash (`api/*`), lowercase methods (`get`), the Service port in
`ports` instead of the port the pod receives on, and HTTP-only fields (`paths`,
`methods`, `hosts`, `requestPrincipals`) on a TCP port, where Istio drops the rule.

An explicit allow-nothing policy (`spec: {}`, or `action: ALLOW` without `rules`) is
the documented way to deny everything and is left alone, as is `rules: [{}]`, which
allows everything.

## Example
```yaml
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  action: ALLOW
  rules:
  - to:
    - operation:
        paths: ["api/*"]        # never matches: paths start with '/'
```

## Fix
Correct the rule (`/api/*`, `GET`, the container port), or, if denying everything is
what you want, say so with an empty spec.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.security._authorization import dead_allow, defects, policy_workloads

RULE = Rule(
    "MSH220", "allow-policy-denies-everything", Severity.WARNING, __doc__,
    reads=frozenset({"authorization_policies", "workloads", "services"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    found = defects(ctx)
    for policy in ctx.mesh.authorization_policies:
        mine = found.get(id(policy), [])
        if not dead_allow(policy, mine):
            continue
        causes = [d for d in mine if d.kills]
        first = causes[0]
        workloads = policy_workloads(ctx.mesh, policy)
        scope = ""
        if workloads:
            names = ", ".join(f"{w.kind} {w.name}" for w in workloads[:3]) + (", ..." if len(workloads) > 3 else "")
            scope = f": unless another ALLOW policy admits them, requests to {names} are all denied"
        rules = "its only rule" if len(policy.rules or ()) == 1 else f"none of its {len(policy.rules or ())} rules"
        verb = "can" if len(policy.rules or ()) > 1 else "can never"
        yield RULE.on(
            policy.origin.at("spec", "rules"),
            f"ALLOW policy {policy.name!r} allows nothing, as {rules} {verb} match (rule {first.rule}: "
            f"{first.message}){scope}",
            related=tuple(ctx.related(d.origin, f"rule {d.rule} never matches because of") for d in causes[:3]),
        )
