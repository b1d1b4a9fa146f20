"""The inbound side of one workload: what Istio's sidecar does with connections to the pod.

Before::

    Service reviews.default :9080 -> targetPort 9080 (http), selector {app: reviews}
    Pod reviews-v1 (app: reviews, status.podIP 10.244.1.11)
    PeerAuthentication default.default  mtls: PERMISSIVE
    AuthorizationPolicy deny-admin.default  DENY paths ["/admin*"]

After (``inbound_listeners(build, pod)``, listen address 0.0.0.0)::

    listener 0.0.0.0_9080 on 0.0.0.0:9080, traffic_direction INBOUND, tls_inspector
      chain 0.0.0.0_9080  transport tls + Istio mTLS ALPNs, DownstreamTlsContext -> HCM
      chain 0.0.0.0_9080  transport raw_buffer                               -> HCM
      HCM inbound_0.0.0.0_9080: rbac DENY, fault, cors, router;
          route config inbound|9080|| -> vhost inbound|http|9080 ["*"] -> route default
    cluster inbound|9080|| STATIC 10.244.1.11:9080 (registered on the Build)

Why one listener per port: Istio's sidecar has a single ``virtualInbound`` listener on
15006 and iptables redirects every inbound connection to it; its filter chains then match
on ``destination_port``. A static bootstrap has no redirect, so nothing could ever reach
15006 with the original port. Each inbound (target) port gets its own listener instead,
named like Istio's chain (``<listen address>_<port>``), bound on ``--listen-address`` and
the target port, carrying exactly the chains Istio puts under ``virtualInbound`` for that
port, matched by ``transport_protocol`` / ``application_protocols`` only. The application
must then listen on another address than the proxy (its pod IP, as in the cluster).

What Istio does (``listener_inbound.go``, ``filterchain_options.go``, ``cluster_builder.go``):

* Ports: the target ports of the Services selecting the pod (named targetPorts resolved
  on its containers); one chain set per target port, the first Service keeping a port
  (Istio: the oldest; meshctl: the first by name). UDP is not intercepted.
* mTLS mode per port (PeerAuthentication, ``meshctl.security.mtls.peer_mode``): STRICT
  accepts only TLS with a client certificate (plaintext finds no chain: the connection is
  closed); PERMISSIVE adds a plaintext chain (and, on TCP ports, one passing the
  application's own TLS through); DISABLE is plaintext only. The TLS context asks for a
  client certificate, offers ALPN ``h2, http/1.1`` (TCP: ``istio-peer-exchange`` first),
  TLS 1.2-1.3 with Istio's ciphers, and takes the certificate (``default``) and the
  trust bundle (``ROOTCA``) over SDS from the ``sds-grpc`` cluster (the istio-agent UDS).
* HTTP ports get an HCM with the RBAC filters (``rbac.py``), fault, cors and the router;
  one route ``default`` to ``inbound|<port>||`` without timeout, gRPC timeouts from the
  header uncapped, and two retries of ``reset-before-request`` (none for gRPC). An
  undeclared protocol is sniffed by Istio; here it is treated as HTTP (reported).
* TCP ports get the network RBAC filters and ``tcp_proxy`` to ``inbound|<port>||``.
* The cluster ``inbound|<port>||`` is STATIC on the pod IP (``status.podIP``; else
  127.0.0.1) and the target port, 10s connect timeout, and the connection pool of the
  DestinationRule for the Service (as the server sees it; port-level settings replace the
  whole policy): circuit breakers (4294967295 when unset), timeouts, HTTP options. With the
  pod IP, Istio binds the upstream side to 127.0.0.6 (its inbound passthrough address).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from meshctl.emit.envoy import rbac
from meshctl.emit.envoy.build import Build
from meshctl.emit.envoy.endpoints import is_ip
from meshctl.emit.envoy.names import inbound_cluster_name, listener_name
from meshctl.emit.envoy.sidecar import http_filters
from meshctl.emit.envoy.tls import TLS_SOCKET, sds_secret
from meshctl.emit.envoy.values import (
    DOWNSTREAM_TLS,
    HCM,
    HTTP_PROTOCOL_OPTIONS,
    MESH_CONNECT_TIMEOUT,
    TCP_PROXY,
    TLS_INSPECTOR,
    UINT32_MAX,
    duration,
    typed,
    whole_seconds,
)
from meshctl.model.mesh import MeshModel, selects
from meshctl.model.objects import Protocol, Service, ServicePort, TrafficPolicy, Workload
from meshctl.model.origin import Origin
from meshctl.model.traffic import ConnectionPool
from meshctl.security.authz import target_port
from meshctl.security.mtls import DISABLE, PERMISSIVE, STRICT, peer_mode, view_of

Json = dict[str, Any]

CHAIN_ADDRESS = "0.0.0.0"  # Istio names inbound chains (and their stats) after 0.0.0.0 always
PASSTHROUGH_BIND = "127.0.0.6"  # Istio's InboundPassthroughBindIpv4
LOCALHOST = "127.0.0.1"
CERTIFICATE_SECRET, ROOT_SECRET = "default", "ROOTCA"
HCM_NAME = "envoy.filters.network.http_connection_manager"
TCP_PROXY_NAME = "envoy.filters.network.tcp_proxy"
TLS_INSPECTOR_NAME = "envoy.filters.listener.tls_inspector"
ISTIO_MTLS_ALPNS = ("istio", "istio-peer-exchange", "istio-http/1.0", "istio-http/1.1", "istio-h2")
HTTP_ALPNS = ("h2", "http/1.1")
TCP_ALPNS = ("istio-peer-exchange", "h2", "http/1.1")
CIPHERS = ("ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256",
           "ECDHE-RSA-AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-GCM-SHA256")
INBOUND_RETRY_ON = "reset-before-request"
INBOUND_RETRIES = 2


# -- the workload and its ports ----------------------------------------------------------


def find_workload(mesh: MeshModel, name: str, namespace: str) -> Workload | None:
    """The Pod or controller (Deployment, StatefulSet, ...) called ``name`` in ``namespace``;
    a Pod first when both exist (it has a pod IP)."""
    found = [w for w in mesh.workloads_in(namespace) if w.name == name]
    return next((w for w in found if w.is_pod), found[0] if found else None)


@dataclass(frozen=True)
class InboundPort:
    """One target port of the workload and the Service port that decides how it is served."""

    target: int
    protocol: Protocol
    service: Service
    port: ServicePort

    @property
    def origin(self) -> Origin:
        return self.port.origin


def services_of(mesh: MeshModel, workload: Workload) -> list[Service]:
    """The Services of the workload's namespace whose selector picks it, by name."""
    found = [s for s in mesh.services_in(workload.namespace)
             if s.selector and selects(s.selector, workload.labels)]
    return sorted(found, key=lambda s: s.name)


