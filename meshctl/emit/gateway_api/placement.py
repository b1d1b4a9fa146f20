"""Where a VirtualService's routes go: parents, namespace, hostnames, and which matches apply.

Some Istio match conditions do not select requests but places: ``gateways`` (which proxy),
``port`` (which Service or listener port), ``sourceNamespace`` (which clients) and, on a
gateway, an exact ``authority`` (which host). Gateway API says these with the route
itself, so the VirtualService is split into one route per place, each holding the rules
in their order with the matches that apply there (conditions removed)::

    VirtualService cart (hosts: [cart], mesh)         HTTPRoute cart-1: parent cart port 8080
      http[0] match port 8080, uri /v2  -> v2           rules: /v2 -> v2, (all) -> v1
      http[1]                           -> v1         HTTPRoute cart-2: parent cart port 9090
                                                        rules: (all) -> v1

The split keeps Istio's meaning: ports partition by parentRef ``port`` (a route without
port would mix with the others by precedence), hostnames by Gateway API's rule that the
most specific hostname's routes take the request, consumer routes (in the clients'
namespace) by GAMMA's rule that they replace producer routes for those clients.

A mesh route's parents are the Services its hosts name, ``group: ""`` and ``kind:
Service`` (Istio resolves the group exactly), with the port when the Service has one
port. A gateway route's parents are the Gateways, with ``sectionName`` when the listeners
Istio would bind differ from those Gateway API would (an httpsRedirect listener, another
port).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from itertools import product

from meshctl.emit.gateway_api.context import Build
from meshctl.emit.gateway_api.gateways import Gateways, ListenerInfo
from meshctl.emit.gateway_api.values import (
    is_hostname,
    is_ip,
    is_namespace,
    is_object_name,
    port_ok,
)
from meshctl.emit.manifests import Json
from meshctl.model import hosts
from meshctl.model.objects import MatchType, RequestMatch, Route, RouteRule, Service
from meshctl.model.origin import Origin
from meshctl.model.subsumption import gateway_key

MESH = "mesh"
MAX_HOSTNAMES = 16


@dataclass(frozen=True)
class ParentService:
    name: str
    namespace: str
    service: Service | None  # None: not among the inputs
    origin: Origin


@dataclass
class Placement:
    """One emitted route's place, and the rule of which Istio matches apply there."""

    kind: str  # mesh | gateway
    namespace: str  # the route's namespace
    contexts: frozenset[str]  # "mesh" or gateway keys "ns/name"
    parent_refs: list[Json] = field(default_factory=list)
    hostnames: list[str] = field(default_factory=list)
    services: tuple[ParentService, ...] = ()
    port: int | None = None  # the one port requests arrive on (mesh), for backend ports
    match_port: int | None = None
    ports: frozenset[int] = frozenset()  # ports that split the route
    authority: str | None = None
    authorities: frozenset[str] = frozenset()
    source_namespace: str | None = None  # set: a consumer route made for a sourceNamespace match
    source_namespaces: frozenset[str] = frozenset()  # client namespaces that got a consumer route

    def applies(self, match: RequestMatch, route_namespace: str) -> RequestMatch | None:
        """``match`` without the conditions this place satisfies, or None when it applies elsewhere."""
        if match.gateways:
            named = {gateway_key(g, route_namespace) for g in match.gateways}
            if not self.contexts <= named:
                return None
        keep = replace(match, gateways=())
        if match.port is not None and match.port in self.ports:
            if match.port != self.match_port:
                return None
            keep = replace(keep, port=None)
        if self.kind == "gateway":
            value = exact_authority(match)
            if value is not None and value in self.authorities:
                if value != self.authority:
                    return None
                keep = replace(keep, authority=None)
        if self.kind == "mesh" and match.source_namespace in self.source_namespaces:
            if match.source_namespace != self.own_clients:
                return None
            keep = replace(keep, source_namespace=None)
        return keep

    @property
    def own_clients(self) -> str | None:
        """The namespace whose clients a consumer route serves (None for a producer route)."""
        if self.kind != "mesh" or not self.services:
            return None
        if all(s.namespace != self.namespace for s in self.services):
            return self.namespace
        return None


def exact_authority(match: RequestMatch) -> str | None:
    """An exact authority that can be a route hostname (no port, a DNS name), lower-cased."""
    sm = match.authority
    if sm is None or sm.type is not MatchType.EXACT or sm.invert:
        return None
    value = sm.value.lower()
    return value if is_hostname(value) and not value.startswith("*") and not is_ip(value) else None


