"""A workload or ServiceEntry address is missing or not in a form Istio accepts.

## Why it matters
Istio's CRDs and webhook reject the resource. A WorkloadEntry (or a ServiceEntry
endpoint) needs an `address` or a `network`; a Unix socket address is
`unix:///absolute/path` or `unix://@abstract`, never a directory, and carries no
ports; a ServiceEntry's `addresses` are IPs or CIDR blocks; with `resolution:
STATIC` endpoints are IPs (or Unix sockets), and with DNS resolution IPs or domain
names.

## Example
```yaml
kind: ServiceEntry
spec:
  hosts: [db.internal]
  resolution: STATIC
  endpoints:
  - address: db-1.internal     # STATIC needs an IP
  - address: unix://var/run/db.sock   # not an absolute path
```

## Fix
Use `resolution: DNS` for host names, and write socket paths as
`unix:///var/run/db.sock`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from meshctl.diagnostics import FieldPath, Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._hostnames import fqdn_problem, is_ip
from meshctl.rules.values._walk import find, mapping, present, strings

SERVICE_ENTRY = "networking.istio.io/ServiceEntry"
WORKLOAD_ENTRY = "networking.istio.io/WorkloadEntry"
WORKLOAD_GROUP = "networking.istio.io/WorkloadGroup"

RULE = Rule(
    "MSH029",
    "invalid-workload-address",
    Severity.ERROR,
    __doc__,
    istio_code="IST0106",
    kinds=frozenset({SERVICE_ENTRY, WORKLOAD_ENTRY, WORKLOAD_GROUP}),
)

UNIX = "unix://"
# Where workload entries sit, and whether each needs an address or network of its own
# (a WorkloadGroup template is completed per workload, so it may leave both out).
ENTRIES: dict[str, tuple[str, bool]] = {
    SERVICE_ENTRY: ("spec.endpoints[]", True),
    WORKLOAD_ENTRY: ("spec", True),
    WORKLOAD_GROUP: ("spec.template", False),
}


def unix_address_problem(address: str) -> str | None:
    """Why a ``unix://`` address is not a socket Istio accepts, or None."""
    path = address[len(UNIX) :]
    if not path.startswith(("/", "@")):
        return "a Unix socket address must be an absolute path (unix:///run/app.sock) or abstract (unix://@name)"
    if path.endswith("/"):
        return "a Unix socket address may not be a directory (it ends with '/')"
    return None


def ip_or_cidr_problem(text: str) -> str | None:
    try:
        if "/" in text:
            ipaddress.ip_network(text, strict=False)
        else:
            ipaddress.ip_address(text)
    except ValueError:
        return f"{text!r} is not an IP address or CIDR block"
    return None


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    pattern, required = ENTRIES[doc.kind_key]
    resolution = mapping(doc.data.get("spec")).get("resolution")
    for path, entry in find(doc.data, pattern):
        if isinstance(entry, dict):
            yield from _entry(doc, path, entry, required, resolution)
    if doc.kind_key == SERVICE_ENTRY:
        for path, address in strings(doc.data, "spec.addresses[]"):
            problem = ip_or_cidr_problem(address)
            if problem:
                yield RULE.at(doc, path, f"ServiceEntry address {problem}")


def _entry(
    doc: SourceDoc, path: FieldPath, entry: dict[str, Any], required: bool, resolution: object
) -> Iterator[Finding]:
    address = entry.get("address")
    if required and not present(entry, "address") and not present(entry, "network"):
        yield RULE.at(doc, path, "a workload needs an address or a network")
    if not isinstance(address, str) or not address:
        return
    where = (*path, "address")
    if address.startswith(UNIX):
        problem = unix_address_problem(address)
        if problem:
            yield RULE.at(doc, where, f"address {address!r}: {problem}")
        if present(entry, "ports"):
            yield RULE.at(doc, (*path, "ports"), "a Unix socket address takes no ports", key=True)
    elif resolution == "STATIC" and not is_ip(address):
        yield RULE.at(
            doc,
            where,
            f"address {address!r} is not an IP; resolution STATIC needs IPs (use DNS for names)",
        )
    elif resolution in ("DNS", "DNS_ROUND_ROBIN") and not is_ip(address):
        problem = fqdn_problem(address)
        if problem:
            yield RULE.at(
                doc, where, f"address {address!r} is neither an IP nor a domain name: {problem}"
            )
