"""A DestinationRule originates TLS (SIMPLE or MUTUAL) without saying which CA verifies the server.

## Why it matters
With `tls.mode: SIMPLE` or `MUTUAL`, the client sidecar opens the TLS connection to the
destination itself. Without `caCertificates` (or a `credentialName` Secret holding the
CA), nothing pins the authority the server's certificate must chain to: older proxies,
and proxies with `VERIFY_CERTIFICATE_AT_CLIENT` turned off, accept any certificate, so a
man in the middle goes unnoticed; newer ones fall back to the system CA bundle of the
proxy image, which trusts every public CA and no private one. This is what
`istioctl analyze` reports as IST0128 (NoServerCertificateVerificationDestinationLevel)
for the host-level policy; meshctl checks each subset's policy too. Port-level settings
are MSH173. An explicit `insecureSkipVerify: true` states the choice and is not
reported. It is info, not a warning: since Istio 1.20 proxies verify against the system
CA bundle by default, so the gap is an unpinned CA rather than no verification.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: payments, namespace: shop}
spec:
  host: api.payments.example.com
  trafficPolicy:
    tls:
      mode: SIMPLE          # no caCertificates, no credentialName
```

## Fix
Set `caCertificates` to the CA bundle that signs the server's certificate (or
`credentialName` to a Secret with a `ca.crt`), and `subjectAltNames` or `sni` to the
name it must carry. If skipping verification is intended, say so with
`insecureSkipVerify: true`.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.hygiene._tls import message, policies, unverified

RULE = Rule(
    "MSH172", "tls-without-ca-verification", Severity.INFO, __doc__, istio_code="IST0128",
    reads=frozenset({"destination_policies"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for rule in ctx.mesh.destination_policies:
        for scope, policy in policies(rule, port_level=False):
            if policy.tls is not None and unverified(policy.tls):
                yield RULE.on(policy.tls.origin.at("mode"), message(rule, scope, policy.tls))
