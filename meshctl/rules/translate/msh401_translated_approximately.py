"""Part of the input was carried over with different semantics in the target.

## Why it matters
Some behaviour has a near equivalent rather than an exact one: a port without a
protocol that Istio would sniff is emitted as HTTP, a route that only some clients see
is emitted for the proxy being compiled, Linkerd's retry budget stands in for Istio's
attempt count. The output works, but not exactly as the source did; each of these is
named at its source position so it can be reviewed.

## Example
```yaml
kind: Service
spec:
  ports:
  - port: 8080        # no name, no appProtocol: Istio detects the protocol per connection
```

## Fix
Make the source explicit (name the port `http-api` or set `appProtocol: http`), or
review the emitted equivalent and suppress the finding.
"""

from meshctl.diagnostics import Severity
from meshctl.rules.base import Rule

RULE = Rule("MSH401", "translated-approximately", Severity.INFO, __doc__)