def inbound_targets(mesh: MeshModel, workload: Workload) -> list[InboundPort]:
    """Every TCP target port the Services send to, once (the first Service by name wins), sorted."""
    chosen: dict[int, InboundPort] = {}
    for service in services_of(mesh, workload):
        for port in service.ports:
            if port.protocol.upper() != "TCP" or port.mesh_protocol is Protocol.UDP:
                continue  # Istio's sidecar intercepts TCP only
            target = target_port(port, workload)
            if target is not None and target not in chosen:
                chosen[target] = InboundPort(target, port.mesh_protocol, service, port)
    return [chosen[number] for number in sorted(chosen)]


def inbound_ports(mesh: MeshModel, workload: Workload) -> list[tuple[int, Protocol, Origin]]:
    """(target port, protocol, ServicePort origin) for each port the sidecar serves, sorted."""
    return [(p.target, p.protocol, p.origin) for p in inbound_targets(mesh, workload)]


# -- listeners ---------------------------------------------------------------------------


def inbound_listeners(build: Build, workload: Workload) -> list[Json]:
    """One listener per inbound port; registers the inbound clusters (and sds-grpc if needed)."""
    return [inbound_listener(build, workload, port) for port in inbound_targets(build.mesh, workload)]


def chain_name(port: int) -> str:
    return f"{CHAIN_ADDRESS}_{port}"


