"""A route filter's settings do not match its type, or contradict each other.

## Why it matters
A filter's `type` says which one of its configuration blocks applies, and a few
blocks choose between fields the same way. The API server rejects an HTTPRoute or
GRPCRoute filter when:

- the block named by `type` is missing, or another block is set
  (`type: URLRewrite` with `requestRedirect:`);
- a redirect or rewrite `path` lacks the field its `type` names (`replaceFullPath`
  for ReplaceFullPath, `replacePrefixMatch` for ReplacePrefixMatch) or sets the other;
- `requestMirror` sets both `percent` and `fraction`, or a fraction above 1
  (`denominator` defaults to 100);
- a CORS `allowOrigins`, `allowMethods` or `allowHeaders` list has `*` and more;
- `externalAuth` lacks the block its `protocol` names (`grpc` or `http`) or sets
  the other.

## Example
```yaml
filters:
- type: URLRewrite
  requestRedirect:          # the URLRewrite filter reads urlRewrite
    path: {type: ReplaceFullPath, replaceFullPath: /v2}
```

## Fix
Name the block after the type (`urlRewrite:`), give path modifiers the field of
their type, keep one of `percent` and `fraction`, and let `*` stand alone.
"""

from collections.abc import Iterator
from typing import Any

from meshctl.diagnostics import FieldPath, Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._gateway_api import filters, has, kinds, mapping, text

RULE = Rule(
    "MSH056",
    "invalid-filter-config",
    Severity.ERROR,
    __doc__,
    kinds=kinds("HTTPRoute", "GRPCRoute"),
)

GRPC_CONFIG = {
    "RequestHeaderModifier": "requestHeaderModifier",
    "ResponseHeaderModifier": "responseHeaderModifier",
    "RequestMirror": "requestMirror",
    "ExtensionRef": "extensionRef",
}
HTTP_CONFIG = {
    **GRPC_CONFIG,
    "RequestRedirect": "requestRedirect",
    "URLRewrite": "urlRewrite",
    "CORS": "cors",
    "ExternalAuth": "externalAuth",
}
CONFIG = {"HTTPRoute": HTTP_CONFIG, "GRPCRoute": GRPC_CONFIG}
PATH_FIELDS = {"ReplaceFullPath": "replaceFullPath", "ReplacePrefixMatch": "replacePrefixMatch"}
AUTH_FIELDS = {"GRPC": "grpc", "HTTP": "http"}
CORS_LISTS = ("allowOrigins", "allowMethods", "allowHeaders")
DEFAULT_DENOMINATOR = 100


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    config = CONFIG.get(doc.kind, {})
    for path, item in filters(doc):
        yield from _one_block(doc, path, item, "type", config, "filter")
        for name in config.values():
            block = item.get(name)
            if isinstance(block, dict):
                yield from _block(doc, (*path, name), name, block)


def _block(doc: SourceDoc, path: FieldPath, name: str, block: dict[str, Any]) -> Iterator[Finding]:
    if name in ("requestRedirect", "urlRewrite"):
        modifier = block.get("path")
        if isinstance(modifier, dict):
            yield from _one_block(doc, (*path, "path"), modifier, "type", PATH_FIELDS, "path")
    elif name == "requestMirror":
        yield from _mirror(doc, path, block)
    elif name == "cors":
        yield from _cors(doc, path, block)
    elif name == "externalAuth":
        yield from _one_block(doc, path, block, "protocol", AUTH_FIELDS, "externalAuth")


def _one_block(
    doc: SourceDoc,
    path: FieldPath,
    obj: dict[str, Any],
    selector: str,
    fields: dict[str, str],
    what: str,
) -> Iterator[Finding]:
    """``obj[selector]`` picks one of ``fields``: that field must be set, and no other."""
    chosen = text(obj.get(selector))
    wanted = fields.get(chosen)
    if wanted is None:
        return  # an unknown or missing selector is a schema violation
    others = [name for name in fields.values() if name != wanted and has(obj, name)]
    if not has(obj, wanted):
        instead = f", not {' or '.join(others)}" if others else ""
        yield RULE.at(doc, (*path, selector), f"{what} {selector} {chosen} needs {wanted}{instead}")
        return
    for name in others:
        yield RULE.at(
            doc,
            (*path, name),
            f"{name} does not apply to {what} {selector} {chosen}, which uses {wanted}; remove it",
            key=True,
        )


def _mirror(doc: SourceDoc, path: FieldPath, mirror: dict[str, Any]) -> Iterator[Finding]:
    if has(mirror, "percent") and has(mirror, "fraction"):
        yield RULE.at(
            doc,
            (*path, "fraction"),
            "requestMirror sets both percent and fraction; keep one",
            key=True,
        )
    fraction = mapping(mirror.get("fraction"))
    numerator = fraction.get("numerator")
    denominator = fraction.get("denominator", DEFAULT_DENOMINATOR)
    if isinstance(numerator, int) and isinstance(denominator, int) and numerator > denominator:
        yield RULE.at(
            doc,
            (*path, "fraction", "numerator"),
            f"mirror fraction {numerator}/{denominator} is more than all requests; the "
            "numerator must be at most the denominator",
        )


def _cors(doc: SourceDoc, path: FieldPath, cors: dict[str, Any]) -> Iterator[Finding]:
    for name in CORS_LISTS:
        values = cors.get(name)
        if isinstance(values, list) and "*" in values and len(values) > 1:
            yield RULE.at(
                doc,
                (*path, name),
                f"cors.{name} lists '*' with other values; '*' allows everything and must "
                "be the only entry",
                key=True,
            )
