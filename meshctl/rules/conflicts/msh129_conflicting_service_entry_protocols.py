"""ServiceEntries seen from one namespace give the same host and port different protocols.

## Why it matters
A proxy has one cluster and one listener setup per host and port. When two
ServiceEntries that a namespace sees both declare `api.example.com:443`, one as `TLS`
and one as `HTTPS`, or port 8080 as `HTTP` and as `TCP`, the proxy keeps only one of
them, and which one depends on creation order. Traffic is then treated with the wrong
protocol: HTTP routes stop matching, or TLS origination and SNI routing break. This is
what `istioctl analyze` reports as IST0177 (ConflictingServiceEntryProtocol).
ServiceEntries whose `exportTo` keeps them apart (no namespace sees both) are not
reported, and neither are ports without a declared protocol.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments, namespace: shop}
spec:
  hosts: [api.payments.example]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments-http, namespace: billing}
spec:
  hosts: [api.payments.example]
  ports: [{number: 443, name: https, protocol: HTTPS}]   # same host:port, other protocol
  resolution: DNS
```

## Fix
Declare the host and port once, in one ServiceEntry, or make every ServiceEntry agree
on the protocol; use `exportTo` to keep entries that must differ apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import ExternalPort, ServiceEntry
from meshctl.rules.base import Rule
from meshctl.rules.conflicts._exported import shared_viewer, shown, viewers
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH129", "conflicting-service-entry-protocols", Severity.WARNING, __doc__,
    istio_code="IST0177", reads=frozenset({"service_entries"}),
)

Declared = tuple[ServiceEntry, ExternalPort, frozenset[str]]


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    by_host_port: dict[tuple[str, int], list[Declared]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for entry in ctx.mesh.service_entries:
        if (entry.namespace, entry.name) in seen:
            continue  # the same object written twice
        seen.add((entry.namespace, entry.name))
        exported = viewers(entry.export_to, entry.namespace)
        if not exported:
            continue
        for host in dict.fromkeys(h.lower() for h in entry.hosts):
            for port in entry.ports:
                if port.protocol and port.number:
                    by_host_port[(host, port.number)].append((entry, port, exported))
    for (host, number), declared in by_host_port.items():
        if len({port.protocol for _, port, _ in declared}) > 1:
            yield from _conflicts(ctx, host, number, declared)


def _conflicts(
    ctx: Analysis, host: str, number: int, declared: list[Declared]
) -> Iterator[Finding]:
    for entry, port, exported in declared:
        clashes = []
        for other, other_port, other_exported in declared:
            if other is entry or other_port.protocol == port.protocol:
                continue
            viewer = shared_viewer(exported, other_exported, prefer=entry.namespace)
            if viewer is not None:
                clashes.append((other, other_port, viewer))
        if not clashes:
            continue
        other, other_port, viewer = clashes[0]
        more = f" (and {len(clashes) - 1} more)" if len(clashes) > 1 else ""
        yield RULE.on(
            port.origin.at("protocol"),
            f"port {number} of host {host!r} is {port.protocol} here but {other_port.protocol} in "
            f"ServiceEntry {other.name!r} (namespace {other.namespace!r}){more}; proxies in "
            f"{shown(viewer)} see both and use only one protocol for that host and port",
            related=tuple(
                ctx.related(p.origin.at("protocol"), "conflicts with") for _, p, _ in clashes
            ),
        )
