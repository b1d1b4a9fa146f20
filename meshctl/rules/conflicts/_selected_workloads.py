"""Which Services select each workload of the inputs, found through a label index.

A Service's selector is matched against the pods' labels in its namespace, as kube-proxy
and Istio do. Candidates come from the index entry of the selector's rarest label, so a
mesh with thousands of Services and workloads per namespace is not scanned pairwise.
Services and workloads that share namespace and name are one object written twice (say
two alternative manifests); only the first of each is kept.
"""

from __future__ import annotations

from collections import defaultdict

from meshctl.model.mesh import MeshModel, selects
from meshctl.model.objects import Service, Workload


def services_by_workload(mesh: MeshModel) -> dict[Workload, list[Service]]:
    """Every workload selected by two or more distinct Services -> those Services, input order."""
    index: dict[str, dict[tuple[str, str], list[Workload]]] = defaultdict(lambda: defaultdict(list))
    seen_workloads: set[tuple[str, str, str]] = set()
    for workload in mesh.workloads:
        key = (workload.namespace, workload.kind, workload.name)
        if key in seen_workloads:
            continue
        seen_workloads.add(key)
        for label in workload.labels.items():
            index[workload.namespace][label].append(workload)
    selected: dict[Workload, list[Service]] = defaultdict(list)
    seen_services: set[tuple[str, str]] = set()
    for service in mesh.services:
        if not service.selector or service.type == "ExternalName":
            continue
        if (service.namespace, service.name) in seen_services:
            continue
        seen_services.add((service.namespace, service.name))
        labels = index.get(service.namespace)
        if not labels:
            continue
        candidates = min((labels.get(item, []) for item in service.selector.items()), key=len)
        for workload in candidates:
            if selects(service.selector, workload.labels):
                selected[workload].append(service)
    return {w: services for w, services in selected.items() if len(services) > 1}


def describe(workloads: list[Workload]) -> str:
    """``Deployment 'reviews-v1'`` (and how many more)."""
    first = workloads[0]
    more = len(workloads) - 1
    return f"{first.kind} {first.name!r}" + (f" (and {more} more)" if more else "")
