"""Stage after the rules: the service graph drawn for people (mermaid, dot, html) or tools (json).

Every format draws the same *scene*, computed here once: the graph's nodes and edges in a
stable order, each with its label, its mTLS state and the findings placed on it::

    graph (networkx) + findings  --place()-->  PlacedFinding(finding, nodes, edges)
    graph + placed findings      --scene()-->  Scene(nodes: NodeView..., edges: EdgeView...)
    Scene                        --mermaid/dot/json_graph/html.render()-->  str

``place`` maps a finding's resource (and the field it points at) to graph nodes and edges:
a VirtualService finding at ``spec.http[1].mirror`` lands on the route node and on that
rule's mirror edge. ``focus`` cuts the graph down to one node's neighbourhood. The
renderers are pure: no I/O, no clock, output sorted, the same input gives the same bytes.
"""

from __future__ import annotations

import difflib
import enum
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from meshctl.diagnostics import Finding, ResourceRef, Severity, format_path
from meshctl.errors import UsageError

if TYPE_CHECKING:
    from meshctl.graph import ServiceGraph
    from meshctl.model.mesh import MeshModel
    from meshctl.model.objects import Backend, Route
    from meshctl.model.origin import Origin

FORMATS = ("mermaid", "dot", "json", "html")

# An edge of the multigraph: (from, to, key). Keys tell apart two edges with the same ends.
EdgeRef = tuple[str, str, Any]

# Node kinds, in the column order of the html layout (and the legend).
KINDS = ("clients", "callers", "gateway", "route", "service", "host", "subset", "workload")
KIND_TITLES = {
    "clients": "Clients",
    "callers": "Callers",
    "gateway": "Gateways",
    "route": "Routes",
    "service": "Services",
    "host": "Hosts",
    "subset": "Subsets",
    "workload": "Workloads",
}
# Fill colours per node kind; every format uses the same ones.
KIND_FILL = {
    "clients": "#f3f4f6",
    "callers": "#fff1e5",
    "gateway": "#ede9fe",
    "route": "#fef3c7",
    "service": "#dbeafe",
    "host": "#e5e7eb",
    "subset": "#dcfce7",
    "workload": "#fce7f3",
}
OTHER_FILL = "#ffffff"
NODE_STROKE = "#57606a"
EDGE_COLOUR = "#57606a"
RED = "#cf222e"
ALLOWED_COLOUR = "#1a7f37"  # allowed-caller edges
AMBER = "#9a6700"  # one-way TLS edges
SEVERITY_COLOUR = {Severity.ERROR: RED, Severity.WARNING: "#bf8700", Severity.INFO: "#0969da"}


class Tls(enum.Enum):
    """The mTLS state of a connection edge (``kind="mtls"``, attribute ``outcome``)."""

    MTLS = "mtls"  # solid
    PLAINTEXT = "plaintext"  # dashed red
    BROKEN = "broken"  # crossed red: the connection fails
    TLS = "tls"  # dashed amber: TLS to the application, no mesh identity (DestinationRule SIMPLE)


@dataclass(frozen=True)
class RenderOptions:
    title: str = "meshctl graph"
    focus: str | None = None  # the node id the graph was focused on
    radius: int | None = None
    legend: bool = True


@dataclass(frozen=True)
class PlacedFinding:
    """A finding and the nodes and edges of the graph it is about."""

    finding: Finding
    nodes: tuple[str, ...] = ()
    edges: tuple[EdgeRef, ...] = ()


@dataclass(frozen=True)
class NodeView:
    id: str
    kind: str
    label: str
    attrs: dict[str, Any]
    findings: tuple[int, ...] = ()  # indexes into Scene.findings
    severity: Severity | None = None  # the worst of them
    focus: bool = False


@dataclass(frozen=True)
class EdgeView:
    source: str
    target: str
    kind: str
    label: str
    attrs: dict[str, Any]
    tls: Tls | None = None
    findings: tuple[int, ...] = ()
    severity: Severity | None = None
    ref: EdgeRef | None = None  # (from, to, key) in the multigraph


@dataclass(frozen=True)
class Scene:
    nodes: tuple[NodeView, ...]
    edges: tuple[EdgeView, ...]
    findings: tuple[PlacedFinding, ...]
    options: RenderOptions = field(default_factory=RenderOptions)

    def codes(self, indexes: Iterable[int]) -> list[str]:
        """The distinct codes of some findings, sorted: what a highlighted element shows."""
        return sorted({self.findings[i].finding.code for i in indexes})


