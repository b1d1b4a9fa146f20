"""A DestinationRule's port-level settings originate TLS without saying which CA verifies the server.

## Why it matters
The same gap as MSH172, in a `portLevelSettings` entry: with `tls.mode: SIMPLE` or
`MUTUAL` and no `caCertificates` (or `credentialName`), the sidecar's TLS connection on
that port does not check the server's certificate against a CA you chose. Older
proxies, and proxies with `VERIFY_CERTIFICATE_AT_CLIENT` turned off, accept any
certificate; newer ones fall back to the proxy image's system CA bundle. This is what
`istioctl analyze` reports as IST0129 (NoServerCertificateVerificationPortLevel);
meshctl checks the port-level settings of each subset's policy too. An explicit
`insecureSkipVerify: true` states the choice and is not reported.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: googleapis, namespace: shop}
spec:
  host: www.googleapis.com
  trafficPolicy:
    portLevelSettings:
    - port: {number: 443}
      tls:
        mode: SIMPLE        # no caCertificates, no credentialName
```

## Fix
Set `caCertificates` (or `credentialName`) in the port's `tls` block, with
`subjectAltNames` or `sni` for the name the certificate must carry; or state
`insecureSkipVerify: true` if skipping verification is intended.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.hygiene._tls import message, policies, unverified

RULE = Rule(
    "MSH173", "port-tls-without-ca-verification", Severity.INFO, __doc__, istio_code="IST0129",
    reads=frozenset({"destination_policies"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for rule in ctx.mesh.destination_policies:
        for scope, policy in policies(rule, port_level=True):
            if policy.tls is not None and unverified(policy.tls):
                yield RULE.on(policy.tls.origin.at("mode"), message(rule, scope, policy.tls))
