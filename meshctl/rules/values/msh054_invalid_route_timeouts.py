"""An HTTPRoute rule's backendRequest timeout is longer than its request timeout.

## Why it matters
`timeouts.request` bounds the whole request, retries included; `backendRequest`
bounds each attempt at a backend. An attempt cannot outlast the request it belongs
to, so the API server rejects a `backendRequest` longer than a non-zero `request`
(`0s` means no request timeout).

## Example
```yaml
timeouts:
  request: 10s
  backendRequest: 30s    # the request gives up after 10s anyway
```

## Fix
Make `backendRequest` at most `request` (`backendRequest: 5s` leaves room for a
retry), or set `request: 0s` to remove the overall limit.
"""

import re
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._gateway_api import kinds, rules

RULE = Rule("MSH054", "invalid-route-timeouts", Severity.ERROR, __doc__, kinds=kinds("HTTPRoute"))

# Gateway API durations: up to four integer/unit pairs (the schema checks the syntax).
DURATION = re.compile(r"(?:[0-9]{1,5}(?:h|m|s|ms)){1,4}")
PART = re.compile(r"([0-9]+)(ms|h|m|s)")
MILLISECONDS = {"h": 3_600_000, "m": 60_000, "s": 1_000, "ms": 1}


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    for path, rule in rules(doc):
        timeouts = rule.get("timeouts")
        if not isinstance(timeouts, dict):
            continue
        request, backend = timeouts.get("request"), timeouts.get("backendRequest")
        request_ms, backend_ms = milliseconds(request), milliseconds(backend)
        if request_ms is None or backend_ms is None or request_ms == 0:
            continue
        if backend_ms > request_ms:
            yield RULE.at(
                doc,
                (*path, "timeouts", "backendRequest"),
                f"backendRequest timeout {backend} is longer than the request timeout {request}; "
                "it can never be reached",
            )


def milliseconds(value: object) -> int | None:
    """A Gateway API duration in milliseconds, or None when it is not one."""
    if not isinstance(value, str) or not DURATION.fullmatch(value):
        return None
    return sum(int(amount) * MILLISECONDS[unit] for amount, unit in PART.findall(value))
