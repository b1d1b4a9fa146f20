"""Two subsets of one host select the same pods.

## Why it matters
A subset is the set of the host's pods whose labels match the subset's labels. When one
pod is in two subsets, routing by subset does not split traffic the way the route says:
a VirtualService sending 90% to `v1` and 10% to `canary` sends `canary` pods part of
the 90% too, and a subset meant to drain a version keeps reaching it. The check looks at
all the subsets a host gets in a namespace, from one DestinationRule or from several
that Istio merges. When the inputs contain the workloads of the host's namespace, the
subsets overlap when one workload is actually selected by both; otherwise when one
subset's labels contain the other's (every pod of the narrower subset is also in the
wider one). Subsets whose labels add nothing to the Service's selector are meant to
cover every pod and are not reported.

A subset name used twice in one DestinationRule is `duplicate-subset-name` (MSH032),
which Istio's validation rejects; the same name in two merged DestinationRules is
`conflicting-destination-rules` (MSH127).

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: bookinfo}
spec:
  host: reviews
  subsets:
  - name: v1
    labels: {version: v1}
  - name: canary
    labels: {version: v1, track: canary}   # every canary pod is a v1 pod too
```

## Fix
Give each subset a label that only its pods carry (`track: stable` and `track: canary`).
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.mesh import selects
from meshctl.model.objects import DestinationPolicy, Subset, Workload
from meshctl.rules.base import Rule
from meshctl.rules.conflicts._dr_merge import merged, same_host, subset_labels
from meshctl.rules.conflicts._selected_workloads import WorkloadIndex
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH128", "overlapping-subsets", Severity.WARNING, __doc__,
    reads=frozenset({"destination_policies", "services", "workloads"}),
)

Member = tuple[DestinationPolicy, Subset]


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    workloads: WorkloadIndex | None = None
    for group in same_host(ctx.mesh):
        for policies in merged(group):
            members = [(p, s) for p in policies for s in p.subsets]
            if len(members) > 1:
                workloads = workloads or WorkloadIndex(ctx.mesh)
                yield from _overlaps(ctx, workloads, members)


def _overlaps(
    ctx: Analysis, workloads: WorkloadIndex, members: list[Member]
) -> Iterator[Finding]:
    service = next((s for s in ctx.mesh.services_for(members[0][0].fqdn) if s.selector), None)
    selector = service.selector if service is not None and service.selector else {}
    # the Service's pods, when the inputs hold the workloads of its namespace
    pods = None
    if service is not None and workloads.has_workloads(service.namespace):
        pods = workloads.selected(service.namespace, selector)
    narrowed = [(p, s, _narrow(s.labels, selector)) for p, s in members]
    for i, (owner, subset, labels) in enumerate(narrowed):
        if not labels:
            continue
        for other_owner, other, other_labels in narrowed[:i]:
            if not other_labels or other.name == subset.name:
                continue
            reason = _overlap(subset, labels, other, other_labels, pods)
            if reason is None:
                continue
            where = "" if other_owner is owner else f" of DestinationRule {other_owner.name!r}"
            yield RULE.on(
                subset.origin.at("labels"),
                f"subset {subset.name!r} {subset_labels(subset.labels)} of host {owner.fqdn!r} "
                f"overlaps subset {other.name!r} {subset_labels(other.labels)}{where}: {reason}, "
                "so routes to either subset reach the same pods",
                related=(ctx.related(other.origin, f"overlaps subset {other.name!r} of"),),
            )


def _overlap(
    subset: Subset,
    labels: dict[str, str],
    other: Subset,
    other_labels: dict[str, str],
    pods: list[Workload] | None,
) -> str | None:
    if labels == other_labels:
        return "they select pods by the same labels"
    if pods is not None:
        both = [w for w in pods if selects(labels, w.labels) and selects(other_labels, w.labels)]
        if not both:
            return None
        more = f" and {len(both) - 1} more" if len(both) > 1 else ""
        return f"both select {both[0].kind} {both[0].name!r}{more}"
    if labels.items() <= other_labels.items():
        return f"every pod of {other.name!r} is also in {subset.name!r}"
    if other_labels.items() <= labels.items():
        return f"every pod of {subset.name!r} is also in {other.name!r}"
    return None


def _narrow(labels: dict[str, str], selector: dict[str, str]) -> dict[str, str]:
    """The subset's labels the Service's selector does not already imply."""
    return {k: v for k, v in labels.items() if selector.get(k) != v}
