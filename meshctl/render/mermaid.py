"""``--format mermaid``: a Mermaid flowchart, to paste into Markdown (GitHub renders it).

Before (graph)::

    route:VirtualService:shop/cart --routes(match "*", weight 80)--> subset:cart...#v1

After::

    flowchart LR
      n3["cart.shop"]
      n7[/"cart.shop.svc.cluster.local v1"/]
      n3 -->|"* · weight 80"| n7

Node ids are ``n0, n1, ...`` in node-id order (Mermaid ids cannot hold ``:`` or ``/``);
labels are quoted, with every character Mermaid would read inside quotes written as an
entity (``#quot;``, ``#lt;``, ``#35;`` ...). Shapes by kind, colours by class; plaintext edges are
dashed red (``-.->``), broken ones crossed (``--x``); nodes and edges with findings are
drawn thick in the colour of the worst severity and list the codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from meshctl.render import (
    ALLOWED_COLOUR,
    AMBER,
    KIND_FILL,
    KINDS,
    NODE_STROKE,
    RED,
    SEVERITY_COLOUR,
    PlacedFinding,
    RenderOptions,
    Tls,
    scene,
)

if TYPE_CHECKING:
    from meshctl.graph import ServiceGraph

# (open, close) around the quoted label
SHAPES = {
    "clients": ("[(", ")]"),  # cylinder: a population of callers
    "callers": ("[(", ")]"),
    "gateway": ("{{", "}}"),  # hexagon
    "route": ("[", "]"),  # rectangle
    "service": ("([", "])"),  # stadium
    "host": (">", "]"),  # flag
    "subset": ("[/", "/]"),  # parallelogram
    "workload": ("[[", "]]"),  # subroutine box
}
DEFAULT_SHAPE = ("[", "]")

_ENTITIES = {
    "#": "#35;",  # first: the other entities start with it
    '"': "#quot;",
    "&": "#amp;",
    "<": "#lt;",
    ">": "#gt;",
    "|": "#124;",
    "`": "#96;",  # a label opening with a backtick would be Markdown
}
# Brackets, braces, parentheses and semicolons are plain text inside a quoted label.


def escape(text: str) -> str:
    """A label Mermaid shows as written: entities for every character its parser reads.

    Mermaid protects ``style``/``classDef`` lines from entity decoding with a regex that
    also catches a label holding ``style`` or ``classDef`` then ``:`` (a header match,
    say); in such a label the colon is written as an entity too.
    """
    colon = "style" in text or "classDef" in text
    out = []
    for ch in text:
        if ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch == ":" and colon:
            out.append("#58;")
        elif ch in "\r\n\t":
            out.append(" ")
        elif ord(ch) < 32:
            continue
        else:
            out.append(ch)
    return "".join(out)


def render(graph: ServiceGraph, findings: Sequence[PlacedFinding], options: RenderOptions) -> str:
    view = scene(graph, findings, options)
    ids = {node.id: f"n{i}" for i, node in enumerate(view.nodes)}
    lines = [f"%% {escape(options.title)}"]
    if options.focus is not None:
        lines.append(f"%% focus: {escape(options.focus)} (radius {options.radius})")
    lines.append("flowchart LR")
    for node in view.nodes:
        opening, closing = SHAPES.get(node.kind, DEFAULT_SHAPE)
        label = escape(node.label)
        if node.findings:
            label += "<br/>" + escape(", ".join(view.codes(node.findings)))
        lines.append(f'  {ids[node.id]}{opening}"{label}"{closing}')
    styles: list[str] = []
    for index, edge in enumerate(view.edges):
        arrow = {Tls.PLAINTEXT: "-.->", Tls.TLS: "-.->", Tls.BROKEN: "--x"}.get(edge.tls, "-->")  # type: ignore[arg-type]
        if edge.kind in ("mirrors", "allowed") and edge.tls is None:
            arrow = "-.->"
        label = edge.label
        if edge.findings:
            label = f"{label} {', '.join(view.codes(edge.findings))}".strip()
        text = f'|"{escape(label)}"|' if label else ""
        lines.append(f"  {ids[edge.source]} {arrow}{text} {ids[edge.target]}")
        style = _edge_style(edge.tls, edge.severity, edge.kind)
        if style:
            styles.append(f"  linkStyle {index} {style}")
    for kind in KINDS:
        members = [ids[n.id] for n in view.nodes if n.kind == kind]
        if members:
            lines.append(f"  classDef {kind} fill:{KIND_FILL[kind]},stroke:{NODE_STROKE},color:#1f2328")
            lines.append(f"  class {','.join(members)} {kind}")
    for node in view.nodes:
        if node.severity is not None:
            lines.append(f"  style {ids[node.id]} stroke:{SEVERITY_COLOUR[node.severity]},stroke-width:3px")
        elif node.focus:
            lines.append(f"  style {ids[node.id]} stroke:#1f2328,stroke-width:3px")
    lines.extend(styles)
    return "\n".join(lines) + "\n"


def _edge_style(tls: Tls | None, severity: object, kind: str) -> str:
    parts = []
    if tls in (Tls.PLAINTEXT, Tls.BROKEN):
        parts.append(f"stroke:{RED}")
    elif tls is Tls.TLS:
        parts.append(f"stroke:{AMBER}")
    elif severity is not None:
        parts.append(f"stroke:{SEVERITY_COLOUR[severity]}")  # type: ignore[index]
    elif kind == "allowed":
        parts.append(f"stroke:{ALLOWED_COLOUR}")
    if tls in (Tls.PLAINTEXT, Tls.TLS):
        parts.append("stroke-dasharray:6 4")
    if severity is not None:
        parts.append("stroke-width:3px")
    return ",".join(parts)
