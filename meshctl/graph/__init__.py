"""Stage 4: the service graph, built from the model (networkx, imported only here).

Nodes (string ids, so the graph and its JSON form are deterministic):

    gateway:<ns>/<name>            an Istio Gateway or a Gateway API Gateway
    route:<Kind>:<ns>/<name>       a VirtualService, HTTPRoute, GRPCRoute, ...
    service:<fqdn>                 a Kubernetes Service
    host:<host>                    a ServiceEntry host, or a host no input defines
    subset:<fqdn>#<subset>         a DestinationRule subset
    workload:<ns>/<Kind>/<name>    a Pod, Deployment, ... or WorkloadEntry

Edges carry ``kind``: ``attaches`` (gateway -> route), ``routes`` (route -> service or
subset, with ``rule``, ``weight`` and ``match``; one edge per rule and destination),
``mirrors`` (route -> service), ``subset`` (service -> subset), ``selects`` (service or
subset -> workload) and, from the security analysis, ``allowed`` (workload -> service).
The graph is a multigraph: two rules of one route may send traffic to the same place.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from meshctl.model.mesh import MeshModel, selects
from meshctl.model.objects import Gateway, Route, Workload


def gateway_id(g: Gateway) -> str:
    return f"gateway:{g.namespace}/{g.name}"


def route_id(r: Route) -> str:
    return f"route:{r.source_kind}:{r.namespace}/{r.name}"


def service_id(fqdn: str) -> str:
    return f"service:{fqdn}"


def host_id(host: str) -> str:
    return f"host:{host}"


def subset_id(fqdn: str, subset: str) -> str:
    return f"subset:{fqdn}#{subset}"


def workload_id(w: Workload) -> str:
    return f"workload:{w.namespace}/{w.kind}/{w.name}"


@dataclass
class ServiceGraph:
    """A typed view over a networkx DiGraph."""

    g: Any  # networkx.MultiDiGraph

    def nodes(self, kind: str | None = None) -> Iterator[str]:
        for node, data in sorted(self.g.nodes(data=True)):
            if kind is None or data.get("kind") == kind:
                yield node

    def edges(self, kind: str | None = None) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every edge (of one kind), in a stable order: by ends, then by insertion."""
        for a, b, data in sorted(self.g.edges(data=True), key=lambda e: (e[0], e[1])):
            if kind is None or data.get("kind") == kind:
                yield a, b, data

    def successors(self, node: str, kind: str | None = None) -> list[str]:
        if node not in self.g:
            return []
        return sorted({b for _, b, d in self.g.out_edges(node, data=True) if kind is None or d.get("kind") == kind})

    def predecessors(self, node: str, kind: str | None = None) -> list[str]:
        if node not in self.g:
            return []
        return sorted({a for a, _, d in self.g.in_edges(node, data=True) if kind is None or d.get("kind") == kind})

    def attrs(self, node: str) -> dict[str, Any]:
        return dict(self.g.nodes[node]) if node in self.g else {}

    def neighbourhood(self, node: str, radius: int = 2) -> ServiceGraph:
        import networkx as nx

        if node not in self.g:
            return ServiceGraph(nx.MultiDiGraph())
        undirected = self.g.to_undirected(as_view=True)
        keep = nx.single_source_shortest_path_length(undirected, node, cutoff=radius)
        return ServiceGraph(self.g.subgraph(keep).copy())


def build(mesh: MeshModel) -> ServiceGraph:
    import networkx as nx

    g = nx.MultiDiGraph()
    for service in mesh.services:
        g.add_node(service_id(service.fqdn), kind="service", label=f"{service.name}.{service.namespace}")
    for entry in mesh.service_entries:
        for h in entry.hosts:
            g.add_node(host_id(h), kind="host", label=h)
    for workload in mesh.workloads:
        g.add_node(workload_id(workload), kind="workload", label=f"{workload.name}.{workload.namespace}")
    selected: dict[str, list[Workload]] = {}
    for service in mesh.services:
        selected[service.fqdn] = mesh.workloads_of(service)
        for workload in selected[service.fqdn]:
            g.add_edge(service_id(service.fqdn), workload_id(workload), kind="selects")
    for policy in mesh.destination_policies:
        for subset in policy.subsets:
            sid = subset_id(policy.fqdn, subset.name)
            g.add_node(sid, kind="subset", label=f"{policy.host} {subset.name}")
            g.add_edge(_target(g, mesh, policy.fqdn), sid, kind="subset")
            for workload in selected.get(policy.fqdn, ()):
                if selects(subset.labels, workload.labels):
                    g.add_edge(sid, workload_id(workload), kind="selects")
    for gateway in mesh.gateways:
        g.add_node(gateway_id(gateway), kind="gateway", label=f"{gateway.name}.{gateway.namespace}")
    for route in mesh.routes:
        rid = route_id(route)
        g.add_node(rid, kind="route", label=f"{route.name}.{route.namespace}", source=route.source_kind)
        for parent in route.parents:
            if parent.kind in ("Gateway", "Ingress"):  # an Ingress is lowered as its own gateway
                gid = f"gateway:{parent.namespace}/{parent.name}"
                if gid in g:
                    g.add_edge(gid, rid, kind="attaches")
            elif parent.kind == "Service":
                g.add_edge(_target(g, mesh, f"{parent.name}.{parent.namespace}.svc.{mesh.domain}"), rid, kind="attaches")
        for rule in route.rules:
            for backend in rule.backends:
                target = _target(g, mesh, backend.fqdn)
                if backend.subset:
                    sid = subset_id(backend.fqdn, backend.subset)
                    if sid in g:
                        target = sid
                g.add_edge(rid, target, kind="routes", rule=rule.index, weight=backend.weight,
                           match=_describe(rule), subset=backend.subset)
            for mirror in rule.mirrors:
                g.add_edge(rid, _target(g, mesh, mirror.fqdn), kind="mirrors", rule=rule.index)
    return ServiceGraph(g)


def _target(g: Any, mesh: MeshModel, fqdn: str) -> str:
    if mesh.services_for(fqdn):
        return service_id(fqdn)
    node = host_id(fqdn)
    if node not in g:
        g.add_node(node, kind="host", label=fqdn, known=bool(mesh.entries_for(fqdn)))
    return node


def _describe(rule: Any) -> str:
    if not rule.matches:
        return "*"
    parts = []
    for m in rule.matches:
        bits = []
        if m.path is not None:
            bits.append(f"{m.path.type.value} {m.path.value}")
        bits.extend(f"{name}: {sm.type.value} {sm.value}" for name, sm in m.headers)
        if m.method is not None:
            bits.append(m.method.value)
        parts.append(", ".join(bits) or "*")
    return " | ".join(parts)