def serves_http(build: Build, port: InboundPort) -> bool:
    """HTTP, HTTP/2 and gRPC ports get an HCM; an undeclared protocol is treated as HTTP."""
    if port.protocol is Protocol.UNKNOWN:
        service = f"{port.service.name}.{port.service.namespace}"
        build.losses.approximated(
            port.origin, f"port {port.port.port} of Service {service} declares no protocol: Istio sniffs "
                         "each inbound connection (HTTP or TCP); the inbound listener for target port "
                         f"{port.target} treats it as HTTP")
        return True
    return port.protocol.is_http


@dataclass(frozen=True)
class ChainMatch:
    """One of Istio's inbound filter-chain match options."""

    transport: str  # tls | raw_buffer
    alpns: tuple[str, ...] = ()
    mtls: bool = False  # terminate Istio mTLS on this chain


def chain_matches(mode: str, http: bool) -> tuple[ChainMatch, ...]:
    """Istio's filter-chain options for a port's mTLS mode and protocol (§4.1)."""
    mtls = ChainMatch("tls", (), True)
    if mode == STRICT:
        return (mtls,)
    if mode == DISABLE:
        return (ChainMatch("raw_buffer"),)
    istio = ChainMatch("tls", ISTIO_MTLS_ALPNS, True)
    if http:
        return istio, ChainMatch("raw_buffer")
    return istio, ChainMatch("tls"), ChainMatch("raw_buffer")


def inbound_listener(build: Build, workload: Workload, port: InboundPort) -> Json:
    """The listener of one target port: the chains Istio puts under ``virtualInbound`` for it,
    without the ``destination_port`` match; ``tls_inspector`` only when a chain matches TLS
    (Istio turns it off for ports without one, so server-first protocols are not delayed)."""
    mode, _ = peer_mode(build.mesh, workload, port.target)
    mode = mode if mode in (STRICT, PERMISSIVE, DISABLE) else PERMISSIVE
    http = serves_http(build, port)
    cluster = build.add_cluster(inbound_cluster_name(port.target),
                                lambda: inbound_cluster(build, workload, port))
    if http:
        filters = http_connection_manager(build, workload, port, cluster)
    else:
        filters = tcp_filters(build, workload, port, cluster)
    options = chain_matches(mode, http)
    address = build.options.listen_address
    listener: Json = {
        "name": listener_name(address, port.target),
        "address": {"socket_address": {"address": address, "port_value": port.target}},
        "traffic_direction": "INBOUND",
    }
    if any(match.transport == "tls" for match in options):
        listener["continue_on_listener_filters_timeout"] = True
        listener["listener_filters"] = [{"name": TLS_INSPECTOR_NAME, "typed_config": typed(TLS_INSPECTOR)}]
    listener["filter_chains"] = [filter_chain(build, port.target, match, filters, http) for match in options]
    return listener


def filter_chain(build: Build, port: int, match: ChainMatch, filters: list[Json], http: bool) -> Json:
    """One chain, named ``0.0.0.0_<port>`` as Istio names every inbound chain of the port."""
    chain_match: Json = {"transport_protocol": match.transport}
    if match.alpns:
        chain_match["application_protocols"] = list(match.alpns)
    chain: Json = {"name": chain_name(port), "filter_chain_match": chain_match}
    if match.mtls:
        chain["transport_socket"] = {"name": TLS_SOCKET, "typed_config": downstream_tls(build, tcp=not http)}
    chain["filters"] = copy.deepcopy(filters)
    return chain


# -- TLS ---------------------------------------------------------------------------------


