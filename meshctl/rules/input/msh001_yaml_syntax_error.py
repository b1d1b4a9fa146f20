"""The file is not well-formed YAML.

## Why it matters
`kubectl apply` refuses the whole file, and every tool that reads it stops at the
first syntax error. meshctl reports the position, then resumes at the next `---`
so the other documents in the file are still checked.

## Example
```yaml
spec:
  hosts:
  - reviews
   http:          # indented one space too far
```

## Fix
Correct the indentation or quoting at the reported line. A tab used for
indentation is a common cause: YAML allows only spaces there.
"""

from meshctl.diagnostics import Severity
from meshctl.rules.base import Rule

RULE = Rule("MSH001", "yaml-syntax-error", Severity.ERROR, __doc__)
