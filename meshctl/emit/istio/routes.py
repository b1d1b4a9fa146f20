"""HTTPRoutes, GRPCRoutes, TCPRoutes and TLSRoutes (Gateway API or Linkerd) -> VirtualServices.

Routes are grouped by what they attach to, so one VirtualService holds every rule for a
host in the order Gateway API precedence gives them (Istio would otherwise merge or pick
VirtualServices in creation order)::

    HTTPRoute a (parent Service reviews)  \\
    HTTPRoute b (parent Service reviews)   }->  VirtualService reviews: hosts [reviews.shop.svc.cluster.local]
                                                http: matches of a and b, most specific first
    HTTPRoute web (parent Gateway public,  ->  VirtualService web: gateways [ingress/public]
                   hostnames [shop.example.com])   hosts [shop.example.com]

A route in another namespace than its parent Service (a consumer route) applies to
clients of its namespace only: its VirtualService is exported to ``.``. A Service-parented
route in a Linkerd mesh reads as Linkerd reads it: retry and timeout annotations (the
route's, else the Service's), the parent Service for a rule without backends; while a
ServiceProfile (or a TrafficSplit, which linkerd-smi turns into one) exists for the
Service, Linkerd ignores the routes, and so does the translation. A Service with retry or
timeout annotations and no route gets a VirtualService with one catch-all rule.
"""

from __future__ import annotations

import json
from collections import defaultdict

from meshctl.emit.istio.annotations import NONE, Annotated, Resilience, resilience
from meshctl.emit.istio.build import NETWORKING, Build, route_source, route_sources, source_of
from meshctl.emit.istio.destinations import host_destination
from meshctl.emit.istio.entries import (
    RuleContext,
    compact,
    http_entries,
    report_filters,
    stream_routes,
)
from meshctl.emit.istio.gateways import Attachment, attachments, istio_gateway_name
from meshctl.emit.istio.matches import Entry, istio_matches, precedence, sort_entries
from meshctl.emit.manifests import Json
from meshctl.model.objects import Listener, ParentRef, Route, Service

HTTP_PROTOCOLS = ("http", "grpc")
MeshKey = tuple[str, str]  # (Service FQDN, namespace of the VirtualService)


def translate_routes(build: Build, shadowed: dict[str, str]) -> set[str]:
    """Emit the VirtualServices of every translated route; returns the hosts they cover."""
    routes = sorted((r for r in build.mesh.routes
                     if r.source_kind not in ("VirtualService", "Ingress") and build.route_wanted(r)),
                    key=lambda r: (r.namespace, r.name, r.source_kind))
    order = {id(r): i for i, r in enumerate(routes)}
    mesh: dict[MeshKey, list[tuple[Route, ParentRef]]] = defaultdict(list)
    gateways: dict[tuple[str, str], list[tuple[Route, Attachment]]] = defaultdict(list)
    for route in routes:
        if route.source_kind == "UDPRoute":
            build.losses.dropped(route.origin, "Istio routes no UDP; the UDPRoute is not translated")
            continue
        if not route.parents:
            build.losses.dropped(route.origin, "a route without parentRefs attaches to nothing; not translated")
        for parent in route.parents:
            _sort_parent(build, route, parent, shadowed, mesh, gateways)
    covered = set()
    for key in sorted(mesh):
        if _mesh_service(build, key, mesh[key], order):
            covered.add(key[0])
    for key in sorted(gateways):
        _gateway_routes(build, gateways[key], order)
    return covered


