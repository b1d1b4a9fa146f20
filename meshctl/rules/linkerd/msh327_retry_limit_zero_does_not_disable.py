"""`retry.linkerd.io/limit: "0"` does not disable retries: Linkerd reads 0 as unset and retries once.

## Why it matters
Linkerd configures retries with annotations on a Service or on the HTTPRoute or
GRPCRoute attached to it. It reads a `retry.linkerd.io/limit` of `0` as if the
annotation were absent, and as soon as another retry annotation is present
(`retry.linkerd.io/http`, `retry.linkerd.io/grpc` or `retry.linkerd.io/timeout`) the
limit defaults to 1. Writing `"0"` next to them to switch retries off therefore
leaves every matching request retried once.

## Example
```yaml
apiVersion: v1
kind: Service
metadata:
  name: books
  namespace: booksapp
  annotations:
    retry.linkerd.io/http: 5xx
    retry.linkerd.io/limit: "0"       # still retried once
spec:
  selector: {app: books}
  ports: [{name: service, port: 7002}]
```

## Fix
To disable retries, remove every `retry.linkerd.io/*` annotation from the object (on a
route, that also stops it from replacing the Service's retry settings). To limit
them, write a limit of 1 or more.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.linkerd._linkerd import RETRY_PREFIX, listed

RULE = Rule(
    "MSH327", "retry-limit-zero-does-not-disable", Severity.WARNING, __doc__,
    reads=frozenset({"resources"}),
)
LIMIT = RETRY_PREFIX + "limit"
READ_ON = ("Service", "HTTPRoute", "GRPCRoute")


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for resource in ctx.mesh.resources:
        value = resource.annotations.get(LIMIT)
        if resource.kind not in READ_ON:
            continue  # Linkerd reads no retry annotation there at all (MSH331)
        if value is None or not _zero(value):
            continue
        others = sorted(k for k in resource.annotations if k.startswith(RETRY_PREFIX) and k != LIMIT)
        if not others:
            continue  # no retry is configured on this object: the 0 changes nothing
        yield RULE.on(
            resource.origin.at("metadata", "annotations", LIMIT),
            f'{LIMIT}: "0" does not disable retries: Linkerd reads 0 as unset, and with '
            f"{listed(others)} also set it retries once; remove the retry annotations to disable retries",
        )


def _zero(value: str) -> bool:
    text = value.strip()
    return text.isdigit() and int(text) == 0
