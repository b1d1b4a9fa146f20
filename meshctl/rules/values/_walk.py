"""Safe traversal of a document's data for the value checks.

Value checks also run on documents the schema rejected, so nothing here assumes a
shape: a field that is missing or of the wrong type simply yields nothing.

Patterns name the fields to visit, with ``[]`` for every item of a list and ``{}`` for
every value of a map::

    find(data, "spec.http[].match[].headers{}")
    -> (("spec", "http", 0, "match", 1, "headers", "x-user"), {"exact": "bob"}), ...
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from meshctl.diagnostics import FieldPath

ITEMS = "[]"
VALUES = "{}"


@cache
def _tokens(pattern: str) -> tuple[str, ...]:
    out: list[str] = []
    for part in pattern.split("."):
        suffixes: list[str] = []
        while part.endswith((ITEMS, VALUES)):
            suffixes.insert(0, part[-2:])
            part = part[:-2]
        if part:
            out.append(part)
        out.extend(suffixes)
    return tuple(out)


def find(data: Any, pattern: str, prefix: FieldPath = ()) -> Iterator[tuple[FieldPath, Any]]:
    """Every (path, value) the pattern reaches in ``data``; paths start with ``prefix``.

    Expanded one token at a time over a flat frontier (no recursive generators: this
    runs for every document, several times per check).
    """
    frontier: list[tuple[FieldPath, Any]] = [(prefix, data)]
    for token in _tokens(pattern) if pattern else ():
        expanded: list[tuple[FieldPath, Any]] = []
        if token == ITEMS:
            for path, value in frontier:
                if isinstance(value, list):
                    expanded.extend(((*path, i), item) for i, item in enumerate(value))
        elif token == VALUES:
            for path, value in frontier:
                if isinstance(value, dict):
                    expanded.extend(((*path, str(k)), v) for k, v in value.items())
        else:
            for path, value in frontier:
                if isinstance(value, dict) and token in value:
                    expanded.append(((*path, token), value[token]))
        if not expanded:
            return iter(())
        frontier = expanded
    return iter(frontier)


Trie = dict[str, Any]  # token -> Trie, and _END -> indexes of the patterns ending here
_END = ""


@cache
def _trie(patterns: tuple[str, ...]) -> Trie:
    root: Trie = {}
    for index, pattern in enumerate(patterns):
        node = root
        for token in _tokens(pattern):
            node = node.setdefault(token, {})
        node.setdefault(_END, []).append(index)
    return root


def find_tagged(data: Any, patterns: tuple[str, ...]) -> list[tuple[int, FieldPath, Any]]:
    """:func:`find` for many patterns in one walk (they share their prefixes).

    Each result carries the index of the pattern that reached it, in document order.
    """
    out: list[tuple[int, FieldPath, Any]] = []
    stack: list[tuple[Trie, FieldPath, Any]] = [(_trie(patterns), (), data)]
    while stack:
        node, path, value = stack.pop()
        for index in node.get(_END, ()):
            out.append((index, path, value))
        children: list[tuple[Trie, FieldPath, Any]] = []
        for token, child in node.items():
            if token == _END:
                continue
            if token == ITEMS:
                if isinstance(value, list):
                    children.extend((child, (*path, i), item) for i, item in enumerate(value))
            elif token == VALUES:
                if isinstance(value, dict):
                    children.extend((child, (*path, str(k)), v) for k, v in value.items())
            elif isinstance(value, dict) and token in value:
                children.append((child, (*path, token), value[token]))
        stack.extend(reversed(children))
    return out


def find_all(data: Any, patterns: tuple[str, ...]) -> Iterator[tuple[FieldPath, Any]]:
    """Every (path, value) any of ``patterns`` reaches, each once, in one walk."""
    seen: set[FieldPath] = set()
    for _, path, value in find_tagged(data, patterns):
        if path not in seen:
            seen.add(path)
            yield path, value


def mapping(value: Any) -> dict[str, Any]:
    """``value`` if it is a mapping, else an empty one."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    """``value`` if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def strings(data: Any, pattern: str, prefix: FieldPath = ()) -> Iterator[tuple[FieldPath, str]]:
    """Like :func:`find`, keeping only string values."""
    for path, value in find(data, pattern, prefix):
        if isinstance(value, str):
            yield path, value


def number(value: Any) -> int | None:
    """``value`` if it is an integer (booleans are not), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def present(obj: dict[str, Any], key: str) -> bool:
    """Whether ``key`` is set, as the API server sees it: a null value counts as unset."""
    return obj.get(key) is not None
