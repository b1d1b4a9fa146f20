"""A header or query parameter name appears twice in one list.

## Why it matters
Header matches, query parameter matches and header modifier `set`/`add` lists are
keyed by name: the API server rejects a list that repeats a name. Header names are
case-insensitive, so `X-Canary` and `x-canary` are the same header too: the API
server lets that through, but implementations use the first entry and ignore the
other, and a `remove` list naming one header twice is a leftover. (Query parameter
names are case-sensitive.)

## Example
```yaml
matches:
- headers:
  - name: x-canary
    value: "true"
  - name: X-Canary      # the same header: this entry is ignored
    value: "yes"
```

## Fix
Keep one entry per name. To match several values of one header, use a
`RegularExpression` match or separate `matches` entries.
"""

from collections.abc import Iterator

from meshctl.diagnostics import FieldPath, Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._gateway_api import entries, filters, kinds, mapping, repeated, rules

RULE = Rule(
    "MSH049",
    "duplicate-header-name",
    Severity.ERROR,
    __doc__,
    kinds=kinds("HTTPRoute", "GRPCRoute"),
)

MODIFIERS = ("requestHeaderModifier", "responseHeaderModifier")


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    for rule_path, rule in rules(doc):
        for index, match in entries(rule.get("matches")):
            path = (*rule_path, "matches", index)
            yield from _named(doc, (*path, "headers"), match.get("headers"), "header", fold=True)
            yield from _named(
                doc, (*path, "queryParams"), match.get("queryParams"), "query parameter", fold=False
            )
    for filter_path, item in filters(doc):
        for modifier in MODIFIERS:
            config = mapping(item.get(modifier))
            path = (*filter_path, modifier)
            yield from _named(doc, (*path, "set"), config.get("set"), "header", fold=True)
            yield from _named(doc, (*path, "add"), config.get("add"), "header", fold=True)
            yield from _removed(doc, (*path, "remove"), config.get("remove"))


def _named(
    doc: SourceDoc, path: FieldPath, items: object, what: str, *, fold: bool
) -> Iterator[Finding]:
    """Entries of a list keyed by ``name``; ``fold`` compares names case-insensitively."""
    seen: dict[str, tuple[int, str]] = {}
    for index, item in entries(items):
        name = item.get("name")
        if not isinstance(name, str):
            continue
        key = name.lower() if fold else name
        if key not in seen:
            seen[key] = (index, name)
            continue
        first, first_name = seen[key]
        if name == first_name:
            message = f"{what} {name!r} is listed twice; names in this list must be unique"
        else:
            message = (
                f"{what} {name!r} is the same as {first_name!r} (header names are "
                "case-insensitive); only the first entry is used"
            )
        yield repeated(RULE, doc, (*path, index, "name"), message, (*path, first))


def _removed(doc: SourceDoc, path: FieldPath, items: object) -> Iterator[Finding]:
    """Header names in a ``remove`` list that differ only in case (exact repeats are a
    schema violation already)."""
    if not isinstance(items, list):
        return
    seen: dict[str, tuple[int, str]] = {}
    for index, name in enumerate(items):
        if not isinstance(name, str):
            continue
        first = seen.setdefault(name.lower(), (index, name))
        if first[0] != index and first[1] != name:
            yield repeated(
                RULE,
                doc,
                (*path, index),
                f"header {name!r} is the same as {first[1]!r} (header names are "
                "case-insensitive); remove it once",
                (*path, first[0]),
            )