def _applying(route: Route, context: str) -> Iterable[RequestMatch]:
    for rule in route.rules:
        if rule.protocol != "http":
            continue
        for match in rule.matches:
            if not match.gateways or context in {gateway_key(g, route.namespace) for g in match.gateways}:
                yield match


# -- the mesh ----------------------------------------------------------------------------------
def parent_services(build: Build, route: Route) -> list[ParentService]:
    """The Services a mesh route's hosts name; other hosts are reported."""
    out: list[ParentService] = []
    for host, origin in zip(route.hosts, route.host_origins):
        fqdn = hosts.fqdn(host, route.namespace, build.domain)
        target = build.service_name(fqdn)
        if target is None:
            kind = "a ServiceEntry host" if build.mesh.entries_for(fqdn) else "not a Kubernetes Service"
            build.losses.dropped(origin, f"host {host!r} is {kind}; a Gateway API mesh route attaches to a "
                                         "Service, so the mesh routing for this host is left out")
            continue
        if any((p.name, p.namespace) == target for p in out):
            continue
        out.append(ParentService(target[0], target[1], build.service_of(fqdn), origin))
    return out


def mesh_placements(build: Build, route: Route, parents: list[ParentService], rules: list[RouteRule]) -> list[Placement]:
    """One placement per (Service port that splits the route, consumer namespace)."""
    if not parents:
        return []
    matches = list(_applying(route, MESH))
    known = all(p.service is not None for p in parents)
    ports: set[int] = {m.port for m in matches if m.port is not None and port_ok(m.port)} if known else set()
    if known and _by_port(build, rules, parents):
        ports |= {port.port for p in parents if p.service for port in p.service.ports}
    service_namespaces = {p.namespace for p in parents}
    clients = {m.source_namespace for m in matches if m.source_namespace is not None and is_namespace(m.source_namespace)}
    consumers = sorted(clients - service_namespaces - {route.namespace})
    served = set(consumers) | ({route.namespace} - service_namespaces)
    base = Placement("mesh", route.namespace, frozenset({MESH}), services=tuple(parents),
                     ports=frozenset(ports), source_namespaces=frozenset(served))
    out = []
    for port, clients_ns in product([None, *sorted(ports)], [None, *consumers]):
        placement = replace(base, match_port=port, source_namespace=clients_ns,
                            namespace=clients_ns or route.namespace)
        refs = _service_refs(parents, placement.namespace, port, frozenset(ports))
        if not refs:
            continue
        placement.parent_refs = refs
        placement.port = port if port is not None else _single_port(refs)
        out.append(placement)
    return out


def _by_port(build: Build, rules: list[RouteRule], parents: list[ParentService]) -> bool:
    """Does a destination without a port need the port requests arrive on (Istio's choice
    for a multi-port Service)?"""
    for rule in rules:
        for backend in (*rule.backends, *rule.mirrors):
            if backend.port is not None:
                continue
            service = build.service_of(backend.fqdn)
            if service is None or len(service.ports) != 1:
                return any(p.service is not None and len(p.service.ports) > 1 for p in parents)
    return False


def _service_refs(parents: list[ParentService], namespace: str, port: int | None, split: frozenset[int]) -> list[Json]:
    refs: list[Json] = []
    for parent in parents:
        ref: Json = {"group": "", "kind": "Service", "name": parent.name}
        if parent.namespace != namespace:
            ref["namespace"] = parent.namespace
        service = parent.service
        numbers = [p.port for p in service.ports] if service is not None else []
        if port is not None:
            if port in numbers:
                refs.append({**ref, "port": port})
        elif split:
            refs += [{**ref, "port": n} for n in numbers if n not in split]
        elif len(numbers) == 1:
            refs.append({**ref, "port": numbers[0]})
        else:
            refs.append(ref)
    return refs[:32]


def _single_port(refs: list[Json]) -> int | None:
    ports = {ref.get("port") for ref in refs}
    return ports.pop() if len(ports) == 1 and None not in ports else None


# -- gateways ----------------------------------------------------------------------------------
def route_hostnames(build: Build, route: Route) -> list[str]:
    """The VirtualService hosts as HTTPRoute hostnames; empty when one of them is ``*``."""
    out: list[str] = []
    for host, origin in zip(route.hosts, route.host_origins):
        name = hosts.fqdn(host, route.namespace, build.domain).lower()  # Istio resolves short names
        if name == "*":
            return []
        if is_ip(name) or not is_hostname(name):
            build.losses.dropped(origin, f"host {host!r} is not a hostname Gateway API accepts; left out of the "
                                         "gateway route's hostnames")
            continue
        if name not in out:
            out.append(name)
    if len(out) > MAX_HOSTNAMES:
        build.losses.dropped(route.origin.at("spec", "hosts"), f"{len(out)} hosts: an HTTPRoute has at most "
                                                               f"{MAX_HOSTNAMES} hostnames; the rest are left out")
    return out[:MAX_HOSTNAMES]


