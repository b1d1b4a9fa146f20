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
from meshctl.model.objects import DestinationPolicy, Service, Subset, Workload
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
    for i, j, reason in _first_overlaps(narrowed, pods, service, selector, workloads):
        owner, subset, _ = narrowed[i]
        other_owner, other, _ = narrowed[j]
        where = "" if other_owner is owner else f" of DestinationRule {other_owner.name!r}"
        yield RULE.on(
            subset.origin.at("labels"),
            f"subset {subset.name!r} {subset_labels(subset.labels)} of host {owner.fqdn!r} "
            f"overlaps subset {other.name!r} {subset_labels(other.labels)}{where}: {reason}, "
            "so routes to either subset reach the same pods",
            related=(ctx.related(other.origin, f"overlaps subset {other.name!r} of"),),
        )


Narrowed = tuple[DestinationPolicy, Subset, dict[str, str]]
MAX_INDEXED_LABELS = 6  # label sets larger than this are compared whole, not by their parts


def _first_overlaps(
    narrowed: list[Narrowed],
    pods: list[Workload] | None,
    service: Service | None,
    selector: dict[str, str],
    workloads: WorkloadIndex,
) -> Iterator[tuple[int, int, str]]:
    """For each subset, the first earlier subset it overlaps, found through indexes.

    Subsets are compared by their label sets (equal, or one inside the other) or, when
    the Service's pods are known, by the pods they share; never pairwise, so a host with
    tens of thousands of subsets is checked in linear time.
    """
    by_labels: dict[frozenset[tuple[str, str]], int] = {}  # exact label set -> first subset
    by_part: dict[frozenset[tuple[str, str]], int] = {}  # every part of a label set -> first subset
    pod_owner: dict[int, int] = {}  # pod -> first subset selecting it
    for i, (_, subset, labels) in enumerate(narrowed):
        if not labels:
            continue
        items = frozenset(labels.items())
        earlier: list[tuple[int, str]] = []
        same = by_labels.get(items)
        if same is not None and narrowed[same][1].name != subset.name:
            earlier.append((same, "they select pods by the same labels"))
        if pods is not None and service is not None:
            chosen = workloads.selected(service.namespace, {**selector, **labels})
            for pod in chosen:
                j = pod_owner.get(id(pod))
                if j is not None and narrowed[j][1].name != subset.name:
                    both = [w for w in chosen if pod_owner.get(id(w)) == j]
                    more = f" and {len(both) - 1} more" if len(both) > 1 else ""
                    earlier.append((j, f"both select {both[0].kind} {both[0].name!r}{more}"))
                    break
            for pod in chosen:
                pod_owner.setdefault(id(pod), i)
        elif pods is None:
            for part in _parts(items):
                j = by_labels.get(part)
                if j is not None and part != items and narrowed[j][1].name != subset.name:
                    earlier.append((j, f"every pod of {subset.name!r} is also in {narrowed[j][1].name!r}"))
            j = by_part.get(items)
            if j is not None and by_labels.get(items) != j and narrowed[j][1].name != subset.name:
                earlier.append((j, f"every pod of {narrowed[j][1].name!r} is also in {subset.name!r}"))
        if earlier:
            yield (i, *min(earlier))
        by_labels.setdefault(items, i)
        for part in _parts(items):
            by_part.setdefault(part, i)


def _parts(items: frozenset[tuple[str, str]]) -> list[frozenset[tuple[str, str]]]:
    """The non-empty sub-sets of a label set (only the whole set when it is large)."""
    if len(items) > MAX_INDEXED_LABELS:
        return [items]
    ordered = sorted(items)
    return [
        frozenset(item for bit, item in enumerate(ordered) if mask >> bit & 1)
        for mask in range(1, 1 << len(ordered))
    ]


def _narrow(labels: dict[str, str], selector: dict[str, str]) -> dict[str, str]:
    """The subset's labels the Service's selector does not already imply."""
    return {k: v for k, v in labels.items() if selector.get(k) != v}
