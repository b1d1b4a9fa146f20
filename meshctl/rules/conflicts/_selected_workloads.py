"""Which Services select each workload of the inputs, and the ports on which they disagree.

A Service's selector is matched against the pods' labels in its namespace, as kube-proxy
and Istio do. Candidates come from the index entry of the selector's rarest label, so a
mesh with thousands of Services and workloads per namespace is not scanned pairwise.
Services and workloads that share namespace and name are one object written twice (say
two alternative manifests); only the first of each is kept.

``port_clashes`` groups the ports of the Services that select one workload (by port
number, by target port ...) and keeps the ports that disagree with a port of another
Service in their group::

    reviews {9080 http} and reviews-tcp {9080 tcp-x} both select Deployment reviews-v1
    -> Clash(reviews 9080, others={reviews-tcp 9080}),
       Clash(reviews-tcp 9080, others={reviews 9080})
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from meshctl.model.mesh import MeshModel, selects
from meshctl.model.objects import Service, ServicePort, Workload
from meshctl.rules.conflicts._sidecar import has_sidecar
from meshctl.rules.context import Analysis


@dataclass
class Clash:
    """A Service port, the other Services' ports it disagrees with, and the workloads they share."""

    service: Service
    port: ServicePort
    others: dict[ServicePort, Service] = field(default_factory=dict)
    workloads: list[Workload] = field(default_factory=list)
    in_mesh: bool = False  # one shared workload surely runs an Istio sidecar

    def describe(self) -> str:
        """``Deployment 'reviews-v1'`` (and how many more)."""
        first, more = self.workloads[0], len(self.workloads) - 1
        return f"{first.kind} {first.name!r}" + (f" (and {more} more)" if more else "")

    def first_other(self) -> tuple[ServicePort, Service, str]:
        port, service = next(iter(self.others.items()))
        more = f" (and {len(self.others) - 1} more)" if len(self.others) > 1 else ""
        return port, service, more


class WorkloadIndex:
    """The workloads of the inputs by namespace and label, one per (namespace, kind, name)."""

    def __init__(self, mesh: MeshModel) -> None:
        self._by_label: dict[str, dict[tuple[str, str], list[Workload]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self._all: dict[str, list[Workload]] = defaultdict(list)
        seen: set[tuple[str, str, str]] = set()
        for workload in mesh.workloads:
            key = (workload.namespace, workload.kind, workload.name)
            if key in seen:
                continue
            seen.add(key)
            self._all[workload.namespace].append(workload)
            for label in workload.labels.items():
                self._by_label[workload.namespace][label].append(workload)

    def has_workloads(self, namespace: str) -> bool:
        return bool(self._all.get(namespace))

    def selected(self, namespace: str, selector: dict[str, str]) -> list[Workload]:
        """The workloads of ``namespace`` a matchLabels selector picks ({} picks them all)."""
        if not selector:
            return list(self._all.get(namespace, []))
        labels = self._by_label.get(namespace, {})
        candidates = min((labels.get(item, []) for item in selector.items()), key=len)
        return [w for w in candidates if selects(selector, w.labels)]


def services_by_workload(mesh: MeshModel) -> dict[Workload, list[Service]]:
    """Every workload selected by two or more distinct Services -> those Services, input order."""
    index = WorkloadIndex(mesh)
    selected: dict[Workload, list[Service]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for service in mesh.services:
        if not service.selector or service.type == "ExternalName":
            continue
        if (service.namespace, service.name) in seen:
            continue
        seen.add((service.namespace, service.name))
        for workload in index.selected(service.namespace, service.selector):
            selected[workload].append(service)
    return {w: services for w, services in selected.items() if len(services) > 1}


def port_clashes(
    ctx: Analysis,
    group: Callable[[ServicePort], Hashable | None],
    disagree: Callable[[ServicePort, ServicePort], bool],
) -> list[Clash]:
    """Ports of Services selecting one sidecar workload that disagree with another Service's port
    of their ``group`` (None: not compared). Workloads surely outside Istio's mesh are skipped."""
    clashes: dict[ServicePort, Clash] = {}
    for workload, services in services_by_workload(ctx.mesh).items():
        sidecar = has_sidecar(ctx.mesh, workload, closed_world=ctx.closed_world)
        if sidecar is False:
            continue
        groups: dict[Hashable, list[tuple[Service, ServicePort]]] = defaultdict(list)
        for service in services:
            for port in service.ports:
                key = group(port)
                if key is not None:
                    groups[key].append((service, port))
        for exposed in groups.values():
            for service, port in exposed:
                others = {p: s for s, p in exposed if s is not service and disagree(port, p)}
                if not others:
                    continue
                clash = clashes.setdefault(port, Clash(service, port))
                clash.others.update(others)
                clash.workloads.append(workload)
                clash.in_mesh = clash.in_mesh or bool(sidecar)
    return list(clashes.values())


def target_port(port: ServicePort) -> str:
    """The targetPort as written; unset (or 0) means the service port, as in Kubernetes."""
    if port.target_port in (None, 0, "", "0"):
        return str(port.port)
    return str(port.target_port)
