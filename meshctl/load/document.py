"""One resource as read from an input: its data and where each of its fields stands."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from yaml._yaml import CParser
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from meshctl.diagnostics import FieldPath, Location, ResourceRef, format_path

KEEP_COMPOSED = 256  # node trees composed again for positions that stay alive at once
MERGE_TAG = "tag:yaml.org,2002:merge"
STR_TAG = "tag:yaml.org,2002:str"
MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"


class TextSpan(NamedTuple):
    """Where a document stands in the text the reader parsed: enough to compose its node
    tree again when a finding needs a position, and to give its first position without.

    ``start`` is the index of the first character of the line the document starts on, so
    composing ``text[start:end]`` gives every node its column, and its line less ``line``.
    """

    text: str  # the whole text as parsed, shared by every document of the file
    start: int
    end: int  # just past the document's last node
    line: int  # 0-based line of ``start``
    root: tuple[int, int]  # 0-based line and column of the resource's own node (a List item's)


@dataclass(slots=True)
class SourceDoc:
    """A resource read from a file.

    ``data`` is the plain Python value PyYAML built; ``node`` the YAML node tree it came
    from, walked only when a finding needs a position (so reading stays as fast as the
    C loader). ``item`` is set for resources expanded from a ``List``'s ``items``.
    ``lines`` are the first and last line (0-based) of the whole document in its file.

    Node trees take several times the memory of the data, so a run keeps none: the
    pipeline ``release``s each tree once the document is checked, and a document read in
    a worker process (``--jobs``) arrives without one. ``tree()`` composes it again from
    ``source`` (or from the lines in ``deferred``) the first time a position is asked,
    and at most KEEP_COMPOSED trees composed that way stay alive at once.
    """

    file: str
    index: int
    data: dict[str, Any]
    node: Node | None
    template: str | None = None
    item: int | None = None
    lines: tuple[int, int] = (0, 0)
    deferred: list[str] | None = None  # the file's lines, to compose ``node`` on demand
    source: TextSpan | None = None  # or the document's place in the text, to do the same
    kind_key: str = field(init=False, default="")  # ``group/Kind``, as rules declare the kinds they read
    line_offset: int = field(init=False, default=0)  # a deferred node is composed from its own lines only

    def __post_init__(self) -> None:
        api_version = self.data.get("apiVersion")
        kind = self.data.get("kind")
        group = api_version.rpartition("/")[0] if isinstance(api_version, str) else ""
        self.kind_key = f"{group}/{kind if isinstance(kind, str) else ''}"

    # -- identity --------------------------------------------------------------------
    @property
    def api_version(self) -> str:
        value = self.data.get("apiVersion")
        return value if isinstance(value, str) else ""

    @property
    def kind(self) -> str:
        value = self.data.get("kind")
        return value if isinstance(value, str) else ""

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.data.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self) -> str:
        name = self.metadata.get("name")
        return name if isinstance(name, str) else ""

    @property
    def namespace(self) -> str | None:
        ns = self.metadata.get("namespace")
        return ns if isinstance(ns, str) else None

    @property
    def annotations(self) -> dict[str, Any]:
        ann = self.metadata.get("annotations")
        return ann if isinstance(ann, dict) else {}

    @property
    def ref(self) -> ResourceRef:
        return ResourceRef(self.api_version, self.kind, self.name, self.namespace)

    # -- positions -------------------------------------------------------------------
    def release(self) -> None:
        """Drop the node tree if it can be composed again from the text."""
        if self.source is not None or self.deferred is not None:
            self.node = None

    def tree(self) -> Node:
        """The document's node tree (composed again from the text when released or read elsewhere)."""
        if self.node is None:
            if self.source is not None:
                span = self.source
                node = _compose(span.text[span.start : span.end], self.item)
                self.line_offset = span.line
            else:
                assert self.deferred is not None, "a document without a node tree or a text"
                start, end = self.lines
                node = _compose("\n".join(self.deferred[start : end + 1]), self.item)
                self.line_offset = start
            self.node = node
            _keep_composed(self)
        return self.node

    @property
    def line(self) -> int:
        if self.node is None and self.source is not None:
            return self.source.root[0] + 1
        return int(self.tree().start_mark.line) + 1 + self.line_offset

    def locate(self, path: FieldPath, *, key: bool = False) -> Location:
        """The position of the field at ``path``.

        Points at the value (or the key, with ``key=True``). A path that does not exist
        (a missing required field) falls back to the nearest ancestor that does, as
        Istio's analyzers fall back to the resource's first line.
        """
        if not path and self.node is None and self.source is not None:
            line, column = self.source.root  # the document itself: no need to compose it
            return Location(self.file, line + 1, column + 1, path=format_path(path), template=self.template)
        node, key_node = _walk(self.tree(), path)
        target = key_node if (key and key_node is not None) else node
        mark = target.start_mark
        return Location(
            file=self.file,
            line=mark.line + 1 + self.line_offset,
            column=mark.column + 1,
            path=format_path(path),
            template=self.template,
        )

    def document_location(self) -> Location:
        return self.locate(())


