"""A gateway proxy: its servers as listeners, the routes bound to it as virtual hosts (§3).

Istio Gateways and Gateway API Gateways both land here. A server listens on the
container port behind the gateway Service's port (80 -> 8080); HTTP servers on one port
share the route configuration ``http.<port>``; each terminated HTTPS server gets its own
filter chain selected by SNI, with the route configuration
``https.<port>.<name>.<gateway>.<namespace>``. Virtual hosts are the intersection of
the server's hosts and the routes' hosts, one per host, named ``<host>:<server port>``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from meshctl.emit.envoy import clusters
from meshctl.emit.envoy.build import Build
from meshctl.emit.envoy.names import listener_name, vhost_name
from meshctl.emit.envoy.routes import Site, catch_all_last, gateway_api_routes, http_routes
from meshctl.emit.envoy.sidecar import http_filters, route_config
from meshctl.emit.envoy.tls import sds_secret
from meshctl.emit.envoy.values import DOWNSTREAM_TLS, HCM, TCP_PROXY, TLS_INSPECTOR, typed
from meshctl.errors import UsageError
from meshctl.model import hosts
from meshctl.model.mesh import selects
from meshctl.model.objects import Gateway, Listener, Route

Json = dict[str, Any]
HTTP = {"HTTP", "HTTP2", "GRPC"}
TERMINATED = {"SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL", "ISTIO_MUTUAL", "TERMINATE"}


@dataclass(frozen=True)
class Server:
    """A gateway server (listener) with the port the proxy really binds."""

    listener: Listener
    bind_port: int

    @property
    def https(self) -> bool:
        return self.listener.protocol in ("HTTPS", "TLS") and (self.listener.tls_mode or "SIMPLE").upper() in TERMINATED


def find_gateway(build: Build, name: str, namespace: str) -> Gateway:
    found = build.mesh.gateways_named(namespace, name)
    if not found:
        known = ", ".join(sorted(f"{g.name}.{g.namespace}" for g in build.mesh.gateways)) or "none"
        raise UsageError(f"gateway {name}.{namespace} is not in the inputs", hint=f"gateways in the inputs: {known}")
    return found[0]


def gateway_listeners(build: Build, gateway: Gateway) -> list[Json]:
    servers = [Server(listener, _bind_port(build, gateway, listener)) for listener in gateway.listeners]
    by_port: dict[int, list[Server]] = defaultdict(list)
    for server in servers:
        by_port[server.bind_port].append(server)
    bound = _bound_routes(build, gateway)
    listeners = []
    for port in sorted(by_port):
        chains = []
        group = by_port[port]
        plain = [s for s in group if s.listener.protocol in HTTP]
        if plain:
            chains.append(_http_chain(build, gateway, plain, f"http.{port}", bound, tls=None))
        for server in group:
            if server.https:
                name = f"https.{server.listener.port}.{server.listener.name or ''}.{gateway.name}.{gateway.namespace}"
                chains.append(_http_chain(build, gateway, [server], name, bound, tls=_downstream_tls(build, server)))
            elif server.listener.protocol in ("TLS", "TCP") or server.listener.protocol not in HTTP:
                chains += _l4_chains(build, gateway, server, bound)
        if chains:
            listeners.append(_listener(build, port, chains))
    return listeners


def _bind_port(build: Build, gateway: Gateway, listener: Listener) -> int:
    """The container port behind the gateway Service's port; the server port when unknown."""
    if gateway.source_kind != "IstioGateway" or not gateway.selector:
        return listener.port
    for service in build.mesh.services:
        if service.selector and selects(service.selector, gateway.selector):
            port = service.port(listener.port)
            if port is not None and isinstance(port.target_port, int):
                return port.target_port
    return listener.port


def _bound_routes(build: Build, gateway: Gateway) -> list[Route]:
    out = []
    for route in build.mesh.routes:
        for parent in route.parents:
            if parent.kind == "Gateway" and parent.name == gateway.name and parent.namespace == gateway.namespace:
                out.append(route)
                break
    return out


