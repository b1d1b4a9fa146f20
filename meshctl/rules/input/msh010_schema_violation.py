"""A field has the wrong type, an invalid value, or a required field is missing.

## Why it matters
The API server rejects the resource (or, for fields checked only by Istio's webhook,
the webhook does), so the change never takes effect. This is what
`istioctl analyze` reports as IST0106.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: DestinationRule
spec:
  trafficPolicy:
    tls:
      mode: STRICT        # not a DestinationRule TLS mode
```

## Fix
Use a value of the type and range the message names; for enums, one of the listed
values (they are case-sensitive).
"""

from meshctl.diagnostics import Severity
from meshctl.rules.base import Rule

RULE = Rule("MSH010", "schema-violation", Severity.ERROR, __doc__, istio_code="IST0106")
