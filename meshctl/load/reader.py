"""Read YAML/JSON text into SourceDocs, with positions, without ever raising.

Before: the bytes of ``mesh.yaml`` (several ``---`` documents, maybe a List, maybe a
syntax error in the middle). After: one SourceDoc per resource, plus findings for
everything that could not be read (MSH001-MSH004), each with a line and column.

Parsing uses PyYAML's C parser (``CSafeLoader``); construction is PyYAML's safe
constructor with two changes: duplicate keys are recorded instead of silently
overwritten, and non-string scalars used as keys keep their text (``8080:`` is the
key ``"8080"``, as the Kubernetes YAML-to-JSON conversion does).

Each SourceDoc keeps its node tree and a TextSpan, its place in the text, so the
pipeline can drop the tree once the document is checked and compose it again only
if a later finding needs a position.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.error import MarkedYAMLError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from meshctl.diagnostics import Finding, Location
from meshctl.load.document import (
    MAP_TAG,
    MERGE_TAG,
    SEQ_TAG,
    STR_TAG,
    SourceDoc,
    TextSpan,
    mapping_child,
)
from meshctl.rules.input import msh001_yaml_syntax_error as syntax
from meshctl.rules.input import msh002_duplicate_key as duplicate
from meshctl.rules.input import msh003_not_a_resource as not_resource
from meshctl.rules.input import msh004_unreadable_input as unreadable

# Patterns are compiled where they are needed (``re`` keeps them): most runs need none
# of them, and compiling all costs a millisecond of start-up.
SEPARATOR = r"^(---|\.\.\.)(\s|$)"  # re.MULTILINE
BREAK = r"\r\n|[\r\n\x85\u2028\u2029]"  # a line break, as YAML counts lines
HELM_SOURCE = r"^# Source: (.+?)\s*$"  # re.MULTILINE
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xef\xbb\xbf", "utf-8"),
)


@dataclass
class ReadResult:
    docs: list[SourceDoc] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    empty: int = 0  # empty and comment-only documents
    documents: int = 0  # every document seen, empty and broken ones included (the next index)


class _Loader(yaml.CSafeLoader):  # type: ignore[misc]
    """CSafeLoader that records duplicate keys and never builds non-JSON values.

    Manifests repeat the same few keys and values thousands of times: the implicit tag
    of a plain scalar is resolved once per distinct text (PyYAML's resolver tries its
    regular expressions on every scalar), and the strings of mappings are shared, one
    object per distinct text, instead of one per occurrence.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[ScalarNode] = []
        self._tags: dict[str, str] = {}
        self._strings: dict[str, str] = {}
        self._merges = "<<" in stream  # no mapping can have a merge key otherwise

    def resolve(self, kind: type, value: str | None, implicit: tuple[bool, bool]) -> str:
        """What PyYAML's resolver answers (SafeLoader has no path resolvers), remembered
        per plain scalar text."""
        if kind is ScalarNode:
            if not implicit[0]:
                return STR_TAG  # quoted, or with the non-specific tag "!"
            assert value is not None
            tag = self._tags.get(value)
            if tag is None:
                resolve: Any = super().resolve  # PyYAML's (untyped)
                tag = self._tags[value] = resolve(kind, value, implicit)
            return tag
        return MAP_TAG if kind is MappingNode else SEQ_TAG

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[str, Any]:
        if not isinstance(node, MappingNode):
            raise ConstructorError(None, None, "expected a mapping", node.start_mark)
        pairs = node.value
        if self._merges and any(k.tag == MERGE_TAG for k, _ in pairs):
            return self._construct_merged(node, deep)
        mapping: dict[str, Any] = {}
        construct = self.construct_object
        shared = self._strings.setdefault
        for key_node, value_node in pairs:
            # Plain string scalars are by far the most common keys and values: build them
            # directly (what the safe constructor would return) and skip its bookkeeping.
            if key_node.tag == STR_TAG and type(key_node) is ScalarNode:
                key = shared(key_node.value, key_node.value)
            else:
                key = self._key(key_node, deep)
            if key in mapping:
                self.duplicates.append(key_node)
            if value_node.tag == STR_TAG and type(value_node) is ScalarNode:
                mapping[key] = shared(value_node.value, value_node.value)
            else:
                mapping[key] = construct(value_node, deep=deep)
        return mapping

    def _construct_merged(self, node: MappingNode, deep: bool) -> dict[str, Any]:
        """The slow path, for mappings with ``<<`` merge keys."""
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag != MERGE_TAG:
                if key_node.value in seen:
                    self.duplicates.append(key_node)
                seen.add(key_node.value)
        self.flatten_mapping(node)
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            mapping[self._key(key_node, deep)] = self.construct_object(value_node, deep=deep)
        return mapping

    def _key(self, key_node: Node, deep: bool) -> str:
        key = self.construct_object(key_node, deep=deep)
        if type(key) is str:
            return key
        if not isinstance(key_node, ScalarNode):
            raise ConstructorError(None, None, "a mapping key must be a scalar", key_node.start_mark)
        return str(key_node.value)

    def construct_as_text(self, node: ScalarNode) -> str:
        return str(node.value)