# -- the scene ---------------------------------------------------------------------------
def scene(graph: ServiceGraph, findings: Sequence[PlacedFinding], options: RenderOptions) -> Scene:
    """Nodes and edges in a stable order, labelled, with their findings.

    Findings placed on nothing are kept when the whole graph is drawn; a focused graph keeps
    only the findings about its own nodes and edges (with references outside it dropped).
    """
    g = graph.g
    kept: list[PlacedFinding] = []
    for placed in findings:
        nodes = tuple(n for n in placed.nodes if n in g)
        edges = tuple(e for e in placed.edges if g.has_edge(e[0], e[1], e[2]))
        if options.focus is not None and not nodes and not edges:
            continue
        kept.append(PlacedFinding(placed.finding, nodes, edges))
    by_node: dict[str, list[int]] = defaultdict(list)
    by_edge: dict[EdgeRef, list[int]] = defaultdict(list)
    for i, placed in enumerate(kept):
        for n in placed.nodes:
            by_node[n].append(i)
        for e in placed.edges:
            by_edge[e].append(i)

    def worst(indexes: list[int]) -> Severity | None:
        return max((kept[i].finding.severity for i in indexes), default=None)

    node_views = []
    for node in sorted(g.nodes):
        data = dict(g.nodes[node])
        kind = str(data.pop("kind", "") or node.partition(":")[0])
        label = str(data.pop("label", "") or default_label(node))
        if kind == "subset":
            label = subset_label(node, label)
        hits = by_node.get(node, [])
        node_views.append(
            NodeView(node, kind, label, jsonable(data), tuple(hits), worst(hits), node == options.focus)
        )
    raw = sorted(
        g.edges(keys=True, data=True),
        key=lambda e: (e[0], e[1], str(e[3].get("kind", "")), _canonical(e[3]), str(e[2])),
    )
    shares = _shares(raw)
    edge_views = []
    for a, b, key, data in raw:
        attrs = dict(data)
        kind = str(attrs.pop("kind", ""))
        hits = by_edge.get((a, b, key), [])
        edge_views.append(
            EdgeView(a, b, kind, edge_label(kind, data, shares.get((a, b, key))), jsonable(attrs),
                     tls_state(kind, data), tuple(hits), worst(hits), (a, b, key))
        )
    return Scene(tuple(node_views), tuple(edge_views), tuple(kept), options)


def default_label(node: str) -> str:
    """A label for a node its builder gave none: ``clients:shop/unmeshed`` -> ``unmeshed clients in shop``."""
    kind, _, rest = node.partition(":")
    if kind == "clients":
        ns, _, which = rest.rpartition("/")
        return f"{which} clients in {ns}" if ns else f"{which} clients"
    return rest or node


def subset_label(node: str, label: str) -> str:
    """``cart.shop v1`` for ``subset:cart.shop.svc.cluster.local#v1`` (the FQDN is in the id)."""
    fqdn, sep, subset = node.partition(":")[2].rpartition("#")
    if not sep:
        return label
    name, svc, _ = fqdn.partition(".svc.")
    return f"{name if svc else fqdn} {subset}"


def tls_state(kind: str, data: dict[str, Any]) -> Tls | None:
    if kind != "mtls":
        return None
    try:
        return Tls(str(data.get("outcome", "")).lower())
    except ValueError:
        return None


def edge_label(kind: str, data: dict[str, Any], share: float | None = None) -> str:
    """What an edge says: the match and weight of a route, ``mirror``, the mTLS outcome and port."""
    if kind == "routes":
        label = str(data.get("match") or "*")
        weight = data.get("weight")
        if isinstance(weight, int) and not isinstance(weight, bool) and share is not None and share < 100:
            label += f" · weight {weight}"  # a split: say how much, and the share when it differs
            if abs(share - weight) > 0.05:
                label += f" ({share:.1f}%)"
        return label
    if kind == "mirrors":
        return "mirror"
    if kind == "allowed":
        port = data.get("port")
        return f"allowed :{port}" if port is not None else "allowed"
    if kind == "mtls":
        state = tls_state(kind, data)
        text = {Tls.MTLS: "mTLS", Tls.PLAINTEXT: "plaintext", Tls.BROKEN: "broken", Tls.TLS: "TLS"}.get(
            state, str(data.get("outcome", "mtls"))  # type: ignore[arg-type]
        )
        port = data.get("port")
        text = f"{text} :{port}" if port is not None else text
        return text + ("?" if data.get("certain") is False else "")  # decided from an assumed proxy
    return ""


