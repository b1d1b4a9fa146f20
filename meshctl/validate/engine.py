"""Compiled schema validators and the translation of their errors into findings.

Each schema is compiled once per run (jsonschema-rs, a compiled engine: see
docs/performance.md for the measurement that chose it). Validating a valid document
is a single ``is_valid`` call; only invalid documents pay for error collection,
position lookup and the friendly messages below.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from meshctl.diagnostics import FieldPath, Finding, format_path
from meshctl.load.document import SourceDoc
from meshctl.rules.input import (
    msh010_schema_violation as violation,
    msh015_experimental_field as experimental,
    msh011_unknown_field as unknown_field,
    msh013_deprecated_field as deprecated_field,
)
from meshctl.rules.values import msh021_invalid_duration as duration
from meshctl.validate.catalog import Catalog

URN = "urn:meshctl:"
_REF = re.compile(r'"urn:meshctl:(defs/[^"#]+)')
DURATION_DEFS = ("/$defs/Duration/", "/$defs/GatewayDuration/")
MAX_ERRORS_PER_DOC = 50
_JSON_TYPES = {
    bool: "boolean", int: "integer", float: "number", str: "string",
    list: "array", dict: "object", type(None): "null",
}


class SchemaEngine:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._schemas: dict[str, dict[str, Any]] = {}
        self._validators: dict[str, Any] = {}
        self._annotated: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        self._registries: dict[frozenset[str], Any] = {}

    # -- loading ---------------------------------------------------------------------
    def schema(self, rel: str) -> dict[str, Any]:
        schema = self._schemas.get(rel)
        if schema is None:
            path = self.catalog.root / rel
            schema = json.loads(path.read_text(encoding="utf-8"))
            self._schemas[rel] = schema
        return schema

    def _registry(self, rel: str) -> Any:
        """A registry of just the shared definitions ``rel`` reaches (loading them all costs 20 ms)."""
        import jsonschema_rs

        needed: list[str] = []
        pending = [rel]
        while pending:
            for ref in _REF.findall(json.dumps(self.schema(pending.pop()))):
                if ref not in needed:
                    needed.append(ref)
                    pending.append(ref)
        key = frozenset(needed)
        registry = self._registries.get(key)
        if registry is None:
            registry = jsonschema_rs.Registry([(URN + d, self.schema(d)) for d in sorted(needed)])
            self._registries[key] = registry
        return registry

    def validator(self, rel: str) -> Any:
        validator = self._validators.get(rel)
        if validator is None:
            import jsonschema_rs

            validator = jsonschema_rs.validator_for(self.schema(rel), registry=self._registry(rel))
            self._validators[rel] = validator
        return validator

    # -- checking --------------------------------------------------------------------
    def check(self, doc: SourceDoc, rel: str) -> Iterator[Finding]:
        validator = self.validator(rel)
        if not validator.is_valid(doc.data):
            for n, error in enumerate(validator.iter_errors(doc.data)):
                if n >= MAX_ERRORS_PER_DOC:
                    break
                yield from self._translate(doc, error)
        yield from self._deprecated_fields(doc, rel)

    def _translate(self, doc: SourceDoc, error: Any) -> Iterator[Finding]:
        path = _real_path(doc.data, error.instance_path)
        kind = type(error.kind).__name__
        where = error.absolute_keyword_location or ""
        if kind == "AdditionalProperties":
            allowed = sorted(self._object_at(_parent(where)).get("properties", {}))
            for name in error.kind.unexpected:
                message = f"unknown field {name!r}"
                close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
                if close:
                    message += f"; did you mean {close[0]!r}?"
                elif allowed and len(allowed) <= 12:
                    message += f" (known fields: {', '.join(allowed)})"
                yield unknown_field.RULE.at(doc, (*path, name), message, key=True)
        elif kind == "Required":
            name = error.kind.property
            yield violation.RULE.at(doc, (*path, name), f"missing required field {name!r}")
        elif any(d in where for d in DURATION_DEFS):
            yield duration.RULE.at(doc, path, duration.describe(error.instance, where))
        else:
            yield violation.RULE.at(doc, path, self._message(kind, error, where))

    def _message(self, kind: str, error: Any, where: str) -> str:
        value = error.instance
        shown = _show(value)
        if kind == "Type":
            expected = " or ".join(str(t) for t in error.kind.types)
            got = _JSON_TYPES.get(type(value), type(value).__name__)
            return f"expected {expected}, got {got}" + ("" if value is None else f" {shown}")
        if kind == "Enum" or kind == "Constant":
            options = list(getattr(error.kind, "options", None) or [getattr(error.kind, "expected_value", "")])
            listed = ", ".join(str(o) for o in options)
            message = f"{shown} is not one of: {listed}"
            if isinstance(value, str):
                exact = [o for o in options if isinstance(o, str) and o.lower() == value.lower()]
                if exact:
                    return f"{message}; did you mean {exact[0]!r}? (values are case-sensitive)"
            return message
        if kind in ("AnyOf", "OneOfNotValid"):
            branches = self._subschema(where)
            required = [b.get("required") for b in branches] if isinstance(branches, list) else []
            if required and all(isinstance(r, list) and len(r) == 1 for r in required):
                names = ", ".join(repr(r[0]) for r in required)
                return f"one of the fields {names} is required"
        if kind in ("Pattern", "PropertyNames"):
            title = self._object_at(_parent(where)).get("title")
            if title:
                return f"{shown} is not a valid {title}"
        return str(error.message)

    def _object_at(self, location: str) -> dict[str, Any]:
        node = self._subschema(location)
        return node if isinstance(node, dict) else {}

    def _subschema(self, location: str) -> Any:
        """The schema object at an absolute keyword location ``urn:meshctl:x.json#/a/b``."""
        base, _, pointer = location.partition("#")
        if not base.startswith(URN):
            return {}
        node: Any = self.schema(base[len(URN):])
        for token in pointer.split("/")[1:]:
            token = unquote(token).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict):
                node = node.get(token, {})
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return {}
        return node if isinstance(node, (dict, list)) else {}

    # -- Gateway API's experimental channel ---------------------------------------------
    def experimental_fields(self, doc: SourceDoc, rel: str) -> Iterator[Finding]:
        """Fields (and enum values) a standard-channel cluster does not serve."""
        for pattern, _ in self.annotated(rel, "x-meshctl-channel"):
            for path in _match(doc.data, pattern):
                yield experimental.RULE.at(
                    doc, path, f"{format_path(path)} is served only by the experimental channel", key=True
                )
        for pattern, values in self.annotated(rel, "x-meshctl-experimental-values"):
            experimental_values = set(json.loads(values))
            for path in _match(doc.data, pattern):
                value = _value_at(doc.data, path)
                if value in experimental_values:
                    yield experimental.RULE.at(
                        doc, path, f"{value!r} is served only by the experimental channel"
                    )

    # -- fields the schema marks as deprecated -----------------------------------------
    def _deprecated_fields(self, doc: SourceDoc, rel: str) -> Iterator[Finding]:
        for pattern, advice in self.annotated(rel, "x-meshctl-deprecated"):
            for path in _match(doc.data, pattern):
                yield deprecated_field.RULE.at(
                    doc, path, f"{format_path(path)} is deprecated: {advice}", key=True
                )

    def annotated(self, rel: str, keyword: str) -> list[tuple[tuple[str, ...], str]]:
        """Field path patterns (``*`` for any item or map key) whose schema carries ``keyword``."""
        key = f"{rel}\0{keyword}"
        found = self._annotated.get(key)
        if found is None:
            found = []
            self._collect(self.schema(rel), URN + rel, (), keyword, found, frozenset())
            self._annotated[key] = found
        return found

    def _collect(
        self,
        schema: Any,
        base: str,
        path: tuple[str, ...],
        keyword: str,
        out: list[tuple[tuple[str, ...], str]],
        refs: frozenset[str],
    ) -> None:
        if not isinstance(schema, dict) or len(path) > 24:
            return
        if keyword in schema and path:
            value = schema[keyword]
            out.append((path, json.dumps(value) if isinstance(value, list) else str(value)))
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = ref if ref.startswith(URN) else base.partition("#")[0] + ref
            if target not in refs:
                self._collect(self._object_at(target), target, path, keyword, out, refs | {target})
        for name, sub in (schema.get("properties") or {}).items():
            self._collect(sub, base, (*path, name), keyword, out, refs)
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                self._collect(schema[key], base, (*path, "*"), keyword, out, refs)


def _match(data: Any, pattern: tuple[str, ...], prefix: FieldPath = ()) -> Iterator[FieldPath]:
    if not pattern:
        yield prefix
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        if isinstance(data, list):
            for i, item in enumerate(data):
                yield from _match(item, rest, (*prefix, i))
        elif isinstance(data, dict):
            for k, item in data.items():
                yield from _match(item, rest, (*prefix, k))
    elif isinstance(data, dict) and head in data:
        yield from _match(data[head], rest, (*prefix, head))


def _value_at(data: Any, path: FieldPath) -> Any:
    for part in path:
        data = data[part]
    return data


def _real_path(data: Any, parts: list[Any]) -> FieldPath:
    """The engine reports map keys like ``"8080"`` as integers; give them back as keys."""
    path: list[str | int] = []
    for part in parts:
        if isinstance(data, dict):
            key = str(part)
            path.append(key)
            data = data.get(key)
        elif isinstance(data, list) and isinstance(part, int):
            path.append(part)
            data = data[part] if 0 <= part < len(data) else None
        else:
            path.append(part)
            data = None
    return tuple(path)


def _parent(location: str) -> str:
    return location.rsplit("/", 1)[0]


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
