"""``--format html``: one self-contained page that draws the graph with no network access.

Before (graph)::

    gateway:ingress/public -> route:HTTPRoute:shop/catalog -> service:catalog-v1... -> workload:...

After: an HTML page holding an inline SVG that meshctl lays out itself, in columns
(gateways; routes, then client groups and callers; services and hosts; subsets;
workloads), the legend and the findings table. No script, font or stylesheet is
fetched: a Content-Security-Policy of ``default-src 'none'`` forbids it, so the page
looks the same offline, in a CI artifact or an air-gapped browser.

The layout is deterministic: columns by kind, rows ordered by a few barycentre sweeps
(each node moves towards the mean row of its neighbours in the column before, kinds kept
together, ties by id), so the same graph gives the same bytes. Every text from the
inputs is escaped.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from meshctl.diagnostics import Severity
from meshctl.render import (
    ALLOWED_COLOUR,
    AMBER,
    EDGE_COLOUR,
    KIND_FILL,
    KIND_TITLES,
    KINDS,
    NODE_STROKE,
    OTHER_FILL,
    RED,
    SEVERITY_COLOUR,
    EdgeView,
    NodeView,
    PlacedFinding,
    RenderOptions,
    Scene,
    Tls,
    scene,
)

if TYPE_CHECKING:
    from meshctl.graph import ServiceGraph

NODE_W = 200
NODE_H = 42
ROW_GAP = 14
COL_GAP = 170
MARGIN = 24
HEADER = 30
CHAR_W = 6.9  # average width of a 12px sans-serif character
LABEL_CHARS = int((NODE_W - 16) / CHAR_W)
EDGE_LABEL_CHARS = int(COL_GAP / 5.4)  # 10px text in the gap between two columns

# Callers sit with the routes, next to the services they call; hosts share the services'
# column; kinds meshctl does not know go last. Within a column, kinds keep this order.
COLUMN_OF = {"gateway": 0, "route": 1, "clients": 1, "callers": 1, "service": 2, "host": 2, "subset": 3, "workload": 4}
OTHER_COLUMN = 5
COLUMN_TITLES = ["Gateways", "Routes and callers", "Services and hosts", "Subsets", "Workloads", "Other"]
KIND_ORDER = {kind: i for i, kind in enumerate(("route", "clients", "callers", "service", "host"))}


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut in the middle: both the name and the namespace show."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return text[:head] + "…" + text[len(text) - (limit - 1 - head):]


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    column: int


@dataclass(frozen=True)
class Layout:
    boxes: dict[str, Box]
    columns: list[int]  # the columns in use, left to right
    width: int
    height: int

    def column_x(self, column: int) -> float:
        return MARGIN + self.columns.index(column) * (NODE_W + COL_GAP)


def layout(view: Scene) -> Layout:
    """Where each node goes: columns by kind, rows by barycentre sweeps; deterministic."""
    by_column: dict[int, list[str]] = defaultdict(list)
    column_of: dict[str, int] = {}
    group: dict[str, int] = {}
    for node in sorted(view.nodes, key=lambda n: (KIND_ORDER.get(n.kind, 0), n.id)):
        column = COLUMN_OF.get(node.kind, OTHER_COLUMN)
        by_column[column].append(node.id)
        column_of[node.id] = column
        group[node.id] = KIND_ORDER.get(node.kind, 0)
    columns = sorted(by_column)
    neighbours: dict[str, set[str]] = defaultdict(set)
    for edge in view.edges:
        if edge.source != edge.target:
            neighbours[edge.source].add(edge.target)
            neighbours[edge.target].add(edge.source)
    row = {n: i for c in columns for i, n in enumerate(by_column[c])}

    def sweep(order: list[int], before: set[int]) -> None:
        for column in order:
            def key(n: str) -> tuple[int, float, int]:
                rows = [row[m] for m in neighbours[n] if column_of[m] in before]
                return (group[n], sum(rows) / len(rows) if rows else float(row[n]), row[n])

            members = sorted(by_column[column], key=key)
            by_column[column] = members
            for i, n in enumerate(members):
                row[n] = i
            before.add(column)

    for _ in range(2):
        sweep(columns[1:], {columns[0]} if columns else set())
        sweep(list(reversed(columns[:-1])), {columns[-1]} if columns else set())
    boxes = {}
    for index, column in enumerate(columns):
        x = MARGIN + index * (NODE_W + COL_GAP)
        for i, n in enumerate(by_column[column]):
            boxes[n] = Box(x, MARGIN + HEADER + i * (NODE_H + ROW_GAP), column)
    tallest = max((len(by_column[c]) for c in columns), default=0)
    width = 2 * MARGIN + len(columns) * NODE_W + max(len(columns) - 1, 0) * COL_GAP
    height = 2 * MARGIN + HEADER + tallest * (NODE_H + ROW_GAP) + 40  # room for loops below
    return Layout(boxes, columns, max(width, 400), max(height, 120))


def render(graph: ServiceGraph, findings: Sequence[PlacedFinding], options: RenderOptions) -> str:
    view = scene(graph, findings, options)
    places = layout(view)
    counts = {s: sum(1 for p in view.findings if p.finding.severity == s) for s in Severity}
    summary = (
        f"{len(view.nodes)} nodes, {len(view.edges)} edges · "
        f"{counts[Severity.ERROR]} errors, {counts[Severity.WARNING]} warnings, {counts[Severity.INFO]} info"
    )
    focus = ""
    if options.focus is not None:
        focus = f'<p class="focus">Focus: <code>{esc(options.focus)}</code>, radius {esc(options.radius)}</p>\n'
    parts = [
        "<!DOCTYPE html>\n",
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">\n',
        '<meta name="generator" content="meshctl">\n',
        f"<title>{esc(options.title)}</title>\n",
        f"<style>\n{CSS}</style>\n</head>\n<body>\n",
        f'<header><h1>{esc(options.title)}</h1>\n<p class="summary">{esc(summary)}</p>\n{focus}</header>\n',
        '<main>\n<div class="canvas">\n',
        svg(view, places),
        "</div>\n",
    ]
    if options.legend:
        parts.append(legend())
    parts.append(findings_table(view))
    parts.append("</main>\n</body>\n</html>\n")
    return "".join(parts)


CSS = """\
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       color: #1f2328; background: #ffffff; }
header { padding: 12px 24px 4px; border-bottom: 1px solid #d0d7de; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 20px 0 8px; }
.summary, .focus { margin: 0 0 6px; color: #57606a; }
main { padding: 0 0 24px; }
.canvas { overflow: auto; padding: 0 8px; }
.canvas > svg { max-width: 100%; height: auto; }
section { padding: 0 24px; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
.node text.label { font-size: 12px; fill: #1f2328; }
.node text.kind { font-size: 10px; fill: #57606a; }
.node:hover rect { stroke-width: 3; }
.edge path.line { fill: none; }
.edge:hover path.line { stroke-width: 3; }
.edge text { font-size: 10px; paint-order: stroke; stroke: #ffffff; stroke-width: 3px; }
.column-title { font-size: 12px; font-weight: 600; fill: #57606a; }
table { border-collapse: collapse; font-size: 13px; }
th, td { text-align: left; padding: 4px 10px 4px 0; vertical-align: top; border-bottom: 1px solid #eaeef2; }
.sev-error { color: #cf222e; font-weight: 600; }
.sev-warning { color: #9a6700; font-weight: 600; }
.sev-info { color: #0969da; font-weight: 600; }
.legend svg { vertical-align: middle; }
.legend li { list-style: none; display: inline-block; margin: 0 18px 6px 0; }
.legend ul { padding: 0; margin: 0; }
"""

MARKER_COLOURS = {
    "grey": EDGE_COLOUR,
    "red": RED,
    "allowed": ALLOWED_COLOUR,
    "tls": AMBER,
    "error": SEVERITY_COLOUR[Severity.ERROR],
    "warning": SEVERITY_COLOUR[Severity.WARNING],
    "info": SEVERITY_COLOUR[Severity.INFO],
}


def _markers() -> str:
    out = ["<defs>\n"]
    for name, colour in MARKER_COLOURS.items():
        out.append(
            f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" '
            f'markerWidth="9" markerHeight="9" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>\n'
        )
    out.append(
        f'<marker id="tee-red" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" '
        f'markerWidth="12" markerHeight="12" '
        f'orient="auto"><path d="M8,0 L8,10" stroke="{RED}" stroke-width="3"/></marker>\n'
    )
    out.append("</defs>\n")
    return "".join(out)


def _edge_look(edge: EdgeView) -> tuple[str, str, str, float]:
    """(colour, marker, dash pattern, width) of an edge."""
    width = 3.0 if edge.severity is not None else 1.4
    if edge.tls is Tls.BROKEN:
        return RED, "tee-red", "", max(width, 2.0)
    if edge.tls is Tls.PLAINTEXT:
        return RED, "arrow-red", "6 4", max(width, 2.0)
    if edge.tls is Tls.TLS:
        return AMBER, "arrow-tls", "6 4", max(width, 2.0)
    if edge.severity is not None:
        name = edge.severity.label
        dash = "6 4" if edge.kind == "mirrors" else ""
        return MARKER_COLOURS[name], f"arrow-{name}", dash, width
    if edge.kind == "allowed":
        return ALLOWED_COLOUR, "arrow-allowed", "2 3", width
    if edge.kind == "mirrors":
        return EDGE_COLOUR, "arrow-grey", "6 4", width
    return EDGE_COLOUR, "arrow-grey", "", width


def svg(view: Scene, places: Layout) -> str:
    out = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" width="{places.width}" height="{places.height}" '
         f'viewBox="0 0 {places.width} {places.height}" role="img" aria-label="service graph">\n'),
        _markers(),
    ]
    for column in places.columns:
        x = places.column_x(column)
        out.append(f'<text class="column-title" x="{x:.0f}" y="{MARGIN + 12}">{esc(COLUMN_TITLES[column])}</text>\n')
    ports = _ports(view, places)
    out.append('<g class="edges">\n')
    for i, edge in enumerate(view.edges):
        out.append(_edge(view, edge, places.boxes[edge.source], places.boxes[edge.target], ports[i]))
    out.append("</g>\n<g class=\"nodes\">\n")
    for node in view.nodes:
        out.append(_node(view, node, places.boxes[node.id]))
    out.append("</g>\n</svg>\n")
    return "".join(out)


def _sides(a: Box, b: Box) -> tuple[float, float]:
    """The x of an edge's start and end: forward edges leave right and enter left, backward
    edges (a caller to its service) the other way, and edges within a column loop on the right."""
    if b.column > a.column:
        return a.x + NODE_W, b.x
    if b.column < a.column:
        return a.x, b.x + NODE_W
    return a.x + NODE_W, b.x + NODE_W


def _ports(view: Scene, places: Layout) -> list[tuple[float, float]]:
    """The y where each edge leaves and enters its nodes: the edges on one side of a node
    are spread along it, in the order of their other ends, so they neither overlap nor cross."""
    boxes = places.boxes
    ends: dict[tuple[str, float], list[tuple[float, int, int]]] = defaultdict(list)
    for i, edge in enumerate(view.edges):
        a, b = boxes[edge.source], boxes[edge.target]
        x1, x2 = _sides(a, b)
        ends[(edge.source, x1)].append((b.y, i, 0))
        ends[(edge.target, x2)].append((a.y, i, 1))
    ys: list[list[float]] = [[0.0, 0.0] for _ in view.edges]
    for (node, _), members in ends.items():
        members.sort()
        top = boxes[node].y
        for k, (_, i, end) in enumerate(members):
            ys[i][end] = top + NODE_H * (k + 1) / (len(members) + 1)
    return [(y1, y2) for y1, y2 in ys]


def _point(p0: float, p1: float, p2: float, p3: float, t: float) -> float:
    u = 1 - t
    return u * u * u * p0 + 3 * u * u * t * p1 + 3 * u * t * t * p2 + t * t * t * p3


def _edge(view: Scene, edge: EdgeView, a: Box, b: Box, port: tuple[float, float]) -> str:
    x1, x2 = _sides(a, b)
    y1, y2 = port
    if b.column == a.column:  # a loop out to the right
        reach = 50 + abs(y2 - y1) / 6
        c1, c2 = (x1 + reach, y1), (x2 + reach, y2)
    else:
        bend = (x2 - x1) / 2
        c1, c2 = (x1 + bend, y1), (x2 - bend, y2)
    colour, marker, dash, width = _edge_look(edge)
    d = f"M{x1:.1f},{y1:.1f} C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {x2:.1f},{y2:.1f}"
    # the label sits in the gap next to the source column, where the edge is still alone
    t = 0.5
    if abs(x2 - x1) > NODE_W + COL_GAP:
        lo, hi, goal = 0.0, 0.5, x1 + (COL_GAP / 2 if x2 > x1 else -COL_GAP / 2)
        for _ in range(20):
            t = (lo + hi) / 2
            if (_point(x1, c1[0], c2[0], x2, t) < goal) == (x2 > x1):
                lo = t
            else:
                hi = t
    mx, my = _point(x1, c1[0], c2[0], x2, t), _point(y1, c1[1], c2[1], y2, t)
    title = f"{edge.kind}: {edge.source} -> {edge.target}"
    if edge.label:
        title += f"\n{edge.label}"
    for i in edge.findings:
        f = view.findings[i].finding
        title += f"\n{f.severity.label} {f.code}: {f.message}"
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    parts = [
        (f'<g class="edge edge-{esc(edge.kind)}" data-from="{esc(edge.source)}" data-to="{esc(edge.target)}"'
         f"{_tls_attr(edge)}><title>{esc(title)}</title>"),
        (f'<path class="line" d="{d}" stroke="{colour}" stroke-width="{width:g}"{dash_attr} '
         f'marker-end="url(#{marker})"/>'),
    ]
    if edge.tls is Tls.BROKEN:  # the cross on the line
        parts.append(
            f'<path d="M{mx - 5:.1f},{my - 5:.1f} L{mx + 5:.1f},{my + 5:.1f} M{mx - 5:.1f},{my + 5:.1f} '
            f'L{mx + 5:.1f},{my - 5:.1f}" stroke="{RED}" stroke-width="2.5"/>'
        )
    label = edge.label
    if edge.findings:
        label = f"{label} {_codes(view.codes(edge.findings))}".strip()
    if label:
        ly = my - 8 if edge.tls is Tls.BROKEN else my - 3
        parts.append(
            f'<text x="{mx:.1f}" y="{ly:.1f}" text-anchor="middle" fill="{colour}">'
            f"{esc(clip(label, EDGE_LABEL_CHARS))}</text>"
        )
    parts.append("</g>\n")
    return "".join(parts)


def _codes(codes: list[str]) -> str:
    """``MSH022 +3``: the first code and how many more."""
    if len(codes) <= 2:
        return ", ".join(codes)
    return f"{codes[0]} +{len(codes) - 1}"


def _tls_attr(edge: EdgeView) -> str:
    return f' data-tls="{edge.tls.value}"' if edge.tls is not None else ""


def _node(view: Scene, node: NodeView, box: Box) -> str:
    fill = KIND_FILL.get(node.kind, OTHER_FILL)
    stroke, width = NODE_STROKE, 1.2
    if node.severity is not None:
        stroke, width = SEVERITY_COLOUR[node.severity], 3.0
    elif node.focus:
        stroke, width = "#1f2328", 3.0
    title = f"{node.label}\n{node.id}"
    for i in node.findings:
        f = view.findings[i].finding
        title += f"\n{f.severity.label} {f.code}: {f.message}"
    caption = node.kind
    source = node.attrs.get("source")
    if node.kind == "route" and isinstance(source, str):
        caption = source
    codes = view.codes(node.findings)
    rx = 14 if node.kind in ("service", "host") else 5
    parts = [
        f'<g class="node node-{esc(node.kind)}" data-id="{esc(node.id)}"><title>{esc(title)}</title>',
        (f'<rect x="{box.x:.0f}" y="{box.y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="{rx}" '
         f'fill="{fill}" stroke="{stroke}" stroke-width="{width:g}"/>'),
        f'<text class="label" x="{box.x + 8:.0f}" y="{box.y + 17:.0f}">{esc(clip(node.label, LABEL_CHARS))}</text>',
        f'<text class="kind" x="{box.x + 8:.0f}" y="{box.y + 33:.0f}">{esc(clip(caption, 18))}',
    ]
    if codes:
        colour = SEVERITY_COLOUR[node.severity] if node.severity is not None else NODE_STROKE
        parts.append(f'<tspan dx="8" fill="{colour}" font-weight="600">{esc(_codes(codes))}</tspan>')
    parts.append("</text></g>\n")
    return "".join(parts)


def legend() -> str:
    items = []
    for kind in KINDS:
        items.append(
            f'<li><svg width="34" height="18"><rect x="1" y="1" width="32" height="16" rx="4" '
            f'fill="{KIND_FILL[kind]}" stroke="{NODE_STROKE}"/></svg> {esc(KIND_TITLES[kind].lower())}</li>'
        )
    lines = [
        ("routes, attaches, selects", EDGE_COLOUR, "", "arrow-grey"),
        ("mirror", EDGE_COLOUR, "6 4", "arrow-grey"),
        ("allowed caller", ALLOWED_COLOUR, "2 3", "arrow-allowed"),
        ("mTLS", EDGE_COLOUR, "", "arrow-grey"),
        ("plaintext", RED, "6 4", "arrow-red"),
        ("TLS without mesh identity", AMBER, "6 4", "arrow-tls"),
        ("broken", RED, "", "tee-red"),
    ]
    for text, colour, dash, marker in lines:
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        if marker == "tee-red":  # a bar for an arrowhead, and the cross on the line
            head = (f'<path d="M47,2 L47,14" stroke="{RED}" stroke-width="3"/>'
                    f'<path d="M20,4 L28,12 M20,12 L28,4" stroke="{RED}" stroke-width="2"/>')
        else:
            head = f'<path d="M44,3 L50,8 L44,13 z" fill="{colour}"/>'
        items.append(
            f'<li><svg width="52" height="16"><path d="M2,8 L44,8" stroke="{colour}" stroke-width="2"{dash_attr}/>'
            f"{head}</svg> {esc(text)}</li>"
        )
    for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO):
        colour = SEVERITY_COLOUR[severity]
        items.append(
            f'<li><svg width="34" height="18"><rect x="2" y="2" width="30" height="14" rx="4" fill="#ffffff" '
            f'stroke="{colour}" stroke-width="3"/></svg> {esc(severity.label)} finding</li>'
        )
    return '<section class="legend"><h2>Legend</h2>\n<ul>\n' + "\n".join(items) + "\n</ul>\n</section>\n"


def findings_table(view: Scene) -> str:
    if not view.findings:
        return '<section class="findings"><h2>Findings</h2>\n<p>No findings.</p>\n</section>\n'
    labels = {n.id: n.label for n in view.nodes}
    rows = []
    for placed in view.findings:
        f = placed.finding
        where = f.location.short() if f.location is not None else ""
        resource = f.resource.display() if f.resource is not None else ""
        on = ", ".join(labels.get(n, n) for n in placed.nodes)
        if placed.edges:
            on += (", " if on else "") + f"{len(placed.edges)} edge{'s' if len(placed.edges) > 1 else ''}"
        rows.append(
            f'<tr><td class="sev-{f.severity.label}">{esc(f.severity.label)}</td><td>{esc(f.code)}</td>'
            f"<td>{esc(f.message)}</td><td><code>{esc(where)}</code></td><td>{esc(resource)}</td>"
            f"<td>{esc(on)}</td></tr>"
        )
    return (
        '<section class="findings"><h2>Findings</h2>\n<table>\n'
        "<thead><tr><th>severity</th><th>code</th><th>message</th><th>where</th><th>resource</th>"
        "<th>drawn on</th></tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>\n</section>\n"
    )