def _server_hosts(server: Server, gateway: Gateway) -> list[tuple[str, str]]:
    """(namespace pattern, host) of a server; Gateway API listeners admit every namespace here."""
    if gateway.source_kind == "IstioGateway":
        return [hosts.split_gateway_host(h, gateway.namespace) for h in server.listener.hosts]
    return [("*", h) for h in (server.listener.hosts or ("*",))]


def _vhost_hosts(route: Route, server: Server, gateway: Gateway) -> list[str]:
    """Hosts served for ``route`` on ``server``: the more specific side of each overlap."""
    out: list[str] = []
    route_hosts = route.hosts or ("*",)
    for ns_pattern, server_host in _server_hosts(server, gateway):
        if ns_pattern not in ("*", route.namespace):
            continue
        for host in route_hosts:
            if hosts.matches(server_host, host):
                out.append(host)
            elif hosts.matches(host, server_host):
                out.append(server_host)
    return list(dict.fromkeys(out))


def _admits(route: Route, server: Server) -> bool:
    """A Gateway API route attaches to the listeners its parentRef's section and port name."""
    for parent in route.parents:
        if parent.section and parent.section != server.listener.name:
            continue
        if parent.port is not None and parent.port != server.listener.port:
            continue
        return True
    return False


def _virtual_hosts(build: Build, gateway: Gateway, servers: list[Server], bound: list[Route]) -> list[Json]:
    by_host: dict[str, list[Route]] = defaultdict(list)
    ports: dict[str, int] = {}
    redirect: dict[str, bool] = {}
    for server in servers:
        for route in bound:
            if route.source_kind != "VirtualService" and not _admits(route, server):
                continue
            if not any(r.protocol in ("http", "grpc") for r in route.rules):
                continue
            for host in _vhost_hosts(route, server, gateway):
                by_host[host].append(route)
                ports.setdefault(host, server.listener.port)
                redirect[host] = redirect.get(host, False) or server.listener.https_redirect
    vhosts = []
    for host, routes in sorted(by_host.items()):
        site = Site(ports[host], gateway=(gateway.namespace, gateway.name))
        if routes[0].source_kind == "VirtualService":
            envoy_routes = catch_all_last([r for route in dict.fromkeys(routes) for r in http_routes(build, route, site)])
        else:
            envoy_routes = gateway_api_routes(build, list(dict.fromkeys(routes)), site)
        vhost: Json = {"name": vhost_name(host, ports[host]), "domains": [host], "routes": envoy_routes}
        if redirect[host]:
            vhost["require_tls"] = "ALL"
        vhosts.append(vhost)
    if not vhosts:
        port = servers[0].listener.port
        vhosts.append({"name": f"blackhole:{port}", "domains": ["*"], "routes": []})
    return vhosts


def _http_chain(build: Build, gateway: Gateway, servers: list[Server], name: str, bound: list[Route],
                tls: Json | None) -> Json:
    vhosts = _virtual_hosts(build, gateway, servers, bound)
    wildcard = [v for v in vhosts if v["domains"] == ["*"]]
    config = route_config(name, [v for v in vhosts if v not in wildcard], build, catch_all=False)
    config["virtual_hosts"] += wildcard[:1]
    hcm = typed(
        HCM, stat_prefix=f"outbound_0.0.0.0_{servers[0].bind_port}", route_config=config,
        http_filters=http_filters(), use_remote_address=True, forward_client_cert_details="SANITIZE_SET",
        set_current_client_cert_details={"subject": True, "dns": True, "uri": True},
    )
    chain: Json = {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}]}
    if tls is not None:
        names = sorted({h for s in servers for _, h in _server_hosts(s, gateway) if h != "*"})
        if names:
            chain["filter_chain_match"] = {"server_names": names}
        chain["transport_socket"] = {"name": "envoy.transport_sockets.tls", "typed_config": tls}
    return chain


