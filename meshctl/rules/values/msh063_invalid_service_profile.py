"""A ServiceProfile route or response class has a condition Linkerd rejects.

## Why it matters
Linkerd's ServiceProfile validating webhook checks what the CRD schema cannot and
rejects the profile when:

- `pathRegex` is not a valid regular expression (the webhook compiles it with Go's
  regexp and the proxy with Rust's regex crate: RE2 syntax, no lookaround or
  backreferences);
- a condition object (`condition`, or an entry of `all`/`any`, or a `not`) sets no
  field at all, so it would match nothing meaningful;
- a response `status` range has a `min` or `max` below 100, or `max` below `min`
  (0 means unset);
- a request condition's `not` is a list: Linkerd reads it as one condition. At the
  top of a route's `condition` the CRD, on the contrary, takes only a list, so a
  `not` there is refused either way; nested under `all` or `any` it works.

## Example
```yaml
spec:
  routes:
  - name: GET /api/list
    condition:
      method: GET
      pathRegex: /api/(?!admin).*       # lookahead is not RE2
    responseClasses:
    - condition:
        status: {min: 500, max: 404}    # max below min
      isFailure: true
```

## Fix
Rewrite the regex in RE2 syntax (here `/api/list`, or list the allowed paths), give
every condition at least one field, write status ranges as `min <= max`, both
between 100 and 599, and negate as `all: [{not: {...}}]`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from meshctl.diagnostics import FieldPath, Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._linkerd import listed, regex_problem, shown
from meshctl.rules.values._walk import find, number, present

RULE = Rule(
    "MSH063",
    "invalid-service-profile",
    Severity.ERROR,
    __doc__,
    kinds=frozenset({"linkerd.io/ServiceProfile"}),
)

REQUEST_FIELDS = ("all", "any", "not", "pathRegex", "method")
RESPONSE_FIELDS = ("all", "any", "not", "status")
MIN_STATUS = 100
# Conditions nest; anything deeper than this is not a profile anyone wrote (or is a
# YAML alias that refers to itself).
MAX_DEPTH = 32


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    for path, condition in find(doc.data, "spec.routes[].condition"):
        yield from _request(doc, path, condition, 0)
    for path, condition in find(doc.data, "spec.routes[].responseClasses[].condition"):
        yield from _response(doc, path, condition, 0)


def _request(doc: SourceDoc, path: FieldPath, condition: Any, depth: int) -> Iterator[Finding]:
    if not isinstance(condition, dict) or depth > MAX_DEPTH:
        return
    yield from _empty(doc, path, condition, REQUEST_FIELDS)
    pattern = condition.get("pathRegex")
    if isinstance(pattern, str):
        problem = regex_problem(pattern)
        if problem:
            yield RULE.at(
                doc, (*path, "pathRegex"), f"pathRegex {shown(pattern)} is invalid: {problem}"
            )
    negated = condition.get("not")
    if negated is not None:
        problem = _negation_problem(negated, top=depth == 0)
        if problem:
            yield RULE.at(doc, (*path, "not"), problem, key=True)
    if isinstance(negated, list):
        for index, item in enumerate(negated):
            yield from _request(doc, (*path, "not", index), item, depth + 1)
    else:
        yield from _request(doc, (*path, "not"), negated, depth + 1)
    for combinator in ("all", "any"):
        for item_path, item in find(condition, f"{combinator}[]", path):
            yield from _request(doc, item_path, item, depth + 1)


def _negation_problem(negated: object, *, top: bool) -> str | None:
    """Why Linkerd refuses a request condition's ``not``, or None.

    The CRD types the ``not`` of a route's top-level condition as a list (and leaves
    nested conditions untyped), while Linkerd reads every ``not`` as one condition.
    """
    if top:
        return (
            "a not at the top of a route condition is always rejected: the CRD takes only a "
            "list there and Linkerd only a single condition; nest it, as all: [{not: ...}]"
        )
    if isinstance(negated, list):
        return (
            "not is a list, but Linkerd reads it as a single condition and rejects the "
            "profile; write not: {any: [...]} to negate several conditions"
        )
    return None


def _response(doc: SourceDoc, path: FieldPath, condition: Any, depth: int) -> Iterator[Finding]:
    if not isinstance(condition, dict) or depth > MAX_DEPTH:
        return
    yield from _empty(doc, path, condition, RESPONSE_FIELDS)
    status = condition.get("status")
    if isinstance(status, dict):
        yield from _status(doc, (*path, "status"), status)
    yield from _response(doc, (*path, "not"), condition.get("not"), depth + 1)
    for combinator in ("all", "any"):
        for item_path, item in find(condition, f"{combinator}[]", path):
            yield from _response(doc, item_path, item, depth + 1)


def _empty(
    doc: SourceDoc, path: FieldPath, condition: dict[str, Any], fields: tuple[str, ...]
) -> Iterator[Finding]:
    # A condition with only unknown keys has a misspelt field the schema reports (MSH011).
    if not any(present(condition, field) for field in fields) and set(condition) <= set(fields):
        yield RULE.at(
            doc, path, f"condition sets no field; it needs at least one of {listed(list(fields))}"
        )


def _status(doc: SourceDoc, path: FieldPath, status: dict[str, Any]) -> Iterator[Finding]:
    low, high = number(status.get("min")), number(status.get("max"))
    for field, value in (("min", low), ("max", high)):
        # 0 is unset; above 599 is the schema's to report.
        if value is not None and 0 < value < MIN_STATUS:
            yield RULE.at(
                doc,
                (*path, field),
                f"status {field} {value} is not an HTTP status; use 100 to 599 (or 0 for unset)",
            )
    if low and high and high < low:
        yield RULE.at(doc, (*path, "max"), f"status range max {high} is below min {low}")
