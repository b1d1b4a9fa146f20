"""A match of a VirtualService rule can never be the one that selects it: an earlier match covers it.

## Why it matters
Matches are tried in order, the matches of a rule and the rules of a route alike. A
match that repeats an earlier one, or only narrows it (an exact uri under an earlier
prefix, the same header condition plus another one), never selects its rule: the
earlier match has already taken every request it would. Usually this is a leftover
or a rule order mistake, and the traffic it was meant for goes elsewhere. meshctl
only reports what it can prove: exact and prefix values are compared, regexes only
when identical (or `.*`), and `ignoreUriCase`, `withoutHeaders`, `gateways`, `port`
and `sourceLabels` are taken into account. When every match of a rule is covered,
the whole rule is unreachable and MSH140 reports it instead.
This is what `istioctl analyze` reports as IST0131 (VirtualServiceIneffectiveMatch).

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: shop}
spec:
  hosts: [shop]
  http:
  - match:
    - uri: {prefix: /api}
    route:
    - destination: {host: api}
  - match:
    - uri: {exact: /api/health}         # ineffective: /api already took it
    - uri: {prefix: /health}
    route:
    - destination: {host: health}
```

## Fix
Move the narrower match (or its whole rule) before the broader one, or delete it.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import RequestMatch, RouteRule
from meshctl.model.subsumption import Cover, describe, match_label, shadows
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH141", "ineffective-match", Severity.INFO, __doc__, istio_code="IST0131",
    reads=frozenset({"routes"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for route in ctx.mesh.routes:
        if route.source_kind != "VirtualService":
            continue
        for cover in shadows(route).ineffective:
            yield _finding(ctx, cover)


def _finding(ctx: Analysis, cover: Cover) -> Finding:
    mine = describe(cover.match)
    pieces = ((cover.by_rule, cover.by_match), *cover.others)
    labels = [_label(cover, r, m) for r, m in pieces]
    if len(pieces) == 1 and describe(cover.by_match) == mine:
        how = f"it repeats {labels[0]}"
    else:
        shown = " and ".join(f"{label} ({describe(m)})" for label, (_, m) in zip(labels, pieces))
        how = f"{shown} before it {'takes' if len(pieces) == 1 else 'take'} every request it would"
    message = f"{match_label(cover.rule, cover.match)} ({mine}) can never select its rule: {how}"
    related = tuple(ctx.related(m.origin, f"{label} is in") for label, (_, m) in zip(labels, pieces))
    return RULE.on(cover.match.origin, message, related=related)


def _label(cover: Cover, rule: RouteRule, match: RequestMatch) -> str:
    label = match_label(rule, match)
    return label.rpartition(" ")[2] + " of the same rule" if rule is cover.rule else label
