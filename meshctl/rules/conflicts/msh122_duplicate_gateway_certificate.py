"""Two Istio Gateways on the same gateway workload serve the same TLS certificate.

## Why it matters
Each Gateway's TLS servers become their own filter chains, chosen by SNI when the
connection opens. Browsers and other HTTP/2 clients reuse an open connection for every
host the certificate covers (connection coalescing), so with one certificate (say
`*.example.com`) in two Gateways, a request for `b.example.com` can travel over the
connection opened for `a.example.com`, land on the other Gateway's filter chain and get a
404. This is what `istioctl analyze` reports as IST0138 (GatewayDuplicateCertificate).
Servers are compared by `credentialName` (and `credentialNames`); two Gateways share a
workload when an input workload matches both selectors, or, with the gateway Deployment
not among the inputs, when the selectors are equal or one is a subset of the other.

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
    tls: {mode: SIMPLE, credentialName: wildcard-example-com}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: blog, namespace: blog}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["blog.example.com"]
    tls: {mode: SIMPLE, credentialName: wildcard-example-com}   # the same certificate
```

## Fix
Serve all the hosts that share a certificate from one Gateway (one server listing every
host), or give each Gateway a certificate that covers only its own hosts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import Gateway, Workload
from meshctl.rules.base import Rule
from meshctl.rules.conflicts._same_workload import (
    MAX_RELATED,
    distinct,
    gateway_groups,
    identity,
    istio_gateways,
    show_selector,
    show_workloads,
)
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH122",
    "duplicate-gateway-certificate",
    Severity.WARNING,
    __doc__,
    istio_code="IST0138",
    reads=frozenset({"gateways", "workloads"}),
)


Servers = dict[tuple[str, str], tuple[Gateway, int]]  # by Gateway namespace and name


@dataclass
class Reuse:
    """A TLS server whose certificate other Gateways on its workload serve too."""

    gateway: Gateway
    listener: int
    credentials: list[str] = field(default_factory=list)
    # each certificate's servers on a workload this Gateway shares, and that workload
    shares: list[tuple[Servers, tuple[Workload, ...]]] = field(default_factory=list)

    def others(self) -> list[tuple[Gateway, int, tuple[Workload, ...]]]:
        mine = identity(self.gateway)
        found: dict[tuple[str, str], tuple[Gateway, int, tuple[Workload, ...]]] = {}
        for servers, workloads in self.shares:
            for key, (gateway, number) in servers.items():
                if key != mine and key not in found:
                    found[key] = (gateway, number, workloads)
        return list(found.values())


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    gateways = istio_gateways(ctx)
    if distinct(gateways) < 2:
        return
    reuses: dict[tuple[int, int], Reuse] = {}
    for group in gateway_groups(ctx, gateways):
        users: dict[str, list[tuple[Gateway, int]]] = defaultdict(list)
        for gateway in group.members:
            for number, listener in enumerate(gateway.listeners):
                for credential in dict.fromkeys(listener.credential_names):
                    users[credential].append((gateway, number))
        for credential, servers in users.items():
            by_gateway: Servers = {}
            for gateway, number in servers:
                by_gateway.setdefault(identity(gateway), (gateway, number))
            if len(by_gateway) < 2:
                continue
            for gateway, number in servers:
                reuse = reuses.setdefault((id(gateway), number), Reuse(gateway, number))
                if credential not in reuse.credentials:
                    reuse.credentials.append(credential)
                reuse.shares.append((by_gateway, group.workloads))
    for gateway in gateways:
        for number in range(len(gateway.listeners)):
            found = reuses.get((id(gateway), number))
            if found is not None:
                yield _finding(ctx, found)


def _finding(ctx: Analysis, reuse: Reuse) -> Finding:
    others = reuse.others()
    other, _, workloads = others[0]
    if workloads:
        shared = f"both select {show_workloads(workloads)}"
    elif reuse.gateway.selector == other.selector:
        shared = f"both select {show_selector(other.selector)}"
    else:
        shared = f"selectors {show_selector(reuse.gateway.selector)} and {show_selector(other.selector)} overlap"
    names = ", ".join(repr(c) for c in reuse.credentials)
    more = f" (and {len(others) - 1} more)" if len(others) > 1 else ""
    listener = reuse.gateway.listeners[reuse.listener]
    message = (
        f"server port {listener.port} serves certificate {names}, which Gateway {other.name}.{other.namespace}{more} "
        f"on the same workload also serves ({shared}); a client reusing its HTTP/2 connection for the "
        "other Gateway's hosts reaches the wrong server and gets 404"
    )
    return RULE.on(
        listener.origin.at("tls"),
        message,
        key=True,
        related=tuple(
            ctx.related(g.listeners[n].origin.at("tls"), "conflicts with")
            for g, n, _ in others[:MAX_RELATED]
        ),
    )
