"""A route sends traffic to a Service that selects no workload.

## Why it matters
The Service exists, so the route is accepted and every reference resolves, but no pod
stands behind it: the proxy has no endpoint and answers 503 (`UH`, no healthy
upstream). Typical causes are a selector that does not match the Deployment's pod
labels (`app: cart` against `app.kubernetes.io/name: cart`) or a Deployment that was
renamed or deleted. meshctl follows the service graph: the route's edges to the
Service, and the Service's edges to the workloads its selector picks.

## Example
```yaml
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  selector: {app: cart}
---
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  template:
    metadata:
      labels: {app.kubernetes.io/name: cart}   # the Service selects app=cart
```

## Fix
Make the Service's selector match the pod template's labels. Only reported when the
inputs hold workloads of that namespace; Services without a selector (their endpoints
are managed by hand or by a controller) and ExternalName Services are never reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.graph import route_id, service_id
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH113", "destination-without-workloads", Severity.WARNING, __doc__,
    reads=frozenset({"routes", "services", "workloads"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    graph = ctx.graph
    for route in ctx.mesh.routes:
        targets = set(graph.successors(route_id(route), "routes"))
        for rule in route.rules:
            for backend in rule.backends:
                node = service_id(backend.fqdn)
                if node not in targets and not _subset_of(graph, targets, node):
                    continue
                for service in ctx.mesh.services_for(backend.fqdn):
                    if not service.selector or service.type == "ExternalName":
                        continue
                    if not ctx.mesh.workloads_in(service.namespace):
                        continue  # the inputs do not describe that namespace's workloads
                    if graph.successors(node, "selects"):
                        continue
                    selector = ", ".join(f"{k}={v}" for k, v in sorted(service.selector.items()))
                    yield RULE.on(
                        backend.host_origin,
                        f"Service {service.name}.{service.namespace} selects no workload "
                        f"({selector} matches no pod template in namespace {service.namespace!r}): "
                        "requests get 503 (no healthy upstream)",
                        related=(ctx.related(service.origin.at("spec", "selector"), "the selector of"),),
                    )


def _subset_of(graph: object, targets: set[str], node: str) -> bool:
    """Routed through one of the Service's subsets."""
    return any(t.startswith(f"subset:{node.removeprefix('service:')}#") for t in targets)
