"""Two rules of a route have the same name.

## Why it matters
A rule `name` identifies the rule to policies (`targetRefs[].sectionName`) and in
status, so it must be unique within the route; the API server rejects a route whose
rules share a name.

## Example
```yaml
rules:
- name: api
  matches: [{path: {value: /api}}]
  backendRefs: [{name: api, port: 8080}]
- name: api               # again
  matches: [{path: {value: /api/v2}}]
  backendRefs: [{name: api-v2, port: 8080}]
```

## Fix
Rename one of the rules (`api-v2`), or leave the name out where nothing refers to it.
"""

from collections.abc import Iterator

from meshctl.diagnostics import FieldPath, Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._gateway_api import ROUTES, repeated, rules, scalar

RULE = Rule("MSH048", "duplicate-rule-name", Severity.ERROR, __doc__, kinds=ROUTES)


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    names: dict[str | int, FieldPath] = {}
    for path, rule in rules(doc):
        name = scalar(rule.get("name"))
        if name is None:
            continue
        if name in names:
            yield repeated(
                RULE,
                doc,
                (*path, "name"),
                f"rule name {name!r} is used twice; rule names must be unique within a route",
                names[name],
            )
        else:
            names[name] = path