def downstream_tls(build: Build, *, tcp: bool) -> Json:
    """The server side of Istio mTLS: a client certificate is required; the certificate and
    the trust bundle come from the node agent over SDS (registers ``sds-grpc``)."""
    return typed(
        DOWNSTREAM_TLS,
        require_client_certificate=True,
        common_tls_context={
            "alpn_protocols": list(TCP_ALPNS if tcp else HTTP_ALPNS),
            "tls_params": {
                "tls_minimum_protocol_version": "TLSv1_2",
                "tls_maximum_protocol_version": "TLSv1_3",
                "cipher_suites": list(CIPHERS),
            },
            "tls_certificate_sds_secret_configs": [sds_secret(build, CERTIFICATE_SECRET)],
            "combined_validation_context": {
                "default_validation_context": {},
                "validation_context_sds_secret_config": sds_secret(build, ROOT_SECRET),
            },
        },
    )


# -- filters -----------------------------------------------------------------------------


def http_connection_manager(build: Build, workload: Workload, port: InboundPort, cluster: str) -> list[Json]:
    """The HCM of an HTTP port (Istio's ``buildSidecarInboundHTTPOpts``)."""
    config = typed(
        HCM,
        stat_prefix=f"inbound_{chain_name(port.target)}",
        route_config=inbound_route_config(port, cluster),
        http_filters=rbac.http_rbac_filters(build, workload, port.target) + http_filters(),
        use_remote_address=False,
        forward_client_cert_details="APPEND_FORWARD",
        set_current_client_cert_details={"subject": True, "dns": True, "uri": True},
        normalize_path=True,
        upgrade_configs=[{"upgrade_type": "websocket"}],
    )
    if port.protocol in (Protocol.HTTP2, Protocol.GRPC):
        config["http2_protocol_options"] = {}
    return [{"name": HCM_NAME, "typed_config": config}]


def inbound_route_config(port: InboundPort, cluster: str) -> Json:
    """``inbound|<target>||``: one catch-all virtual host, one ``default`` route to the app.

    The virtual host and the trace operation carry the Service port, as Istio's do.
    """
    action: Json = {
        "cluster": cluster,
        "timeout": "0s",
        "max_stream_duration": {"max_stream_duration": "0s", "grpc_timeout_header_max": "0s"},
    }
    if port.protocol is not Protocol.GRPC:
        action["retry_policy"] = {"retry_on": INBOUND_RETRY_ON, "num_retries": INBOUND_RETRIES}
    route = {
        "name": "default",
        "match": {"prefix": "/"},
        "decorator": {"operation": f"{port.service.fqdn}:{port.port.port}/*"},
        "route": action,
    }
    return {
        "name": cluster,
        "virtual_hosts": [{"name": f"inbound|http|{port.port.port}", "domains": ["*"], "routes": [route]}],
        "validate_clusters": False,
    }


def tcp_filters(build: Build, workload: Workload, port: InboundPort, cluster: str) -> list[Json]:
    """Network RBAC, then ``tcp_proxy`` to the application."""
    proxy = {"name": TCP_PROXY_NAME, "typed_config": typed(TCP_PROXY, stat_prefix=cluster, cluster=cluster)}
    return rbac.network_rbac_filters(build, workload, port.target) + [proxy]


# -- the inbound cluster -----------------------------------------------------------------


def inbound_traffic_policy(mesh: MeshModel, workload: Workload, port: InboundPort) -> TrafficPolicy | None:
    """The DestinationRule policy Istio applies to the inbound cluster: the one the
    workload's namespace sees for the Service (no workloadSelector), its port-level
    settings for the Service port replacing the whole policy."""
    rules = view_of(mesh).destination_rules(workload.namespace, port.service.fqdn)
    top = next((dr.traffic_policy for dr in rules if dr.traffic_policy is not None), None)
    if top is None:
        return None
    return dict(top.port_level).get(port.port.port, top)


def circuit_breakers(pool: ConnectionPool | None) -> Json:
    """One default-priority threshold: 4294967295 unless the pool sets a positive value."""
    def limit(value: int | None) -> int:
        return value if value is not None and value > 0 else UINT32_MAX

    pool_values = (None, None, None, None) if pool is None else (
        pool.max_connections, pool.http1_max_pending_requests, pool.http2_max_requests, pool.max_retries)
    names = ("max_connections", "max_pending_requests", "max_requests", "max_retries")
    return {"thresholds": [{name: limit(value) for name, value in zip(names, pool_values)}]}


