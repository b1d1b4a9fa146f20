"""A resource of a kind meshctl does not check.

## Why it matters
By default such resources are only counted as skipped in the summary, like
kubeconform's `-ignore-missing-schemas`. With `--strict-kinds` (or
`strict-kinds: true` in `.meshctl.yaml`) they are errors, for pipelines that must
know every document was checked.

## Example
```yaml
apiVersion: cert-manager.io/v1
kind: Certificate
```

## Fix
Nothing to fix for kinds outside the mesh. With `--strict-kinds`, exclude the files
that hold them.
"""

from meshctl.diagnostics import Severity
from meshctl.rules.base import Rule

RULE = Rule("MSH005", "unknown-kind", Severity.ERROR, __doc__, default_enabled=False)
