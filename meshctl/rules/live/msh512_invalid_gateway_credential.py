"""A TLS Secret a Gateway serves is malformed, expired, not yet valid or has the wrong key.

## Why it matters
A gateway loads its certificate from the Secret its listener or server names. When
the Secret lacks `tls.crt`/`tls.key`, holds something that is not a PEM certificate,
holds a certificate that has expired or is not valid yet, or a private key that
belongs to another certificate, the gateway cannot serve that host over TLS:
handshakes fail or clients reject the certificate, although every manifest is valid.
This is `istioctl analyze`'s IST0161 (InvalidGatewayCredential).

Run with `--check-certificates`: only then does meshctl read the Secrets Gateways
name (and only those), in full; it keeps their certificate and key in memory for the
check and never prints them. Dates are compared with the machine's clock.

## Example
```
Gateway web.shop, listener https: Secret web-cert's certificate (CN shop.example.com)
expired on 2024-03-01
```

## Fix
Renew the certificate (check cert-manager's Certificate and its events), or point the
listener at the Secret that holds the right pair (`tls.crt` and `tls.key`).
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.cluster.certs import DerError, check_key_pair
from meshctl.diagnostics import FieldPath, Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.live._live import LiveAnalysis, dct, dicts, live_check

RULE = Rule("MSH512", "invalid-gateway-credential", Severity.ERROR, __doc__, istio_code="IST0161")
SKIPPED_MODES = ("PASSTHROUGH", "ISTIO_MUTUAL", "AUTO_PASSTHROUGH")


def references(ctx: LiveAnalysis) -> Iterator[tuple[SourceDoc, FieldPath, str, str]]:
    """(gateway, field naming the Secret, namespace, name) for every TLS certificate reference."""
    state = ctx.state
    for doc in state.objects("networking.istio.io/Gateway"):
        for i, server in dicts(dct(doc.data.get("spec")).get("servers")):
            tls = dct(server.get("tls"))
            if tls.get("mode") in SKIPPED_MODES or not doc.namespace:
                continue
            name = tls.get("credentialName")
            if isinstance(name, str) and name and "://" not in name:
                yield doc, ("spec", "servers", i, "tls", "credentialName"), doc.namespace, name
    for doc in state.objects("gateway.networking.k8s.io/Gateway"):
        for i, listener in dicts(dct(doc.data.get("spec")).get("listeners")):
            for j, ref in dicts(dct(listener.get("tls")).get("certificateRefs")):
                namespace = ref.get("namespace") or doc.namespace
                if ref.get("group", "") in ("", "core") and ref.get("kind", "Secret") == "Secret" \
                        and isinstance(ref.get("name"), str) and isinstance(namespace, str):
                    yield doc, ("spec", "listeners", i, "tls", "certificateRefs", j, "name"), namespace, ref["name"]


def problem(ctx: LiveAnalysis, namespace: str, name: str) -> str | None:
    state = ctx.state
    data = state.tls_secrets.get((namespace, name))
    if data is None:
        return None  # not readable or missing: MSH518 and MSH111 say so
    cert = data.get("tls.crt") or data.get("cert")
    key = data.get("tls.key") or data.get("key")
    if not cert or not key:
        missing = [k for k, v in (("tls.crt", cert), ("tls.key", key)) if not v]
        return f"has no {' or '.join(missing)}"
    try:
        certs, mismatch = check_key_pair(cert, key)
    except (DerError, IndexError, ValueError) as exc:
        return f"does not hold a readable PEM certificate and key ({exc})"
    leaf = certs[0]
    subject = f" (CN {leaf.subject})" if leaf.subject else ""
    if leaf.not_after <= state.now:
        return f"holds a certificate{subject} that expired on {leaf.not_after:%Y-%m-%d}"
    if leaf.not_before > state.now:
        return f"holds a certificate{subject} that is not valid before {leaf.not_before:%Y-%m-%d %H:%M} UTC"
    if mismatch:
        return mismatch.replace("the private key", "its private key")
    return None


@live_check(RULE, needs=())
def check(ctx: LiveAnalysis) -> Iterator[Finding]:
    if not ctx.state.check_certificates:
        return
    verdicts: dict[tuple[str, str], str | None] = {}
    for gateway, path, namespace, name in references(ctx):
        key = (namespace, name)
        if key not in verdicts:
            verdicts[key] = problem(ctx, namespace, name)
        if verdicts[key] is not None:
            yield RULE.at(
                gateway, path,
                f"Secret {name}.{namespace} {verdicts[key]}: the gateway cannot serve TLS with it",
            )
