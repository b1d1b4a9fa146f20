"""``--format dot``: a Graphviz digraph (``meshctl graph -f dot deploy/ | dot -Tsvg > mesh.svg``).

Before (graph)::

    route:VirtualService:shop/cart --routes(match "*", weight 80)--> subset:cart...#v1

After::

    digraph "meshctl" {
      "route:VirtualService:shop/cart" [label="cart.shop", shape=box, fillcolor="#fef3c7", ...];
      "route:VirtualService:shop/cart" -> "subset:cart.shop.svc.cluster.local#v1" [label="* · weight 80"];
    }

Node ids are the graph's ids, quoted; every string is a double-quoted DOT string with
``\\``, ``"`` and ``&`` escaped (so ``<`` and ``&lt;`` are plain text, never HTML). Nodes of
one kind share a rank, left to right: clients and callers, gateways, routes, services and hosts,
subsets, workloads. Plaintext edges are dashed red, broken ones red with a ``tee``
arrowhead; allowed-caller and mTLS edges do not pull the layout (``constraint=false``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from meshctl.render import (
    ALLOWED_COLOUR,
    AMBER,
    EDGE_COLOUR,
    KIND_FILL,
    KINDS,
    NODE_STROKE,
    OTHER_FILL,
    RED,
    SEVERITY_COLOUR,
    PlacedFinding,
    RenderOptions,
    Tls,
    scene,
)

if TYPE_CHECKING:
    from meshctl.graph import ServiceGraph

SHAPES = {
    "clients": "folder",
    "callers": "folder",
    "gateway": "hexagon",
    "route": "box",
    "service": "ellipse",
    "host": "note",
    "subset": "parallelogram",
    "workload": "box3d",
}
SHARED_RANK = {"host": "service", "callers": "clients"}  # kinds drawn in another kind's rank


def quote(text: str) -> str:
    """A DOT double-quoted string showing ``text`` as written.

    Graphviz reads ``\\`` escapes (``\\n``, ``\\l``...) and HTML entities (``&lt;``) in
    quoted strings, so ``\\``, ``"`` and ``&`` are escaped.
    """
    escaped = text.replace("&", "&amp;").replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
    return '"' + "".join(ch for ch in escaped if ch >= " " or ch == "\t") + '"'


def _attrs(pairs: list[tuple[str, str]]) -> str:
    return "[" + ", ".join(f"{k}={v}" for k, v in pairs) + "]"


def render(graph: ServiceGraph, findings: Sequence[PlacedFinding], options: RenderOptions) -> str:
    view = scene(graph, findings, options)
    title = options.title
    if options.focus is not None:
        title += f" (focus: {options.focus}, radius {options.radius})"
    lines = [
        'digraph "meshctl" {',
        (f"  graph [rankdir=LR, fontname=Helvetica, fontsize=12, labelloc=t, label={quote(title)}, "
         "nodesep=0.3, ranksep=1.2];"),
        (f"  node [fontname=Helvetica, fontsize=11, style=filled, color={quote(NODE_STROKE)}, "
         'fontcolor="#1f2328"];'),
        f"  edge [fontname=Helvetica, fontsize=9, color={quote(EDGE_COLOUR)}];",
    ]
    for node in view.nodes:
        label = node.label
        if node.findings:
            label += "\n" + ", ".join(view.codes(node.findings))
        pairs = [
            ("label", quote(label)),
            ("shape", SHAPES.get(node.kind, "box")),
            ("fillcolor", quote(_fill(node.kind))),
            ("tooltip", quote(node.id)),
        ]
        if SHAPES.get(node.kind, "box") == "box":
            pairs.append(("style", quote("rounded,filled")))
        if node.severity is not None:
            pairs += [("color", quote(SEVERITY_COLOUR[node.severity])), ("penwidth", "3")]
        elif node.focus:
            pairs += [("color", quote("#1f2328")), ("penwidth", "3")]
        lines.append(f"  {quote(node.id)} {_attrs(pairs)};")
    for kind in KINDS:
        if kind in SHARED_RANK:
            continue
        members = [quote(n.id) for n in view.nodes if n.kind == kind or SHARED_RANK.get(n.kind) == kind]
        if members:
            lines.append(f"  {{rank=same; {'; '.join(members)};}}")
    for edge in view.edges:
        pairs = []
        label = edge.label
        if edge.findings:
            label = f"{label} {', '.join(view.codes(edge.findings))}".strip()
        if label:
            pairs.append(("label", quote(label)))
        colour = None
        if edge.tls in (Tls.PLAINTEXT, Tls.BROKEN):
            colour = RED
        elif edge.tls is Tls.TLS:
            colour = AMBER
        elif edge.severity is not None:
            colour = SEVERITY_COLOUR[edge.severity]
        elif edge.kind == "allowed":
            colour = ALLOWED_COLOUR
        if colour is not None:
            pairs += [("color", quote(colour)), ("fontcolor", quote(colour))]
        if edge.tls in (Tls.PLAINTEXT, Tls.TLS) or edge.kind == "mirrors":
            pairs.append(("style", "dashed"))
        elif edge.kind == "allowed":
            pairs.append(("style", "dotted"))
        if edge.tls is Tls.BROKEN:
            pairs.append(("arrowhead", "tee"))
        if edge.severity is not None:
            pairs.append(("penwidth", "3"))
        if edge.kind in ("allowed", "mtls"):
            pairs.append(("constraint", "false"))
        suffix = f" {_attrs(pairs)}" if pairs else ""
        lines.append(f"  {quote(edge.source)} -> {quote(edge.target)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _fill(kind: str) -> str:
    return KIND_FILL.get(kind, OTHER_FILL)
