"""Two VirtualServices for the `mesh` gateway claim the same host in the same namespaces.

## Why it matters
Sidecars do not merge VirtualServices (only gateways do): when two VirtualServices bound
to the `mesh` gateway (no `gateways`, or `mesh` listed) declare the same host and are
visible in the same namespace, a sidecar there applies only one of them (the oldest, or
one exported only to that namespace) and which one is easy to get wrong: routes, retries
or fault injection written in the other are silently ignored, and the winner can change
when either object is re-created. Hosts are compared after
short names are resolved in each VirtualService's namespace (`reviews` in `bookinfo` is
`reviews.bookinfo.svc.cluster.local`); `exportTo` limits where each one is visible, so
two VirtualServices exported only to their own, different namespaces do not conflict.
Delegate VirtualServices (no `hosts`) are never bound by host and are not compared, nor
are two that route different kinds of traffic (say one only `http`, the other only
`tls`): sidecars pick a VirtualService per host for each kind, so those two coexist
(`istioctl analyze` reports them anyway).
This is what `istioctl analyze` reports as IST0109 (ConflictingMeshGatewayVirtualServiceHosts).

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-canary, namespace: bookinfo}
spec:
  hosts: [reviews.bookinfo.svc.cluster.local]   # the same host, written in full
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route:
    - destination: {host: reviews, subset: v2}
```

## Fix
Merge the routes into one VirtualService per host (order the rules as they should be
tried), or narrow `exportTo` so that no namespace sees both. To split a host's routes
across teams, use one root VirtualService that `delegate`s to the others.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from meshctl.diagnostics import Finding, Severity
from meshctl.model import hosts
from meshctl.model.objects import Route
from meshctl.rules.base import Rule
from meshctl.rules.conflicts._same_workload import MAX_RELATED
from meshctl.rules.context import Analysis

RULE = Rule(
    "MSH120",
    "conflicting-virtual-service-hosts",
    Severity.ERROR,
    __doc__,
    istio_code="IST0109",
    reads=frozenset({"routes"}),
)

EVERYWHERE = "*"


@dataclass(frozen=True)
class Claim:
    route: Route
    index: int  # of the host in route.hosts
    fqdn: str
    viewers: tuple[str, ...]  # namespaces the route is visible in; ("*",) for all

    @property
    def identity(self) -> tuple[str, str]:
        return (self.route.namespace, self.route.name)


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    # (host FQDN, route kind) -> claims: sidecars pick a VirtualService per host for each
    # kind of route (http, tcp, tls), so an http-only and a tls-only one do not conflict.
    claims: dict[tuple[str, str], list[Claim]] = defaultdict(list)
    order: list[Claim] = []
    for route in ctx.mesh.routes:
        if route.source_kind != "VirtualService" or not route.binds_mesh:
            continue
        viewers = _viewers(route)
        kinds = tuple(dict.fromkeys(rule.protocol for rule in route.rules))
        if not viewers or not kinds:
            continue
        claimed: set[str] = set()
        for index, host in enumerate(route.hosts):
            fqdn = hosts.fqdn(host, route.namespace, ctx.mesh.domain)
            if host == EVERYWHERE or fqdn in claimed:
                continue
            claimed.add(fqdn)
            claim = Claim(route, index, fqdn, viewers)
            order.append(claim)
            for kind in kinds:
                claims[(fqdn, kind)].append(claim)
    found = Found()
    for (_, kind), group in claims.items():
        if len({c.identity for c in group}) > 1:
            _conflicts(group, kind, found)
    for claim in order:
        if found.rivals.get(id(claim)):
            yield _finding(ctx, claim, found)


def _viewers(route: Route) -> tuple[str, ...]:
    """Where the VirtualService is visible: exportTo with "." resolved, "~" dropped."""
    if not route.export_to or EVERYWHERE in route.export_to:
        return (EVERYWHERE,)
    targets = (route.namespace if t == "." else t for t in route.export_to if t != "~")
    return tuple(dict.fromkeys(targets))


@dataclass
class Found:
    """Per claim: the rival claims, the namespaces where both are seen, the route kinds."""

    rivals: dict[int, dict[tuple[str, str], Claim]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    where: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    kinds: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))


def _conflicts(group: list[Claim], kind: str, found: Found) -> None:
    """Claims seen together: those visible everywhere, plus each namespace's own viewers."""
    everywhere = [c for c in group if c.viewers == (EVERYWHERE,)]
    by_namespace: dict[str, list[Claim]] = defaultdict(list)
    for claim in group:
        if claim.viewers != (EVERYWHERE,):
            for namespace in claim.viewers:
                by_namespace[namespace].append(claim)
    scopes = [(EVERYWHERE, everywhere)] + [
        (ns, everywhere + claims) for ns, claims in sorted(by_namespace.items())
    ]
    for scope, claims in scopes:
        if len({c.identity for c in claims}) < 2:
            continue
        for claim in claims:
            others = [o for o in claims if o.identity != claim.identity]
            for other in others:
                found.rivals[id(claim)].setdefault(other.identity, other)
            for seen, value in ((found.where, scope), (found.kinds, kind)):
                if others and value not in seen[id(claim)]:
                    seen[id(claim)].append(value)


def _finding(ctx: Analysis, claim: Claim, found: Found) -> Finding:
    others = list(found.rivals[id(claim)].values())
    where, kinds = found.where[id(claim)], found.kinds[id(claim)]
    host = claim.route.hosts[claim.index]
    shown = f"{host!r}" + (f" ({claim.fqdn})" if claim.fqdn != host else "")
    names = ", ".join(f"{o.route.name}.{o.route.namespace}" for o in others[:3])
    if len(others) > 3:
        names += f" and {len(others) - 3} more"
    seen = ""
    if EVERYWHERE not in where:
        plural = "s" if len(where) > 1 else ""
        seen = f", both visible in namespace{plural} " + ", ".join(repr(ns) for ns in where)
    message = (
        f"host {shown} is also claimed for the mesh gateway by VirtualService {names} "
        f"({'/'.join(kinds)} routes{seen}); sidecars apply only one VirtualService per host "
        "and ignore the other's routes: merge them"
    )
    return RULE.on(
        claim.route.host_origins[claim.index],
        message,
        related=tuple(
            ctx.related(o.route.host_origins[o.index], "conflicts with")
            for o in others[:MAX_RELATED]
        ),
    )
