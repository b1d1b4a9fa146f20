"""A client sidecar's outbound view: one HTTP listener per service port (§1.1, §1.2, §5.1).

Every HTTP port number that some visible Service or ServiceEntry serves becomes a
listener bound on ``--listen-address`` with the route configuration Istio names after
the port: one virtual host per service on that port (domains as a client in the proxy's
namespace may write them), the routes of the VirtualService (or GAMMA route) that owns
the host, else the service's default route, and the catch-all ``allow_any`` or
``block_all`` last.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from meshctl.emit.envoy.build import Build
from meshctl.emit.envoy.names import PASSTHROUGH, listener_name, service_domains, vhost_name
from meshctl.emit.envoy.routes import Site, default_route, gateway_api_routes, http_routes
from meshctl.emit.envoy.values import CORS_FILTER, FAULT, HCM, ROUTER, typed
from meshctl.model import hosts
from meshctl.model.objects import Protocol, Route

Json = dict[str, Any]
HTTP_PROTOCOLS = {"HTTP", "HTTP2", "GRPC", "GRPC-WEB"}
GAMMA_KINDS = {"HTTPRoute", "GRPCRoute"}  # Gateway API routes with a Service parent (Istio reads them too)


@dataclass
class PortHosts:
    """What one route configuration (one port number) serves."""

    services: dict[str, bool] = field(default_factory=dict)  # fqdn -> is a Kubernetes service


def sidecar_listeners(build: Build) -> list[Json]:
    ports = _http_ports(build)
    owners = _route_owners(build)
    listeners = []
    for port in sorted(ports):
        vhosts = []
        for fqdn, registry in sorted(ports[port].services.items()):
            routes = _routes_for(build, owners.get(fqdn, []), fqdn, port)
            domains = service_domains(fqdn, build.proxy_namespace, build.mesh.domain) if registry else [fqdn]
            vhosts.append({
                "name": vhost_name(fqdn, port),
                "domains": domains,
                "routes": routes or [default_route(build, fqdn, port)],
            })
        vhosts += _external_hosts(build, owners, port, set(ports[port].services))
        listeners.append(http_listener(build, port, route_config(str(port), vhosts, build)))
    return listeners


def _http_ports(build: Build) -> dict[int, PortHosts]:
    """Port number -> the services that serve HTTP on it and are visible to the proxy."""
    ports: dict[int, PortHosts] = defaultdict(PortHosts)
    ns = build.proxy_namespace
    for service in build.mesh.services:
        if service.type == "ExternalName" or not hosts.visible(service.export_to, service.namespace, ns):
            continue
        for port in service.ports:
            if port.protocol != "TCP":
                continue
            if port.mesh_protocol is Protocol.UNKNOWN:
                build.losses.approximated(port.origin, f"port {port.port} of {service.name}.{service.namespace} "
                                                       "declares no protocol; Istio sniffs it per connection, the "
                                                       "output serves it as HTTP")
            elif not port.mesh_protocol.is_http:
                continue
            ports[port.port].services[service.fqdn] = True
    for entry in build.mesh.service_entries:
        if not hosts.visible(entry.export_to, entry.namespace, ns):
            continue
        for entry_port in entry.ports:
            if entry_port.protocol in HTTP_PROTOCOLS:
                for host in entry.hosts:
                    ports[entry_port.number].services.setdefault(host, False)
    return ports


def _routes_for(build: Build, owners: list[Route], fqdn: str, port: int) -> list[Json]:
    """The Envoy routes of a service's virtual host, from the routes that own its host."""
    owners = [r for r in owners if _binds_port(r, fqdn, port)]
    if not owners:
        return []
    if owners[0].source_kind == "VirtualService":
        return http_routes(build, owners[0], Site(port))
    return gateway_api_routes(build, owners, Site(port))


def _route_owners(build: Build) -> dict[str, list[Route]]:
    """Host -> the routes that own it for this sidecar: exact hosts before wildcards (the most
    specific wildcard first). Of several VirtualServices on one host the first in the inputs
    wins; GAMMA routes attached to one Service are merged, as Gateway API says."""
    claims: dict[str, list[Route]] = defaultdict(list)
    ns, domain = build.proxy_namespace, build.mesh.domain
    for route in build.mesh.routes:
        if route.source_kind == "VirtualService":
            if route.binds_mesh and hosts.visible(route.export_to, route.namespace, ns):
                _report_l4(build, route)
                for host in route.hosts:
                    claims[hosts.fqdn(host, route.namespace, domain)].append(route)
            continue
        for parent in route.parents:
            if parent.kind == "Service" and parent.group in ("", "core") and route.source_kind in GAMMA_KINDS:
                claims[hosts.service_fqdn(parent.name, parent.namespace, domain)].append(route)
    for host, routes in claims.items():
        if routes[0].source_kind != "VirtualService":
            claims[host] = [r for r in routes if r.source_kind != "VirtualService"]
            continue
        for other in routes[1:]:
            build.losses.approximated(
                other.origin,
                f"{host} is also routed by {routes[0].source_kind} {routes[0].name}.{routes[0].namespace}; "
                "Istio applies one of them (the oldest), the output uses the first in the inputs",
            )
    owners = {host: routes[:1] if routes[0].source_kind == "VirtualService" else routes
              for host, routes in claims.items() if "*" not in host}
    wildcards = sorted((h for h in claims if "*" in h), key=len, reverse=True)
    for target in _registry(build):
        if target not in owners:
            pattern = next((w for w in wildcards if hosts.matches(w, target)), None)
            if pattern is not None:
                owners[target] = claims[pattern][:1]
    return owners


