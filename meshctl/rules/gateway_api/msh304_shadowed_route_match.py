"""Two routes (or two rules) serve the same parent and hostname with an identical match: one is shadowed.

## Why it matters
Gateway API does not try rules in order: the most specific match wins (exact path, then
the longest prefix, then method, then the most header and query matches). When two
matches are identical for the same hostname on the same listener (or the same Service
port, for GAMMA routes), the tie goes to the route with the oldest
`creationTimestamp`, then to the first in alphabetical `namespace/name` order, then,
within one route, to the first rule. The other match never receives a request, and
which one that is can change when a route is deleted and re-created. Manifests rarely
carry creation timestamps, so meshctl names the winner by name order when they are
absent and says so: in a cluster, the older route wins. A consumer route (in another
namespace than its parent Service) takes precedence over producer routes for its own
namespace's clients by design, and is compared only with routes of that namespace.

## Example
```yaml
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: store, namespace: shop}
spec:
  parentRefs: [{name: public, namespace: ingress}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: store, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: shop}
spec:
  parentRefs: [{name: public, namespace: ingress}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api/}}]   # the same prefix: 'shop/api' wins by name
    backendRefs: [{name: api, port: 8080}]
```

## Fix
Keep one route per hostname and path, or make the matches differ (a header, a longer
prefix); merge the rules into one route when both teams mean to share the path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from meshctl.diagnostics import Finding, Severity
from meshctl.model.objects import MatchType, RequestMatch, Route, RouteRule, StringMatch
from meshctl.model.origin import Origin
from meshctl.rules.base import Rule
from meshctl.rules.context import Analysis
from meshctl.rules.gateway_api._attachment import attachments
from meshctl.rules.gateway_api._common import (
    gateway_api_routes,
    is_gateway_parent,
    is_service_parent,
    route_hostnames,
)
from meshctl.rules.gateway_api._pending import created

RULE = Rule(
    "MSH304",
    "shadowed-route-match",
    Severity.WARNING,
    __doc__,
    reads=frozenset({"routes", "gateways", "services"}),
)

KINDS = ("HTTPRoute", "GRPCRoute", "TLSRoute")
ALL = ("prefix", "/", False)  # a rule without matches: PathPrefix "/"


@dataclass(frozen=True)
class _Entry:
    route: Route
    rule: RouteRule
    match: int  # -1 for a rule without matches
    origin: Origin

    def order(self, by_time: bool) -> tuple[str, str, int, int, str, int]:
        return (
            (created(self.route) or "") if by_time else "",
            f"{self.route.namespace}/{self.route.name}",
            self.rule.index,
            self.match,
            self.origin.doc.file,
            self.origin.doc.index,
        )


Key = tuple[tuple[object, ...], str, str, tuple[object, ...]]  # place, hostname, kind, match


@RULE.analysis
def check(ctx: Analysis) -> Iterator[Finding]:
    groups: dict[Key, list[_Entry]] = defaultdict(list)
    places: dict[tuple[object, ...], str] = {}
    accepted = _accepted(ctx)
    for route in gateway_api_routes(ctx.mesh.routes):
        if route.source_kind not in KINDS or not route.rules:
            continue
        targets = _places(ctx, route, accepted, places)
        if not targets:
            continue
        for rule in route.rules:
            for index, match_key, origin in _matches(route, rule):
                entry = _Entry(route, rule, index, origin)
                for place, hostname in targets:
                    groups[(place, hostname, route.source_kind, match_key)].append(entry)
    reported: set[tuple[Origin, int, int]] = set()
    for key in sorted(groups, key=repr):
        entries = groups[key]
        if len({(id(e.route), e.rule.index) for e in entries}) < 2:
            continue
        by_time = all(created(e.route) for e in entries)
        entries = sorted(entries, key=lambda e: e.order(by_time))
        winner = entries[0]
        for entry in entries[1:]:
            if entry.route is winner.route and entry.rule.index == winner.rule.index:
                continue
            if entry.route is not winner.route and _identity(entry.route) == _identity(winner.route):
                continue  # two documents of one object: the cluster keeps only one of them
            mark = (entry.origin, id(winner.route), winner.rule.index)
            if mark in reported:
                continue
            reported.add(mark)
            yield _finding(ctx, entry, winner, places[key[0]], key[1], by_time)


def _identity(route: Route) -> tuple[str, str, str]:
    return route.source_kind, route.namespace, route.name


def _accepted(ctx: Analysis) -> dict[int, list[tuple[str, tuple[str, ...]]]]:
    """Per parentRef (by identity): the listeners that accept the route and its hostnames there."""
    found: dict[int, list[tuple[str, tuple[str, ...]]]] = {}
    for attachment in attachments(ctx).items:
        found[id(attachment.parent)] = [
            (v.listener.name or str(v.listener.port), v.hostnames) for v in attachment.accepted
        ]
    return found


def _places(
    ctx: Analysis,
    route: Route,
    accepted: dict[int, list[tuple[str, tuple[str, ...]]]],
    shown: dict[tuple[object, ...], str],
) -> list[tuple[tuple[object, ...], str]]:
    """Where the route serves requests: (listener or Service port, hostname) pairs."""
    targets: list[tuple[tuple[object, ...], str]] = []
    for parent in route.parents:
        if is_gateway_parent(parent):
            gateway = f"Gateway '{parent.namespace}/{parent.name}'"
            if id(parent) in accepted:
                for listener, hostnames in accepted[id(parent)]:
                    place: tuple[object, ...] = ("gateway", parent.namespace, parent.name, listener)
                    shown[place] = f"{gateway} listener {listener!r}"
                    targets += [(place, h) for h in hostnames]
            elif not any(g.source_kind == "Gateway" for g in ctx.mesh.gateways_named(parent.namespace, parent.name)):
                # a Gateway outside the inputs: compare the references as written
                place = ("gateway?", parent.namespace, parent.name, parent.section or "", parent.port or 0)
                shown[place] = gateway + (f" listener {parent.section!r}" if parent.section else "")
                targets += [(place, h) for h in route_hostnames(route)]
        elif is_service_parent(parent):
            service = ctx.mesh.service(parent.name, parent.namespace)
            if parent.port is not None:
                ports = [parent.port]
            elif service is not None and service.ports:
                ports = [p.port for p in service.ports]
            else:
                ports = [0]
            # a consumer route only competes with the routes of its own namespace
            audience = "" if route.namespace == parent.namespace else route.namespace
            for port in ports:
                place = ("service", parent.namespace, parent.name, port, audience)
                shown[place] = f"Service '{parent.namespace}/{parent.name}'" + (f" port {port}" if port else "")
                if audience:
                    shown[place] += f" (consumer routes of namespace {audience!r})"
                targets += [(place, h) for h in route_hostnames(route)]
    return sorted(set(targets), key=repr)


def _string(match: StringMatch | None) -> tuple[object, ...] | None:
    return None if match is None else match.key()


def _path(match: RequestMatch, kind: str) -> tuple[object, ...]:
    path = match.path
    if path is None:
        return ALL
    value = path.value
    if kind == "HTTPRoute" and path.type is MatchType.PREFIX:
        value = value.rstrip("/") or "/"  # PathPrefix is segment-wise: /api and /api/ are one match
    return (path.type.value, value, path.ignore_case)


def _matches(route: Route, rule: RouteRule) -> Iterator[tuple[int, tuple[object, ...], Origin]]:
    if route.source_kind == "TLSRoute" or not rule.matches:
        yield -1, (ALL, None, (), ()), rule.origin
        return
    seen: set[tuple[object, ...]] = set()
    for index, match in enumerate(rule.matches):
        key = (
            _path(match, route.source_kind),
            _string(match.method),
            tuple((name, m.key()) for name, m in match.headers),
            tuple((name, m.key()) for name, m in match.query_params),
        )
        if key in seen:
            continue  # the same alternative twice in one rule: harmless
        seen.add(key)
        yield index, key, match.origin


def _finding(ctx: Analysis, entry: _Entry, winner: _Entry, place: str, hostname: str, by_time: bool) -> Finding:
    what = "this match" if entry.match >= 0 else "this rule (it matches every request)"
    if winner.route is entry.route:
        other = f"rule {winner.rule.index} of the same route"
        why = "the first rule of a route wins a tie"
    else:
        other = f"{winner.route.source_kind} '{winner.route.namespace}/{winner.route.name}' rule {winner.rule.index}"
        if by_time and created(winner.route) != created(entry.route):
            why = f"the older route wins: created {created(winner.route)}, this one {created(entry.route)}"
        else:
            why = (
                f"'{winner.route.namespace}/{winner.route.name}' comes first in name order"
                + ("" if by_time else "; without creationTimestamps meshctl assumes name order, in a cluster the older route wins")
            )
    host = "any hostname" if hostname == "*" else f"hostname {hostname!r}"
    return RULE.on(
        entry.origin,
        f"{what} is identical to a match of {other} on {place}, {host}: it is shadowed ({why})",
        related=(ctx.related(winner.origin, "the winning match of"),),
    )
