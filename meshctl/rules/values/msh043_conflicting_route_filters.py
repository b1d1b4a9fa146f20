"""A route rule's filters conflict with each other, with its backends or with its matches.

## Why it matters
The API server rejects these HTTPRoute and GRPCRoute rules:

- a filter type repeated in one `filters` list (CORS, RequestHeaderModifier,
  ResponseHeaderModifier, RequestRedirect or URLRewrite; merge them instead);
- RequestRedirect and URLRewrite in the same list: a redirect answers the client,
  a rewrite forwards the request, a request cannot do both;
- a RequestRedirect filter on a rule that also has `backendRefs`: nothing is
  forwarded to them;
- a `ReplacePrefixMatch` path modifier on a rule without exactly one match with a
  `PathPrefix` path: it replaces the matched prefix, so there must be exactly one.

## Example
```yaml
rules:
- matches:
  - path: {type: PathPrefix, value: /old}
  - path: {type: PathPrefix, value: /legacy}
  filters:
  - type: URLRewrite
    urlRewrite:
      path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}  # which prefix?
```

## Fix
Merge repeated filters; split redirects and rewrites into separate rules; drop the
backendRefs of a redirecting rule; give a `ReplacePrefixMatch` rule a single
PathPrefix match (one rule per prefix).
"""

from collections.abc import Iterator
from typing import Any

from meshctl.diagnostics import FieldPath, Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._gateway_api import (
    entries,
    filter_lists,
    kinds,
    mapping,
    repeated,
    rule_filters,
    rules,
    text,
)

RULE = Rule(
    "MSH043",
    "conflicting-route-filters",
    Severity.ERROR,
    __doc__,
    kinds=kinds("HTTPRoute", "GRPCRoute"),
)

# Filter types a list may hold once, by route kind.
ONCE = {
    "HTTPRoute": (
        "CORS",
        "RequestHeaderModifier",
        "ResponseHeaderModifier",
        "RequestRedirect",
        "URLRewrite",
    ),
    "GRPCRoute": ("RequestHeaderModifier", "ResponseHeaderModifier"),
}
EXCLUSIVE = {"RequestRedirect": "URLRewrite", "URLRewrite": "RequestRedirect"}
PATH_MODIFIERS = ("requestRedirect", "urlRewrite")


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    once = ONCE.get(doc.kind, ())
    for path, items in filter_lists(doc):
        yield from _list(doc, path, items, once)
    if doc.kind == "HTTPRoute":
        for path, rule in rules(doc):
            yield from _redirect_with_backends(doc, path, rule)
            yield from _replace_prefix_match(doc, path, rule)


def _list(
    doc: SourceDoc, path: FieldPath, items: list[Any], once: tuple[str, ...]
) -> Iterator[Finding]:
    first: dict[str, int] = {}
    for index, item in entries(items):
        kind = text(item.get("type"))
        if kind not in once:
            continue
        if kind in first:
            yield repeated(
                RULE,
                doc,
                (*path, index, "type"),
                f"filter {kind} is repeated in this list; merge the two into one",
                (*path, first[kind]),
            )
            continue
        first[kind] = index
        other = EXCLUSIVE.get(kind)
        if other in first:
            yield repeated(
                RULE,
                doc,
                (*path, index, "type"),
                f"filter {kind} cannot be combined with {other} in one list: a redirect "
                "answers the client, a rewrite forwards the request",
                (*path, first[other]),
            )


def _redirect_with_backends(
    doc: SourceDoc, path: FieldPath, rule: dict[str, Any]
) -> Iterator[Finding]:
    backends = rule.get("backendRefs")
    if not isinstance(backends, list) or not backends:
        return
    for index, item in entries(rule.get("filters")):
        if text(item.get("type")) == "RequestRedirect":
            yield RULE.at(
                doc,
                (*path, "filters", index, "type"),
                "a RequestRedirect rule answers with a redirect and forwards nothing, so it "
                f"cannot have backendRefs ({len(backends)} set); remove them or the redirect",
            )


def _replace_prefix_match(
    doc: SourceDoc, path: FieldPath, rule: dict[str, Any]
) -> Iterator[Finding]:
    problem = _not_one_prefix_match(rule)
    if problem is None:
        return
    for filter_path, item in rule_filters(path, rule):
        for modifier in PATH_MODIFIERS:
            path_type = mapping(mapping(item.get(modifier)).get("path")).get("type")
            if path_type == "ReplacePrefixMatch":
                yield RULE.at(
                    doc,
                    (*filter_path, modifier, "path", "type"),
                    "ReplacePrefixMatch replaces the matched path prefix, so the rule needs "
                    f"exactly one match, with a PathPrefix path; {problem}",
                )


def _not_one_prefix_match(rule: dict[str, Any]) -> str | None:
    """Why the rule has not exactly one PathPrefix match (CRD defaults applied), or None."""
    matches = rule.get("matches")
    if not isinstance(matches, list):
        return None  # absent: defaults to one PathPrefix "/" match
    if len(matches) != 1:
        return f"this rule has {len(matches)} matches"
    path_type = text(mapping(mapping(matches[0]).get("path")).get("type"), "PathPrefix")
    if path_type != "PathPrefix":
        return f"its only match has path type {path_type}"
    return None
