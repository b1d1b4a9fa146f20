"""A Gateway API field, value or version that only the experimental channel serves.

## Why it matters
Gateway API ships two CRD bundles. A cluster with the standard channel installed does
not know the experimental fields: the API server prunes them silently (the retry
policy, session persistence or external auth you configured never happens), rejects
experimental enum values, and refuses alpha versions like `TCPRoute v1alpha2` with
"no matches for kind". meshctl checks against the experimental superset by default;
`--gateway-api-channel standard` (or `gateway-api-channel: standard` in
`.meshctl.yaml`) says your clusters run the standard channel, and these become errors.

## Example
```yaml
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
spec:
  rules:
  - retry: {attempts: 3}      # experimental channel only
```

## Fix
Install the experimental channel's CRDs, or drop the field and use what the standard
channel offers (an implementation-specific policy for retries, say).
"""

from meshctl.diagnostics import Severity
from meshctl.rules.base import Rule

RULE = Rule("MSH015", "experimental-field", Severity.ERROR, __doc__)
