"""A DestinationRule subset's labels select no workload of its host's Service.

## Why it matters
A subset is the host's endpoints that carry the subset's labels. When no workload
behind the Service has them, the subset's cluster is empty and every request routed to
it fails with 503 (`UH`, no healthy upstream). The usual causes are a version that was
never deployed or was renamed (`version: v3` while the Deployments say `v1` and `v2`),
and labels set on the Deployment's own metadata instead of its pod template.

meshctl reads the pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets,
Jobs and CronJobs, Pods and WorkloadEntries, and the endpoints of ServiceEntries, and
only judges a subset when the Service's workloads are among the inputs. Labels the
platform adds at run time (`topology.kubernetes.io/*`, `topology.istio.io/*`,
`kubernetes.io/hostname`, `security.istio.io/tlsMode`, `service.istio.io/*`, and the
controllers' `pod-template-hash`, `controller-revision-hash`,
`rollouts-pod-template-hash`, ...) are not held against a subset.

This is IST0173 (DestinationRuleSubsetNotSelectPods), which Istio raises as an error
because it looks at running pods. meshctl says *warning* because it sees manifests: the
workload that carries the labels may be rolled out from files that are not among the
inputs, or be created by a controller it does not read (an Argo Rollout, a Knative
Service). A subset that no VirtualService routes to is often prepared ahead of a
rollout and is dead configuration at worst: it is reported as unresolved (info) unless
`--closed-world` is given.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: cart, namespace: shop}
spec:
  host: cart
  subsets:
  - {name: v3, labels: {version: v3}}   # the cart Deployments are v1 and v2
```

## Fix
Correct the subset's labels, put the labels on the pod template
(`spec.template.metadata.labels`), or deploy the missing version before routing to it.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Related, Severity
from meshctl.model import hosts
from meshctl.model.objects import DestinationPolicy, Route, Subset
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.references._destinations import destinations

RULE = Rule(
    "MSH107", "subset-selects-no-workload", Severity.WARNING, __doc__, istio_code="IST0173",
    reads=frozenset({"destination_policies", "services", "workloads", "service_entries", "routes"}),
)

Labels = dict[str, str]

# Labels a pod gets at run time, not from its manifest: from its node, the injector or the
# mesh, and from its controller (ReplicaSet, StatefulSet, Job, Argo Rollouts).
RUNTIME_PREFIXES = (
    "topology.kubernetes.io/", "topology.istio.io/", "failure-domain.beta.kubernetes.io/",
    "service.istio.io/",
)
RUNTIME_KEYS = frozenset({
    "kubernetes.io/hostname", "security.istio.io/tlsMode", "istio-locality",
    "pod-template-hash", "controller-revision-hash", "rollouts-pod-template-hash",
    "statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index",
    "controller-uid", "job-name", "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-name",
})


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    used = _routed_subsets(ctx)
    for policy in ctx.mesh.destination_policies:
        if not policy.subsets or not policy.fqdn or "*" in policy.fqdn:
            continue
        for owner, where, pods in _endpoints(ctx, policy):
            for subset in policy.subsets:
                wanted = _declared(subset.labels)
                if not wanted or any(_has(labels, wanted) for labels in pods):
                    continue
                message = _message(owner, subset, wanted, pods)
                related: tuple[Related, ...] = (ctx.related(where, "the host is defined by"),)
                route = used.get((policy.fqdn, subset.name))
                if route is None:
                    # a subset prepared for a rollout: only dead config until a route uses it
                    message += "; no VirtualService routes to it yet"
                else:
                    routed = f"{route.name}.{route.namespace}"
                    message += f"; VirtualService {routed} routes to it (503 UH)"
                    related += (ctx.related(route.origin, "routed to by"),)
                yield RULE.on(
                    subset.origin.at("labels"), message, related=related, unresolved=route is None
                )


def _routed_subsets(ctx: Analysis) -> dict[tuple[str, str], Route]:
    """(host FQDN, subset) -> the first VirtualService that routes or mirrors to it."""
    used: dict[tuple[str, str], Route] = {}
    for route, backend, _ in destinations(ctx.mesh):
        if backend.subset:
            used.setdefault((backend.fqdn, backend.subset), route)
    return used


def _endpoints(
    ctx: Analysis, policy: DestinationPolicy
) -> Iterator[tuple[str, Origin, list[Labels]]]:
    """("workload of cart", its origin, label sets of its endpoints), when they are known."""
    mesh = ctx.mesh
    services = mesh.services_for(policy.fqdn)
    if services:
        # a Service without a selector has hand-made endpoints: nothing to judge
        pods = [w.labels for s in services if s.selector for w in mesh.workloads_of(s)]
        if pods:
            yield f"workload of {services[0].name}", services[0].origin, pods
        return
    for entry in mesh.entries_for(policy.fqdn):
        if not hosts.visible(entry.export_to, entry.namespace, policy.namespace):
            continue
        if entry.workload_selector is not None:
            selected = mesh.workloads_selected(entry.namespace, entry.workload_selector)
            pods = [w.labels for w in selected]
        else:
            pods = list(entry.endpoint_labels)
        if pods:
            noun = "workload" if entry.workload_selector is not None else "endpoint"
            yield f"{noun} of ServiceEntry {entry.name}", entry.origin, pods


def _declared(labels: Labels) -> Labels:
    """The subset's labels a manifest can carry (runtime labels cannot be checked offline)."""
    return {
        k: v for k, v in labels.items()
        if k not in RUNTIME_KEYS and not k.startswith(RUNTIME_PREFIXES)
    }


def _has(labels: Labels, wanted: Labels) -> bool:
    return all(labels.get(k) == v for k, v in wanted.items())


def _message(owner: str, subset: Subset, wanted: Labels, pods: list[Labels]) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in sorted(wanted.items()))
    for key, value in sorted(wanted.items()):
        present = sorted({p[key] for p in pods if key in p})
        if value in present:
            continue
        if not present:
            return f"subset {subset.name!r}: no {owner} has a {key!r} label (wants {shown})"
        return (
            f"subset {subset.name!r}: no {owner} has {key}={value}; "
            f"{key} values present: {_some(present)}"
        )
    combos = sorted({", ".join(f"{k}={p.get(k, '-')}" for k in sorted(wanted)) for p in pods})
    combos = [f"({combo})" for combo in combos]
    return f"subset {subset.name!r}: no single {owner} has {shown}; present: {_some(combos)}"


def _some(items: list[str], separator: str = ", ", limit: int = 8) -> str:
    more = len(items) - limit
    return separator.join(items[:limit]) + (f"{separator}... ({more} more)" if more > 0 else "")