def _registry(build: Build) -> set[str]:
    """Every host the registry knows: Service FQDNs and ServiceEntry hosts."""
    return {s.fqdn for s in build.mesh.services} | {h for e in build.mesh.service_entries for h in e.hosts}


def _report_l4(build: Build, route: Route) -> None:
    for rule in route.rules:
        if rule.protocol in ("tcp", "tls"):
            build.losses.dropped(rule.origin, f"{rule.protocol.upper()} routes are not part of the HTTP outbound "
                                              "view this output describes")


def _binds_port(route: Route, fqdn: str, port: int) -> bool:
    """A GAMMA route whose Service parent names a port applies to that port only."""
    ports = {p.port for p in route.parents if p.kind == "Service" and p.port is not None}
    return not ports or port in ports


def _external_hosts(build: Build, owners: dict[str, list[Route]], port: int, served: set[str]) -> list[Json]:
    """VirtualService hosts that are no service: Istio serves them on port 80 listeners only."""
    out: list[Json] = []
    if port != 80:
        return out
    registry = _registry(build)
    for host, claimed in sorted(owners.items()):
        if host in registry or host in served or claimed[0].source_kind != "VirtualService":
            continue
        routes = http_routes(build, claimed[0], Site(port))
        if routes:
            out.append({"name": vhost_name(host, port), "domains": [host], "routes": routes})
    return out


def report_unserved_hosts(build: Build, served_ports: set[int]) -> None:
    """A VirtualService host that is not a service, with no port-80 listener to carry it."""
    if 80 in served_ports:
        return
    registry = _registry(build)
    for route in build.mesh.routes:
        if route.source_kind != "VirtualService" or not route.binds_mesh:
            continue
        for host, origin in zip(route.hosts, route.host_origins):
            full = hosts.fqdn(host, route.namespace, build.mesh.domain)
            if "*" not in full and full not in registry:
                build.losses.dropped(origin, f"{host} is not a Service or ServiceEntry host; Istio serves such "
                                             "hosts on port 80 listeners only and no input service has port 80")


def catch_all_vhost(build: Build) -> Json:
    """The last virtual host: pass unknown hosts through (ALLOW_ANY) or answer 502 (REGISTRY_ONLY)."""
    if build.mesh.mesh_config.outbound_traffic_policy == "REGISTRY_ONLY":
        return {"name": "block_all", "domains": ["*"],
                "routes": [{"name": "block_all", "match": {"prefix": "/"}, "direct_response": {"status": 502}}]}
    return {"name": "allow_any", "domains": ["*"], "routes": [{
        "name": "allow_any", "match": {"prefix": "/"},
        "route": {"cluster": PASSTHROUGH, "timeout": "0s", "max_grpc_timeout": "0s"},
    }]}


def route_config(name: str, vhosts: list[Json], build: Build, *, catch_all: bool = True) -> Json:
    """A RouteConfiguration with domains de-duplicated (first virtual host keeps a domain)."""
    seen: set[str] = set()
    kept = []
    for vhost in sorted(vhosts, key=lambda v: v["name"]):
        domains = [d for d in vhost["domains"] if d not in seen and d != "*"]
        seen.update(domains)
        if domains:
            kept.append({**vhost, "domains": domains})
    if catch_all:
        kept.append(catch_all_vhost(build))
    return {
        "name": name,
        "virtual_hosts": kept,
        "validate_clusters": False,
        "ignore_port_in_host_matching": True,
        "max_direct_response_body_size_bytes": 1048576,
    }


def http_filters() -> list[Json]:
    """Fault and CORS before the router: per-route fault and CORS settings need them."""
    return [
        {"name": "envoy.filters.http.fault", "typed_config": typed(FAULT)},
        {"name": "envoy.filters.http.cors", "typed_config": typed(CORS_FILTER)},
        {"name": "envoy.filters.http.router", "typed_config": typed(ROUTER)},
    ]


def http_listener(build: Build, port: int, routes: Json, *, direction: str = "OUTBOUND") -> Json:
    address = build.options.listen_address
    name = listener_name(address, port)
    return {
        "name": name,
        "address": {"socket_address": {"address": address, "port_value": port}},
        "traffic_direction": direction,
        "filter_chains": [{"filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": typed(HCM, stat_prefix=f"{direction.lower()}_{name}", route_config=routes,
                                  http_filters=http_filters()),
        }]}],
    }
