"""Which DestinationRules Istio merges into one, as ``PushContext.mergeDestinationRule`` does.

Istio merges DestinationRules only within one namespace: for a host, the rules of that
namespace with the same workload selector (or none) and the same exportTo become one.
The one created first is the base: its top-level ``trafficPolicy`` and its subsets win,
later rules only add subsets with new names (and a trafficPolicy if the base has none).
Rules whose exportTo differ are kept apart, and a proxy that sees both applies only one.
Rules in different namespaces never merge: the client's namespace, then the host's,
then the root namespace is searched, and the first with a rule for the host wins.

Two documents with the same namespace and name are one object written twice (say
``destination-rule-all.yaml`` and ``destination-rule-all-mtls.yaml``): applying one
replaces the other, so only the first is kept.
"""

from __future__ import annotations

from collections import defaultdict

from meshctl.model.mesh import MeshModel
from meshctl.model.objects import DestinationPolicy
from meshctl.rules.conflicts._exported import viewers

Key = tuple[str, str, tuple[tuple[str, str], ...] | None]


def same_host(mesh: MeshModel) -> list[list[DestinationPolicy]]:
    """DestinationRules by (namespace, host FQDN, workload selector), input order, one per name."""
    groups: dict[Key, list[DestinationPolicy]] = defaultdict(list)
    names: dict[Key, set[str]] = defaultdict(set)
    for policy in mesh.destination_policies:
        if not policy.fqdn:
            continue
        selector = policy.workload_selector
        scope = None if selector is None else tuple(sorted(selector.items()))
        key = (policy.namespace, policy.fqdn, scope)
        if policy.name in names[key]:
            continue
        names[key].add(policy.name)
        groups[key].append(policy)
    return list(groups.values())


def exported_to(policy: DestinationPolicy) -> frozenset[str]:
    """The namespaces the rule applies in; a rule with a workload selector is never exported."""
    if policy.workload_selector is not None:
        return frozenset({policy.namespace})
    return viewers(policy.export_to, policy.namespace)


def merged(group: list[DestinationPolicy]) -> list[list[DestinationPolicy]]:
    """Split one ``same_host`` group into the sets Istio merges (same exportTo), input order."""
    classes: dict[frozenset[str], list[DestinationPolicy]] = {}
    for policy in group:
        classes.setdefault(exported_to(policy), []).append(policy)
    return list(classes.values())


def subset_labels(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in sorted(labels.items())) + "}"
