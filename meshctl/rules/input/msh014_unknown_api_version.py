"""The apiVersion or kind does not exist in an API group meshctl knows.

## Why it matters
A typo in `kind` (`VirtualSevice`) or a version that is not served
(`networking.istio.io/v2`, or a Gateway API alpha version on a standard-channel
cluster) makes `kubectl apply` fail with "no matches for kind".

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualSevice
```

## Fix
Use a kind and version the message lists.
"""

from meshctl.diagnostics import Severity
from meshctl.rules.base import Rule

RULE = Rule("MSH014", "unknown-api-version", Severity.ERROR, __doc__, istio_code="IST0106")
