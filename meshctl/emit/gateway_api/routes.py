"""VirtualServices -> HTTPRoutes (or GRPCRoutes), TCPRoutes and TLSRoutes.

For each VirtualService, in namespace/name order:

1. rules and matches Istio never reaches (an earlier match takes all their requests) are
   left out, so Gateway API's precedence cannot bring them back;
2. ``placement`` splits the ``http`` rules by where they apply (mesh Services and ports,
   consumer namespaces, gateways, hosts);
3. ``rules`` converts each rule, ``precedence`` keeps Istio's first-match order;
4. a route of more than 16 rules (or 128 matches) is cut into several, as the API
   requires; a route whose ports all speak gRPC becomes a GRPCRoute when nothing is lost;
5. each ``tcp`` and ``tls`` rule becomes a TCPRoute or TLSRoute (one rule each).

Names: the VirtualService's, or ``<name>-<n>`` when it yields several routes of a kind;
namespace: the VirtualService's (a consumer route: its clients' namespace). Every route
is annotated ``meshctl.io/translated-from: VirtualService/<ns>/<name>``, and a
backendRef to another namespace gets a ReferenceGrant there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from meshctl.emit.gateway_api import gamma
from meshctl.emit.gateway_api.backends import Site, backend_ref
from meshctl.emit.gateway_api.context import API, GROUP, Build, source_of
from meshctl.emit.gateway_api.gateways import Gateways
from meshctl.emit.gateway_api.grpc import as_grpc
from meshctl.emit.gateway_api.placement import (
    Placement,
    attach,
    gateway_placements,
    mesh_placements,
    parent_services,
    route_hostnames,
    unknown_gateway,
)
from meshctl.emit.gateway_api.precedence import keep_istio_order
from meshctl.emit.gateway_api.rules import HttpRule, convert_rule
from meshctl.emit.gateway_api.values import is_hostname, port_ok, weight
from meshctl.emit.manifests import Json
from meshctl.model.objects import Protocol, RequestMatch, Route, RouteRule
from meshctl.model.subsumption import gateway_key, shadows

MAX_RULES = 16
MAX_MATCHES = 128

Emitted = tuple[str, Placement, list[Json], list[HttpRule]]  # kind, placement, rules, source rules


def translate_routes(build: Build, gateways: Gateways) -> None:
    chosen = [r for r in build.mesh.routes if r.source_kind == "VirtualService" and build.wanted(r.origin)]
    for route in sorted(chosen, key=lambda r: (r.namespace, r.name)):
        build.counts["VirtualService"] += 1
        if not route.hosts:
            build.losses.dropped(route.origin, f"VirtualService {route.name} has no hosts: it is a delegate, and "
                                               "Gateway API has no delegation; its rules are not translated")
            continue
        _http(build, route, gateways)
        _l4(build, route, gateways)


# -- HTTP -----------------------------------------------------------------------------------------
def _http(build: Build, route: Route, gateways: Gateways) -> None:
    rules = [r for r in route.rules if r.protocol == "http"]
    if not rules:
        return
    dead = _unreachable(build, route)
    mesh_first = route.binds_mesh and (not route.parents or route.parents[0].kind == "mesh")
    mesh = (mesh_placements(build, route, parent_services(build, route), rules)
            if route.binds_mesh else [])
    gateway = (gateway_placements(build, route, gateways, route_hostnames(build, route))
               if any(p.kind == "Gateway" for p in route.parents) else [])
    placements = mesh + gateway if mesh_first else gateway + mesh
    routes: list[Emitted] = []
    split = False
    for placement in placements:
        converted = placement_rules(build, route, placement, rules, dead)
        if not converted:
            continue
        added = keep_istio_order(build, converted)
        _dedupe_names(converted)
        grpc = None if added or (placement.kind == "mesh" and not build.linkerd_reads_v1) else \
            _grpc(build, placement, gateways, converted)
        chunks = list(_chunks(converted))
        split = split or len(chunks) > 1
        for chunk in chunks:
            if grpc is not None:
                routes.append(("GRPCRoute", placement, grpc[: len(chunk)], chunk))
                grpc = grpc[len(chunk):]
            else:
                routes.append(("HTTPRoute", placement, [r.json() for r in chunk], chunk))
    if split:
        build.losses.approximated(route.origin, f"VirtualService {route.name}: more rules or matches than one "
                                                f"Gateway API route holds ({MAX_RULES} rules, {MAX_MATCHES} "
                                                "matches), so it is split; where rules of two routes tie under "
                                                "precedence, the older route wins")
    for (kind, placement, spec_rules, sources), name in zip(routes, _names(build, route, [r[0] for r in routes],
                                                                           [r[1].namespace for r in routes])):
        spec: Json = {"parentRefs": placement.parent_refs}
        if placement.kind == "gateway" and placement.hostnames:
            spec["hostnames"] = placement.hostnames
        spec["rules"] = spec_rules
        notes: dict[str, str] = {}
        if placement.kind == "mesh":
            if kind == "HTTPRoute":
                notes = gamma.linkerd_annotations(sources)
            gamma.notes(build, route, placement, name, sources)
        api = API if placement.kind == "gateway" or build.linkerd_reads_v1 else f"{GROUP}/v1beta1"
        _emit(build, kind, name, placement.namespace, spec, route, notes, api=api)


def placement_rules(
    build: Build, route: Route, placement: Placement, rules: list[RouteRule], dead: set[int]
) -> list[HttpRule]:
    """The HTTPRoute rules of one placement: Istio's rules in order, each with the matches that apply
    there; after a rule that takes every request, nothing (Istio never tries the rest)."""
    site = Site(placement.namespace, placement.port)
    out: list[HttpRule] = []
    for rule in rules:
        if id(rule) in dead:
            continue
        applied: tuple[RequestMatch, ...] = ()
        if rule.matches:
            kept = [placement.applies(m, route.namespace) for m in rule.matches if id(m) not in dead]
            applied = tuple(m for m in kept if m is not None)
            if not applied:
                continue
        converted = convert_rule(build, rule, applied, site)
        out.extend(converted)
        if any(not r.matches for r in converted):
            break  # it takes every request here: Istio never tries the rules after it
    return out


def _unreachable(build: Build, route: Route) -> set[int]:
    """Rules and matches Istio never selects (ids); reported as left out."""
    found = shadows(route)
    dead: set[int] = set()
    for item in found.unreachable:
        if item.rule.protocol != "http":
            continue
        dead.add(id(item.rule))
        by = ", ".join(f"{r.protocol}[{r.index}]" for r in item.by_rules) or "an earlier rule"
        build.losses.approximated(item.rule.origin, f"{item.rule.protocol}[{item.rule.index}] is never reached in "
                                                    f"Istio ({by} takes its requests first); left out so Gateway "
                                                    "API's precedence does not bring it back")
    for cover in found.ineffective:
        if cover.rule.protocol != "http":
            continue
        dead.add(id(cover.match))
        build.losses.approximated(cover.match.origin, f"this match never selects {cover.rule.protocol}"
                                                      f"[{cover.rule.index}] in Istio ({cover.by_rule.protocol}"
                                                      f"[{cover.by_rule.index}] takes its requests first); left out")
    return dead


def _dedupe_names(rules: list[HttpRule]) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.name is None:
            continue
        name, n = rule.name, 1
        while name in seen:
            n += 1
            name = f"{rule.name[:250]}-{n}"
        rule.name = name
        seen.add(name)


def _chunks(rules: list[HttpRule]) -> Iterator[list[HttpRule]]:
    chunk: list[HttpRule] = []
    matches = 0
    for rule in rules:
        count = max(len(rule.matches), 1)
        if chunk and (len(chunk) == MAX_RULES or matches + count > MAX_MATCHES):
            yield chunk
            chunk, matches = [], 0
        chunk.append(rule)
        matches += count
    if chunk:
        yield chunk


def _grpc(build: Build, placement: Placement, gateways: Gateways, rules: list[HttpRule]) -> list[Json] | None:
    """GRPCRoute rules when every port the route serves speaks gRPC and nothing is lost."""
    if placement.kind == "mesh":
        protocols = []
        for parent in placement.services:
            if parent.service is None:
                return None
            ports = [p for p in parent.service.ports if placement.port is None or p.port == placement.port]
            protocols += [p.mesh_protocol for p in ports]
        if not protocols or any(p is not Protocol.GRPC for p in protocols):
            return None
    else:
        for key in placement.contexts:
            namespace, _, name = key.partition("/")
            info = gateways.get((namespace, name))
            if info is None:
                return None
            sections = attach(info.listeners, "HTTPRoute", placement.namespace, placement.hostnames,
                              placement.match_port, placement.ports)
            used = [l for l in info.listeners if (l.name in sections if sections is not None
                                                  else l.takes("HTTPRoute") and not l.redirect)]
            if not used or not all(l.grpc for l in used):
                return None
    return as_grpc(rules)


def _names(build: Build, route: Route, kinds: list[str], namespaces: list[str]) -> list[str]:
    """The VirtualService's name, or ``<name>-<n>`` when it yields several routes of a kind."""
    total = {kind: kinds.count(kind) for kind in kinds}
    counters: dict[str, int] = {}
    out = []
    for kind, namespace in zip(kinds, namespaces):
        if total[kind] == 1:
            wanted = route.name
        else:
            counters[kind] = counters.get(kind, 0) + 1
            wanted = f"{route.name}-{counters[kind]}"
        out.append(build.unique(kind, namespace, wanted))
    return out


