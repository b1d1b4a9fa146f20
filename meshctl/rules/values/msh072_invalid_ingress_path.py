"""An Ingress path is not an absolute, normalized path where its pathType needs one.

## Why it matters
The API server rejects the Ingress when an `Exact` or `Prefix` path does not start
with `/`, contains `//`, `/./`, `/../` or an encoded slash (`%2f`), or ends with `/.`
or `/..` (normalization would change such a path, so it could never match what the
client sent), and when a non-empty `ImplementationSpecific` path does not start with `/`.

## Example
```yaml
kind: Ingress
spec:
  rules:
  - http:
      paths:
      - path: api/v1            # no leading slash
        pathType: Prefix
        backend: {service: {name: api, port: {number: 8080}}}
```

## Fix
Write the path the client sends, after normalization: `/api/v1`.
"""

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._ingress import INGRESS_KINDS, path_type, paths

RULE = Rule("MSH072", "invalid-ingress-path", Severity.ERROR, __doc__, kinds=INGRESS_KINDS)

FORBIDDEN = ("//", "/./", "/../", "%2f", "%2F")
FORBIDDEN_ENDINGS = ("/..", "/.")


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    for where, item in paths(doc):
        value = item.get("path", "")
        kind = path_type(doc, item)
        if not isinstance(value, str) or kind not in ("Exact", "Prefix", "ImplementationSpecific"):
            continue
        problem = None
        if kind == "ImplementationSpecific":
            if value and not value.startswith("/"):
                problem = "must be an absolute path starting with '/' (or empty, for every path)"
        else:
            problem = path_problem(value)
        if problem:
            yield RULE.at(doc, (*where, "path"), f"{kind} path {value!r} {problem}")


def path_problem(value: str) -> str | None:
    """What the API server finds wrong with an Exact or Prefix path, or None."""
    if not value.startswith("/"):
        return "must be an absolute path starting with '/'"
    for part in FORBIDDEN:
        if part in value:
            return f"must not contain {part!r}"
    for ending in FORBIDDEN_ENDINGS:
        if value.endswith(ending):
            return f"must not end with {ending!r}"
    return None