# Timestamps and binary stay text: Kubernetes reads them as strings, and the schema
# engine only understands JSON values.
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_as_text)
_Loader.add_constructor("tag:yaml.org,2002:binary", _Loader.construct_as_text)


def _checked(base: Callable[[Any, ScalarNode], Any]) -> Callable[[Any, ScalarNode], Any]:
    """PyYAML's int/float/bool constructors raise ValueError, IndexError or KeyError on an
    explicitly tagged value that does not parse (``!!float c``); make that a marked error."""

    def construct(loader: Any, node: ScalarNode) -> Any:
        try:
            return base(loader, node)
        except (ValueError, IndexError, KeyError, OverflowError):
            kind = node.tag.rsplit(":", 1)[-1]
            raise ConstructorError(None, None, f"{node.value!r} is not a valid !!{kind}", node.start_mark) from None

    return construct


for _kind in ("int", "float", "bool"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_kind}", _checked(getattr(SafeConstructor, f"construct_yaml_{_kind}")))


def decode(data: bytes, display: str) -> tuple[str | None, Finding | None]:
    """Bytes to text: UTF-8, or UTF-16/32 with a byte-order mark; binary is refused."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding), None
            except UnicodeDecodeError as exc:
                return None, _unreadable(display, 1, 1, f"not valid {encoding}: {exc.reason}")
    nul = data.find(b"\x00")
    if nul >= 0:
        line, col = _line_col_bytes(data, nul)
        return None, _unreadable(display, line, col, f"binary file (NUL byte at offset {nul})")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line, col = _line_col_bytes(data, exc.start)
        bad = data[exc.start : exc.start + 1].hex()
        return None, _unreadable(display, line, col, f"not valid UTF-8 (byte 0x{bad}); save the file as UTF-8")


class _Stream(NamedTuple):
    """The documents up to the end of the text or its next syntax error."""

    text: str  # what the loader reads
    display: str
    sources: tuple[list[int], list[str], list[int]]  # Helm ``# Source:`` comments
    whole: str | None  # the file's text, for TextSpans (None: no spans)
    shift: int  # a mark's index in ``text`` plus this is its index in ``whole``

    def span(self, node: Node, root: Node) -> TextSpan | None:
        """Where the document ``node`` stands in the file; ``root`` is the resource's own node."""
        if self.whole is None:
            return None
        start, end = node.start_mark, node.end_mark
        return TextSpan(
            self.whole,
            start.index + self.shift - start.column,
            end.index + self.shift,
            start.line,
            (root.start_mark.line, root.start_mark.column),
        )


def parsed_text(text: str, json_file: bool) -> str:
    """The text as the reader parses it (what a TextSpan indexes)."""
    # JSON allows tabs between tokens where YAML does not; a tab is one column either way.
    return text.replace("\t", " ") if json_file else text


def read_text(text: str, display: str, *, json_file: bool = False) -> ReadResult:
    """Every document of ``text``; syntax errors skip to the next ``---`` and go on."""
    result = ReadResult()
    result.docs.extend(read_documents(text, display, result, json_file=json_file))
    return result


