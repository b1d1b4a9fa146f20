"""An Ingress rule host is not a DNS name, or has a wildcard other than a whole first label.

## Why it matters
A rule's `host` is matched against the HTTP Host header. The API server rejects the
Ingress when it is an IP address, when it is not a lower-case DNS-1123 subdomain (no
upper case, ports or underscores), and when a wildcard is anything but the whole first
label: `*.example.com` is allowed (it matches one label, `a.example.com` but not
`a.b.example.com`), `*` alone, `api.*.com` and `*api.example.com` are not.

## Example
```yaml
kind: Ingress
spec:
  rules:
  - host: "*"                  # every host: leave host out instead
  - host: 10.0.0.12            # an IP address
  - host: Shop.example.com:443 # upper case and a port
```

## Fix
Leave `host` out to match every host, write the DNS name clients use in lower case
without a port, and put a wildcard only as the first label (`*.example.com`).
"""

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._hostnames import is_ip
from meshctl.rules.values._ingress import (
    INGRESS_KINDS,
    dns_subdomain_problem,
    rules,
    wildcard_subdomain_problem,
)

RULE = Rule("MSH074", "invalid-ingress-host", Severity.ERROR, __doc__, kinds=INGRESS_KINDS)


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    for where, rule in rules(doc):
        host = rule.get("host")
        if not isinstance(host, str) or not host:
            continue
        problem = host_problem(host)
        if problem:
            yield RULE.at(doc, (*where, "host"), f"host {host!r} {problem}")


def host_problem(host: str) -> str | None:
    """What the API server finds wrong with an Ingress host (rules or tls), or None."""
    if is_ip(host):
        return "is an IP address; an Ingress host must be a DNS name"
    if "*" in host:
        return wildcard_subdomain_problem(host)
    return dns_subdomain_problem(host)