def _emit(build: Build, kind: str, name: str, namespace: str, spec: Json, route: Route,
          annotations: dict[str, str] | None = None, *, api: str = API) -> None:
    source = source_of(route.origin)
    for ref_namespace, service in _foreign_backends(spec, namespace):
        build.grant(kind, namespace, ref_namespace, service, source)
    build.emit(api, kind, name, namespace, spec, [source], annotations=annotations)


def _foreign_backends(spec: Json, namespace: str) -> Iterator[tuple[str, str]]:
    """(namespace, Service) of every backendRef and mirror to another namespace."""
    def refs(rule: dict[str, Any]) -> Iterator[Json]:
        for ref in rule.get("backendRefs", []):
            yield ref
            for item in ref.get("filters", []):
                if "requestMirror" in item:
                    yield item["requestMirror"]["backendRef"]
        for item in rule.get("filters", []):
            if "requestMirror" in item:
                yield item["requestMirror"]["backendRef"]

    for rule in spec.get("rules", []):
        for ref in refs(rule):
            if ref.get("namespace", namespace) != namespace:
                yield ref["namespace"], ref["name"]


# -- TCP and TLS ------------------------------------------------------------------------------------
def _l4(build: Build, route: Route, gateways: Gateways) -> None:
    """One TCPRoute or TLSRoute per ``tcp`` / ``tls`` rule (Gateway API allows one rule each)."""
    found = shadows(route)
    dead = {id(u.rule) for u in found.unreachable if u.rule.protocol in ("tcp", "tls")}
    emitted: list[tuple[str, Placement, Json, RouteRule]] = []
    claimed: dict[str, set[int]] = {"tcp": set(), "tls": set()}  # Service ports earlier rules took
    for rule in route.rules:
        if rule.protocol not in ("tcp", "tls"):
            continue
        if id(rule) in dead:
            build.losses.approximated(rule.origin, f"{rule.protocol}[{rule.index}] is never reached in Istio (an "
                                                   "earlier rule without match takes every connection); left out")
            continue
        kind = "TCPRoute" if rule.protocol == "tcp" else "TLSRoute"
        for placement in _l4_placements(build, route, gateways, rule, kind, claimed[rule.protocol]):
            body = _l4_rule(build, placement, rule)
            if body is not None:
                emitted.append((kind, placement, body, rule))
    names = _names(build, route, [e[0] for e in emitted], [e[1].namespace for e in emitted])
    parents: dict[tuple[str, str], str] = {}
    for (kind, placement, body, rule), name in zip(emitted, names):
        spec: Json = {"parentRefs": placement.parent_refs}
        if kind == "TLSRoute":
            spec["hostnames"] = placement.hostnames
        spec["rules"] = [body]
        if kind == "TCPRoute":
            for ref in placement.parent_refs:
                key = (kind, repr(sorted(ref.items())))
                if key in parents:
                    build.losses.approximated(rule.origin, f"{kind} {name} and {parents[key]} attach to the same "
                                                           "parent and port: Istio chose by match, Gateway API "
                                                           "gives the port to one of them (the oldest)")
                parents.setdefault(key, name)
        _emit(build, kind, name, placement.namespace, spec, route)
        if placement.kind == "mesh":
            build.losses.approximated(rule.origin, f"{kind} {placement.namespace}/{name} with a Service parent: "
                                                   "Linkerd applies Service-parented TCP and TLS routes to opaque "
                                                   "ports and egress only, and reads them as v1alpha2")