def read_documents(text: str, display: str, result: ReadResult, *, json_file: bool = False) -> Iterator[SourceDoc]:
    """``read_text`` one document at a time: the documents are yielded, the findings and
    counts go to ``result``. A caller done with each document (its node tree released)
    before it asks for the next keeps one tree alive at a time instead of the file's."""
    text = parsed_text(text, json_file)
    count_lines = line_counter(text)
    sources = _helm_sources(text, count_lines)
    index = 0
    offset_text = text
    # A mark's index counts characters from the start of the text PyYAML reads, less a
    # leading byte-order mark; ``shift`` turns it into an index of ``text``.
    shift = 1 if text.startswith("\ufeff") else 0
    # %TAG and %YAML directives: a document cut out of the stream would not compose alone,
    # so those documents keep their trees
    spans = not text.startswith("%") and "\n%" not in text
    while True:
        stream = _Stream(offset_text, display, sources, text if spans else None, shift)
        index, error_line = yield from _read_stream(stream, index, result)
        result.documents = index
        if error_line is None:
            return
        found = _next_separator(text, error_line, count_lines)
        if found is None:
            return
        resume, at = found
        # Pad with newlines so marks keep their real line numbers.
        offset_text = "\n" * resume + text[at:]
        shift = at - resume


def _read_stream(stream: _Stream, index: int, result: ReadResult) -> Generator[SourceDoc, None, tuple[int, int | None]]:
    """Read documents until the end or a syntax error; return the next index and the
    error's 0-based line."""
    text, display = stream.text, stream.display
    loader = _Loader(text)
    anchors = "&" in text  # aliases can only multiply a document that defines anchors
    try:
        while True:
            try:
                if not loader.check_node():
                    return index, None
                node = loader.get_node()
            except MarkedYAMLError as exc:
                mark = exc.problem_mark or exc.context_mark
                result.findings.append(_syntax_finding(display, exc, mark))
                return index + 1, (mark.line if mark else 0)
            except ReaderError as exc:
                line, col = _line_col_text(text, exc.position)
                msg = f"character {exc.character!r} is not allowed in YAML"
                result.findings.append(_unreadable(display, line, col, msg))
                return index + 1, None
            if node is None:
                result.empty += 1
                index += 1
                continue
            problem = _too_large(node) if anchors else None
            if problem is not None:
                result.findings.append(unreadable.RULE.finding(problem, _mark_location(display, node.start_mark)))
                index += 1
                continue
            try:
                data = loader.construct_document(node)
            except ConstructorError as exc:
                loader.constructed_objects = {}
                loader.recursive_objects = {}
                mark = exc.problem_mark or node.start_mark
                result.findings.append(_syntax_finding(display, exc, mark))
                index += 1
                continue

            for key_node in loader.duplicates:
                result.findings.append(
                    duplicate.RULE.finding(
                        f"duplicate key {key_node.value!r}: the earlier value is silently lost",
                        _mark_location(display, key_node.start_mark),
                    )
                )
            loader.duplicates.clear()
            template = _template_for(stream.sources, node.start_mark.line)
            yield from _documents(result, stream, index, data, node, template)
            index += 1
    finally:
        loader.dispose()


def _documents(
    result: ReadResult, stream: _Stream, index: int, data: Any, node: Node, template: str | None
) -> Iterator[SourceDoc]:
    """The resources of one document: itself, or the items of a List."""
    display = stream.display
    if data is None:
        result.empty += 1
        return
    if not isinstance(data, dict):
        shape = "a list" if isinstance(data, list) else f"a {type(data).__name__} value"
        result.findings.append(
            not_resource.RULE.finding(
                f"document is {shape}, not a resource (apiVersion, kind, metadata)",
                _mark_location(display, node.start_mark, template),
            )
        )
        return
    kind = data.get("kind")
    items = data.get("items")
    if isinstance(kind, str) and kind.endswith("List") and "items" in data:
        if items is None:
            result.empty += 1
            return
        if not isinstance(items, list):
            result.findings.append(
                not_resource.RULE.finding(
                    f"the items of a {kind} must be a list",
                    _mark_location(display, (_child(node, "items") or node).start_mark, template),
                )
            )
            return
        items_node = _child(node, "items")
        for i, item in enumerate(items):
            item_node = items_node.value[i] if isinstance(items_node, SequenceNode) else node
            if isinstance(item, dict):
                yield SourceDoc(display, index, item, item_node, template, item=i, lines=_span(node),
                                source=stream.span(node, item_node))
            elif item is None:
                result.empty += 1  # `- null` items: nothing to apply, as kubectl sees it
            else:
                result.findings.append(
                    not_resource.RULE.finding(
                        f"item {i} of the {kind} is not a resource",
                        _mark_location(display, item_node.start_mark, template),
                    )
                )
        return
    yield SourceDoc(display, index, data, node, template, lines=_span(node), source=stream.span(node, node))


