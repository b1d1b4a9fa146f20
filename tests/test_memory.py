"""A run keeps no YAML node trees, yet every position is the one the reader saw.

Node trees take several times the memory of the data they were built from (most of
the 1.4 GiB `analyze --jobs 1` took at 50,000 documents, docs/performance.md). The
pipeline drops each tree once its document is checked, and a later finding composes it
again from the text. These tests check both halves deterministically: which trees are
still alive (weak references), and that a composed tree gives exactly the positions of
the one it replaces, on the inputs where character and line counting is easy to get
wrong. Peak memory itself is measured by bench/ (`make bench`).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from yaml.nodes import MappingNode, Node, SequenceNode

from bench import generate
from meshctl import pipeline
from meshctl.diagnostics import FieldPath
from meshctl.load import document
from meshctl.load.document import SourceDoc
from meshctl.load.reader import read_text
from meshctl.options import Options
from meshctl.validate import parallel

MESH = "---\n".join(generate.documents(12, "istio"))
LIST = """\
# Source: shop/templates/list.yaml
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: a, namespace: x}
  spec: {ports: [{port: 80, name: http}]}
- null
- apiVersion: v1
  kind: Service
  metadata:
    name: b
    namespace: x
  spec:
    ports:
    - &p {port: 80, name: http}
    - <<: *p
      port: 8080
