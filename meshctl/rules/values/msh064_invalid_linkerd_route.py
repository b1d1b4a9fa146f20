"""A Linkerd HTTPRoute (policy.linkerd.io) has a match or redirect Linkerd rejects.

## Why it matters
Linkerd's policy controller converts every route it admits, and rejects or drops
one whose

- `Exact` or `PathPrefix` path `value` does not start with `/` (it could never
  match a request path);
- `RegularExpression` path, header or query parameter value is not a valid regular
  expression (Linkerd compiles them with Rust's regex crate: RE2 syntax, no
  lookaround or backreferences);
- `requestRedirect.path.type` does not say which of `replaceFullPath` and
  `replacePrefixMatch` is set (the field named by `type` must be the one set);
- match lists one header or query parameter name twice (the API server refuses
  repeated names; header names are case-insensitive, so `X-Id` and `x-id` are the
  same header and the second entry is ignored), or a header modifier sets or adds
  one header twice.

## Example
```yaml
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
spec:
  rules:
  - matches:
    - path: {type: PathPrefix, value: api}          # not an absolute path
      headers:
      - {type: RegularExpression, name: x-user, value: "(?i)bob(?=@)"}   # lookahead
```

## Fix
Start paths with `/`, write regular expressions in RE2 syntax, set the redirect
path field that `type` names, and keep one entry per header or parameter name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from meshctl.diagnostics import FieldPath, Finding, Related, Severity, format_path
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._linkerd import regex_problem, shown
from meshctl.rules.values._walk import find, mapping

RULE = Rule(
    "MSH064",
    "invalid-linkerd-route",
    Severity.ERROR,
    __doc__,
    kinds=frozenset({"policy.linkerd.io/HTTPRoute"}),
)

REGEX = "RegularExpression"
PATH_FIELDS = {"ReplaceFullPath": "replaceFullPath", "ReplacePrefixMatch": "replacePrefixMatch"}
MODIFIERS = ("requestHeaderModifier", "responseHeaderModifier")
FILTERS = ("spec.rules[].filters[]", "spec.rules[].backendRefs[].filters[]")


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    for path, match in find(doc.data, "spec.rules[].matches[]"):
        if isinstance(match, dict):
            yield from _path(doc, (*path, "path"), mapping(match.get("path")))
            yield from _values(doc, path, match, "headers", "header", fold=True)
            yield from _values(doc, path, match, "queryParams", "query parameter", fold=False)
    for pattern in FILTERS:
        for path, item in find(doc.data, pattern):
            if isinstance(item, dict):
                redirect = mapping(mapping(item.get("requestRedirect")).get("path"))
                yield from _redirect(doc, (*path, "requestRedirect", "path"), redirect)
                for modifier in MODIFIERS:
                    config = mapping(item.get(modifier))
                    for field in ("set", "add"):
                        where = (*path, modifier, field)
                        yield from _repeated(doc, where, config.get(field), "header", fold=False)


def _path(doc: SourceDoc, path: FieldPath, match: dict[str, Any]) -> Iterator[Finding]:
    kind, value = match.get("type", "PathPrefix"), match.get("value")
    if not isinstance(value, str):
        return
    if kind == REGEX:
        problem = regex_problem(value)
        if problem:
            yield RULE.at(doc, (*path, "value"), f"path regex {shown(value)} is invalid: {problem}")
    elif kind in ("Exact", "PathPrefix") and not value.startswith("/"):
        yield RULE.at(
            doc,
            (*path, "value"),
            f"{kind} path {shown(value)} must start with '/' (an absolute path)",
        )


def _values(
    doc: SourceDoc, path: FieldPath, match: dict[str, Any], field: str, what: str, *, fold: bool
) -> Iterator[Finding]:
    entries = match.get(field)
    for entry_path, entry in find(entries, "[]", (*path, field)):
        if (
            isinstance(entry, dict)
            and entry.get("type") == REGEX
            and isinstance(entry.get("value"), str)
        ):
            problem = regex_problem(entry["value"])
            if problem:
                message = f"{what} regex {shown(entry['value'])} is invalid: {problem}"
                yield RULE.at(doc, (*entry_path, "value"), message)
    yield from _repeated(doc, (*path, field), entries, what, fold=fold)


def _repeated(
    doc: SourceDoc, path: FieldPath, entries: object, what: str, *, fold: bool
) -> Iterator[Finding]:
    """Entries of a list keyed by ``name`` that repeat a name (``fold``: ignoring case)."""
    if not isinstance(entries, list):
        return
    seen: dict[str, tuple[int, str]] = {}
    for index, entry in enumerate(entries):
        name = mapping(entry).get("name")
        if not isinstance(name, str):
            continue
        first, first_name = seen.setdefault(name.lower() if fold else name, (index, name))
        if first == index:
            continue
        if first_name == name:
            message = f"{what} {name!r} is listed twice; each name may appear once"
        else:
            message = (
                f"{what} {name!r} is the same as {first_name!r} (header names are "
                "case-insensitive); this entry is ignored"
            )
        first_path = (*path, first)
        yield RULE.finding(
            message,
            doc.locate((*path, index, "name")),
            doc.ref,
            related=(Related(f"first at {format_path(first_path)}", doc.locate(first_path)),),
        )


def _redirect(doc: SourceDoc, path: FieldPath, modifier: dict[str, Any]) -> Iterator[Finding]:
    kind = modifier.get("type")
    if not isinstance(kind, str) or kind not in PATH_FIELDS:
        return
    wanted = PATH_FIELDS[kind]
    other = next(field for field in PATH_FIELDS.values() if field != wanted)
    if modifier.get(other) is not None:
        yield RULE.at(
            doc,
            (*path, other),
            f"{other} is set but type is {kind}; type must name the field that is set",
            key=True,
        )
    elif modifier.get(wanted) is None:
        yield RULE.at(doc, (*path, wanted), f"type {kind} needs {wanted}")
