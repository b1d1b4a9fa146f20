"""A suppression matched no finding.

## Why it matters
Suppressions rot: the resource is renamed or the problem fixed, and the stale entry
in `.meshctl.yaml` or on the command line silently hides the next real finding of
that code. Reporting unused ones keeps the list honest, like ruff's RUF100.

## Example
```yaml
# .meshctl.yaml
suppress:
  - "MSH011=VirtualService reviews.bookinfo"   # reviews no longer has that field
```

## Fix
Delete the suppression.
"""

from meshctl.diagnostics import Severity
from meshctl.rules.base import Rule

RULE = Rule("MSH006", "unused-suppression", Severity.INFO, __doc__)