def _sort_parent(build: Build, route: Route, parent: ParentRef, shadowed: dict[str, str],
                 mesh: dict[MeshKey, list[tuple[Route, ParentRef]]],
                 gateways: dict[tuple[str, str], list[tuple[Route, Attachment]]]) -> None:
    kind = parent.kind.lower()
    if kind == "service":
        if parent.group != "" and not build.linkerd_semantics(route):
            build.losses.approximated(parent.origin, f"a Service parentRef in group {parent.group!r} is read as the "
                                      "core Service (Istio itself resolves only group \"\" and would not attach "
                                      "the route)")
        fqdn = build.fqdn(parent.name, parent.namespace)
        if fqdn in shadowed:
            build.losses.dropped(parent.origin, f"Linkerd ignores routes to this Service while {shadowed[fqdn]} "
                                 "exists; the route is not translated (the profile is)")
            return
        mesh[(fqdn, route.namespace)].append((route, parent))
    elif kind == "gateway":
        for attachment in attachments(build, route, parent):
            gateways[(attachment.gateway.namespace, attachment.gateway.name)].append((route, attachment))
    elif kind == "server":
        return  # an inbound (authorization) route: see policy.py
    elif kind == "egressnetwork":
        build.losses.dropped(parent.origin, "a route on an EgressNetwork has no VirtualService equivalent (use a "
                             "ServiceEntry and a route bound to it); not translated")
    else:
        build.losses.dropped(parent.origin, f"a {parent.kind} parent is not translated")


# -- mesh routes ---------------------------------------------------------------------------
def annotated_service(service: Service | None) -> Annotated | None:
    if service is None:
        return None
    return Annotated(service.annotations, service.origin, True)


def _context(build: Build, route: Route, service: Service | None, parent: ParentRef | None) -> RuleContext:
    linkerd = build.linkerd_semantics(route) and parent is not None
    res: Resilience = NONE
    if linkerd:  # Linkerd reads the route's annotations, else its Service's
        grpc = route.source_kind == "GRPCRoute"
        res = resilience(build, Annotated(route.annotations, route.origin, False), annotated_service(service), grpc)
    return RuleContext(route, route_source(route), service, parent.port if parent else None, linkerd, res)


def _mesh_service(build: Build, key: MeshKey, items: list[tuple[Route, ParentRef]], order: dict[int, int]) -> bool:
    fqdn, namespace = key
    service = build.service_at(fqdn)
    if fqdn in build.istio_mesh_hosts:
        for route, parent in items:
            build.losses.dropped(parent.origin, f"an Istio VirtualService of the inputs already routes {fqdn}; a "
                                 "second one would conflict, so this route is not translated")
        return False
    http: list[tuple[Entry, RuleContext]] = []
    tcp: list[Json] = []
    tls: list[Json] = []
    sources: list[str] = []
    reported: set[int] = set()
    for route, parent in items:
        ctx = _context(build, route, service, parent)
        sources.append(ctx.source)
        if id(route) not in reported:
            reported.add(id(route))
            report_filters(build, ctx)
            if route.hosts:
                build.losses.dropped(route.host_origins[0], "hostnames of a Service-parented route are not "
                                     "translated: the VirtualService applies to every request for the Service")
            if ctx.linkerd and ctx.resilience.retries is None and route.source_kind not in ("TCPRoute", "TLSRoute"):
                build.losses.approximated(route.origin, "Istio retries failed connections twice by default "
                                          "(connect-failure,refused-stream,unavailable,cancelled); Linkerd did not "
                                          "retry this route")
            if ctx.resilience.idle_timeout and ctx.resilience.idle_origin:
                _idle(build, fqdn, service, ctx.resilience.idle_timeout, ctx.source)
        if service is not None and ctx.linkerd and any(k.startswith(("retry.linkerd.io/", "timeout.linkerd.io/"))
                                                       for k in service.annotations):
            sources.append(source_of("Service", service.namespace, service.name))
        for rule in route.rules:
            if rule.protocol in HTTP_PROTOCOLS:
                for j, match in enumerate(rule.matches or (None,)):
                    http.append((Entry(route, rule, match, (order[id(route)], rule.index, j), parent.port), ctx))
            elif rule.protocol == "tcp":
                entry: Json = {"match": [{"port": parent.port}]} if parent.port is not None else {}
                entry["route"] = stream_routes(build, ctx, rule)
                tcp.append(entry)
            elif rule.protocol == "tls":
                names = list(route.hosts) or [fqdn]
                match: Json = {"sniHosts": names}
                if parent.port is not None:
                    match["port"] = parent.port
                tls.append({"match": [match], "route": stream_routes(build, ctx, rule)})
    spec: Json = {"hosts": [fqdn]}
    if service is not None and namespace != service.namespace or service is None and namespace != fqdn.split(".")[1]:
        spec["exportTo"] = ["."]
    spec.update(_sections(build, http, tcp, tls))
    name = service.name if service is not None else fqdn.split(".")[0]
    build.emit(NETWORKING, "VirtualService", build.unique("VirtualService", namespace, name), namespace, spec, sources)
    return True


