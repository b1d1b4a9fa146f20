"""``--format json``: the graph for other tools, in a stable schema (docs/graph.schema.json).

Before (graph)::

    route:VirtualService:shop/cart --routes(rule 1, weight 80, match "*")--> subset:cart...#v1

After::

    {"version": 1,
     "focus": null,
     "nodes": [{"id": "route:VirtualService:shop/cart", "kind": "route", "label": "cart.shop",
                "attrs": {"source": "VirtualService"}}, ...],
     "edges": [{"from": "route:VirtualService:shop/cart", "to": "subset:cart.shop.svc.cluster.local#v1",
                "kind": "routes", "label": "* · weight 80",
                "attrs": {"match": "*", "rule": 1, "subset": "v1", "weight": 80}}, ...],
     "findings": [{"code": "MSH102", ..., "nodes": ["route:VirtualService:shop/cart"], "edges": [7]}]}

Nodes are sorted by id, edges by their ends; a finding names its nodes by id and its edges
by their index in ``edges``. ``version`` changes only when a field changes meaning or goes
away; new fields may appear without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from meshctl.render import PlacedFinding, RenderOptions, scene
from meshctl.report import json_text

if TYPE_CHECKING:
    from meshctl.graph import ServiceGraph

VERSION = 1


def document(graph: ServiceGraph, findings: Sequence[PlacedFinding], options: RenderOptions) -> dict[str, Any]:
    """The JSON document as Python values (``render`` dumps it)."""
    from meshctl.report.json import finding_dict

    view = scene(graph, findings, options)
    positions = {e.ref: i for i, e in enumerate(view.edges)}
    return {
        "version": VERSION,
        "focus": None if options.focus is None else {"node": options.focus, "radius": options.radius},
        "nodes": [
            {"id": n.id, "kind": n.kind, "label": n.label, "attrs": n.attrs} for n in view.nodes
        ],
        "edges": [
            {"from": e.source, "to": e.target, "kind": e.kind, "label": e.label, "attrs": e.attrs}
            for e in view.edges
        ],
        "findings": [
            {
                **finding_dict(p.finding),
                "nodes": list(p.nodes),
                "edges": sorted(positions[e] for e in p.edges),
            }
            for p in view.findings
        ],
    }


def render(graph: ServiceGraph, findings: Sequence[PlacedFinding], options: RenderOptions) -> str:
    return json_text.dumps(document(graph, findings, options), ensure_ascii=False) + "\n"
