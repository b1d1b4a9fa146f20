"""A requested Gateway address is malformed or listed twice.

## Why it matters
`spec.addresses` asks the implementation for specific addresses. An `IPAddress`
entry (the default type) must hold an IPv4 or IPv6 address, and a `Hostname` entry a
DNS name (optionally with a leading `*.`); the API server rejects a bad hostname or
a repeated IP address or hostname, and implementations refuse the Gateway
(`Accepted: False`, `UnsupportedAddress`) when an IPAddress value is not an IP.

## Example
```yaml
addresses:
- value: 10.0.0.300        # type IPAddress by default: not an IP address
- type: Hostname
  value: LB.Example.com    # hostnames are lowercase
```

## Fix
Write the address in its textual form (`10.0.0.30`, `2001:db8::1`), set
`type: Hostname` for DNS names, and list each address once. Leave `value` empty to
let the implementation pick an address of that type.
"""

import re
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._gateway_api import (
    entries,
    is_ip,
    kinds,
    repeated,
    spec,
    text,
)

RULE = Rule("MSH050", "invalid-gateway-address", Severity.ERROR, __doc__, kinds=kinds("Gateway"))

HOSTNAME = re.compile(r"(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
DEFAULT_TYPE = "IPAddress"


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    seen: dict[tuple[str, str], int] = {}
    for index, address in entries(spec(doc).get("addresses")):
        kind = text(address.get("type"), DEFAULT_TYPE)
        value = address.get("value")
        if not isinstance(value, str) or not value:
            continue  # no value: the implementation assigns one
        path = ("spec", "addresses", index, "value")
        if kind == "IPAddress" and not is_ip(value):
            yield RULE.at(doc, path, f"IPAddress value {value!r} is not an IPv4 or IPv6 address")
        elif kind == "Hostname" and not HOSTNAME.fullmatch(value):
            yield RULE.at(
                doc,
                path,
                f"Hostname value {value!r} is not a lowercase DNS name (an optional '*.' "
                "then labels of a-z, 0-9 and '-')",
            )
        if kind not in ("IPAddress", "Hostname"):
            continue
        if (kind, value) in seen:
            yield repeated(
                RULE,
                doc,
                path,
                f"{kind} {value!r} is requested twice; list each address once",
                ("spec", "addresses", seen[(kind, value)]),
            )
        else:
            seen[(kind, value)] = index
