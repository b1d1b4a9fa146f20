"""A document is not a Kubernetes resource.

## Why it matters
Every document applied to a cluster must be a mapping with `apiVersion`, `kind` and
`metadata`. A list, a bare string or a mapping without `kind` is rejected by
`kubectl apply`; often it is a values file or a fragment that ended up among the
manifests.

## Example
```yaml
- name: reviews        # a list, not a resource
  port: 9080
```

## Fix
Give the document `apiVersion`, `kind` and `metadata`, or move non-manifest files
out of the checked paths (`exclude:` in `.meshctl.yaml`).
"""

from meshctl.diagnostics import Severity
from meshctl.rules.base import Rule

RULE = Rule("MSH003", "not-a-resource", Severity.ERROR, __doc__)
