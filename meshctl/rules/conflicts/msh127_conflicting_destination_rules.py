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

from collections.abc import Iterable, Iterator

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


def _traffic_policies(ctx: Analysis, policies: list[DestinationPolicy]) -> Iterator[Finding]:
    """More than one top-level trafficPolicy: only the first-created rule's applies."""
    setting = [(p, p.traffic_policy) for p in policies if p.traffic_policy is not None]
    if len(setting) < 2:
        return
    names = ", ".join(repr(p.name) for p, _ in setting)
    for policy, traffic_policy in setting:
        yield RULE.on(
            traffic_policy.origin,
            f"DestinationRules {names} in namespace {policy.namespace!r} all set a top-level "
            f"trafficPolicy for host {policy.fqdn!r}; Istio merges them and applies only one "
            f"trafficPolicy ({ORDER}), the others are ignored",
            key=True,
            related=tuple(
                ctx.related(t.origin, "conflicts with") for p, t in setting if p is not policy
            ),
        )


def _subsets(ctx: Analysis, policies: list[DestinationPolicy]) -> Iterator[Finding]:
    """A subset name defined differently by several rules: only the first-created one is kept."""
    by_name: dict[str, list[tuple[DestinationPolicy, Subset]]] = {}
    for policy in policies:
        for subset in policy.subsets:
            if subset.name:
                by_name.setdefault(subset.name, []).append((policy, subset))
    for name, defined in by_name.items():
        if len({id(p) for p, _ in defined}) < 2 or _equivalent([s for _, s in defined]):
            continue
        for policy, subset in defined:
            others = [(p, s) for p, s in defined if p is not policy]
            yield RULE.on(
                subset.origin.at("name"),
                f"subset {name!r} of host {policy.fqdn!r} is also defined, differently, by "
                f"{_rules(p for p, _ in others)} in namespace {policy.namespace!r}; Istio keeps "
                f"only one of them ({ORDER})",
                related=tuple(ctx.related(s.origin, "conflicts with") for _, s in others),
            )


def _equivalent(subsets: list[Subset]) -> bool:
    """Identical labels and no subset trafficPolicy: the duplicates lose nothing."""
    first = subsets[0]
    return all(s.labels == first.labels and s.traffic_policy is None for s in subsets)


def _not_merged(ctx: Analysis, group: list[DestinationPolicy]) -> Iterator[Finding]:
    """Rules for one host whose exportTo differ, seen together from some namespace.

    A namespace with a DestinationRule of its own for the host never looks at these.
    """
    classes = merged(group)
    if len(classes) < 2:
        return
    home = group[0].namespace
    own = frozenset(
        p.namespace for p in ctx.mesh.policies_for(group[0].fqdn)
        if p.namespace != home and p.workload_selector is None
    )
    for policy in group:
        mine = exported_to(policy)
        clashes: list[DestinationPolicy] = []
        viewer: str | None = None
        for other_class in classes:
            theirs = exported_to(other_class[0])
            seen_by = None if theirs == mine else shared_viewer(mine - own, theirs - own, home)
            if seen_by is not None:
                clashes.extend(other_class)
                viewer = viewer or seen_by
        if viewer is None:
            continue
        spec = policy.origin.at("spec")
        yield RULE.on(
            spec.at("exportTo") if policy.export_to else spec.at("host"),
            f"{_rules(clashes)} also configure{'s' if len(clashes) == 1 else ''} host "
            f"{policy.fqdn!r} in namespace {policy.namespace!r} with a different exportTo; Istio "
            "merges DestinationRules only when their exportTo is the same, so proxies in "
            f"{shown(viewer)} apply only one of them (which one depends on the order they were "
            "created in, not visible in files)",
            related=tuple(ctx.related(o.origin, "conflicts with") for o in clashes),
        )


def _rules(policies: Iterable[DestinationPolicy]) -> str:
    """``DestinationRule 'a'`` or ``DestinationRules 'a', 'b'``."""
    names = [repr(p.name) for p in policies]
    return f"DestinationRule{'s' if len(names) > 1 else ''} {', '.join(names)}"
