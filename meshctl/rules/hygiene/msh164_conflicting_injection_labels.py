"""A namespace's `istio-injection` label contradicts its `istio.io/rev` or `dataplane-mode` label.

## Why it matters
Each of these labels picks a dataplane for the namespace's pods, and only one can win:

- `istio-injection` with `istio.io/rev`: the revision webhooks only select namespaces
  *without* `istio-injection`, so the legacy label wins and the revision (a canary, a
  tag) is silently ignored; with `istio-injection: disabled` nothing is injected at all.
- `istio-injection: enabled` with `istio.io/dataplane-mode: ambient`: pods get a
  sidecar, and a pod with a sidecar is not redirected to ztunnel, so the namespace is
  not in ambient mode, whatever its label says.

Upgrades and migrations that add one label and forget to remove the other leave the
namespace on a dataplane nobody chose. This is what `istioctl analyze` reports as
IST0123 (NamespaceMultipleInjectionLabels). Unlike `istioctl`, meshctl does not
report `istio-injection: disabled` with `ambient`, or `enabled` with
`istio.io/dataplane-mode: none`: those pairs agree.

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio-injection: enabled
    istio.io/rev: canary       # ignored: the default revision injects
```

## Fix
Keep one label: `istio.io/rev: <revision>` for revisioned control planes (remove
`istio-injection`), `istio-injection: enabled` for the default revision, or
`istio.io/dataplane-mode: ambient` alone for ambient mode.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.hygiene._dataplane import (
    DATAPLANE_MODE_LABEL,
    INJECTION_LABEL,
    REVISION_LABEL,
    conflicting_labels,
)

RULE = Rule(
    "MSH164", "conflicting-injection-labels", Severity.WARNING, __doc__, istio_code="IST0123",
    reads=frozenset(),  # Namespace objects only (MeshModel.namespaces)
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for namespace in ctx.mesh.namespaces.values():
        if namespace.origin is None:
            continue
        conflicts = conflicting_labels(namespace)
        if not conflicts:
            continue
        injection = namespace.labels[INJECTION_LABEL]
        shown = ", ".join(f"{key}: {namespace.labels[key]}" for key in conflicts)
        effects = []
        if REVISION_LABEL in conflicts:
            injector = "the default revision injects" if injection == "enabled" else "no revision injects"
            effects.append(f"the revision label is ignored and {injector} its pods")
        if DATAPLANE_MODE_LABEL in conflicts:
            effects.append("pods get a sidecar, so they are not redirected to ztunnel")
        effect = ", and ".join(effects)
        yield RULE.on(
            namespace.origin.at("metadata", "labels", INJECTION_LABEL),
            f"namespace {namespace.name!r} has {INJECTION_LABEL}: {injection} and {shown}: {effect}; "
            "keep one label",
        )
