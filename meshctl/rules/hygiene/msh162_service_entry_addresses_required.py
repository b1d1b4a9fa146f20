"""A ServiceEntry has a TCP (or protocol-less) port but no `addresses`.

## Why it matters
A TCP connection carries no host name, so the sidecar can only match it by destination
address and port. Without `addresses` (and without automatic address allocation), Istio
builds the entry's TCP listener on `0.0.0.0:<port>`: every ServiceEntry and Service
with a TCP port of the same number competes for that one listener, and connections can
reach the wrong destination. A port without `protocol` is sniffed and falls back to
TCP, so it has the same problem. This is what `istioctl analyze` reports as IST0134
(ServiceEntryAddressesRequired); like it, meshctl reports each such port whatever the
`resolution`.

Offline, meshctl cannot know whether the mesh auto-allocates addresses for
ServiceEntries (DNS proxying with `ISTIO_META_DNS_CAPTURE` and
`ISTIO_META_DNS_AUTO_ALLOCATE` in the proxy metadata, or istiod's
`PILOT_ENABLE_IP_AUTOALLOCATE`). If yours does, ignore this rule (`--ignore MSH162`).

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: orders-db, namespace: shop}
spec:
  hosts: [db.orders.example.com]
  ports:
  - {number: 5432, name: postgres, protocol: TCP}   # no addresses: 0.0.0.0:5432
  resolution: DNS
  location: MESH_EXTERNAL
```

## Fix
List the service's IPs or CIDR blocks in `addresses`, give the port a protocol the proxy
can route by host (`TLS` uses SNI, `HTTP`/`HTTPS`/`GRPC` use the Host header), or
enable DNS proxying with address auto-allocation in the mesh.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import ExternalPort, ServiceEntry
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH162", "service-entry-addresses-required", Severity.WARNING, __doc__, istio_code="IST0134",
    reads=frozenset({"service_entries"}),
)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    for entry in ctx.mesh.service_entries:
        if entry.addresses:
            continue
        for port in entry.ports:
            if port.protocol == "TCP":
                yield RULE.on(port.origin.at("protocol"), f"TCP {_message(entry, port)}")
            elif not port.protocol:
                yield RULE.on(port.origin, f"protocol-less (sniffed: TCP unless HTTP) {_message(entry, port)}")


def _message(entry: ServiceEntry, port: ExternalPort) -> str:
    name = f" ({port.name!r})" if port.name else ""
    hosts = ", ".join(entry.hosts) or "the entry"
    return (
        f"port {port.number}{name} of a ServiceEntry without addresses: the sidecar can only listen on "
        f"0.0.0.0:{port.number} for {hosts}, and every other TCP service on port {port.number} competes "
        "for that listener; list the addresses (or rely on DNS auto-allocation if the mesh enables it)"
    )