def gateway_placements(build: Build, route: Route, gateways: Gateways, hostnames: list[str]) -> list[Placement]:
    """One placement per (gateway group, authority, port); see the module docstring."""
    keys = [f"{p.namespace}/{p.name}" for p in route.parents if p.kind == "Gateway"]
    keys = list(dict.fromkeys(keys))
    if not keys:
        return []
    every = [m for key in keys for m in _applying(route, key)]
    split = any(m.gateways and not set(keys) <= {gateway_key(g, route.namespace) for g in m.gateways}
                for m in every)
    out = []
    for group in ([[k] for k in keys] if split else [keys]):
        matches = list(_applying(route, group[0])) if split else every
        ports = sorted({m.port for m in matches if m.port is not None and port_ok(m.port)})
        authorities, outside = _authorities(build, matches, hostnames)
        for authority, port in product([None, *authorities], [None, *ports]):
            placement = Placement("gateway", route.namespace, frozenset(group),
                                  hostnames=[authority] if authority else list(hostnames), match_port=port,
                                  ports=frozenset(ports), authority=authority,
                                  authorities=frozenset(authorities) | outside)
            placement.parent_refs = _gateway_refs(build, route, gateways, group, placement, "HTTPRoute")
            if placement.parent_refs:
                out.append(placement)
    return out


def _authorities(build: Build, matches: list[RequestMatch], hostnames: list[str]) -> tuple[list[str], set[str]]:
    """Exact authorities that get routes of their own, and those outside the hosts (never matched)."""
    authorities: list[str] = []
    outside: set[str] = set()
    for match in matches:
        value = exact_authority(match)
        if value is None or value in authorities or value in outside:
            continue
        if hostnames and not any(hosts.matches(h, value) for h in hostnames):
            build.losses.approximated(match.origin.at("authority"), f"authority {value!r} is outside the "
                                                                    "VirtualService's hosts: the match never "
                                                                    "applies and is left out")
            outside.add(value)
            continue
        authorities.append(value)
    return authorities, outside


def _gateway_refs(
    build: Build, route: Route, gateways: Gateways, group: list[str], placement: Placement, kind: str
) -> list[Json]:
    refs: list[Json] = []
    for key in group:
        namespace, _, name = key.partition("/")
        ref: Json = {"name": name}
        if namespace != route.namespace:
            ref["namespace"] = namespace
        info = gateways.get((namespace, name))
        if info is None:
            if unknown_gateway(build, route, key):
                refs.append({**ref, "port": placement.match_port} if placement.match_port is not None else ref)
            continue
        sections = attach(info.listeners, kind, placement.namespace, placement.hostnames,
                          placement.match_port, placement.ports)
        if sections is None:
            refs.append(ref)
        elif sections:
            refs += [{**ref, "sectionName": s} for s in sections]
        elif placement.match_port is None and placement.authority is None:
            origin = next((p.origin for p in route.parents if f"{p.namespace}/{p.name}" == key), route.origin)
            build.losses.approximated(origin, f"no listener of Gateway {key} serves these hosts to namespace "
                                              f"{placement.namespace} (Istio does not bind them either); no "
                                              "route is emitted for it")
    return refs[:32]


def attach(
    listeners: tuple[ListenerInfo, ...], kind: str, namespace: str, hostnames: list[str],
    port: int | None, split: frozenset[int],
) -> list[str] | None:
    """The listener names a route must name (sectionName) to attach where Istio would bind
    it; None when attaching to the whole Gateway already does that; [] when nowhere."""
    auto = [l for l in listeners if l.takes(kind) and l.allows(namespace) and l.serves(hostnames)]
    wanted = [l for l in auto if not l.redirect and (l.port == port if port is not None else l.port not in split)]
    if wanted and wanted == auto:
        return None
    return [l.name for l in wanted]


def unknown_gateway(build: Build, route: Route, key: str) -> bool:
    """Report a gateway that is not translated; False when it cannot even be named."""
    origin = next((p.origin for p in route.parents if f"{p.namespace}/{p.name}" == key), route.origin)
    namespace, _, name = key.partition("/")
    if not is_namespace(namespace) or not is_object_name(name):
        build.losses.dropped(origin, f"gateway {key!r} is not a Gateway name; no route attaches to it")
        return False
    build.losses.approximated(origin, f"gateway {key} is not among the translated inputs: the route attaches to "
                                      "every listener of a Gateway API Gateway of that name, which must exist")
    return True