def _shares(edges: list[tuple[str, str, Any, dict[str, Any]]]) -> dict[EdgeRef, float]:
    """The percentage of a rule's traffic each weighted backend gets (weights are relative)."""
    totals: dict[tuple[str, Any], int] = defaultdict(int)
    for a, _, _, data in edges:
        weight = data.get("weight")
        if data.get("kind") == "routes" and isinstance(weight, int) and not isinstance(weight, bool):
            totals[(a, data.get("rule"))] += weight
    out: dict[EdgeRef, float] = {}
    for a, b, key, data in edges:
        weight = data.get("weight")
        if data.get("kind") == "routes" and isinstance(weight, int) and not isinstance(weight, bool):
            total = totals[(a, data.get("rule"))]
            if total > 0:
                out[(a, b, key)] = 100.0 * weight / total
    return out


def jsonable(value: Any) -> Any:
    """Graph attributes as JSON values: enums by value, tuples as lists, resources by name."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((jsonable(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    display = getattr(value, "display", None)
    if callable(display):  # a ResourceRef
        return str(display())
    if hasattr(value, "ref") and hasattr(value, "path"):  # an Origin: where it came from
        return f"{value.ref.display()} {format_path(value.path)}".rstrip()
    if cast(Any, type(value)).__str__ is not object.__str__:
        return str(value)
    return type(value).__name__


def _canonical(data: dict[str, Any]) -> str:
    return json.dumps(jsonable(data), sort_keys=True)


# -- focus -------------------------------------------------------------------------------
# Nodes that stand for many callers at once: the neighbourhood goes *to* them, never through.
HUB_KINDS = frozenset({"clients", "callers"})


def focus(graph: ServiceGraph, node: str, radius: int = 2) -> ServiceGraph:
    """The part of the graph within ``radius`` edges of ``node``, edge directions ignored.

    Like ``ServiceGraph.neighbourhood``, except that the walk does not go through hub nodes
    (``clients:<ns>/...`` and ``callers:...`` stand for many callers at once): through
    them, every service any of those clients calls would be two steps away.
    """
    from meshctl.graph import ServiceGraph

    g = graph.g
    if node not in g:
        return graph.neighbourhood(node, radius)
    seen = {node: 0}
    frontier = [node]
    for depth in range(1, radius + 1):
        following = []
        for current in frontier:
            if current != node and g.nodes[current].get("kind") in HUB_KINDS:
                continue
            for other in sorted(set(g.successors(current)) | set(g.predecessors(current))):
                if other not in seen:
                    seen[other] = depth
                    following.append(other)
        frontier = following
    return ServiceGraph(g.subgraph(seen).copy())


def resolve_focus(graph: ServiceGraph, text: str) -> str:
    """The node ``--focus`` names: a node id, a service FQDN, ``name.namespace``,
    ``namespace/name`` or a bare service name (when only one namespace has it), or the
    label of exactly one other node.
    """
    wanted = text.strip()
    g = graph.g
    if wanted in g:
        return wanted
    services = list(graph.nodes("service"))
    candidates = [f"service:{wanted}"]
    if "/" in wanted:
        ns, _, name = wanted.partition("/")
        candidates.append(f"service:{name}.{ns}.")  # prefix of the FQDN
    elif "." in wanted:
        candidates.append(f"service:{wanted}.svc.")
    for candidate in candidates:
        if candidate in g:
            return candidate
        if candidate.endswith("."):
            found = [s for s in services if s.startswith(candidate)]
            if len(found) == 1:
                return found[0]
    if f"host:{wanted}" in g:
        return f"host:{wanted}"
    bare = [s for s in services if s.startswith(f"service:{wanted}.")]
    if len(bare) == 1:
        return bare[0]
    labelled = sorted(str(n) for n, data in g.nodes(data=True) if data.get("label") == wanted)
    labelled_services = [n for n in labelled if n.startswith("service:")]
    if len(labelled_services) == 1:
        return labelled_services[0]
    if len(labelled) == 1:
        return labelled[0]
    choices = bare or labelled
    if choices:
        raise UsageError(
            f"--focus {text!r} names {len(choices)} nodes: {', '.join(choices[:6])}",
            hint="give the namespace (name.namespace) or a node id",
        )
    names = sorted({str(g.nodes[s].get("label", s)) for s in services})
    close = difflib.get_close_matches(wanted, names, n=3)
    hint = f"did you mean {', '.join(close)}?" if close else "`meshctl graph -f json` lists the node ids"
    raise UsageError(f"--focus {text!r}: no such service or node in the graph", hint=hint)


# -- placing findings --------------------------------------------------------------------
@dataclass(frozen=True)
class _Anchor:
    """Where the findings about one field of a resource land: nodes and edges."""

    path: str  # the field, as Location.path writes it ("" for the whole resource)
    nodes: tuple[str, ...] = ()
    edges: tuple[EdgeRef, ...] = ()


WORKLOAD_KINDS = frozenset({"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob",
                            "WorkloadEntry"})
ROUTE_KINDS = frozenset({"VirtualService", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute"})


def place(findings: Iterable[Finding], mesh: MeshModel, graph: ServiceGraph) -> list[PlacedFinding]:
    """Each finding with the graph nodes and edges it is about.

    A finding lands on the node of its resource (a route finding on the route node, a
    Service finding on the service node, a DestinationRule finding on the service it
    configures, a workload selector policy on the workloads it selects: docs/graph.md has
    the table), and, when it points inside a route rule, backend or parentRef, on the
    edges that field makes; a policy finding also lands on the edges whose ``policies``
    attribute names the policy. Findings about resources that are no node stay unplaced.
    """
    findings = list(findings)
    wanted = {f.resource for f in findings if f.resource is not None}
    anchors = _anchors(wanted, mesh, graph) if wanted else {}
    decided = _decided_by({ref.display() for ref in wanted}, graph) if wanted else {}
    out = []
    for f in findings:
        if f.resource is None:
            out.append(PlacedFinding(f))
            continue
        candidates = anchors.get(f.resource) or _fallback(f.resource, mesh, graph)
        path = f.location.path if f.location is not None else ""
        nodes: set[str] = set()
        best: _Anchor | None = None
        for anchor in candidates:
            if anchor.path == "":
                nodes.update(anchor.nodes)
            elif _within(path, anchor.path) and (best is None or len(anchor.path) > len(best.path)):
                best = anchor
        edges: tuple[EdgeRef, ...] = ()
        if best is not None:
            nodes.update(best.nodes)
            edges = best.edges
        edges += decided.get(f.resource.display(), ())
        out.append(PlacedFinding(f, tuple(sorted(nodes)), tuple(sorted(set(edges), key=_edge_key))))
    return out


def _decided_by(displays: set[str], graph: ServiceGraph) -> dict[str, tuple[EdgeRef, ...]]:
    """Edges whose ``policies`` attribute names a resource (``AuthorizationPolicy x.ns``):
    the allowed-caller edges a policy decides."""
    out: dict[str, list[EdgeRef]] = defaultdict(list)
    for a, b, key, policies in graph.g.edges(keys=True, data="policies"):
        if isinstance(policies, (list, tuple)):
            for name in policies:
                if name in displays:
                    out[name].append((a, b, key))
    return {name: tuple(edges) for name, edges in out.items()}


def _edge_key(e: EdgeRef) -> tuple[str, str, str]:
    return (e[0], e[1], str(e[2]))


def _within(path: str, prefix: str) -> bool:
    """Is field ``path`` the field ``prefix`` or inside it (``spec.http[1]`` is not in ``spec.http[10]``)?"""
    return path == prefix or (path.startswith(prefix) and path[len(prefix)] in ".[")


def _fallback(ref: ResourceRef, mesh: MeshModel, graph: ServiceGraph) -> list[_Anchor]:
    """The node of a resource the model left out (a document with wrong field types)."""
    ns = ref.namespace or ""
    if ref.kind == "Service":
        node = f"service:{ref.name}.{ns}.svc.{mesh.domain}"
    elif ref.kind in ROUTE_KINDS:
        linkerd = ref.api_version.startswith("policy.linkerd.io")
        node = f"route:{'LinkerdHTTPRoute' if linkerd else ref.kind}:{ns}/{ref.name}"
    elif ref.kind == "Gateway":
        node = f"gateway:{ns}/{ref.name}"
    elif ref.kind in WORKLOAD_KINDS:
        node = f"workload:{ns}/{ref.kind}/{ref.name}"
    else:
        return []
    return [_Anchor("", (node,))] if node in graph.g else []


def _anchors(wanted: set[ResourceRef], mesh: MeshModel, graph: ServiceGraph) -> dict[ResourceRef, list[_Anchor]]:
    """One pass over the model, only for the resources some finding is about."""
    from meshctl.graph import gateway_id, route_id, service_id, subset_id, workload_id

    g = graph.g
    out: dict[ResourceRef, list[_Anchor]] = defaultdict(list)

    def add(origin: Origin, nodes: Iterable[str], edges: Iterable[EdgeRef] = (), *, whole: bool = False) -> None:
        present = tuple(sorted({n for n in nodes if n in g}))
        path = "" if whole else format_path(origin.path)
        out[origin.ref].append(_Anchor(path, present, tuple(edges)))

    def mine(origin: Origin) -> bool:
        return origin.ref in wanted

    def selected(ns: str, selector: dict[str, str] | None) -> list[str]:
        if not selector:  # namespace-wide: a property of the namespace, no node of its own
            return []
        return [workload_id(w) for w in mesh.workloads_selected(ns, selector)]

    def targets(ns: str | None, refs: Iterable[Any]) -> list[str]:
        found = []
        for t in refs:
            tns = t.namespace or ns or ""
            if t.kind == "Service":
                found.append(service_id(f"{t.name}.{tns}.svc.{mesh.domain}"))
            elif t.kind == "Gateway":
                found.append(f"gateway:{tns}/{t.name}")
        return found

    for service in mesh.services:
        if mine(service.origin):
            add(service.origin, [service_id(service.fqdn)], whole=True)
    for workload in mesh.workloads:
        if mine(workload.origin):
            add(workload.origin, [workload_id(workload)], whole=True)
    for gateway in mesh.gateways:
        if mine(gateway.origin):
            add(gateway.origin, [gateway_id(gateway)], whole=True)
    for route in mesh.routes:
        if mine(route.origin):
            _route_anchors(route, route_id(route), mesh, graph, add)
    for policy in mesh.destination_policies:
        if mine(policy.origin):
            add(policy.origin, [service_id(policy.fqdn), f"host:{policy.fqdn}"], whole=True)
            for subset in policy.subsets:
                add(subset.origin, [subset_id(policy.fqdn, subset.name)])
    for entry in mesh.service_entries:
        if mine(entry.origin):
            add(entry.origin, [f"host:{h}" for h in entry.hosts], whole=True)
            for i, h in enumerate(entry.hosts):
                add(entry.origin.at("spec", "hosts", i), [f"host:{h}"])
    scoped_by_selector: list[Any] = [*mesh.peer_authentications, *mesh.sidecars, *mesh.envoy_filters]
    for scoped in scoped_by_selector:
        if mine(scoped.origin):
            add(scoped.origin, selected(scoped.namespace, scoped.selector), whole=True)
    scoped_by_target: list[Any] = [*mesh.authorization_policies, *mesh.request_authentications,
                                   *mesh.telemetries, *mesh.workload_policies]
    for targeted in scoped_by_target:
        if mine(targeted.origin):
            nodes = selected(targeted.namespace, targeted.selector)
            add(targeted.origin, nodes + targets(targeted.namespace, targeted.target_refs), whole=True)
    servers = {(s.namespace, s.name): s for s in mesh.linkerd_servers}
    for server in mesh.linkerd_servers:
        if mine(server.origin):
            add(server.origin, selected(server.namespace, server.pod_selector), whole=True)
    for authz in mesh.linkerd_authorizations:
        if mine(authz.origin):
            t = authz.target
            tns = t.namespace or authz.namespace
            nodes = []
            if t.kind == "Server" and (tns, t.name) in servers:
                nodes = selected(tns, servers[(tns, t.name)].pod_selector)
            elif t.kind == "HTTPRoute":
                nodes = [f"route:LinkerdHTTPRoute:{tns}/{t.name}", f"route:HTTPRoute:{tns}/{t.name}"]
            add(authz.origin, nodes, whole=True)
    for legacy in mesh.server_authorizations:
        if mine(legacy.origin) and legacy.server_name and (legacy.namespace, legacy.server_name) in servers:
            add(legacy.origin, selected(legacy.namespace, servers[(legacy.namespace, legacy.server_name)].pod_selector),
                whole=True)
    for profile in mesh.service_profiles:
        if mine(profile.origin):
            add(profile.origin, [service_id(profile.name)], whole=True)
    for split in mesh.traffic_splits:
        if mine(split.origin):
            add(split.origin, [service_id(f"{split.service}.{split.namespace}.svc.{mesh.domain}")], whole=True)
    for account in mesh.service_accounts:
        if mine(account.origin):
            users = [workload_id(w) for w in mesh.workloads_in(account.namespace)
                     if w.service_account == account.name]
            add(account.origin, users, whole=True)
    return out


def _route_anchors(
    route: Route, rid: str, mesh: MeshModel, graph: ServiceGraph, add: Callable[..., None]
) -> None:
    """A route's node, and the edges of each rule, backend, mirror and parentRef."""
    from meshctl.model.origin import Origin

    g = graph.g
    add(route.origin, [rid], whole=True)
    if rid not in g:
        return
    out_edges = [(a, b, k, d) for a, b, k, d in g.out_edges(rid, keys=True, data=True)]

    def edges_to(kind: str, rule: int, target: str) -> list[EdgeRef]:
        return [(a, b, k) for a, b, k, d in out_edges if d.get("kind") == kind and d.get("rule") == rule and b == target]

    for rule in route.rules:
        rule_edges: list[EdgeRef] = []
        for kind, backends in (("routes", rule.backends), ("mirrors", rule.mirrors)):
            for backend in backends:
                found = edges_to(kind, rule.index, _backend_target(backend, kind, mesh, graph))
                rule_edges.extend(found)
                add(backend.origin, [rid], found)
        add(rule.origin, [rid], rule_edges)
        for kind, backends in (("routes", rule.backends), ("mirrors", rule.mirrors)):
            # the list itself (spec.http[1].route, spec.rules[0].backendRefs): weights, say
            lists = {b.origin.path[:-1] for b in backends if b.origin.path and isinstance(b.origin.path[-1], int)}
            for path in lists:
                found = [e for b in backends if b.origin.path[:-1] == path
                         for e in edges_to(kind, rule.index, _backend_target(b, kind, mesh, graph))]
                add(Origin(route.origin.doc, path), [rid], found)
    in_edges = [(a, b, k) for a, b, k, d in g.in_edges(rid, keys=True, data=True) if d.get("kind") == "attaches"]
    for parent in route.parents:
        if parent.kind == "Gateway":
            source = f"gateway:{parent.namespace}/{parent.name}"
        elif parent.kind == "Service":
            source = _service_or_host(f"{parent.name}.{parent.namespace}.svc.{mesh.domain}", mesh)
        else:
            continue
        add(parent.origin, [rid, source], [e for e in in_edges if e[0] == source])


def _service_or_host(fqdn: str, mesh: MeshModel) -> str:
    return f"service:{fqdn}" if mesh.services_for(fqdn) else f"host:{fqdn}"


def _backend_target(backend: Backend, kind: str, mesh: MeshModel, graph: ServiceGraph) -> str:
    """The node graph.build sends a backend's edge to (a subset when the subset exists)."""
    target = _service_or_host(backend.fqdn, mesh)
    if kind == "routes" and backend.subset:
        sid = f"subset:{backend.fqdn}#{backend.subset}"
        if sid in graph.g:
            target = sid
    return target


# -- formats -----------------------------------------------------------------------------
def renderer(name: str) -> Callable[[ServiceGraph, Sequence[PlacedFinding], RenderOptions], str]:
    """The ``render`` function of a format; modules are imported only when used."""
    import importlib

    modules = {"mermaid": "mermaid", "dot": "dot", "json": "json_graph", "html": "html"}
    if name not in modules:
        raise UsageError(f"unknown graph format {name!r} (expected {', '.join(FORMATS)})")
    module = importlib.import_module(f"meshctl.render.{modules[name]}")
    return module.render  # type: ignore[no-any-return]
