"""The loader: positions, multi-document streams, Lists, Helm sources, broken input."""

from __future__ import annotations

from meshctl.load.reader import decode, read_text

VS = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts: [reviews]
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: 80
    - destination:
        host: reviews
        subset: v2
      weight: 20
"""


def test_every_field_path_has_its_line_and_column() -> None:
    doc = read_text(VS, "vs.yaml").docs[0]
    loc = doc.locate(("spec", "http", 0, "route", 1, "destination", "subset"))
    assert (loc.line, loc.column) == (16, 17)
    assert loc.path == "spec.http[0].route[1].destination.subset"
    key = doc.locate(("spec", "http", 0, "route", 1, "weight"), key=True)
    assert (key.line, key.column) == (17, 7)
    flow = doc.locate(("spec", "hosts", 0))
    assert (flow.line, flow.column) == (7, 11)


def test_a_missing_field_falls_back_to_its_nearest_parent() -> None:
    doc = read_text(VS, "vs.yaml").docs[0]
    loc = doc.locate(("spec", "http", 0, "timeout"))
    assert (loc.line, loc.column) == (9, 5)
    assert loc.path == "spec.http[0].timeout"


def test_multi_document_streams_keep_indexes_and_count_empty_documents() -> None:
    text = "---\n# only a comment\n---\n" + VS + "---\n---\n" + VS.replace("reviews", "ratings")
    read = read_text(text, "multi.yaml")
    assert [d.name for d in read.docs] == ["reviews", "ratings"]
    assert [d.index for d in read.docs] == [1, 3]
    assert read.empty == 2
    assert read.docs[1].line == 23


def test_list_items_become_resources_with_their_own_positions() -> None:
    text = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: a}
- null
- apiVersion: v1
  kind: Service
  metadata:
    name: b
- just a string
"""
    read = read_text(text, "list.yaml")
    assert [(d.name, d.item) for d in read.docs] == [("a", 0), ("b", 2)]
    assert read.docs[1].locate(("metadata", "name")).line == 11
    assert [(f.code, f.location.line) for f in read.findings] == [("MSH003", 12)]
    assert read.empty == 1


def test_helm_source_comments_follow_their_document() -> None:
    text = """\
---
# Source: shop/templates/service.yaml
apiVersion: v1
kind: Service
metadata: {name: cart}
---
apiVersion: v1
kind: Service
metadata: {name: hand-written}
---
# Source: shop/templates/vs.yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cart}
"""
    read = read_text(text, "rendered.yaml")
    assert [d.template for d in read.docs] == [
        "shop/templates/service.yaml",
        None,
        "shop/templates/vs.yaml",
    ]
    assert read.docs[2].locate(("kind",)).template == "shop/templates/vs.yaml"


