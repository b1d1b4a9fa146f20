"""A RequestAuthentication JWT rule has no issuer, or its JWKS URI is not an http(s) URL.

## Why it matters
Istio's webhook rejects the RequestAuthentication: every JWT rule names the issuer
whose tokens it accepts, and the proxy fetches the signing keys from `jwksUri` over
HTTP or HTTPS only, so a URI without a scheme or host, or with another scheme, is
refused. Until the resource is fixed no token is validated the way you meant.

## Example
```yaml
kind: RequestAuthentication
spec:
  jwtRules:
  - jwksUri: auth.example.com/.well-known/jwks.json   # no https://, no issuer
```

## Fix
Add `issuer` and write the full URL: `jwksUri: https://auth.example.com/.well-known/jwks.json`.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._walk import find, present, strings

RULE = Rule(
    "MSH027",
    "invalid-jwt-rule",
    Severity.ERROR,
    __doc__,
    istio_code="IST0106",
    kinds=frozenset({"security.istio.io/RequestAuthentication"}),
)

JWKS_SCHEMES = ("http", "https")


def jwks_uri_problem(uri: str) -> str | None:
    """Why ``uri`` is not an absolute http or https URL with a host, or None."""
    try:
        parts = urlsplit(uri)
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError as exc:
        return f"it is not a valid URL ({exc})"
    if parts.scheme.lower() not in JWKS_SCHEMES:
        shown = f"scheme {parts.scheme!r}" if parts.scheme else "no scheme"
        return f"it has {shown}; keys are fetched over http:// or https:// only"
    if not parts.hostname:
        return "it has no host"
    return None


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    for path, rule in find(doc.data, "spec.jwtRules[]"):
        if isinstance(rule, dict) and not present(rule, "issuer"):
            yield RULE.at(doc, path, "a JWT rule needs an issuer")
        for field in ("jwksUri", "jwks_uri"):
            for uri_path, uri in strings(rule, field, path):
                problem = jwks_uri_problem(uri) if uri else None
                if problem:
                    yield RULE.at(doc, uri_path, f"{field} {uri!r}: {problem}")
