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
    """Every (path, value) the pattern reaches in ``data``; paths start with ``prefix``."""
    yield from _find(data, _tokens(pattern) if pattern else (), prefix)


def _find(data: Any, tokens: tuple[str, ...], path: FieldPath) -> Iterator[tuple[FieldPath, Any]]:
    if not tokens:
        yield path, data
        return
    head, rest = tokens[0], tokens[1:]
    if head == ITEMS:
        if isinstance(data, list):
            for index, item in enumerate(data):
                yield from _find(item, rest, (*path, index))
    elif head == VALUES:
        if isinstance(data, dict):
            for key, value in data.items():
                yield from _find(value, rest, (*path, str(key)))
    elif isinstance(data, dict) and head in data:
        yield from _find(data[head], rest, (*path, head))


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
