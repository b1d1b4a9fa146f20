"""``--format html``: one self-contained page; its SVG is well-formed and escapes everything."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from meshctl.render import KIND_FILL, RenderOptions, scene
from meshctl.render.html import COLUMN_OF, LABEL_CHARS, NODE_H, NODE_W, clip, layout, render
from tests.render.conftest import NASTY

SVG = "{http://www.w3.org/2000/svg}"


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def main_svg(page: str) -> ET.Element:
    match = re.search(r'<svg xmlns="http://www.w3.org/2000/svg".*?</svg>', page, re.DOTALL)
    assert match, "the page holds the graph as inline SVG"
    return ET.fromstring(match.group(0))


def test_the_page_fetches_nothing(graph, findings) -> None:
    page = render(graph, findings, RenderOptions())
    parser = Tags()
    parser.feed(page)
    names = {tag for tag, _ in parser.tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed", "image", "use", "foreignobject"}
    for tag, attrs in parser.tags:
        for key, value in attrs.items():
            assert key not in ("src", "href", "xlink:href", "srcset"), (tag, key, value)
            assert not key.startswith("on"), (tag, key)  # no event handlers
    assert re.findall(r"url\(([^)]*)\)", page) and all(u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", page))
    assert "@import" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page
    csp = [a for t, a in parser.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and csp[0]["content"].startswith("default-src 'none'")


def test_the_svg_is_well_formed_and_has_every_node_and_edge(graph, findings) -> None:
    svg = main_svg(render(graph, findings, RenderOptions()))
    nodes = [g for g in svg.iter(f"{SVG}g") if "node" in (g.get("class") or "").split()]
    edges = [g for g in svg.iter(f"{SVG}g") if "edge" in (g.get("class") or "").split()]
    assert sorted(g.get("data-id") for g in nodes) == sorted(graph.g.nodes)
    assert len(edges) == graph.g.number_of_edges()
    assert {g.get("data-tls") for g in edges} == {None, "mtls", "plaintext", "broken"}


def test_names_are_escaped_and_kept_whole_in_tooltips(graph, findings) -> None:
    page = render(graph, findings, RenderOptions(title=NASTY))
    assert "<b>" not in page  # the name's markup never becomes markup
    svg = main_svg(page)
    weird = next(g for g in svg.iter(f"{SVG}g") if g.get("data-id") == "route:HTTPRoute:shop/weird")
    assert weird.find(f"{SVG}title").text.startswith(NASTY + "\n")
    label = weird.find(f"{SVG}text").text
    assert label == clip(NASTY, LABEL_CHARS) and "…" in label
    parser = Tags()
    parser.feed(page)
    assert ("title", {}) in parser.tags
    assert f"<title>{NASTY}</title>" not in page
    assert "we&quot;ird &lt;b&gt;&amp;amp;" in page


def test_mtls_states_and_findings_are_drawn(graph, findings) -> None:
    svg = main_svg(render(graph, findings, RenderOptions()))
    edges = {g.get("data-tls"): g for g in svg.iter(f"{SVG}g") if g.get("data-tls")}
    plain = edges["plaintext"].find(f"{SVG}path")
    assert plain.get("stroke") == "#cf222e" and plain.get("stroke-dasharray")
    broken = edges["broken"].findall(f"{SVG}path")
    assert broken[0].get("marker-end") == "url(#tee-red)" and len(broken) == 2  # the line and its cross
    solid = edges["mtls"].find(f"{SVG}path")
    assert solid.get("stroke-dasharray") is None and solid.get("stroke") != "#cf222e"
    cart = next(g for g in svg.iter(f"{SVG}g") if g.get("data-id") == "route:VirtualService:shop/cart")
    rect = cart.find(f"{SVG}rect")
    assert rect.get("stroke") == "#cf222e" and rect.get("stroke-width") == "3"
    assert "error MSH102: mirror subset" in cart.find(f"{SVG}title").text


def test_findings_table_lists_every_finding(graph, findings) -> None:
    page = render(graph, findings, RenderOptions())
    rows = re.findall(r'<tr><td class="sev-(\w+)">', page)
    assert rows == [p.finding.severity.label for p in findings]
    assert "weights &lt;we&quot;ird" in page
    assert "No findings." in render(graph, [], RenderOptions())


def test_layout_puts_kinds_in_columns_without_overlap(graph) -> None:
    view = scene(graph, [], RenderOptions())
    places = layout(view)
    kinds = {n.id: n.kind for n in view.nodes}
    xs = {kind: {places.boxes[n].x for n in kinds if kinds[n] == kind} for kind in set(kinds.values())}
    assert all(len(v) == 1 for v in xs.values())  # one column per kind
    order = sorted(xs, key=lambda k: (next(iter(xs[k])), k))
    assert [COLUMN_OF[k] for k in order] == sorted(COLUMN_OF[k] for k in order)
    assert next(iter(xs["gateway"])) < next(iter(xs["route"])) < next(iter(xs["service"])) \
        < next(iter(xs["subset"])) < next(iter(xs["workload"]))
    boxes = list(places.boxes.values())
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a.x != b.x or abs(a.y - b.y) >= NODE_H, "nodes overlap"
    assert places.width >= max(b.x for b in boxes) + NODE_W


def test_every_kind_has_its_fill(graph) -> None:
    svg = main_svg(render(graph, [], RenderOptions()))
    fills = {g.get("data-id").partition(":")[0]: g.find(f"{SVG}rect").get("fill")
             for g in svg.iter(f"{SVG}g") if g.get("data-id")}
    assert fills == {kind: KIND_FILL[kind] for kind in fills}
    assert len(set(fills.values())) == len(fills)


def test_the_demo_page(demo) -> None:
    page = render(demo.graph, demo.findings, RenderOptions(title="demo"))
    svg = main_svg(page)
    ids = {g.get("data-id") for g in svg.iter(f"{SVG}g") if g.get("data-id")}
    assert ids == set(demo.graph.g.nodes)
    assert page.count('<tr><td class="sev-') == len(demo.findings)