def http_protocol_options(protocol: Protocol, pool: ConnectionPool | None) -> Json | None:
    """``HttpProtocolOptions`` of an HTTP inbound cluster: h2 for HTTP/2 and gRPC ports, the
    downstream protocol for sniffed ports, and the pool's idle timeout and request limits."""
    common: Json = {}
    h2: Json = {}
    if pool is not None:
        idle = duration(pool.idle_timeout) or duration(pool.tcp_idle_timeout)
        if idle:
            common["idle_timeout"] = idle
        if pool.max_requests_per_connection and pool.max_requests_per_connection > 0:
            common["max_requests_per_connection"] = pool.max_requests_per_connection
        lifetime = duration(pool.max_connection_duration)
        if lifetime:
            common["max_connection_duration"] = lifetime
        if pool.max_concurrent_streams and pool.max_concurrent_streams > 0:
            h2["max_concurrent_streams"] = pool.max_concurrent_streams
    options: Json = {}
    if common:
        options["common_http_protocol_options"] = common
    if protocol in (Protocol.HTTP2, Protocol.GRPC):
        options["explicit_http_config"] = {"http2_protocol_options": h2}
    elif protocol is Protocol.UNKNOWN:
        options["use_downstream_protocol_config"] = {"http_protocol_options": {},
                                                     "http2_protocol_options": {}}
    elif common:
        options["explicit_http_config"] = {"http_protocol_options": {}}
    return typed(HTTP_PROTOCOL_OPTIONS, **options) if options else None


def tcp_keepalive(pool: ConnectionPool | None) -> Json | None:
    keepalive = pool.tcp_keepalive if pool is not None else None
    if keepalive is None:
        return None
    out: Json = {}
    if keepalive.probes:
        out["keepalive_probes"] = keepalive.probes
    time, interval = whole_seconds(keepalive.time), whole_seconds(keepalive.interval)
    if time:
        out["keepalive_time"] = time
    if interval:
        out["keepalive_interval"] = interval
    return out


def inbound_cluster(build: Build, workload: Workload, port: InboundPort) -> Json:
    """``inbound|<target>||``: the application on the pod IP (else localhost) and the target port."""
    name = inbound_cluster_name(port.target)
    policy = inbound_traffic_policy(build.mesh, workload, port)
    pool = policy.connection_pool if policy is not None else None
    pod_ip = workload.pod_ip if workload.pod_ip and is_ip(workload.pod_ip) else None
    if workload.pod_ip and pod_ip is None:
        build.losses.approximated(workload.origin, f"{workload.pod_ip!r} is not an IP address; the inbound "
                                                   "cluster sends to 127.0.0.1 instead")
    address = pod_ip or LOCALHOST
    if pod_ip is None and build.options.listen_address in ("0.0.0.0", "::", LOCALHOST):
        build.losses.approximated(
            workload.origin, f"{workload.kind} {workload.name} has no status.podIP, so the application is "
                             f"expected on {LOCALHOST}:{port.target}, where this proxy listens too; run the output "
                             "with --listen-address set to another address, or give the workload a pod IP")
    cluster: Json = {
        "name": name,
        "type": "STATIC",
        "connect_timeout": duration(pool.connect_timeout if pool else None) or MESH_CONNECT_TIMEOUT,
        "circuit_breakers": circuit_breakers(pool),
    }
    keepalive = tcp_keepalive(pool)
    if keepalive is not None:
        cluster["upstream_connection_options"] = {"tcp_keepalive": keepalive}
    if pod_ip:
        cluster["upstream_bind_config"] = {"source_address": {"address": PASSTHROUGH_BIND, "port_value": 0}}
    http = port.protocol.is_http or port.protocol is Protocol.UNKNOWN
    options = http_protocol_options(port.protocol, pool) if http else None
    if options is not None:
        cluster["typed_extension_protocol_options"] = {HTTP_PROTOCOL_OPTIONS: options}
    cluster["load_assignment"] = {
        "cluster_name": name,
        "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {
            "socket_address": {"address": address, "port_value": port.target}}}}]}],
    }
    return cluster
