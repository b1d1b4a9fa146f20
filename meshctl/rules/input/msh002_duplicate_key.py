"""A mapping repeats a key.

## Why it matters
PyYAML and many tools silently keep the last value, so half of the configuration
vanishes without a word; `kubectl` (go-yaml v3) rejects the document instead. A
classic cause is two resources pasted together without a `---` between them.

## Example
```yaml
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: web}
apiVersion: policy.linkerd.io/v1alpha1   # second resource, no separator
kind: AuthorizationPolicy
```

## Fix
Remove the duplicate key, or split the two resources with a `---` line.
"""

from meshctl.diagnostics import Severity
from meshctl.rules.base import Rule

RULE = Rule("MSH002", "duplicate-key", Severity.ERROR, __doc__)