def _span(node: Node) -> tuple[int, int]:
    return node.start_mark.line, node.end_mark.line


MAX_EXPANDED_NODES = 1_000_000


def _too_large(root: Node) -> str | None:
    """Refuse a document whose aliases expand it past MAX_EXPANDED_NODES ("billion laughs").

    PyYAML shares aliased nodes, so reading is cheap, but everything that walks the data
    afterwards (schema validation, rules, reports) pays for the expansion. The expanded
    size is computed over distinct nodes with memoisation: linear in the document.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()  # expanded, children not finished: the path being walked
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        children = _children(node)
        if children_done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > MAX_EXPANDED_NODES:
                return (
                    f"the document's aliases expand it to more than {MAX_EXPANDED_NODES:,} nodes "
                    "(a YAML alias bomb); it is not read"
                )
            continue
        if key in sizes:
            continue
        if not children:
            sizes[key] = 1
            continue
        if key in open_nodes:  # Kubernetes' reader refuses these too ("anchor ... contains itself")
            return "an alias refers to a node that contains it (a recursive anchor); it is not read"
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return None


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _child(node: Node, key: str) -> Node | None:
    """The value node of ``key``: the last one, as the constructed dict keeps (merge keys included)."""
    if isinstance(node, MappingNode):
        return mapping_child(node, key)[0]
    return None


LineCounter = Callable[[int, int], int]  # the line breaks between two indexes of a text


def line_counter(text: str) -> LineCounter:
    """Counts line breaks as YAML does (``\r\n``, ``\r``, ``\n``, NEL, LS, PS), fast when
    counting ``\n`` is the same thing (no lone ``\r`` and none of the others)."""
    if text.count("\r") == text.count("\r\n") and not any(c in text for c in "\x85\u2028\u2029"):
        return lambda start, end: text.count("\n", start, end)
    breaks = re.compile(BREAK)
    return lambda start, end: len(breaks.findall(text, start, end))


def _helm_sources(text: str, count_lines: LineCounter) -> tuple[list[int], list[str], list[int]]:
    """Line numbers of ``# Source:`` comments and of document separators."""
    if "# Source: " not in text:
        return [], [], []
    sources = list(re.finditer(HELM_SOURCE, text, re.MULTILINE))
    return (
        _line_numbers(sources, count_lines),
        [match.group(1) for match in sources],
        _line_numbers(re.finditer(SEPARATOR, text, re.MULTILINE), count_lines),
    )


def _line_numbers(matches: Iterable[re.Match[str]], count_lines: LineCounter) -> list[int]:
    """The 0-based line of each match, counting from one to the next (matches in order)."""
    numbers: list[int] = []
    line = position = 0
    for match in matches:
        line += count_lines(position, match.start())
        position = match.start()
        numbers.append(line)
    return numbers


def _template_for(sources: tuple[list[int], list[str], list[int]], line: int) -> str | None:
    """The Helm template a document starting at ``line`` was rendered from, if any."""
    lines, names, separators = sources
    if not lines:
        return None
    i = bisect.bisect_right(lines, line) - 1
    if i < 0:
        return None
    j = bisect.bisect_right(separators, line) - 1
    if j >= 0 and separators[j] > lines[i]:
        return None  # the comment belongs to an earlier document
    return names[i]


def _next_separator(text: str, after_line: int, count_lines: LineCounter) -> tuple[int, int] | None:
    """The line and index of the first document separator after ``after_line``."""
    line = position = 0
    for match in re.finditer(SEPARATOR, text, re.MULTILINE):
        line += count_lines(position, match.start())  # from the last one: linear, not quadratic
        position = match.start()
        if line > after_line:
            return line, position
    return None


def _syntax_finding(display: str, exc: MarkedYAMLError, mark: Any) -> Finding:
    problem = exc.problem or str(exc)
    context = f" ({exc.context})" if exc.context else ""
    loc = _mark_location(display, mark) if mark else Location(display, 1, 1)
    return syntax.RULE.finding(f"{problem}{context}", loc)


def _unreadable(display: str, line: int, col: int, message: str) -> Finding:
    return unreadable.RULE.finding(message, Location(display, line, col))


def _mark_location(display: str, mark: Any, template: str | None = None) -> Location:
    return Location(display, mark.line + 1, mark.column + 1, template=template)


def _line_col_bytes(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


def _line_col_text(text: str, offset: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1
