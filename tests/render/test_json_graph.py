"""``--format json``: the documented, stable schema (docs/graph.schema.json, docs/graph.md)."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from meshctl.render import RenderOptions, focus
from meshctl.render.json_graph import document, render
from tests.conftest import ROOT

SCHEMA_FILE = ROOT / "docs" / "graph.schema.json"
DOC_FILE = ROOT / "docs" / "graph.md"


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _errors(validator, instance) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]


def test_the_hand_graph_matches_the_schema(validator, graph, findings) -> None:
    out = json.loads(render(graph, findings, RenderOptions()))
    assert _errors(validator, out) == []
    assert list(out) == ["version", "focus", "nodes", "edges", "findings"]
    assert out["version"] == 1 and out["focus"] is None
    assert {k for n in out["nodes"] for k in n} == {"id", "kind", "label", "attrs"}
    assert {k for e in out["edges"] for k in e} == {"from", "to", "kind", "label", "attrs"}


def test_the_demo_matches_the_schema_whole_and_focused(validator, demo) -> None:
    whole = document(demo.graph, demo.findings, RenderOptions())
    assert _errors(validator, whole) == []
    node = "service:cart.shop.svc.cluster.local"
    near = document(focus(demo.graph, node, 1), demo.findings, RenderOptions(focus=node, radius=1))
    assert _errors(validator, near) == []
    assert near["focus"] == {"node": node, "radius": 1}
    assert 0 < len(near["findings"]) < len(whole["findings"])


def test_findings_refer_to_nodes_by_id_and_edges_by_index(graph, findings) -> None:
    out = document(graph, findings, RenderOptions())
    ids = {n["id"] for n in out["nodes"]}
    weights = next(f for f in out["findings"] if f["code"] == "MSH031")
    assert weights["nodes"] == ["route:VirtualService:shop/cart"]
    assert sorted(out["edges"][i]["attrs"]["weight"] for i in weights["edges"]) == [10, 80]
    broken = next(f for f in out["findings"] if f["code"] == "MSH201")
    (index,) = broken["edges"]
    assert out["edges"][index]["attrs"] == {"outcome": "broken", "port": 8080}
    unplaced = next(f for f in out["findings"] if f["code"] == "MSH006")
    assert unplaced["nodes"] == [] and unplaced["edges"] == [] and unplaced["location"] is None
    for f in out["findings"]:
        assert set(f["nodes"]) <= ids
        assert all(0 <= i < len(out["edges"]) for i in f["edges"])


def test_mtls_and_allowed_edges_are_in_the_json(graph) -> None:
    out = document(graph, [], RenderOptions())
    kinds = sorted({e["kind"] for e in out["edges"]})
    assert kinds == ["allowed", "attaches", "mirrors", "mtls", "routes", "selects", "subset"]
    outcomes = sorted(e["attrs"]["outcome"] for e in out["edges"] if e["kind"] == "mtls")
    assert outcomes == ["broken", "mtls", "plaintext"]


def test_the_schema_rejects_what_it_promises_to_reject(validator, graph) -> None:
    good = document(graph, [], RenderOptions())
    bad_outcome = json.loads(json.dumps(good))
    next(e for e in bad_outcome["edges"] if e["kind"] == "mtls")["attrs"]["outcome"] = "maybe"
    assert _errors(validator, bad_outcome)
    bad_route = json.loads(json.dumps(good))
    del next(e for e in bad_route["edges"] if e["kind"] == "routes")["attrs"]["weight"]
    assert _errors(validator, bad_route)
    assert _errors(validator, {**good, "version": 2})
    missing = {k: v for k, v in good.items() if k != "findings"}
    assert _errors(validator, missing)


def test_the_example_in_the_docs_matches_the_schema(validator) -> None:
    text = DOC_FILE.read_text()
    blocks = re.findall(r"```json\n(.*?)```", text, re.DOTALL)
    assert blocks, "docs/graph.md shows an example document"
    example = json.loads(blocks[0])
    assert _errors(validator, example) == []
    assert example["version"] == 1


def test_output_is_pretty_and_stable(graph, findings) -> None:
    text = render(graph, findings, RenderOptions())
    assert text.endswith("}\n") and text.startswith('{\n  "version": 1,')
    assert render(graph, findings, RenderOptions()) == text
