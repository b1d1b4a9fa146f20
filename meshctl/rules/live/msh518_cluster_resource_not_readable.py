"""Part of the cluster could not be read, so the checks that need it were skipped.

## Why it matters
`meshctl diagnose` judges only what it could read. When listing a kind is forbidden
by RBAC (403), or keeps failing (throttled with 429, 5xx from the API server, no
answer within `--timeout` after the retries), the view of the cluster is partial:
a Gateway whose Secret "does not exist" may only have a Secret meshctl was not allowed
to see. Rather than report such artefacts, every check that reads the missing kind is
skipped, and this finding says once what was not read, where, why, and which checks
were skipped. A namespace given with `-n` that does not exist is reported here too.

Nothing is reported for a kind the cluster does not serve at all (a mesh that is not
installed): that is MSH519, and there is nothing to miss.

## Example
```
warning MSH518 cannot list secrets in namespace shop: forbidden; checks that need
  them were skipped: MSH111 gateway-secret-not-found
```

## Fix
Grant the reading identity `get`, `list` on the kinds named (docs/diagnose.md has a
read-only ClusterRole), diagnose only the namespaces you can read (`-n`), or raise
`--timeout` for a slow API server. `--ignore MSH518` hides the notice, not the gap.
"""

from __future__ import annotations

from meshctl.diagnostics import Severity
from meshctl.rules.base import Rule

RULE = Rule("MSH518", "cluster-resource-not-readable", Severity.WARNING, __doc__)
