"""Part of the input has no equivalent in the target and was left out.

## Why it matters
A translation that drops behaviour silently is worse than none: the output looks
complete, is deployed, and the missing retry, fault or match shows up in production.
meshctl names every field it could not carry over, at its source position, so the loss
is a decision and not a surprise. `--strict` makes any such finding fail the run.

## Example
```yaml
kind: VirtualService
spec:
  http:
  - fault:
      delay:
        exponentialDelay: 1s   # Envoy's fault filter has no exponential delay
        percentage: {value: 10}
```

## Fix
Express the behaviour another way in the source (a fixed delay here), accept the loss
with `--suppress "MSH400=VirtualService name.namespace"`, or keep that part of the
configuration out of the migration.
"""

from meshctl.diagnostics import Severity
from meshctl.rules.base import Rule

RULE = Rule("MSH400", "not-translated", Severity.WARNING, __doc__)
