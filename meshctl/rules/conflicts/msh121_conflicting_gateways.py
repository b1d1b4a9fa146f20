"""Two Istio Gateways on the same gateway workload define the same port with overlapping hosts.

## Why it matters
A gateway proxy builds one listener per port out of every Gateway that selects it.
Plaintext HTTP servers of one port are merged into one route table, but TLS, HTTPS and
TCP servers are not: when a Gateway defines one of those on a port where another Gateway
on the same workload has a server whose hosts overlap (equal, or a wildcard such as `*`
or `*.example.com` covering the other), the proxy keeps only one of them for those hosts.
Which certificate, TLS mode or TCP route applies is then undefined, and traffic for the
dropped server's hosts is lost. (Unlike `istioctl analyze`, meshctl does not report two
plaintext HTTP servers.) Hosts are compared without their `namespace/` prefix, which only
says which VirtualServices may bind. Two Gateways share a workload when an input
workload matches both selectors, or, with the gateway Deployment not among the inputs,
when the selectors are equal or one is a subset of the other; Gateways select workloads
in every namespace. This is what `istioctl analyze` reports as IST0145 (ConflictingGateways).

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: shop, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["shop.example.com"]
    tls: {mode: SIMPLE, credentialName: shop-cert}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: wildcard, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["*.example.com"]              # covers shop.example.com on the same port
    tls: {mode: SIMPLE, credentialName: wildcard-cert}
```

## Fix
Give each host one server: remove the overlapping host from one Gateway, narrow the
wildcard, move one Gateway to another port, or merge the servers into one Gateway.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import Gateway, Listener, Workload
from meshctl.rules.base import Rule
from meshctl.rules.conflicts import _host_overlap
from meshctl.rules.conflicts._same_workload import (
    MAX_RELATED,
    Group,
    distinct,
    gateway_groups,
    identity,
    istio_gateways,
    show_selector,
    show_workloads,
)
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH121",
    "conflicting-gateways",
    Severity.ERROR,
    __doc__,
    istio_code="IST0145",
    reads=frozenset({"gateways", "workloads"}),
)

PLAINTEXT_HTTP = frozenset({"HTTP", "HTTP2", "GRPC", "GRPC-WEB"})


@dataclass(frozen=True)
class Server:
    gateway: Gateway
    listener: int
    host: int  # index in the listener's hosts


@dataclass
class Clash:
    """A server of a Gateway whose hosts overlap servers of other Gateways on its workload."""

    gateway: Gateway
    listener: int
    host: int  # the first overlapping host
    # servers with overlapping hosts on the same port (own Gateway included), and the
    # workload of the inputs both Gateways select, when known
    rivals: list[tuple[list[Server], tuple[Workload, ...]]] = field(default_factory=list)

    def others(self) -> list[tuple[Server, tuple[Workload, ...]]]:
        mine = identity(self.gateway)
        found: dict[tuple[str, str], tuple[Server, tuple[Workload, ...]]] = {}
        for servers, workloads in self.rivals:
            for server in servers:
                key = identity(server.gateway)
                if key != mine and key not in found:
                    found[key] = (server, workloads)
        return list(found.values())


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    gateways = istio_gateways(ctx)
    if distinct(gateways) < 2:
        return
    clashes: dict[tuple[int, int], Clash] = {}
    for group in gateway_groups(ctx, gateways):
        _clashes(group, clashes)
    for gateway in gateways:
        for number in range(len(gateway.listeners)):
            found = clashes.get((id(gateway), number))
            if found is not None:
                yield _finding(ctx, found)


def _clashes(group: Group[Gateway], clashes: dict[tuple[int, int], Clash]) -> None:
    """Servers of different Gateways of the group on one port with overlapping hosts.

    Servers are bucketed by port, host and whether they are plaintext HTTP (merged into
    one route table, so two of those never clash); buckets are compared, not servers.
    """
    by_port: dict[int, dict[tuple[str, bool], list[Server]]] = defaultdict(dict)
    for gateway in group.members:
        for number, listener in enumerate(gateway.listeners):
            if not listener.port:
                continue
            plaintext = _plaintext_http(listener)
            for index, host in enumerate(listener.hosts):
                name = (host.partition("/")[2] if "/" in host else host).lower()
                if name:
                    bucket = by_port[listener.port].setdefault((name, plaintext), [])
                    bucket.append(Server(gateway, number, index))
    for buckets in by_port.values():
        owners = {key: {identity(s.gateway) for s in servers} for key, servers in buckets.items()}
        overlapping = _host_overlap.overlapping(host for host, _ in buckets)
        for (host, plaintext), servers in buckets.items():
            rivals = [
                (other, other_plain)
                for other in overlapping[host]
                for other_plain in (False, True)
                if (other, other_plain) in buckets and not (plaintext and other_plain)
            ]
            for server in servers:
                mine = identity(server.gateway)
                found = [buckets[k] for k in rivals if len(owners[k]) > 1 or mine not in owners[k]]
                if not found:
                    continue
                key = (id(server.gateway), server.listener)
                clash = clashes.setdefault(key, Clash(server.gateway, server.listener, server.host))
                clash.host = min(clash.host, server.host)
                clash.rivals.extend((bucket, group.workloads) for bucket in found)


def _plaintext_http(listener: Listener) -> bool:
    return (
        listener.protocol in PLAINTEXT_HTTP
        and listener.tls_mode is None
        and not listener.credential_names
    )


def _finding(ctx: Analysis, clash: Clash) -> Finding:
    server = Server(clash.gateway, clash.listener, clash.host)
    listener = server.gateway.listeners[server.listener]
    others = clash.others()
    other, workloads = others[0]
    other_host = other.gateway.listeners[other.listener].hosts[other.host]
    if workloads:
        shared = f"both select {show_workloads(workloads)}"
    elif server.gateway.selector == other.gateway.selector:
        shared = f"both select {show_selector(server.gateway.selector)}"
    else:
        shared = f"selectors {show_selector(server.gateway.selector)} and {show_selector(other.gateway.selector)} overlap"
    more = f" (and {len(others) - 1} more)" if len(others) > 1 else ""
    message = (
        f"server port {listener.port} host {listener.hosts[server.host]!r} overlaps host {other_host!r} of "
        f"Gateway {other.gateway.name}.{other.gateway.namespace}{more} on the same workload ({shared}); "
        "the gateway keeps only one of the two servers for those hosts"
    )
    origin = server.gateway.listeners[server.listener].origin
    return RULE.on(
        origin.at("hosts", server.host),
        message,
        related=tuple(
            ctx.related(
                o.gateway.listeners[o.listener].origin.at("hosts", o.host), "conflicts with"
            )
            for o, _ in others[:MAX_RELATED]
        ),
    )
