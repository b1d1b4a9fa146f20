"""A field the resource's schema does not define.

## Why it matters
The API server prunes unknown fields silently (or rejects them with
`--validate=strict`), so a misspelt `rout:` or `timout:` is simply dropped and the
feature you configured never happens. meshctl treats them as errors, like field
validation in strict mode, and suggests the field you probably meant.

## Example
```yaml
spec:
  http:
  - rout:                  # did you mean `route`?
    - destination: {host: reviews}
```

## Fix
Correct the spelling or move the field to the level where it belongs.
`--allow-unknown-fields` downgrades these findings to warnings.
"""

from meshctl.diagnostics import Severity
from meshctl.rules.base import Rule

RULE = Rule("MSH011", "unknown-field", Severity.ERROR, __doc__, istio_code="IST0106")
