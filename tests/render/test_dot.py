"""``--format dot``: Graphviz reads it without a warning and draws the labels as written."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from meshctl.render import RenderOptions, scene
from meshctl.render.dot import quote, render
from tests.render.conftest import NASTY

needs_graphviz = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz is not installed (apt-get install graphviz; .ci/run does)"
)
SVG = "{http://www.w3.org/2000/svg}"


def graphviz(text: str, fmt: str = "svg") -> str:
    proc = subprocess.run(["dot", f"-T{fmt}"], input=text, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr  # not even a warning
    return proc.stdout


def statements(text: str) -> list[str]:
    lines = text.splitlines()
    assert lines[0] == 'digraph "meshctl" {' and lines[-1] == "}"
    return [line.strip() for line in lines[1:-1]]


def test_quote_escapes_what_graphviz_reads() -> None:
    assert quote('a"b') == '"a\\"b"'
    assert quote("a\\nb") == '"a\\\\nb"'  # a backslash, not a line break
    assert quote("x&lt;y") == '"x&amp;lt;y"'  # an ampersand, not an entity
    assert quote("one\ntwo") == '"one\\ntwo"'  # a real line break is one


def test_every_node_and_edge_is_one_statement(graph, findings) -> None:
    lines = statements(render(graph, findings, RenderOptions()))
    node_lines = [line for line in lines if re.match(r'^"[^"]+" \[label=', line)]
    edge_lines = [line for line in lines if " -> " in line]
    assert len(node_lines) == graph.g.number_of_nodes()
    assert len(edge_lines) == graph.g.number_of_edges()
    assert all(line.endswith((";", ";}")) for line in lines)


def test_mtls_states_and_findings(graph, findings) -> None:
    text = render(graph, findings, RenderOptions())
    edge = {re.search(r'label="([^"]*)"', line).group(1): line for line in text.splitlines() if " -> " in line and "label=" in line}
    assert "style=dashed" in edge["plaintext :9090"] and 'color="#cf222e"' in edge["plaintext :9090"]
    broken = edge["broken :8080 MSH201"]
    assert "arrowhead=tee" in broken and 'color="#cf222e"' in broken and "penwidth=3" in broken
    assert "style" not in edge["mTLS :8080"] and "arrowhead" not in edge["mTLS :8080"]
    assert "style=dotted" in edge["allowed"] and "constraint=false" in edge["allowed"]
    cart = next(line for line in text.splitlines() if line.strip().startswith('"route:VirtualService:shop/cart" ['))
    assert 'label="cart.shop\\nMSH031, MSH102"' in cart and "penwidth=3" in cart


@needs_graphviz
def test_graphviz_draws_every_label_as_written(graph, findings) -> None:
    text = render(graph, findings, RenderOptions(title=NASTY))
    svg = ET.fromstring(graphviz(text))
    drawn = [t.text or "" for t in svg.iter(f"{SVG}text")]  # the XML parser decodes &amp; once
    view = scene(graph, findings, RenderOptions())
    for node in view.nodes:
        assert node.label in drawn, node.label
    assert NASTY in drawn
    assert sum(1 for t in drawn if t == NASTY) >= 2  # the route node and its edge
    assert f"{NASTY} (focus" not in drawn
    titles = {t.text or "" for t in svg.iter(f"{SVG}title")}
    assert "route:HTTPRoute:shop/weird" in titles  # node ids survive too


@needs_graphviz
def test_graphviz_reads_the_demo_mesh(demo) -> None:
    out = graphviz(render(demo.graph, demo.findings, RenderOptions(title="demo")), "json")
    import json

    drawn = json.loads(out)
    names = {o["name"] for o in drawn.get("objects", []) if "name" in o}
    assert set(demo.graph.g.nodes) <= names
    assert len(drawn["edges"]) == demo.graph.g.number_of_edges()


def test_one_way_tls_edges_are_dashed_amber_in_every_format() -> None:
    import networkx as nx

    from meshctl.graph import ServiceGraph
    from meshctl.render import AMBER, RenderOptions
    from meshctl.render import html as html_renderer
    from meshctl.render import mermaid as mermaid_renderer
    from meshctl.render.dot import render as dot_render

    g = nx.MultiDiGraph()
    g.add_node("clients:shop/meshed", kind="clients", label="shop clients")
    g.add_node("service:api.shop.svc.cluster.local", kind="service", label="api.shop")
    g.add_edge("clients:shop/meshed", "service:api.shop.svc.cluster.local", kind="mtls", outcome="tls", port=443)
    graph = ServiceGraph(g)
    dot = dot_render(graph, [], RenderOptions())
    assert f'color="{AMBER}"' in dot and "style=dashed" in dot and "TLS :443" in dot
    mermaid = mermaid_renderer.render(graph, [], RenderOptions())
    assert "-.->" in mermaid and f"stroke:{AMBER}" in mermaid
    page = html_renderer.render(graph, [], RenderOptions())
    assert 'marker-end="url(#arrow-tls)"' in page and "TLS without mesh identity" in page
