"""What the Gateway API value checks (MSH040-MSH058) share.

Shape-safe readers (the checks also run on documents the schema rejected, so every
value may have any type), walkers over route rules, filters and backend references,
and the CRD defaults the checks apply.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Hashable, Iterable, Iterator
from typing import Any

from meshctl.diagnostics import FieldPath, Finding, Related, format_path
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule

GROUP = "gateway.networking.k8s.io"

# CRD defaults.
DEFAULT_PARENT_GROUP = GROUP
DEFAULT_PARENT_KIND = "Gateway"
DEFAULT_BACKEND_GROUP = ""
DEFAULT_BACKEND_KIND = "Service"
DEFAULT_TLS_MODE = "Terminate"

Scalar = str | int | None


def kinds(*names: str) -> frozenset[str]:
    """``group/Kind`` keys for Gateway API kinds, as rules declare what they read."""
    return frozenset(f"{GROUP}/{name}" for name in names)


ROUTES = kinds("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute")
LISTENER_OWNERS = kinds("Gateway", "ListenerSet")


# -- shape-safe readers ------------------------------------------------------------------
def mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def entries(value: object) -> Iterator[tuple[int, dict[str, Any]]]:
    """The mappings of a list with their indices; anything else in it is skipped."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def spec(doc: SourceDoc) -> dict[str, Any]:
    return mapping(doc.data.get("spec"))


def has(obj: dict[str, Any], key: str) -> bool:
    """CEL's ``has()``: the field is present (a YAML null is dropped by the API server)."""
    return obj.get(key) is not None


def scalar(value: object) -> Scalar:
    """A value usable as part of an identity key: a string or an integer, else None."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return None


def value_or(obj: dict[str, Any], key: str, default: Scalar) -> Scalar:
    """A field's identity value, or its CRD default when it is absent."""
    value = obj.get(key)
    return default if value is None else scalar(value)


def text(value: object, default: str = "") -> str:
    return value if isinstance(value, str) else default


# -- route walkers -------------------------------------------------------------------------
def rules(doc: SourceDoc) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    for index, rule in entries(spec(doc).get("rules")):
        yield ("spec", "rules", index), rule


def filter_lists(doc: SourceDoc) -> Iterator[tuple[FieldPath, list[Any]]]:
    """Every ``filters`` list of a route: the rules' own and their backendRefs'."""
    for path, rule in rules(doc):
        if isinstance(rule.get("filters"), list):
            yield (*path, "filters"), rule["filters"]
        for index, ref in entries(rule.get("backendRefs")):
            if isinstance(ref.get("filters"), list):
                yield (*path, "backendRefs", index, "filters"), ref["filters"]


def filters(doc: SourceDoc) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    for path, rule in rules(doc):
        yield from rule_filters(path, rule)


def rule_filters(
    path: FieldPath, rule: dict[str, Any]
) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    """The filters of the rule at ``path``: its own, then its backendRefs'."""
    for index, item in entries(rule.get("filters")):
        yield (*path, "filters", index), item
    for ref_index, ref in entries(rule.get("backendRefs")):
        for index, item in entries(ref.get("filters")):
            yield (*path, "backendRefs", ref_index, "filters", index), item


# -- findings --------------------------------------------------------------------------------
def repeated(
    rule: Rule,
    doc: SourceDoc,
    path: FieldPath,
    message: str,
    first: FieldPath,
) -> Finding:
    """A finding on ``path`` with a note pointing at ``first``, the entry it repeats."""
    note = Related(f"first at {format_path(first)}", doc.locate(first))
    return rule.finding(message, doc.locate(path), doc.ref, related=(note,))


def same_target_conflicts(
    refs: Iterable[tuple[int, Hashable, tuple[tuple[str, Scalar], ...]]],
) -> Iterator[tuple[int, int, str | None]]:
    """Conflicts among references to one target, as the CRDs' parentRefs/targetRefs rules see them.

    Each reference is ``(index, target, ((section field, value or None), ...))``. When a
    target is named more than once, every reference to it must set the same section
    fields, and their values must differ. Yields ``(index, earlier index, field)``:
    ``field`` is the section field one of them sets and the other does not, or None when
    the two select the same section.
    """
    seen: dict[Hashable, list[tuple[int, tuple[tuple[str, Scalar], ...]]]] = {}
    for index, target, sections in refs:
        earlier = seen.setdefault(target, [])
        for first, first_sections in earlier:
            mixed = [
                name
                for (name, value), (_, other) in zip(sections, first_sections)
                if (value is None) != (other is None)
            ]
            if mixed:
                yield index, first, mixed[0]
                break
            if sections == first_sections:
                yield index, first, None
                break
        earlier.append((index, sections))


def is_ip(value: str) -> bool:
    """An IPv4 or IPv6 address in textual form."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