def test_syntax_error_is_a_finding_and_the_next_documents_still_load() -> None:
    text = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\nkind: X\n  bad: [\n---\n" + VS
    read = read_text(text, "broken.yaml")
    assert [(f.code, f.location.line) for f in read.findings] == [("MSH001", 6)]
    assert [d.name for d in read.docs] == ["a", "reviews"]
    assert read.docs[1].line == 8


def test_duplicate_keys_are_reported_at_the_second_key() -> None:
    text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  name: b\n"
    read = read_text(text, "dup.yaml")
    assert [(f.code, f.location.line, f.location.column) for f in read.findings] == [("MSH002", 5, 3)]
    assert read.docs[0].name == "b"


def test_merge_keys_are_not_duplicates_and_their_positions_resolve() -> None:
    text = "base: &b {x: 1}\nobj:\n  <<: *b\n  y: 2\n"
    read = read_text(text, "merge.yaml")
    assert read.findings == []
    assert read.docs[0].data["obj"] == {"x": 1, "y": 2}
    assert read.docs[0].locate(("obj", "x")).line == 1


def test_non_mapping_documents_are_findings() -> None:
    read = read_text("- a\n- b\n---\njust text\n", "shapes.yaml")
    assert [f.code for f in read.findings] == ["MSH003", "MSH003"]
    assert "a list" in read.findings[0].message
    assert "str" in read.findings[1].message


def test_unknown_tags_never_construct_anything() -> None:
    text = "a: !!python/object/apply:os.system ['echo hi']\n---\nb: !Ref x\n---\nc: 1\n"
    read = read_text(text, "tags.yaml")
    assert [f.code for f in read.findings] == ["MSH001", "MSH001"]
    assert [d.data for d in read.docs] == [{"c": 1}]


def test_numeric_and_boolean_keys_keep_their_text() -> None:
    read = read_text("portLevelMtls:\n  8080: {mode: STRICT}\n  on: 1\n", "keys.yaml")
    assert read.docs[0].data == {"portLevelMtls": {"8080": {"mode": "STRICT"}, "on": 1}}


def test_timestamps_stay_strings() -> None:
    read = read_text("metadata:\n  creationTimestamp: 2024-01-01T00:00:00Z\n", "ts.yaml")
    assert read.docs[0].data["metadata"]["creationTimestamp"] == "2024-01-01T00:00:00Z"


def test_json_files_with_tabs_load() -> None:
    read = read_text('{\n\t"apiVersion": "v1",\n\t"kind": "Service"\n}\n', "svc.json", json_file=True)
    assert read.findings == []
    assert read.docs[0].locate(("kind",)).line == 3


def test_decode_handles_boms_and_refuses_binary_and_bad_utf8() -> None:
    text, problem = decode(b"\xff\xfe" + "kind: x\n".encode("utf-16-le"), "u16.yaml")
    assert text == "kind: x\n" and problem is None
    text, problem = decode(b"\xef\xbb\xbfkind: x\n", "bom.yaml")
    assert text == "kind: x\n"
    text, problem = decode(b"kind: x\n\x00\x01", "bin.yaml")
    assert text is None and problem is not None and problem.code == "MSH004"
    assert (problem.location.line, problem.location.column) == (2, 1)
    text, problem = decode(b"a: 1\nb: caf\xe9\n", "latin1.yaml")
    assert text is None and problem is not None
    assert (problem.location.line, problem.location.column) == (2, 7)
    assert "UTF-8" in problem.message


def test_characters_yaml_forbids_are_findings() -> None:
    read = read_text("a: 1\nb: \x07\n", "bell.yaml")
    assert [f.code for f in read.findings] == ["MSH004"]
    assert read.findings[0].location.line == 2


def test_an_alias_bomb_is_refused_and_the_next_document_still_loads() -> None:
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 9):
        levels.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 10) + "]")
    bomb = "\n".join(levels) + "\n---\napiVersion: v1\nkind: Service\nmetadata: {name: after}\n"
    read = read_text(bomb, "bomb.yaml")
    assert [f.code for f in read.findings] == ["MSH004"]
    assert "alias bomb" in read.findings[0].message
    assert [d.name for d in read.docs] == ["after"]


def test_modest_aliases_are_fine() -> None:
    text = "base: &b {app: cart}\nlabels: *b\nselector: *b\n"
    read = read_text(text, "aliases.yaml")
    assert read.findings == []
    assert read.docs[0].data["selector"] == {"app": "cart"}


def test_very_deep_nesting_is_a_finding_not_a_crash() -> None:
    deep = "a: " + "[" * 5000 + "]" * 5000 + "\n---\nkind: after\n"
    read = read_text(deep, "deep.yaml")
    assert [f.code for f in read.findings] == ["MSH001"]
    assert "nesting depth" in read.findings[0].message
    assert [d.data for d in read.docs] == [{"kind": "after"}]
    # Just under libyaml's limit the document is read (construction is not recursive).
    read = read_text("a: " + "[" * 900 + "]" * 900 + "\n", "deep.yaml")
    assert read.findings == [] and len(read.docs) == 1
