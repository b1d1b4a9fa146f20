"""A VirtualService rule can never be reached: the rules before it already take all its traffic.

## Why it matters
The rules of a VirtualService are tried in order and the first one that matches wins.
A rule after one without `match` (or with a match on `prefix: /` and nothing else)
never sees a request, nor does a rule each of whose matches repeats or narrows a match
of an earlier rule; its destinations, retries and faults are dead configuration, and
the canary or test route it was written for silently receives nothing. Scoped
matches are read as Istio applies them: a catch-all limited to some `gateways`, a
`port` or `sourceLabels` only hides later rules where it applies, so a rule for
another gateway stays reachable. Rules of `tcp` and `tls` routes are only judged
after a rule without any match. Gateway API routes are not concerned: they are
ordered by match specificity, not by position.
This is what `istioctl analyze` reports as IST0130 (VirtualServiceUnreachableRule).

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
  - match:                              # never reached: the rule above takes everything
    - headers: {end-user: {exact: jason}}
    route:
    - destination: {host: reviews, subset: v2}
```

## Fix
Order the rules from the most specific to the least specific and keep the rule
without a match last, or delete the rule if it is no longer needed.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.subsumption import (
    Unreachable,
    describe,
    match_label,
    rule_label,
    scope_phrase,
    shadows,
    takes_everything,
)
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH140", "unreachable-route", Severity.WARNING, __doc__, istio_code="IST0130",
    reads=frozenset({"routes"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for route in ctx.mesh.routes:
        if route.source_kind != "VirtualService" or len(route.rules) < 2:
            continue
        for dead in shadows(route).unreachable:
            yield _finding(ctx, dead)


def _finding(ctx: Analysis, dead: Unreachable) -> Finding:
    label = f"{rule_label(dead.rule)} can never be reached"
    by = dead.by
    if all(takes_everything(m) for _, m in by):
        related = tuple(ctx.related(r.origin, f"the catch-all rule {rule_label(r)} is in") for r in dead.by_rules)
        if len(by) == 1:
            rule, match = by[0]
            what = "has no match and takes" if not rule.matches else "matches"
            unit = "connection" if rule.protocol in ("tcp", "tls") else "request"
            message = f"{label}: {rule_label(rule)} before it {what} every {unit}{scope_phrase(match)}"
        else:
            shown = ", ".join(f"{match_label(r, m)}{scope_phrase(m)}" for r, m in by)
            message = f"{label}: the matches before it take every request: {shown}"
        return RULE.on(dead.rule.origin, message, related=related)
    taken = "; ".join(
        f"{describe(c.match)} by " + " and ".join(
            f"{match_label(r, m)} ({describe(m)})" for r, m in ((c.by_rule, c.by_match), *c.others)
        )
        for c in dead.covers if c.by_rule is not dead.rule
    )
    message = f"{label}: every one of its matches is taken by an earlier rule: {taken}"
    related = tuple(ctx.related(r.origin, f"{rule_label(r)}, which takes its traffic, is in") for r in dead.by_rules)
    return RULE.on(dead.rule.origin, message, related=related)
