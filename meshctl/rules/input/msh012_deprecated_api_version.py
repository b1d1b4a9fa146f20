"""The resource uses a deprecated API version.

## Why it matters
Deprecated versions are removed in later releases (or are served only by some
channels, like Gateway API's `v1alpha2` TCPRoute), and the upgrade then fails.

## Example
```yaml
apiVersion: policy.linkerd.io/v1beta1
kind: Server
```

## Fix
Move to the version the message names; the fields are usually the same.
"""

from meshctl.diagnostics import Severity
from meshctl.rules.base import Rule

RULE = Rule("MSH012", "deprecated-api-version", Severity.WARNING, __doc__, istio_code="IST0002")
