"""A BackendTLSPolicy does not say exactly how to trust the backend's certificate.

## Why it matters
`validation` must name one source of trusted CAs: either `caCertificateRefs`
(ConfigMaps or Secrets holding the CA) or `wellKnownCACertificates` (`System`), not
both and not neither. Each `subjectAltNames` entry must carry the field its `type`
names, `hostname` for Hostname and `uri` for URI, and not the other. The API server
rejects the policy otherwise.

## Example
```yaml
validation:
  hostname: auth.example.com
  caCertificateRefs:
  - {group: "", kind: ConfigMap, name: auth-ca}
  wellKnownCACertificates: System    # and which one applies?
  subjectAltNames:
  - type: URI
    hostname: auth.example.com       # a URI entry holds uri
```

## Fix
Keep one CA source. Give each subjectAltNames entry the field of its type:
`{type: Hostname, hostname: ...}` or `{type: URI, uri: spiffe://...}`.
"""

from collections.abc import Iterator
from typing import Any

from meshctl.diagnostics import FieldPath, Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._gateway_api import entries, kinds, spec, text

RULE = Rule(
    "MSH053",
    "invalid-backend-tls-validation",
    Severity.ERROR,
    __doc__,
    kinds=kinds("BackendTLSPolicy"),
)

SAN_FIELDS = {"Hostname": "hostname", "URI": "uri"}


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    validation = spec(doc).get("validation")
    if not isinstance(validation, dict):
        return
    path = ("spec", "validation")
    refs = bool(validation.get("caCertificateRefs"))
    well_known = bool(validation.get("wellKnownCACertificates"))
    if refs and well_known:
        yield RULE.at(
            doc,
            (*path, "wellKnownCACertificates"),
            "validation sets both caCertificateRefs and wellKnownCACertificates; keep one",
            key=True,
        )
    elif not refs and not well_known:
        yield RULE.at(
            doc,
            path,
            "validation names no trusted CA: set caCertificateRefs or "
            "wellKnownCACertificates: System",
        )
    for index, san in entries(validation.get("subjectAltNames")):
        yield from _san(doc, (*path, "subjectAltNames", index), san)


def _san(doc: SourceDoc, path: FieldPath, san: dict[str, Any]) -> Iterator[Finding]:
    kind = text(san.get("type"))
    wanted = SAN_FIELDS.get(kind)
    if wanted is None:
        return  # a schema violation
    other = next(name for name in SAN_FIELDS.values() if name != wanted)
    if not san.get(wanted):
        extra = f" (it has {other}: set type {_type_of(other)} instead?)" if san.get(other) else ""
        yield RULE.at(doc, path, f"subjectAltNames entry of type {kind} needs {wanted}{extra}")
    elif san.get(other):
        yield RULE.at(
            doc,
            (*path, other),
            f"subjectAltNames entry of type {kind} must not set {other}; it uses {wanted}",
            key=True,
        )


def _type_of(field: str) -> str:
    return next(kind for kind, name in SAN_FIELDS.items() if name == field)