_composed: deque[SourceDoc] = deque()


def _keep_composed(doc: SourceDoc) -> None:
    """Bound the trees composed again: the oldest is dropped (and composed again if asked)."""
    _composed.append(doc)
    if len(_composed) > KEEP_COMPOSED:
        _composed.popleft().node = None


class _Composer(CParser):  # type: ignore[misc]
    """PyYAML's C parser composing nodes for positions only: every scalar is a string but
    a plain ``<<`` (a merge key, which ``mapping_child`` follows); no regular expression
    runs, as PyYAML's resolver would for every scalar."""

    def resolve(self, kind: type, value: str | None, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            return MERGE_TAG if implicit[0] and value == "<<" else STR_TAG
        return MAP_TAG if kind is MappingNode else SEQ_TAG

    def descend_resolver(self, current_node: Node | None, current_index: object) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


def _compose(text: str, item: int | None) -> Node:
    """The node tree of the document that starts ``text`` (cut at the start of its first
    line); its line numbers count from there (prefixing the earlier lines would rescan the
    file for every document: quadratic in its size)."""
    loader = _Composer(text)
    try:
        loader.check_node()
        node = loader.get_node()
    finally:
        loader.dispose()
    if item is not None and isinstance(node, MappingNode):
        items = mapping_child(node, "items")[0]  # the last `items`, as the dict keeps
        if isinstance(items, SequenceNode):
            return items.value[item]  # type: ignore[no-any-return]
    return node  # type: ignore[return-value]


def _walk(node: Node, path: FieldPath) -> tuple[Node, Node | None]:
    """Follow ``path`` through the node tree as far as it goes."""
    key_node: Node | None = None
    for part in path:
        child: Node | None = None
        if isinstance(node, MappingNode):
            child, found_key = mapping_child(node, str(part))
            if child is None:
                return node, key_node
            key_node = found_key
        elif isinstance(node, SequenceNode) and isinstance(part, int):
            if 0 <= part < len(node.value):
                child = node.value[part]
                key_node = child
            else:
                return node, key_node
        else:
            return node, key_node
        node = child
    return node, key_node


def mapping_child(node: MappingNode, key: str) -> tuple[Node | None, Node | None]:
    """The value node for ``key`` (the last one wins, as in PyYAML), merge keys included."""
    found: tuple[Node | None, Node | None] = (None, None)
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode):
            if key_node.value == key:
                found = (value_node, key_node)
            elif key_node.tag == MERGE_TAG and found[0] is None:
                merged = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in merged:
                    if isinstance(source, MappingNode):
                        hit = mapping_child(source, key)
                        if hit[0] is not None:
                            found = hit
                            break
    return found
