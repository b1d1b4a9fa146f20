"""An API group or kind meshctl reads is not served by the cluster (its CRDs are not installed).

## Why it matters
`meshctl diagnose` starts with discovery and lists only the kinds the cluster serves.
A mesh that is not installed (no `networking.istio.io`, no `policy.linkerd.io`) has
nothing to check, and a Gateway API install without the experimental channel serves
no `TLSRoute`: their checks simply have no input. This notice says so once, so that
a clean report on a cluster where Istio was expected is not mistaken for a healthy
Istio.

## Example
```
info MSH519 Linkerd is not installed in this cluster (linkerd.io, policy.linkerd.io,
  workload.linkerd.io not served): its resources were not read
```

## Fix
Nothing, if the mesh is not meant to be there. Otherwise check the context
(`--context`) and that the mesh's CRDs are installed (`kubectl get crd`).
`--ignore MSH519` hides the notice.
"""

from __future__ import annotations

from meshctl.diagnostics import Severity
from meshctl.rules.base import Rule

RULE = Rule("MSH519", "mesh-api-not-served", Severity.INFO, __doc__)
