"""A GRPCRoute method match is empty or names an impossible service or method.

## Why it matters
A method match selects calls by `service` (`package.Service`) and `method`. The API
server rejects a method match that sets neither, and an `Exact` match (the
default type) whose service is not a dotted protobuf name or whose method is not a
protobuf identifier: no call could ever carry them. A `RegularExpression` match
that RE2 cannot compile makes the route fail to program.

## Example
```yaml
matches:
- method:
    service: helloworld/Greeter   # a dotted name: helloworld.Greeter
    method: SayHello
```

## Fix
Write the fully qualified service name with dots (`helloworld.Greeter`) and the bare
method name (`SayHello`); use `type: RegularExpression` with RE2 syntax to match
several.
"""

import re
from collections.abc import Iterator
from typing import Any

from meshctl.diagnostics import FieldPath, Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._gateway_api import entries, has, kinds, rules, text
from meshctl.rules.values.msh022_invalid_regex import regex_problem

RULE = Rule(
    "MSH051", "invalid-grpc-method-match", Severity.ERROR, __doc__, kinds=kinds("GRPCRoute")
)

SERVICE = re.compile(r"\.?[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*")
METHOD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
EXACT = {
    "service": (SERVICE, "a dotted protobuf service name like helloworld.Greeter"),
    "method": (METHOD, "a protobuf method name like SayHello"),
}


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    for rule_path, rule in rules(doc):
        for index, match in entries(rule.get("matches")):
            method = match.get("method")
            if isinstance(method, dict):
                yield from _method(doc, (*rule_path, "matches", index, "method"), method)


def _method(doc: SourceDoc, path: FieldPath, match: dict[str, Any]) -> Iterator[Finding]:
    if not has(match, "service") and not has(match, "method"):
        yield RULE.at(doc, path, "method match sets neither service nor method; set one or both")
        return
    kind = text(match.get("type"), "Exact")
    for field in ("service", "method"):
        value = match.get(field)
        if not isinstance(value, str):
            continue
        if kind == "Exact":
            pattern, expected = EXACT[field]
            if not pattern.fullmatch(value):
                yield RULE.at(doc, (*path, field), f"{field} {value!r} is not {expected}")
        elif kind == "RegularExpression" and value:
            error = regex_problem(value)
            if error:
                yield RULE.at(doc, (*path, field), f"{field} regex {value!r} is invalid: {error}")