def _sections(build: Build, http: list[tuple[Entry, RuleContext]], tcp: list[Json], tls: list[Json]) -> Json:
    out: Json = {}
    if http:
        contexts = {id(e): c for e, c in http}
        entries = sort_entries([e for e, _ in http])
        report_ties(build, entries)
        out["http"] = compact([item for e in entries for item in http_entries(build, contexts[id(e)], e)])
    if tls:
        out["tls"] = tls
    if tcp:
        out["tcp"] = tcp
    return out


def report_ties(build: Build, entries: list[Entry]) -> None:
    """Equal matches of two routes: Gateway API gives the request to the older route, which the
    inputs do not say; the order here is by namespace and name."""
    for first, second in zip(entries, entries[1:]):
        if first.route is second.route or precedence(first.match) != precedence(second.match):
            continue
        grpc = first.rule.protocol == "grpc"
        if istio_matches(first.match, first.port, grpc) == istio_matches(second.match, second.port, grpc):
            where = second.match.origin if second.match is not None else second.rule.origin
            build.losses.approximated(where, f"the same match as in {route_source(first.route)}: Gateway API picks the "
                                      "older route, which the inputs do not say; that one comes first here "
                                      "(routes are ordered by namespace and name)")


def _idle(build: Build, fqdn: str, service: Service | None, idle: str, source: str) -> None:
    draft = build.destination_rule(fqdn, service.namespace if service else fqdn.split(".")[1], source)
    if draft is not None:
        pool = draft.traffic_policy.setdefault("connectionPool", {})
        pool.setdefault("http", {})["idleTimeout"] = idle


def service_defaults(build: Build, covered: set[str], shadowed: dict[str, str]) -> None:
    """Retry and timeout annotations on a Service no translated route covers: one catch-all rule."""
    if not build.takes_linkerd:
        return
    for service in sorted(build.mesh.services, key=lambda s: (s.namespace, s.name)):
        keys = [k for k in service.annotations if k.startswith(("retry.linkerd.io/", "timeout.linkerd.io/"))]
        if not keys:
            continue
        if service.fqdn in shadowed:
            for key in sorted(keys):
                build.losses.dropped(service.origin.at("metadata", "annotations", key),
                                     f"Linkerd ignores {key} while {shadowed[service.fqdn]} exists; not translated")
            continue
        if service.fqdn in covered:
            continue
        if service.fqdn in build.istio_mesh_hosts:
            build.losses.dropped(service.origin.at("metadata", "annotations", keys[0]), "an Istio VirtualService of "
                                 "the inputs already routes this Service; its retry and timeout annotations are not "
                                 "translated")
            continue
        res = resilience(build, None, annotated_service(service), None)
        source = source_of("Service", service.namespace, service.name)
        if res.idle_timeout:
            _idle(build, service.fqdn, service, res.idle_timeout, source)
        if res.retries is None and res.timeout is None:
            continue
        rule: Json = {"route": [{"destination": host_destination(service.fqdn, None)}]}
        if res.timeout:
            rule["timeout"] = res.timeout
        if res.retries is not None:
            rule["retries"] = res.retries
        spec = {"hosts": [service.fqdn], "http": [rule]}
        build.emit(NETWORKING, "VirtualService", build.unique("VirtualService", service.namespace, service.name),
                   service.namespace, spec, [source])


