"""A Telemetry access-logging entry names no provider, and the mesh has no default access-log provider.

## Why it matters
An `accessLogging` entry without `providers` applies to the mesh's default access-log
providers (`meshConfig.defaultProviders.accessLogging`). When the mesh config sets
none, the entry applies to nothing: no access log is written, a `filter` filters
nothing, and `disabled: true` turns nothing off (the legacy `meshConfig.accessLogFile`
log keeps running). This is what `istioctl analyze` reports as IST0157
(InvalidTelemetryProvider).

meshctl reads the default providers from `--mesh-config`; without it, it assumes
Istio's defaults, which set none.

## Example
```yaml
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  accessLogging:
  - {}                     # which provider? the mesh config names no default
```

## Fix
Name the provider in the entry (`providers: [{name: envoy}]`, or an
`extensionProviders` entry of the mesh config), or set
`defaultProviders.accessLogging` in the mesh config.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH174", "telemetry-access-log-no-provider", Severity.WARNING, __doc__, istio_code="IST0157",
    reads=frozenset({"telemetries"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    mesh = ctx.mesh
    if mesh.mesh_config.default_access_log_providers:
        return
    known = ", ".join(sorted({"envoy", *mesh.mesh_config.extension_providers} - {""}))
    for telemetry in mesh.telemetries:
        entries = zip(telemetry.access_logging, telemetry.access_logging_origins)
        for index, (providers, where) in enumerate(entries):
            if providers:
                continue
            yield RULE.on(
                where,
                f"accessLogging[{index}] names no provider and the mesh config sets no "
                "defaultProviders.accessLogging, so the entry applies to no provider and does nothing; "
                f"name a provider ({known}) or set a default in the mesh config",
            )
