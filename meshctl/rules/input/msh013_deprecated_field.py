"""The resource sets a deprecated field.

## Why it matters
Deprecated fields keep working for a while, then are ignored or rejected; the
replacement often has different semantics worth knowing before the upgrade.

## Example
```yaml
kind: Server
spec:
  proxyProtocol: HTTP/1     # deprecated by accessPolicy-era fields in newer versions
```

## Fix
Use the replacement the message names.
"""

from meshctl.diagnostics import Severity
from meshctl.rules.base import Rule

RULE = Rule("MSH013", "deprecated-field", Severity.WARNING, __doc__, istio_code="IST0002")
