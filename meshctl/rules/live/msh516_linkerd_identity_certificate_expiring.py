"""Linkerd's trust anchor or identity issuer certificate has expired or expires within 30 days.

## Why it matters
Linkerd's identity controller signs every proxy's certificate with the issuer
certificate, which chains to the trust anchors every proxy trusts. When the issuer
expires, no proxy can renew its certificate and meshed traffic fails within a day;
when a trust anchor expires, every proxy rejects every peer. Neither rotates itself
unless cert-manager (or similar) manages it, and `linkerd check` needs the network to
tell. meshctl reads the trust anchors from the `linkerd-identity-trust-roots`
ConfigMap, and the issuer from the `linkerd-identity-issuer` Secret only with
`--check-certificates` (its certificate only; the key is never kept).

## Example
```
ConfigMap linkerd-identity-trust-roots.linkerd: trust anchor (CN root.linkerd.cluster.local)
expires on 2025-01-10, in 12 days
```

## Fix
Rotate the certificate before it expires (Linkerd's "Rotating certificates" guide:
add the new anchor to the bundle first, then replace the issuer), or let cert-manager
manage both.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.cluster.certs import DerError, parse_certificate, pem_blocks
from meshctl.diagnostics import FieldPath, Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.live._live import LiveAnalysis, dct, labels, live_check

RULE = Rule("MSH516", "linkerd-identity-certificate-expiring", Severity.WARNING, __doc__)
WARN_DAYS = 30
TRUST_ROOTS = "linkerd-identity-trust-roots"
ISSUER = "linkerd-identity-issuer"


@live_check(RULE, needs=())
def check(ctx: LiveAnalysis) -> Iterator[Finding]:
    state = ctx.state
    for doc in state.objects("/ConfigMap"):
        if doc.name == TRUST_ROOTS:
            bundle = dct(doc.data.get("data")).get("ca-bundle.crt")
            if isinstance(bundle, str):
                yield from _judge(ctx, doc, ("data", "ca-bundle.crt"), bundle.encode(), "trust anchor")
    for (namespace, name), data in state.tls_secrets.items():
        if name != ISSUER:
            continue
        pem = data.get("crt.pem") or data.get("tls.crt")
        anchor = state.find("/Secret", namespace, name) or next(
            (d for d in state.objects("apps/Deployment")
             if d.namespace == namespace and labels(d).get("linkerd.io/control-plane-component") == "identity"), None)
        if pem and anchor is not None:
            yield from _judge(ctx, anchor, ("metadata", "name"), pem, f"identity issuer (Secret {name}.{namespace})")


def _judge(ctx: LiveAnalysis, doc: SourceDoc, path: FieldPath, pem: bytes, what: str) -> Iterator[Finding]:
    now = ctx.state.now
    try:
        certs = [parse_certificate(der) for label, der in pem_blocks(pem) if label == "CERTIFICATE"]
    except (DerError, IndexError, ValueError):
        return
    for cert in certs:
        subject = f" (CN {cert.subject})" if cert.subject else ""
        days = cert.days_left(now)
        if days <= 0:
            yield RULE.at(doc, path, f"Linkerd {what}{subject} expired on {cert.not_after:%Y-%m-%d}: "
                          "meshed traffic fails until it is rotated")
        elif days <= WARN_DAYS:
            yield RULE.at(doc, path, f"Linkerd {what}{subject} expires on {cert.not_after:%Y-%m-%d}, in {int(days)} "
                          "days: rotate it before it does")
