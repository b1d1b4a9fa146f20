"""A route has more than 128 matches in total.

## Why it matters
A route may have 16 rules of up to 64 matches each, but the API server caps the
total across all rules at 128 to bound the cost of validating and programming it.
In an HTTPRoute a rule without `matches` counts as one (it defaults to a PathPrefix
`/` match); in a GRPCRoute it counts as none.

## Example
```yaml
rules:
- matches: [...]   # 64 matches
- matches: [...]   # 64 matches
- backendRefs: [...]  # no matches: the default PathPrefix "/" is the 129th
```

## Fix
Split the route into two routes, or merge matches (a PathPrefix or a regular
expression can replace a list of exact paths).
"""

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._gateway_api import kinds, rules

RULE = Rule(
    "MSH047", "too-many-matches", Severity.ERROR, __doc__, kinds=kinds("HTTPRoute", "GRPCRoute")
)

LIMIT = 128


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    # HTTPRoute defaults an absent `matches` to [{path: {type: PathPrefix, value: /}}].
    absent = 1 if doc.kind == "HTTPRoute" else 0
    total = 0
    for _, rule in rules(doc):
        matches = rule.get("matches")
        if isinstance(matches, list):
            total += len(matches)
        elif matches is None:
            total += absent
    if total > LIMIT:
        yield RULE.at(
            doc,
            ("spec", "rules"),
            f"the rules have {total} matches in total; a {doc.kind} may have at most {LIMIT}",
            key=True,
        )
