"""Several DestinationRules for one host in one namespace do not merge cleanly.

## Why it matters
Istio merges the DestinationRules of a namespace that configure the same host (and the
same workload selector) into one, but only in a limited way. The rule created first is
the base: only its top-level `trafficPolicy` applies, and when two rules define a
subset with the same name only the first rule's subset is kept. Later rules contribute
nothing but subsets with new names. Which rule was created first is not visible in
files, so the connection pool, load balancer, outlier detection or TLS settings that
apply can change when the rules are re-created in another order. Rules whose `exportTo`
differ are not merged at all: a proxy that sees both applies only one of them, and the
subsets of the other are unknown to it (routes to them fail with 503).

Rules with different workload selectors apply to different workloads and are not
reported; nor are rules in different namespaces, which Istio never merges (the client's
namespace is searched first, then the host's).

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-pool, namespace: bookinfo}
spec:
  host: reviews
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: 100}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-tls, namespace: bookinfo}
spec:
  host: reviews.bookinfo.svc.cluster.local
  trafficPolicy:                      # only one of the two trafficPolicies applies
    tls: {mode: ISTIO_MUTUAL}
```

## Fix
Keep one DestinationRule per host and namespace, with one `trafficPolicy` that holds
all the settings, or give every rule distinct subsets and set the top-level
`trafficPolicy` in only one of them, with the same `exportTo`.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import DestinationPolicy, Subset
from meshctl.rules.base import Rule
from meshctl.rules.conflicts._dr_merge import exported_to, merged, same_host
from meshctl.rules.conflicts._exported import shared_viewer, shown
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH127", "conflicting-destination-rules", Severity.WARNING, __doc__,
    reads=frozenset({"destination_policies"}),
)

ORDER = "the one created first wins; the order is not visible in files"


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for group in same_host(ctx.mesh):
        if len(group) < 2:
            continue
        yield from _not_merged(ctx, group)
        for policies in merged(group):
            if len(policies) > 1:
                yield from _traffic_policies(ctx, policies)
                yield from _subsets(ctx, policies)


def _names(policies: list[DestinationPolicy]) -> str:
    return ", ".join(repr(p.name) for p in policies)


def _traffic_policies(ctx: Analysis, policies: list[DestinationPolicy]) -> Iterator[Finding]:
    """More than one top-level trafficPolicy: only the first-created rule's applies."""
    setting = [p for p in policies if p.traffic_policy is not None]
    if len(setting) < 2:
        return
    for policy in setting:
        others = [p for p in setting if p is not policy]
        assert policy.traffic_policy is not None
        yield RULE.on(
            policy.traffic_policy.origin,
            f"DestinationRules {_names(setting)} in namespace {policy.namespace!r} all set a top-level "
            f"trafficPolicy for host {policy.fqdn!r}; Istio merges them and applies only one trafficPolicy "
            f"({ORDER}), the others are ignored",
            key=True,
            related=tuple(ctx.related(o.traffic_policy.origin if o.traffic_policy else o.origin, "conflicts with")
                          for o in others),
        )


def _subsets(ctx: Analysis, policies: list[DestinationPolicy]) -> Iterator[Finding]:
    """A subset name defined differently by several rules: only the first-created one is kept."""
    by_name: dict[str, list[tuple[DestinationPolicy, Subset]]] = {}
    for policy in policies:
        for subset in policy.subsets:
            if subset.name:
                by_name.setdefault(subset.name, []).append((policy, subset))
    for name, defined in by_name.items():
        owners = {id(p) for p, _ in defined}
        if len(owners) < 2 or _equivalent([s for _, s in defined]):
            continue
        for policy, subset in defined:
            others = [(p, s) for p, s in defined if p is not policy]
            if not others:
                continue
            yield RULE.on(
                subset.origin.at("name"),
                f"subset {name!r} of host {policy.fqdn!r} is also defined by DestinationRule "
                f"{', '.join(repr(p.name) for p, _ in others)} in namespace {policy.namespace!r}, differently; "
                f"Istio keeps only one of them ({ORDER})",
                related=tuple(ctx.related(s.origin, "conflicts with") for _, s in others),
            )


def _equivalent(subsets: list[Subset]) -> bool:
    """Identical labels and no subset trafficPolicy: the duplicates lose nothing."""
    first = subsets[0]
    return all(s.labels == first.labels and s.traffic_policy is None for s in subsets)


def _not_merged(ctx: Analysis, group: list[DestinationPolicy]) -> Iterator[Finding]:
    """Rules for one host whose exportTo differ, seen together from some namespace."""
    classes = merged(group)
    if len(classes) < 2:
        return
    for policy in group:
        mine = exported_to(policy)
        clashes: list[tuple[DestinationPolicy, str]] = []
        for other_class in classes:
            other = other_class[0]
            if exported_to(other) == mine:
                continue
            viewer = shared_viewer(mine, exported_to(other), prefer=policy.namespace)
            if viewer is not None:
                clashes.extend((o, viewer) for o in other_class)
        if not clashes:
            continue
        viewer = clashes[0][1]
        where = policy.origin.at("spec", "exportTo") if policy.export_to else policy.origin.at("spec", "host")
        yield RULE.on(
            where,
            f"DestinationRule {_names([o for o, _ in clashes])} also configures host {policy.fqdn!r} in "
            f"namespace {policy.namespace!r} with a different exportTo; Istio merges DestinationRules only "
            f"when their exportTo is the same, so proxies in {shown(viewer)} apply only one of them "
            "(which one depends on the order they were created in, not visible in files)",
            related=tuple(ctx.related(o.origin, "conflicts with") for o, _ in clashes),
        )