# -- gateway routes ------------------------------------------------------------------------
def _gateway_routes(build: Build, items: list[tuple[Route, Attachment]], order: dict[int, int]) -> None:
    gateway = items[0][1].gateway
    reference = f"{gateway.namespace}/{istio_gateway_name(build, gateway)}"
    per_host: dict[str, list[tuple[Route, Listener]]] = defaultdict(list)
    streams: dict[int, list[Attachment]] = defaultdict(list)
    routes: dict[int, Route] = {}
    for route, attachment in items:
        routes[id(route)] = route
        if route.source_kind in ("HTTPRoute", "GRPCRoute", "LinkerdHTTPRoute"):
            for name in attachment.hostnames:
                per_host[name].append((route, attachment.listener))
        else:
            streams[id(route)].append(attachment)
    for route in routes.values():
        report_filters(build, _context(build, route, None, None))
    # hosts whose rules are the same share one VirtualService
    groups: dict[str, tuple[list[str], list[Json], list[Route]]] = {}
    for name in sorted(per_host):
        http, contributors = _host_rules(build, gateway.listeners, name, per_host[name], order)
        key = json.dumps(http, sort_keys=True)
        if key in groups:
            groups[key][0].append(name)
        else:
            groups[key] = ([name], http, contributors)
    for names, http, contributors in groups.values():
        first = min(contributors, key=lambda r: order[id(r)])
        label = first.name if len(contributors) == 1 else f"{gateway.name}-{names[0].replace('*', 'wildcard')}"
        spec = {"hosts": names, "gateways": [reference], "http": http}
        sources = [s for r in sorted(contributors, key=lambda r: order[id(r)]) for s in route_sources(r)]
        build.emit(NETWORKING, "VirtualService", build.unique("VirtualService", first.namespace, label),
                   first.namespace, spec, sources)
    for key in sorted(streams, key=lambda k: order[k]):
        _stream_route(build, routes[key], streams[key], reference)


def _host_rules(build: Build, listeners: tuple[Listener, ...], name: str, pairs: list[tuple[Route, Listener]],
                order: dict[int, int]) -> tuple[list[Json], list[Route]]:
    """The ordered http[] entries for one hostname of a gateway; a route attached to only
    some of the ports that serve the hostname gets a port match."""
    serving = {l.port for l in listeners if l.protocol in ("HTTP", "HTTPS") and _covers(l, name)}
    by_route: dict[int, tuple[Route, set[int]]] = {}
    for route, listener in pairs:
        by_route.setdefault(id(route), (route, set()))[1].add(listener.port)
    entries: list[tuple[Entry, RuleContext]] = []
    for route, ports in by_route.values():
        ctx = _context(build, route, None, None)
        restrict: list[int | None] = [None] if ports >= serving else sorted(ports)
        for port in restrict:
            for rule in route.rules:
                for j, match in enumerate(rule.matches or (None,)):
                    entries.append((Entry(route, rule, match, (order[id(route)], rule.index, j), port), ctx))
    contexts = {id(e): c for e, c in entries}
    ordered = sort_entries([e for e, _ in entries])
    report_ties(build, ordered)
    http = compact([item for e in ordered for item in http_entries(build, contexts[id(e)], e)])
    return http, [r for r, _ in by_route.values()]


def _covers(listener: Listener, name: str) -> bool:
    host = listener.hosts[0] if listener.hosts else "*"
    return host == "*" or host == name or (host.startswith("*.") and name.endswith(host[1:]))


def _stream_route(build: Build, route: Route, attached: list[Attachment], reference: str) -> None:
    ctx = _context(build, route, None, None)
    spec: Json = {"gateways": [reference]}
    passthrough = [a for a in attached if route.source_kind == "TLSRoute" and a.listener.tls_mode == "Passthrough"]
    terminated = [a for a in attached if a not in passthrough]  # TCP, or TLS the gateway terminates
    if passthrough:
        names = sorted({n for a in passthrough for n in a.hostnames})
        spec["hosts"] = names
        spec["tls"] = [{"match": [{"sniHosts": names, "port": a.listener.port} for a in passthrough],
                        "route": stream_routes(build, ctx, rule)} for rule in route.rules]
    if terminated:
        spec["hosts"] = sorted({*spec.get("hosts", []), *(n for a in terminated for n in a.hostnames)}) or ["*"]
        spec["tcp"] = [{"match": [{"port": a.listener.port} for a in terminated],
                        "route": stream_routes(build, ctx, rule)} for rule in route.rules]
    build.emit(NETWORKING, "VirtualService", build.unique("VirtualService", route.namespace, route.name),
               route.namespace, spec, route_sources(route))
