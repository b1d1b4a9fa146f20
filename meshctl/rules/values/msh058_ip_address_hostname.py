"""A route hostname is an IP address.

## Why it matters
Route `hostnames` match the HTTP Host header or the TLS SNI against DNS names, and
Gateway API does not allow IP addresses there: TLS clients never send an IP as SNI
(RFC 6066), so the API server rejects them in a TLSRoute, and HTTPRoute and
GRPCRoute document the same restriction (implementations may ignore the route's
hostnames or refuse the route).

## Example
```yaml
kind: TLSRoute
spec:
  hostnames:
  - 10.0.0.12
```

## Fix
Use the DNS name clients connect to. To serve a specific address, request it on the
Gateway (`spec.addresses`) and leave the route's hostnames out.
"""

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._gateway_api import is_ip, kinds, spec

RULE = Rule(
    "MSH058",
    "ip-address-hostname",
    Severity.ERROR,
    __doc__,
    kinds=kinds("HTTPRoute", "GRPCRoute", "TLSRoute"),
)


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    hostnames = spec(doc).get("hostnames")
    if not isinstance(hostnames, list):
        return
    for index, hostname in enumerate(hostnames):
        if isinstance(hostname, str) and is_ip(hostname):
            yield RULE.at(
                doc,
                ("spec", "hostnames", index),
                f"hostname {hostname!r} is an IP address; {doc.kind} hostnames must be DNS names",
            )
