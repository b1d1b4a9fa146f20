"""The scene every format draws: order, labels, mTLS states, findings; and --focus."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from meshctl.diagnostics import Severity
from meshctl.errors import UsageError
from meshctl.graph import ServiceGraph
from meshctl.render import (
    PlacedFinding,
    RenderOptions,
    Tls,
    default_label,
    edge_label,
    focus,
    jsonable,
    renderer,
    resolve_focus,
    scene,
)
from tests.render.conftest import hand_findings, hand_graph

CART = "service:cart.shop.svc.cluster.local"


def test_nodes_sorted_by_id_with_kind_and_label(graph) -> None:
    view = scene(graph, [], RenderOptions())
    assert [n.id for n in view.nodes] == sorted(graph.g.nodes)
    by_id = {n.id: n for n in view.nodes}
    assert by_id["clients:legacy/unmeshed"].label == "unmeshed clients in legacy"
    assert by_id["subset:cart.shop.svc.cluster.local#v1"].label == "cart.shop v1"
    assert by_id["route:VirtualService:shop/cart"].attrs == {"source": "VirtualService"}
    assert by_id["host:api.example.com"].attrs == {"known": True}


def test_edges_labelled_with_match_weight_and_the_real_share(graph) -> None:
    view = scene(graph, [], RenderOptions())
    labels = {(e.source, e.target, e.kind, e.attrs.get("rule")): e.label for e in view.edges}
    route = "route:VirtualService:shop/cart"
    assert labels[(route, "subset:cart.shop.svc.cluster.local#v1", "routes", 1)] == "* · weight 80 (88.9%)"
    assert labels[(route, "subset:cart.shop.svc.cluster.local#v2", "routes", 1)] == "* · weight 10 (11.1%)"
    assert labels[(route, "subset:cart.shop.svc.cluster.local#v2", "routes", 0)] == "x-beta: exact 1"
    assert labels[(route, CART, "mirrors", 1)] == "mirror"
    assert labels[("workload:shop/Deployment/frontend", CART, "allowed", None)] == "allowed"
    assert edge_label("routes", {"match": "prefix /", "weight": 50}, 50.0) == "prefix / · weight 50"
    assert edge_label("routes", {"match": "prefix /", "weight": 1}, 100.0) == "prefix /"  # no split


def test_mtls_edges_carry_their_state(graph) -> None:
    view = scene(graph, [], RenderOptions())
    states = {(e.source, e.target, e.label): e.tls for e in view.edges if e.kind == "mtls"}
    assert states == {
        ("clients:shop/meshed", CART, "mTLS :8080"): Tls.MTLS,
        ("clients:shop/meshed", "service:frontend.shop.svc.cluster.local", "plaintext :9090"): Tls.PLAINTEXT,
        ("clients:legacy/unmeshed", CART, "broken :8080"): Tls.BROKEN,
    }
    assert all(e.tls is None for e in view.edges if e.kind != "mtls")


def test_findings_mark_nodes_and_edges_with_the_worst_severity(graph, findings) -> None:
    view = scene(graph, findings, RenderOptions())
    by_id = {n.id: n for n in view.nodes}
    assert by_id["route:VirtualService:shop/cart"].severity is Severity.ERROR  # MSH031 warning + MSH102 error
    assert view.codes(by_id["route:VirtualService:shop/cart"].findings) == ["MSH031", "MSH102"]
    assert by_id["workload:shop/Deployment/frontend"].severity is None
    broken = next(e for e in view.edges if e.tls is Tls.BROKEN)
    assert broken.severity is Severity.ERROR and view.codes(broken.findings) == ["MSH201"]
    canary = [e for e in view.edges if e.attrs.get("rule") == 1 and e.kind == "routes"]
    assert {e.severity for e in canary} == {Severity.WARNING}
    assert len(view.findings) == 4  # the unplaced one is kept for the whole graph


def test_the_same_graph_built_in_any_order_renders_the_same_bytes(graph, findings) -> None:
    shuffled = nx.MultiDiGraph()
    nodes = list(graph.g.nodes(data=True))
    edges = list(graph.g.edges(data=True))
    random.Random(7).shuffle(nodes)
    random.Random(7).shuffle(edges)
    shuffled.add_nodes_from(nodes)
    for a, b, data in edges:
        shuffled.add_edge(a, b, **data)
    # edge keys change with insertion order: place the findings again by what they are about
    by_data = {}
    for a, b, k, d in shuffled.edges(keys=True, data=True):
        by_data[(a, b, tuple(sorted(d.items())))] = k
    moved = [
        PlacedFinding(p.finding, p.nodes, tuple(
            (a, b, by_data[(a, b, tuple(sorted(graph.g.edges[a, b, k].items())))]) for a, b, k in p.edges
        ))
        for p in findings
    ]
    for name in ("mermaid", "dot", "json", "html"):
        first = renderer(name)(graph, findings, RenderOptions())
        assert renderer(name)(ServiceGraph(shuffled), moved, RenderOptions()) == first, name


def test_jsonable_attributes() -> None:
    from meshctl.diagnostics import ResourceRef

    ref = ResourceRef("v1", "Service", "cart", "shop")
    assert jsonable({"b": (1, 2), "a": Tls.BROKEN, "r": ref, "s": frozenset({"y", "x"})}) == {
        "a": "broken", "b": [1, 2], "r": "Service cart.shop", "s": ["x", "y"],
    }
    assert jsonable(object()) == "object"  # never an address
    assert default_label("host:api.example.com") == "api.example.com"


# -- focus -------------------------------------------------------------------------------
def test_resolve_focus_takes_the_forms_people_type(graph) -> None:
    for text in ("cart", "cart.shop", "shop/cart", "cart.shop.svc.cluster.local", CART):
        assert resolve_focus(graph, text) == CART, text
    assert resolve_focus(graph, "api.example.com") == "host:api.example.com"
    assert resolve_focus(graph, "workload:shop/Deployment/cart-v1") == "workload:shop/Deployment/cart-v1"
    assert resolve_focus(graph, "cart-v1.shop") == "workload:shop/Deployment/cart-v1"  # a unique label


def test_resolve_focus_refuses_unknown_and_ambiguous_names() -> None:
    g = hand_graph().g.copy()
    g.add_node("service:cart.other.svc.cluster.local", kind="service", label="cart.other")
    graph = ServiceGraph(g)
    with pytest.raises(UsageError, match="names 2 nodes") as ambiguous:
        resolve_focus(graph, "cart")
    assert "namespace" in (ambiguous.value.hint or "")
    with pytest.raises(UsageError, match="no such service") as unknown:
        resolve_focus(graph, "crat.shop")
    assert "cart.shop" in (unknown.value.hint or "")


def test_focus_keeps_the_neighbourhood(graph) -> None:
    near = focus(graph, "service:frontend.shop.svc.cluster.local", radius=1)
    assert set(near.g.nodes) == {
        "service:frontend.shop.svc.cluster.local", "workload:shop/Deployment/frontend", "clients:shop/meshed",
    }
    wider = focus(graph, "service:frontend.shop.svc.cluster.local", radius=2)
    assert CART in wider.g.nodes  # frontend's workload may call cart
    assert set(focus(graph, CART, radius=0).g.nodes) == {CART}


def test_focus_does_not_walk_through_the_clients_of_a_namespace() -> None:
    """clients:shop/meshed calls cart and frontend: that does not make them neighbours."""
    g = hand_graph().g.copy()
    g.remove_edge("workload:shop/Deployment/frontend", CART)  # the allowed edge: now only the hub links them
    graph = ServiceGraph(g)
    frontend = "service:frontend.shop.svc.cluster.local"
    assert CART in graph.neighbourhood(frontend, 2).g.nodes  # the plain neighbourhood goes through
    near = focus(graph, frontend, radius=2)
    assert "clients:shop/meshed" in near.g.nodes
    assert CART not in near.g.nodes
    plain = graph.neighbourhood("clients:shop/meshed", 1)
    assert CART in plain.g.nodes  # focusing *on* the hub still shows everything it calls
    assert set(focus(graph, "clients:shop/meshed", 1).g.nodes) == set(plain.g.nodes)


def test_a_focused_scene_keeps_only_the_findings_about_it(graph) -> None:
    near = focus(graph, "service:frontend.shop.svc.cluster.local", radius=1)
    view = scene(near, hand_findings(), RenderOptions(focus="service:frontend.shop.svc.cluster.local", radius=1))
    assert view.findings == ()
    assert [n.focus for n in view.nodes].count(True) == 1