def _l4_placements(
    build: Build, route: Route, gateways: Gateways, rule: RouteRule, kind: str, claimed: set[int]
) -> list[Placement]:
    """Where an L4 rule applies. Istio tries the rules in order, so a rule without a port
    takes only the Service ports earlier rules of the route did not claim."""
    matches = rule.matches or ()
    for match in matches:
        if match.destination_subnets:
            build.losses.dropped(match.origin.at("destinationSubnets"), "destinationSubnets: Gateway API routes "
                                                                        "cannot match the destination address; left out")
        if match.source_labels or match.source_namespace:
            build.losses.dropped(match.origin, "sourceLabels/sourceNamespace: Gateway API cannot route by client; "
                                               "the condition is left out")
    ports = sorted({m.port for m in matches if m.port is not None and port_ok(m.port)})
    sni = sorted({h.lower() for m in matches for h in m.sni_hosts})
    hostnames = [h for h in sni if is_hostname(h)] or [
        h.lower() for h in route.hosts if h != "*" and is_hostname(h.lower())]
    if kind == "TLSRoute" and not hostnames:
        build.losses.dropped(rule.origin, "a TLSRoute needs hostnames (SNI): neither sniHosts nor the "
                                          "VirtualService hosts give one; the rule is left out")
        return []
    out = []
    contexts = _l4_contexts(route, matches)
    if "mesh" in contexts:
        parents = parent_services(build, route)
        placement = Placement("mesh", route.namespace, frozenset({"mesh"}), services=tuple(parents),
                              hostnames=hostnames)
        refs = []
        for parent in parents:
            ref: Json = {"group": "", "kind": "Service", "name": parent.name}
            if parent.namespace != route.namespace:
                ref["namespace"] = parent.namespace
            numbers = [p.port for p in parent.service.ports] if parent.service else []
            wanted = ports or ([n for n in numbers if n not in claimed] if claimed or len(numbers) == 1 else [])
            if numbers and not wanted:
                continue  # every port went to earlier rules
            refs += [{**ref, "port": p} for p in wanted] if wanted else [ref]
        claimed.update(ports)
        placement.parent_refs = refs[:32]
        placement.port = ports[0] if len(ports) == 1 else (
            refs[0].get("port") if len(refs) == 1 else None)
        if refs:
            out.append(placement)
    keys = sorted(c for c in contexts if c != "mesh")
    if keys:
        placement = Placement("gateway", route.namespace, frozenset(keys), hostnames=hostnames)
        refs = []
        for key in keys:
            namespace, _, name = key.partition("/")
            ref = {"name": name}
            if namespace != route.namespace:
                ref["namespace"] = namespace
            info = gateways.get((namespace, name))
            if info is None:
                if unknown_gateway(build, route, key):
                    refs += [{**ref, "port": p} for p in ports] if ports else [ref]
                continue
            each: list[int | None] = [*ports] or [None]
            for port in each:
                sections = attach(info.listeners, kind, route.namespace, hostnames if kind == "TLSRoute" else [],
                                  port, frozenset())
                if sections is None:
                    refs.append(ref)
                else:
                    refs += [{**ref, "sectionName": s} for s in sections]
        placement.parent_refs = list({repr(r): r for r in refs}.values())[:32]
        if placement.parent_refs:
            out.append(placement)
    return out


def _l4_contexts(route: Route, matches: tuple[RequestMatch, ...]) -> set[str]:
    top = {"mesh" if p.kind == "mesh" else f"{p.namespace}/{p.name}" for p in route.parents} or {"mesh"}
    if not matches or any(not m.gateways for m in matches):
        return top
    named = {gateway_key(g, route.namespace) for m in matches for g in m.gateways}
    return top & named


def _l4_rule(build: Build, placement: Placement, rule: RouteRule) -> Json | None:
    site = Site(placement.namespace, placement.port)
    refs = []
    for backend in rule.backends:
        ref = backend_ref(build, backend, site)
        if ref is None:
            continue
        ref["weight"] = 1 if len(rule.backends) == 1 else weight(backend.weight)
        refs.append(ref)
    if not refs:
        build.losses.dropped(rule.origin, f"{rule.protocol}[{rule.index}]: no destination could be translated; "
                                          "the rule is left out")
        return None
    return {"backendRefs": refs[:16]}