"""
FLOW = (
    "--- {apiVersion: v1, kind: Service, metadata: {name: a, namespace: x}, spec: {ports: [{port: 9}]}}\n"
    "--- !!map\napiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec:\n  ports: [{port: 10}]\n"
)
_DOCS = MESH.split("---\n")
BROKEN = "---\n".join([*_DOCS[:3], "a: [\n", _DOCS[4], "b: {\n", LIST])

TEXTS = {
    "mesh": MESH,
    "crlf": MESH.replace("\n", "\r\n"),
    "cr": MESH.replace("\n", "\r"),
    "nel and line separators": MESH.replace("\n", "\x85", 40).replace("\n", "\u2028", 40),
    "byte-order mark": "\ufeff" + MESH,
    "beyond ascii": MESH.replace("name: ", "name: caf\u00e9-\U0001f600-"),
    "list, anchors and merge keys": LIST,
    "documents on the separator line": FLOW,
    "syntax errors in the middle": BROKEN,
    "syntax errors and lone cr": BROKEN.replace("\n", "\r", 30),
    "tabs in json": '\t{\n\t"apiVersion": "v1",\n\t"kind": "Service",\n\t"metadata": {"name": "j"},\n'
                    '\t"spec": {"ports": [{"port": 80,\t"name": "http"}]}\n}\n',
}


def _paths(node: Node, path: FieldPath = ()) -> Iterator[FieldPath]:
    """Every field path of a node tree, missing ones included (they fall back to a parent)."""
    yield path
    if isinstance(node, MappingNode):
        for key, value in node.value:
            yield from _paths(value, (*path, str(key.value)))
        yield (*path, "no-such-field")
    elif isinstance(node, SequenceNode):
        for i, value in enumerate(node.value):
            yield from _paths(value, (*path, i))
        yield (*path, len(node.value))


def _positions(doc: SourceDoc, paths: list[FieldPath]) -> list[Any]:
    return [(doc.locate(p), doc.locate(p, key=True)) for p in paths] + [doc.line, doc.document_location()]


@pytest.mark.parametrize("name", TEXTS)
def test_a_released_tree_composed_again_gives_the_same_positions(name: str) -> None:
    text = TEXTS[name]
    docs = read_text(text, "in.json" if "json" in name else "in.yaml", json_file="json" in name).docs
    assert docs
    for doc in docs:
        assert doc.source is not None and doc.node is not None
        paths = list(_paths(doc.node))
        read = _positions(doc, paths)
        doc.release()
        assert doc.node is None
        assert _positions(doc, paths) == read
        assert doc.node is not None  # composed again for the field positions


@pytest.mark.parametrize("name", TEXTS)
def test_documents_read_in_workers_give_the_same_positions(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / ("in.json" if "json" in name else "in.yaml")
    path.write_text(TEXTS[name] * (1 if "json" in name else 3), encoding="utf-8", newline="")

    def in_this_process(tasks: list[parallel.Task], jobs: int, strict: bool, channel: str, *_: Any) -> Any:
        parallel._init(strict, channel)  # what each worker runs first
        return [parallel._run(task) for task in tasks]

    monkeypatch.setattr(parallel, "check_in_workers", in_this_process)
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 2000)  # several chunks
    monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 1)
    monkeypatch.setattr(pipeline, "MIN_PARALLEL_BYTES", 1)
    monkeypatch.setattr(parallel, "worth_it", lambda jobs, size: True)
    one = pipeline._run_validate(Options(paths=(str(path),), jobs=1), None)
    two = pipeline._run_validate(Options(paths=(str(path),), jobs=2), None)
    assert [(d.index, d.item) for d in two.docs] == [(d.index, d.item) for d in one.docs]
    assert two.findings == one.findings
    for read, composed in zip(one.docs, two.docs):
        assert composed.node is None and composed.source is not None
        paths = list(_paths(read.tree()))
        assert _positions(composed, paths) == _positions(read, paths)


def test_documents_with_directives_keep_their_trees() -> None:
    """%TAG handles belong to the stream: a document cut out of it would not compose."""
    text = "%TAG !e! tag:example.com,2000:\n---\napiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
    (doc,) = read_text(text, "in.yaml").docs
    doc.release()
    assert doc.source is None and doc.node is not None
    assert doc.locate(("metadata", "name")).line == 5


def _watch_trees(monkeypatch: pytest.MonkeyPatch) -> list[weakref.ref[Node]]:
    """Weak references to the node tree of every document the pipeline reads."""
    trees: list[weakref.ref[Node]] = []
    read_documents = pipeline.read_documents

    def watched(*args: Any, **kwargs: Any) -> Iterator[SourceDoc]:
        for doc in read_documents(*args, **kwargs):
            assert doc.node is not None
            trees.append(weakref.ref(doc.node))
            yield doc

    monkeypatch.setattr(pipeline, "read_documents", watched)
    return trees


def _mesh_file(tmp_path: Path, mutate: bool) -> Path:
    docs = list(generate.documents(20, "istio"))
    if mutate:  # an analysis finding (unknown subset) in some VirtualServices
        docs = [d.replace("subset: v2}", "subset: v3}") if i % 4 == 3 else d for i, d in enumerate(docs)]
    path = tmp_path / "mesh.yaml"
    path.write_text("---\n".join(docs), encoding="utf-8")
    return path


def test_no_node_tree_outlives_its_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trees = _watch_trees(monkeypatch)
    document._composed.clear()
    result = pipeline.run_analyze(Options(paths=(str(_mesh_file(tmp_path, mutate=False)),), jobs=1))
    assert len(trees) == len(result.docs) > 100
    assert all(doc.node is None for doc in result.docs)
    assert [t for t in trees if t() is not None] == []  # freed at once: no cycle waits for the collector


def test_a_finding_composes_only_its_document_and_keeps_few_trees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trees = _watch_trees(monkeypatch)
    monkeypatch.setattr(document, "KEEP_COMPOSED", 2)
    document._composed.clear()
    result = pipeline.run_analyze(Options(paths=(str(_mesh_file(tmp_path, mutate=True)),), jobs=1))
    unknown_subset = [f for f in result.findings if f.code == "MSH102"]
    assert len(unknown_subset) > 2
    assert [t for t in trees if t() is not None] == []
    composed = [doc for doc in result.docs if doc.node is not None]
    assert 0 < len(composed) <= 2  # the most recent ones; the others were dropped again
    assert all(f.location is not None and f.location.line > 1 for f in unknown_subset)


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\x85", "\u2028"])
def test_every_line_break_reads_the_same_documents_at_the_same_lines(newline: str) -> None:
    """Reading resumes after a syntax error at the line YAML counts, whatever breaks the lines."""

    def read(text: str) -> tuple[list[Any], list[Any]]:
        result = read_text(text, "in.yaml")
        docs = [(d.index, d.name, d.line, d.template, d.locate(("metadata", "name"))) for d in result.docs]
        return docs, [(f.code, f.location) for f in result.findings]

    assert read(BROKEN.replace("\n", newline, 40)) == read(BROKEN)
