"""A Linkerd network CIDR or workload IP does not parse, or an exception is outside it.

## Why it matters
Linkerd parses `networks[].cidr` (an IP network such as `10.0.0.0/8`, or one
address) and every entry of its `except` list; its admission webhook rejects a
NetworkAuthentication, EgressNetwork or ServerAuthorization whose networks do not
parse, whose `except` entry lies outside the `cidr`, or whose `except` entry covers
the whole `cidr` (the network would then match nothing). An ExternalWorkload's
`workloadIPs[].ip` must be one IPv4 or IPv6 address, or the workload gets no
endpoint.

## Example
```yaml
apiVersion: policy.linkerd.io/v1alpha1
kind: NetworkAuthentication
spec:
  networks:
  - cidr: 10.0.0.0/16
    except:
    - 10.1.0.0/24          # not inside 10.0.0.0/16
  - cidr: 192.168.0.0/33   # an IPv4 prefix is at most /32
```

## Fix
Write each network as `address/prefix` with a prefix that fits the address family
(at most 32 for IPv4, 128 for IPv6), and list only exceptions inside their network.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from meshctl.diagnostics import FieldPath, Finding, Severity
from meshctl.load.document import SourceDoc
from meshctl.rules.base import Rule
from meshctl.rules.values._linkerd import Network, ip_address, network
from meshctl.rules.values._walk import find, items, strings

NETWORK_AUTHENTICATION = "policy.linkerd.io/NetworkAuthentication"
EGRESS_NETWORK = "policy.linkerd.io/EgressNetwork"
SERVER_AUTHORIZATION = "policy.linkerd.io/ServerAuthorization"
EXTERNAL_WORKLOAD = "workload.linkerd.io/ExternalWorkload"

NETWORKS = {
    NETWORK_AUTHENTICATION: "spec.networks[]",
    EGRESS_NETWORK: "spec.networks[]",
    SERVER_AUTHORIZATION: "spec.client.networks[]",
}

RULE = Rule(
    "MSH062",
    "invalid-network-cidr",
    Severity.ERROR,
    __doc__,
    kinds=frozenset({*NETWORKS, EXTERNAL_WORKLOAD}),
)


@RULE.check
def check(doc: SourceDoc) -> Iterator[Finding]:
    if doc.kind_key == EXTERNAL_WORKLOAD:
        for path, text in strings(doc.data, "spec.workloadIPs[].ip"):
            try:
                ip_address(text)
            except ValueError as exc:
                yield RULE.at(doc, path, f"workload IP {exc}")
        return
    for path, entry in find(doc.data, NETWORKS[doc.kind_key]):
        if isinstance(entry, dict):
            yield from _network(doc, path, entry)


def _network(doc: SourceDoc, path: FieldPath, entry: dict[str, Any]) -> Iterator[Finding]:
    cidr = _parsed(entry.get("cidr"))
    if isinstance(cidr, str):
        yield RULE.at(doc, (*path, "cidr"), f"cidr {cidr}")
    for index, text in enumerate(items(entry.get("except"))):
        where = (*path, "except", index)
        parsed = _parsed(text)
        if isinstance(parsed, str):
            yield RULE.at(doc, where, f"except entry {parsed}")
        elif parsed is not None and cidr is not None and not isinstance(cidr, str):
            problem = _exception_problem(cidr, parsed)
            if problem:
                yield RULE.at(doc, where, problem)


def _parsed(value: object) -> Network | str | None:
    """The network ``value`` names, the reason it names none, or None if not a string."""
    if not isinstance(value, str):
        return None
    try:
        return network(value)
    except ValueError as exc:
        return f"{value!r} is not an IP network: {exc}"


def _exception_problem(cidr: Network, excluded: Network) -> str | None:
    if cidr.version != excluded.version:
        return (
            f"except entry {excluded} is IPv{excluded.version}, so it is not inside "
            f"IPv{cidr.version} cidr {cidr}; Linkerd rejects it"
        )
    if not excluded.subnet_of(cidr):  # type: ignore[arg-type]  # same family, checked above
        return f"except entry {excluded} is not inside cidr {cidr}; Linkerd rejects it"
    if excluded == cidr:
        return (
            f"except entry {excluded} covers all of cidr {cidr}, so the network would match "
            "no address; Linkerd rejects it"
        )
    return None
