"""An EnvoyFilter's patches are not applied to the translated configuration.

## Why it matters
EnvoyFilter patches edit the Envoy configuration that Istio generates, by position and
by Istio's internal names. meshctl emits the configuration Istio's own translation would
produce, without the patches: whatever the EnvoyFilter adds (a Lua filter, a rate
limit, changed timeouts) is missing from the output, and what it would do cannot be
tested with it.

## Example
```yaml
kind: EnvoyFilter
metadata: {name: add-lua, namespace: shop}
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    patch: {operation: INSERT_BEFORE, value: {name: envoy.filters.http.lua}}
```

## Fix
Move the behaviour into first-class Istio APIs where one exists (Telemetry, WasmPlugin,
AuthorizationPolicy, DestinationRule), or review the patch against the emitted
configuration by hand.
"""

from meshctl.diagnostics import Severity
from meshctl.rules.base import Rule

RULE = Rule("MSH402", "envoy-filter-not-applied", Severity.WARNING, __doc__)