def _downstream_tls(build: Build, server: Server) -> Json:
    """SIMPLE/MUTUAL from files or an SDS credential; ISTIO_MUTUAL from the mesh's SDS."""
    listener = server.listener
    mode = (listener.tls_mode or "SIMPLE").upper()
    common: Json = {"alpn_protocols": ["h2", "http/1.1"],
                    "tls_params": {"tls_minimum_protocol_version": "TLSv1_2", "tls_maximum_protocol_version": "TLSv1_3"}}
    if mode == "ISTIO_MUTUAL":
        common["tls_certificate_sds_secret_configs"] = [sds_secret(build, "default")]
        common["combined_validation_context"] = {"default_validation_context": {},
                                                 "validation_context_sds_secret_config": sds_secret(build, "ROOTCA")}
        return typed(DOWNSTREAM_TLS, common_tls_context=common, require_client_certificate=True)
    if listener.server_certificate and listener.private_key:
        common["tls_certificates"] = [{"certificate_chain": {"filename": listener.server_certificate},
                                       "private_key": {"filename": listener.private_key}}]
        if mode in ("MUTUAL", "OPTIONAL_MUTUAL") and listener.ca_certificates:
            common["validation_context"] = {"trusted_ca": {"filename": listener.ca_certificates}}
    elif listener.credential_names:
        credential = listener.credential_names[0]
        common["tls_certificate_sds_secret_configs"] = [sds_secret(build, f"kubernetes://{credential}")]
        if mode in ("MUTUAL", "OPTIONAL_MUTUAL"):
            common["combined_validation_context"] = {
                "default_validation_context": {},
                "validation_context_sds_secret_config": sds_secret(build, f"kubernetes://{credential}-cacert"),
            }
    else:
        build.losses.dropped(listener.origin, "the server has no certificate (credentialName or files); "
                                              "its TLS settings are left out")
    return typed(DOWNSTREAM_TLS, common_tls_context=common, require_client_certificate=mode == "MUTUAL")


def _l4_chains(build: Build, gateway: Gateway, server: Server, bound: list[Route]) -> list[Json]:
    """TLS passthrough by SNI and plain TCP: tcp_proxy to the bound routes' destinations."""
    listener = server.listener
    mode = (listener.tls_mode or "").upper()
    if mode == "AUTO_PASSTHROUGH":
        build.losses.dropped(listener.origin, "AUTO_PASSTHROUGH needs a chain per mesh service and SNI-DNAT "
                                              "clusters; it is not emitted")
        return []
    chains = []
    for route in bound:
        for rule in route.rules:
            if rule.protocol not in ("tcp", "tls") or not rule.backends:
                continue
            backend = rule.backends[0]
            port = backend.port or server.listener.port
            cluster = clusters.outbound_cluster(build, backend.fqdn, port, backend.subset)
            if cluster is None:
                continue
            if len(rule.backends) > 1:
                build.losses.approximated(rule.origin, "a weighted TCP/TLS route is emitted to its first "
                                                       "destination only")
            chain: Json = {"filters": [{"name": "envoy.filters.network.tcp_proxy", "typed_config": typed(
                TCP_PROXY, stat_prefix=cluster, cluster=cluster)}]}
            if rule.sni_hosts:
                chain["filter_chain_match"] = {"server_names": sorted(set(rule.sni_hosts))}
            chains.append(chain)
            if not rule.sni_hosts:
                return chains  # a chain without SNI takes every connection: nothing after it is reachable
    return chains


def _listener(build: Build, port: int, chains: list[Json]) -> Json:
    address = build.options.listen_address
    out: Json = {
        "name": listener_name(address, port),
        "address": {"socket_address": {"address": address, "port_value": port}},
        "traffic_direction": "OUTBOUND",
        "filter_chains": chains,
    }
    if any("filter_chain_match" in c for c in chains):
        out["listener_filters"] = [{"name": "envoy.filters.listener.tls_inspector", "typed_config": typed(TLS_INSPECTOR)}]
    return out
