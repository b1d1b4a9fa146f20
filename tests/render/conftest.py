"""Graphs for the renderer tests: one built by hand with every node and edge kind (mTLS and
allowed-caller edges included) and hostile names, and the demo mesh with its findings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import networkx as nx
import pytest

from meshctl.diagnostics import Finding, Location, ResourceRef, Severity
from meshctl.graph import ServiceGraph
from meshctl.render import PlacedFinding
from tests.conftest import TESTDATA

# Names as hostile as YAML allows: quotes, markup, entities, Mermaid and DOT syntax.
NASTY = 'we"ird <b>&amp; #35; | `x` [y] {z} (w); \\l end'


def hand_graph() -> ServiceGraph:
    """Every node kind and edge kind, including the security analysis' edges."""
    g = nx.MultiDiGraph()
    g.add_node("gateway:ingress/public", kind="gateway", label="public.ingress")
    g.add_node("route:VirtualService:shop/cart", kind="route", label="cart.shop", source="VirtualService")
    g.add_node("route:HTTPRoute:shop/weird", kind="route", label=NASTY, source="HTTPRoute")
    g.add_node("service:cart.shop.svc.cluster.local", kind="service", label="cart.shop")
    g.add_node("service:frontend.shop.svc.cluster.local", kind="service", label="frontend.shop")
    g.add_node("host:api.example.com", kind="host", label="api.example.com", known=True)
    g.add_node("subset:cart.shop.svc.cluster.local#v1", kind="subset", label="cart.shop.svc.cluster.local v1")
    g.add_node("subset:cart.shop.svc.cluster.local#v2", kind="subset", label="cart.shop.svc.cluster.local v2")
    g.add_node("workload:shop/Deployment/cart-v1", kind="workload", label="cart-v1.shop")
    g.add_node("workload:shop/Deployment/cart-v2", kind="workload", label="cart-v2.shop")
    g.add_node("workload:shop/Deployment/frontend", kind="workload", label="frontend.shop")
    g.add_node("clients:shop/meshed", kind="clients")
    g.add_node("clients:legacy/unmeshed", kind="clients")
    g.add_edge("gateway:ingress/public", "route:VirtualService:shop/cart", kind="attaches")
    g.add_edge("route:VirtualService:shop/cart", "subset:cart.shop.svc.cluster.local#v1",
               kind="routes", rule=1, weight=80, match="*", subset="v1")
    g.add_edge("route:VirtualService:shop/cart", "subset:cart.shop.svc.cluster.local#v2",
               kind="routes", rule=1, weight=10, match="*", subset="v2")
    g.add_edge("route:VirtualService:shop/cart", "subset:cart.shop.svc.cluster.local#v2",
               kind="routes", rule=0, weight=None, match="x-beta: exact 1", subset="v2")
    g.add_edge("route:VirtualService:shop/cart", "service:cart.shop.svc.cluster.local", kind="mirrors", rule=1)
    g.add_edge("route:HTTPRoute:shop/weird", "host:api.example.com",
               kind="routes", rule=0, weight=1, match=NASTY, subset=None)
    g.add_edge("service:cart.shop.svc.cluster.local", "subset:cart.shop.svc.cluster.local#v1", kind="subset")
    g.add_edge("service:cart.shop.svc.cluster.local", "subset:cart.shop.svc.cluster.local#v2", kind="subset")
    g.add_edge("service:cart.shop.svc.cluster.local", "workload:shop/Deployment/cart-v1", kind="selects")
    g.add_edge("service:cart.shop.svc.cluster.local", "workload:shop/Deployment/cart-v2", kind="selects")
    g.add_edge("subset:cart.shop.svc.cluster.local#v1", "workload:shop/Deployment/cart-v1", kind="selects")
    g.add_edge("subset:cart.shop.svc.cluster.local#v2", "workload:shop/Deployment/cart-v2", kind="selects")
    g.add_edge("service:frontend.shop.svc.cluster.local", "workload:shop/Deployment/frontend", kind="selects")
    g.add_edge("workload:shop/Deployment/frontend", "service:cart.shop.svc.cluster.local", kind="allowed")
    g.add_edge("clients:shop/meshed", "service:cart.shop.svc.cluster.local", kind="mtls", outcome="mtls", port=8080)
    g.add_edge("clients:shop/meshed", "service:frontend.shop.svc.cluster.local",
               kind="mtls", outcome="plaintext", port=9090)
    g.add_edge("clients:legacy/unmeshed", "service:cart.shop.svc.cluster.local",
               kind="mtls", outcome="broken", port=8080)
    return ServiceGraph(g)


def finding(code: str, severity: Severity, message: str, ref: ResourceRef | None = None, path: str = "") -> Finding:
    location = Location("mesh.yaml", 3, 5, path) if ref is not None else None
    return Finding(code, "some-rule", severity, message, location, ref)


def hand_findings() -> list[PlacedFinding]:
    vs = ResourceRef("networking.istio.io/v1", "VirtualService", "cart", "shop")
    route = "route:VirtualService:shop/cart"
    canary = [(route, "subset:cart.shop.svc.cluster.local#v1", 0), (route, "subset:cart.shop.svc.cluster.local#v2", 0)]
    return [
        PlacedFinding(finding("MSH031", Severity.WARNING, f"weights <{NASTY}>", vs, "spec.http[1].route"),
                      (route,), tuple(canary)),
        PlacedFinding(finding("MSH102", Severity.ERROR, "mirror subset", vs, "spec.http[1].mirror"),
                      (route,), ((route, "service:cart.shop.svc.cluster.local", 0),)),
        PlacedFinding(finding("MSH201", Severity.ERROR, "STRICT server, unmeshed client"),
                      ("service:cart.shop.svc.cluster.local",),
                      (("clients:legacy/unmeshed", "service:cart.shop.svc.cluster.local", 0),)),
        PlacedFinding(finding("MSH006", Severity.WARNING, "suppression matched no finding")),
    ]


@pytest.fixture
def graph() -> ServiceGraph:
    return hand_graph()


@pytest.fixture
def findings() -> list[PlacedFinding]:
    return hand_findings()


@dataclasses.dataclass
class Demo:
    mesh: object
    graph: ServiceGraph
    findings: list[PlacedFinding]


DEMO = TESTDATA / "demo"


def analyze_demo(path: Path = DEMO) -> Demo:
    from meshctl.graph import build
    from meshctl.lower import lower
    from meshctl.options import Options
    from meshctl.pipeline import run_analyze
    from meshctl.render import place

    result = run_analyze(Options(paths=(str(path),)))
    mesh = lower(result.checked, None)
    graph = build(mesh)
    return Demo(mesh, graph, place(result.findings, mesh, graph))


@pytest.fixture(scope="session")
def demo() -> Demo:
    return analyze_demo()
