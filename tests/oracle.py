"""A test oracle: would the API server's structural schema (from the official CRD) accept a document?

Follows ../shared/reference/README.md: index CRDs by (group, version, kind), apply
schema defaults, turn the OpenAPI v3 structural schema into JSON Schema (nullable,
int-or-string, x-kubernetes-* dropped), close every object that lists properties
(strict field validation, not inside oneOf/anyOf/allOf/not), validate with Draft 7.
CEL rules are not evaluated: the oracle speaks for the structural schema only.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import CRDS

COMBINATORS = ("oneOf", "anyOf", "allOf", "not")


@cache
def _crds(channel: str = "experimental") -> dict[tuple[str, str, str], dict[str, Any]]:
    files = sorted((CRDS / "istio").glob("*.yaml")) + sorted((CRDS / "linkerd").glob("*.yaml"))
    files += sorted((CRDS / "gateway-api" / channel).glob("*.yaml"))
    table: dict[tuple[str, str, str], dict[str, Any]] = {}
    for path in files:
        for crd in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                if not version.get("served", True):
                    continue
                table[(spec["group"], version["name"], spec["names"]["kind"])] = version["schema"]["openAPIV3Schema"]
    return table


def has_crd(api_version: str, kind: str) -> bool:
    group, _, version = api_version.rpartition("/")
    return (group, version, kind) in _crds()


def _convert(schema: Any, strict: bool, in_combinator: bool = False) -> Any:
    if isinstance(schema, list):
        return [_convert(s, strict, in_combinator) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key.startswith("x-kubernetes-") or key in ("nullable", "default", "description", "format"):
            continue
        if key in COMBINATORS:
            out[key] = _convert(value, strict, True)
        elif key in ("properties", "patternProperties", "definitions"):
            out[key] = {k: _convert(v, strict, in_combinator) for k, v in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = _convert(value, strict, in_combinator)
        else:
            out[key] = value
    if schema.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if (
        strict
        and not in_combinator
        and "properties" in out
        and "additionalProperties" not in out
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def _apply_defaults(schema: Any, value: Any) -> Any:
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if name not in value and isinstance(sub, dict) and "default" in sub:
                value[name] = copy.deepcopy(sub["default"])
            if name in value:
                value[name] = _apply_defaults(sub, value[name])
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_apply_defaults(schema["items"], v) for v in value]
    return value


@cache
def _validator(api_version: str, kind: str, strict: bool) -> Any:
    import jsonschema

    group, _, version = api_version.rpartition("/")
    schema = copy.deepcopy(_crds()[(group, version, kind)])
    props = schema.setdefault("properties", {})
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    props["metadata"] = {"type": "object"}  # ObjectMeta is checked by the API server, not the CRD
    return jsonschema.Draft7Validator(_convert(schema, strict))


def crd_errors(doc: dict[str, Any], *, strict: bool = True) -> list[str]:
    """The structural-schema errors of ``doc`` (empty: the API server's schema accepts it)."""
    api_version, kind = doc["apiVersion"], doc["kind"]
    group, _, version = api_version.rpartition("/")
    raw = _crds()[(group, version, kind)]
    data = _apply_defaults(raw, copy.deepcopy(doc))
    data.pop("status", None)
    return [
        "/".join(str(p) for p in e.absolute_path) + ": " + e.message
        for e in _validator(api_version, kind, strict).iter_errors(data)
    ]


def crd_files() -> list[Path]:
    return sorted(CRDS.rglob("*.yaml"))
