"""``--format mermaid``: a well-formed flowchart whose labels read exactly as the inputs.

Mermaid has no offline validator in Python; these tests check the structure line by line
(every statement is one of the forms meshctl writes, every id is declared, every linkStyle
index exists) and decode the labels as Mermaid does (entities) to compare them with the
graph. (Mermaid itself, run by hand in headless Chromium on the demo, the corpus and the
hostile names below, drew every label exactly as written; see docs/graph.md.)
"""

from __future__ import annotations

import html
import re

from meshctl.render import RenderOptions, scene
from meshctl.render.mermaid import escape, render
from tests.render.conftest import NASTY

ID = r"n\d+"
LABEL = r'"(?P<label>[^"]*)"'
SHAPES = [r"\[\(", r"\{\{", r"\(\[", r">", r"\[/", r"\[\[", r"\["]
CLOSES = {r"\[\(": r"\)\]", r"\{\{": r"\}\}", r"\(\[": r"\]\)", r">": r"\]", r"\[/": r"/\]", r"\[\[": r"\]\]", r"\[": r"\]"}
NODE = re.compile(r"^  (?P<id>" + ID + r")(?:" + "|".join(f"{o}{LABEL.replace('label', f'l{i}')}{CLOSES[o]}" for i, o in enumerate(SHAPES)) + r")$")
EDGE = re.compile(r"^  (?P<a>" + ID + r") (?P<arrow>-->|-\.->|--x)(?:\|" + LABEL + r"\|)? (?P<b>" + ID + r")$")
CLASSDEF = re.compile(r"^  classDef [a-z]+ fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6},color:#[0-9a-f]{6}$")
CLASS = re.compile(r"^  class (?P<ids>" + ID + r"(?:," + ID + r")*) [a-z]+$")
STYLE = re.compile(r"^  style (?P<id>" + ID + r") stroke:#[0-9a-f]{6},stroke-width:3px$")
LINKSTYLE = re.compile(r"^  linkStyle (?P<index>\d+) (?:stroke:#[0-9a-f]{6})(?:,stroke-dasharray:6 4)?(?:,stroke-width:3px)?$")


def decode(text: str) -> str:
    """Mermaid's entity decoding: #quot; #35; ... then the HTML entities they become."""
    text = re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), text)
    return re.sub(r"#([a-z]+);", lambda m: html.unescape(f"&{m.group(1)};"), text)


def parse(text: str) -> dict[str, list]:
    lines = text.splitlines()
    assert lines[0].startswith("%% ")
    body = [line for line in lines if not line.startswith("%% ")]
    assert body[0] == "flowchart LR"
    out: dict[str, list] = {"nodes": [], "edges": [], "classes": [], "styles": [], "links": []}
    for line in body[1:]:
        if m := NODE.match(line):
            label = next(v for k, v in m.groupdict().items() if k.startswith("l") and v is not None)
            out["nodes"].append((m.group("id"), decode(label)))
        elif m := EDGE.match(line):
            label = m.group("label")
            out["edges"].append((m.group("a"), m.group("arrow"), None if label is None else decode(label), m.group("b")))
        elif CLASSDEF.match(line):
            pass
        elif m := CLASS.match(line):
            out["classes"].extend(m.group("ids").split(","))
        elif m := STYLE.match(line):
            out["styles"].append(m.group("id"))
        elif m := LINKSTYLE.match(line):
            out["links"].append(int(m.group("index")))
        else:
            raise AssertionError(f"not a statement meshctl writes: {line!r}")
    return out


def test_every_line_is_well_formed_and_every_reference_declared(graph, findings) -> None:
    text = render(graph, findings, RenderOptions(title=NASTY))
    parsed = parse(text)
    ids = [n for n, _ in parsed["nodes"]]
    assert len(ids) == len(set(ids)) == graph.g.number_of_nodes()
    assert len(parsed["edges"]) == graph.g.number_of_edges()
    for a, _, _, b in parsed["edges"]:
        assert a in ids and b in ids
    assert set(parsed["classes"]) == set(ids)  # every node has its kind's class
    assert set(parsed["styles"]) <= set(ids)
    assert all(0 <= i < len(parsed["edges"]) for i in parsed["links"])
    assert len(parsed["links"]) == len(set(parsed["links"]))


def test_labels_read_exactly_as_the_inputs(graph, findings) -> None:
    parsed = parse(render(graph, findings, RenderOptions()))
    view = scene(graph, findings, RenderOptions())
    expected = []
    for node in view.nodes:
        label = node.label
        if node.findings:
            label += "<br/>" + ", ".join(view.codes(node.findings))
        expected.append(label)
    assert [label for _, label in parsed["nodes"]] == expected
    assert NASTY in [label for _, label in parsed["nodes"]]
    edge_labels = [label for *_, label, _ in parsed["edges"]]
    assert any(label is not None and label.startswith(NASTY) for label in edge_labels)


def test_nothing_from_the_inputs_reaches_the_syntax() -> None:
    escaped = escape(NASTY + "\nnext")
    assert not set(re.sub(r"#\w+;", "", escaped)) & set('"<>&|`#\n')
    assert decode(escaped) == NASTY + " next"
    # Mermaid keeps style lines from entity decoding with a regex that a label with
    # "style" then ":" would trip: such a colon is an entity too.
    assert ":" not in escape("x-style: a")
    assert decode(escape("x-style: a")) == "x-style: a"


def test_mtls_states_are_solid_dashed_and_crossed(graph) -> None:
    text = render(graph, [], RenderOptions())
    parsed = parse(text)
    by_label = {label: (arrow, i) for i, (_, arrow, label, _) in enumerate(parsed["edges"])}
    assert by_label["mTLS :8080"][0] == "-->"
    assert by_label["plaintext :9090"][0] == "-.->"
    assert by_label["broken :8080"][0] == "--x"
    styles = dict(re.findall(r"^  linkStyle (\d+) (.*)$", text, re.MULTILINE))
    assert styles[str(by_label["plaintext :9090"][1])] == "stroke:#cf222e,stroke-dasharray:6 4"
    assert styles[str(by_label["broken :8080"][1])] == "stroke:#cf222e"
    assert str(by_label["mTLS :8080"][1]) not in styles


def test_findings_are_highlighted(graph, findings) -> None:
    text = render(graph, findings, RenderOptions())
    parsed = parse(text)
    ids = {label.split("<br/>")[0]: n for n, label in parsed["nodes"]}
    assert f"  style {ids['cart.shop']} stroke:#cf222e,stroke-width:3px" in text.splitlines()
    broken = next(i for i, e in enumerate(parsed["edges"]) if e[2] and e[2].startswith("broken"))
    assert f"  linkStyle {broken} stroke:#cf222e,stroke-width:3px" in text.splitlines()
    assert parsed["edges"][broken][2] == "broken :8080 MSH201"


def test_the_demo_mesh(demo) -> None:
    parsed = parse(render(demo.graph, demo.findings, RenderOptions()))
    labels = [label for _, label in parsed["nodes"]]
    assert "cart.shop<br/>MSH022, MSH031, MSH102, MSH120" in labels
    assert any(label and label.startswith("* · weight 80 (88.9%)") for *_, label, _ in parsed["edges"])
