"""Istio Gateways -> Gateway API Gateways (class ``istio``) and HTTPS-redirect routes.

Each server becomes one listener per host (Gateway API listeners have one hostname):

| Istio server                               | Gateway API listener                                   |
|--------------------------------------------|--------------------------------------------------------|
| ``port.number``                            | ``port`` (the gateway Service's port when the inputs show Istio's number is its targetPort) |
| ``name`` / ``port.name``                   | ``name`` (``<name>-<n>`` per host; ``<protocol>-<port>`` when unnamed) |
| HTTP, HTTP2, GRPC, GRPC-WEB                | ``HTTP``                                               |
| HTTPS + SIMPLE / MUTUAL                    | ``HTTPS``, ``tls: {mode: Terminate, certificateRefs}`` from ``credentialName`` |
| TLS + PASSTHROUGH (or HTTPS + PASSTHROUGH) | ``TLS``, ``tls: {mode: Passthrough}``                  |
| TLS + SIMPLE / MUTUAL                      | ``TLS``, ``tls: {mode: Terminate, ...}``               |
| TCP, MONGO, MYSQL, REDIS                   | ``TCP``                                                |
| ``hosts`` ``ns/host``                      | ``hostname`` + ``allowedRoutes.namespaces`` (``*`` All, ``.`` Same, else a Selector on ``kubernetes.io/metadata.name``) |
| ``tls.httpsRedirect``                      | an HTTPRoute ``<gateway>-https-redirect`` on that listener: RequestRedirect https 301 |
| AUTO_PASSTHROUGH, ISTIO_MUTUAL, file certificates, ``bind`` | none (reported)                |

A Gateway API Gateway of class ``istio`` is served by a gateway Istio deploys for it; the
Istio selector that picked existing gateway pods has no equivalent (reported once).
"""

from __future__ import annotations

from dataclasses import dataclass

from meshctl.emit.gateway_api.context import API, GATEWAY_CLASS, Build, source_of
from meshctl.emit.gateway_api.values import (
    is_hostname,
    is_ip,
    is_section_name,
    port_ok,
    section_name,
)
from meshctl.emit.manifests import Json
from meshctl.model import hosts
from meshctl.model.objects import Gateway, Listener, Service

HTTP_PROTOCOLS = {"HTTP": "HTTP", "HTTP2": "HTTP", "GRPC": "HTTP", "GRPC-WEB": "HTTP", "HTTPS": "HTTPS"}
TCP_PROTOCOLS = ("TCP", "MONGO", "MYSQL", "REDIS")
TERMINATE_MODES = ("SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL")
NAMESPACE_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class ListenerInfo:
    """An emitted listener, as routes attach to it."""

    name: str
    port: int
    protocol: str  # HTTP | HTTPS | TLS | TCP
    tls_mode: str | None  # Terminate | Passthrough
    hostname: str | None  # None: every host
    namespaces: tuple[str, ...]  # route namespaces allowed; ("*",) all
    redirect: bool  # httpsRedirect: every request is redirected, no route is used
    grpc: bool  # the Istio server spoke gRPC

    def allows(self, namespace: str) -> bool:
        return "*" in self.namespaces or namespace in self.namespaces

    def takes(self, route_kind: str) -> bool:
        """Does the listener accept routes of this kind (Gateway API's defaults per protocol)?"""
        if self.protocol in ("HTTP", "HTTPS"):
            return route_kind in ("HTTPRoute", "GRPCRoute")
        if self.protocol == "TLS":
            return route_kind == "TLSRoute" or (route_kind == "TCPRoute" and self.tls_mode == "Terminate")
        return route_kind == "TCPRoute"

    def serves(self, hostnames: list[str]) -> bool:
        """Do the route's hostnames (empty: all) intersect the listener's?"""
        if self.hostname is None or not hostnames:
            return True
        return any(hosts.overlap(self.hostname, h) for h in hostnames)


@dataclass(frozen=True)
class GatewayInfo:
    name: str
    namespace: str
    listeners: tuple[ListenerInfo, ...]


Gateways = dict[tuple[str, str], GatewayInfo]


def translate_gateways(build: Build) -> Gateways:
    """Every Istio Gateway ``--from`` selects; what routes need to attach to them."""
    out: Gateways = {}
    chosen = [g for g in build.mesh.gateways if g.source_kind == "IstioGateway" and build.wanted(g.origin)]
    for gateway in sorted(chosen, key=lambda g: (g.namespace, g.name)):
        info = _gateway(build, gateway)
        if info is not None:
            out[(gateway.namespace, gateway.name)] = info
            build.counts["Gateway"] += 1
    return out


def _gateway(build: Build, gateway: Gateway) -> GatewayInfo | None:
    service = _gateway_service(build, gateway)
    listeners: list[Json] = []
    infos: list[ListenerInfo] = []
    taken: set[tuple[int, str, str | None]] = set()
    names: set[str] = set()
    for index, server in enumerate(gateway.listeners):
        for listener, info in _server(build, gateway, server, index, service):
            key = (info.port, info.protocol, info.hostname)
            if key in taken:
                build.losses.dropped(server.origin, f"server {index} repeats port {info.port}, protocol "
                                                    f"{info.protocol} and host {info.hostname or '*'} of an "
                                                    "earlier server; Gateway API refuses the duplicate listener")
                continue
            taken.add(key)
            name = _unique(listener["name"], names)
            listener["name"] = name
            listeners.append(listener)
            infos.append(ListenerInfo(name, info.port, info.protocol, info.tls_mode, info.hostname,
                                      info.namespaces, info.redirect, info.grpc))
    if not listeners:
        build.losses.dropped(gateway.origin, f"Gateway {gateway.name}: no server can be a Gateway API listener, "
                                             "so no Gateway is emitted")
        return None
    listeners = listeners[:64]
    _deployment_note(build, gateway, service)
    build.emit(API, "Gateway", gateway.name, gateway.namespace,
               {"gatewayClassName": GATEWAY_CLASS, "listeners": listeners}, [source_of(gateway.origin)])
    emitted = GatewayInfo(gateway.name, gateway.namespace, tuple(infos[:64]))
    _redirects(build, gateway, emitted)
    return emitted


def _unique(name: str, names: set[str]) -> str:
    candidate, n = name, 1
    while candidate in names:
        n += 1
        candidate = f"{name}-{n}"
    names.add(candidate)
    return candidate


# -- one server --------------------------------------------------------------------------------
def _server(
    build: Build, gateway: Gateway, server: Listener, index: int, service: Service | None
) -> list[tuple[Json, ListenerInfo]]:
    where = server.origin
    if not port_ok(server.port):
        build.losses.dropped(where.at("port"), f"server {index} has no valid port number; left out")
        return []
    protocol, tls = _protocol(build, gateway, server)
    if protocol is None:
        return []
    port = _port(server.port, service)
    if server.bind:
        build.losses.dropped(where.at("bind"), f"bind {server.bind}: a Gateway API listener cannot bind one "
                                               "address; the listener takes every address of the gateway")
    base = _base_name(server, protocol, port)
    by_host = _hosts(build, gateway, server)
    if protocol == "TCP":  # TCP carries no host name: the hosts only say which routes may bind
        spaces = {ns for _, namespaces in by_host for ns in namespaces}
        by_host = [(None, ("*",) if "*" in spaces else tuple(sorted(spaces)))]
    out = []
    for k, (hostname, namespaces) in enumerate(by_host):
        listener: Json = {"name": base if len(by_host) == 1 else section_name(f"{base[:240]}-{k + 1}")}
        if hostname is not None:
            listener["hostname"] = hostname
        listener["port"] = port
        listener["protocol"] = protocol
        if tls is not None:
            listener["tls"] = dict(tls)
        listener["allowedRoutes"] = {"namespaces": _allowed(namespaces, gateway.namespace)}
        redirect = protocol == "HTTP" and server.https_redirect
        info = ListenerInfo(listener["name"], port, protocol, tls["mode"] if tls else None, hostname,
                            namespaces, redirect, server.protocol in ("GRPC", "GRPC-WEB"))
        out.append((listener, info))
    return out


def _protocol(build: Build, gateway: Gateway, server: Listener) -> tuple[str | None, Json | None]:
    """The listener protocol and TLS block, or (None, None) when the server is left out."""
    where = server.origin
    mode = server.tls_mode
    protocol = server.protocol
    if mode in ("AUTO_PASSTHROUGH", "ISTIO_MUTUAL"):
        build.losses.dropped(where.at("tls", "mode"), f"server {server.port}: TLS mode {mode} (Istio's mesh-internal "
                                                      "gateways) has no Gateway API equivalent; left out")
        return None, None
    if protocol in ("HTTPS", "TLS") and mode == "PASSTHROUGH":
        return "TLS", {"mode": "Passthrough"}
    if protocol in ("HTTPS", "TLS"):
        if mode not in TERMINATE_MODES:
            build.losses.dropped(where, f"server {server.port}: protocol {protocol} without a TLS mode Gateway API "
                                        "can serve; left out")
            return None, None
        return _terminate(build, gateway, server, protocol)
    if protocol in HTTP_PROTOCOLS:
        if protocol == "GRPC-WEB":
            build.losses.approximated(where.at("port", "protocol"), "GRPC-WEB: the listener is HTTP; whether "
                                                                    "gRPC-Web calls are translated to gRPC is up to "
                                                                    "the implementation")
        return "HTTP", None
    if protocol in TCP_PROTOCOLS:
        if protocol != "TCP":
            build.losses.approximated(where.at("port", "protocol"), f"{protocol}: the listener is plain TCP "
                                                                    "(Istio's protocol-aware filter is not configured)")
        return "TCP", None
    build.losses.dropped(where.at("port", "protocol"), f"server protocol {protocol or '(none)'} has no Gateway "
                                                       "API listener protocol Istio serves; left out")
    return None, None


def _terminate(build: Build, gateway: Gateway, server: Listener, protocol: str) -> tuple[str | None, Json | None]:
    where = server.origin.at("tls")
    if not server.credential_names:
        build.losses.dropped(where, f"server {server.port}: certificates from files (serverCertificate/privateKey) "
                                    "cannot be referenced by a Gateway API listener, which reads Secrets; left out")
        return None, None
    refs = [{"kind": "Secret", "name": name} for name in server.credential_names][:64]
    if server.tls_mode in ("MUTUAL", "OPTIONAL_MUTUAL"):
        build.losses.dropped(where.at("mode"), f"TLS mode {server.tls_mode}: client certificate validation is not "
                                               "carried over (Gateway API spec.tls.frontend needs a CA reference); "
                                               "the listener terminates TLS without asking for client certificates")
    if build.mesh.has_secrets:
        for name in server.credential_names:
            if not build.mesh.has_secret(gateway.namespace, name):
                build.losses.approximated(
                    where.at("credentialName"),
                    f"credentialName {name}: a Gateway API listener reads Secret {name} from the Gateway's namespace "
                    f"{gateway.namespace}, where the inputs have none (Istio read it from the gateway workload's "
                    "namespace); copy the Secret there",
                )
    return protocol, {"mode": "Terminate", "certificateRefs": refs}


def _base_name(server: Listener, protocol: str, port: int) -> str:
    if server.name:
        return server.name if is_section_name(server.name) else section_name(server.name)
    return f"{protocol.lower()}-{port}"


def _hosts(build: Build, gateway: Gateway, server: Listener) -> list[tuple[str | None, tuple[str, ...]]]:
    """(hostname, allowed route namespaces) per distinct host; ``*`` namespaces: all."""
    by_host: dict[str | None, list[str]] = {}
    for index, written in enumerate(server.hosts or ("*",)):
        namespace, host = hosts.split_gateway_host(written, gateway.namespace)
        hostname: str | None = host.lower()
        if hostname == "*":
            hostname = None
        elif hostname is not None and (is_ip(hostname) or not is_hostname(hostname)):
            build.losses.dropped(server.origin.at("hosts", index), f"host {host!r} is not a hostname a Gateway API "
                                                                   "listener accepts; the listener takes every host")
            hostname = None
        by_host.setdefault(hostname, []).append(namespace)
    return [(h, ("*",) if "*" in spaces else tuple(sorted(set(spaces)))) for h, spaces in by_host.items()]


def _allowed(namespaces: tuple[str, ...], own: str) -> Json:
    if "*" in namespaces:
        return {"from": "All"}
    if namespaces == (own,):
        return {"from": "Same"}
    if len(namespaces) == 1:
        return {"from": "Selector", "selector": {"matchLabels": {NAMESPACE_LABEL: namespaces[0]}}}
    return {"from": "Selector", "selector": {"matchExpressions": [
        {"key": NAMESPACE_LABEL, "operator": "In", "values": list(namespaces)}]}}


# -- the gateway's deployment ------------------------------------------------------------------------
def _gateway_service(build: Build, gateway: Gateway) -> Service | None:
    """A Service of the inputs in front of the Istio gateway pods (its selector agrees with the
    Gateway's: shared keys have equal values)."""
    if not gateway.selector:
        return None
    for service in sorted(build.mesh.services, key=lambda s: (s.namespace, s.name)):
        selector = service.selector or {}
        shared = set(selector) & set(gateway.selector)
        if shared and all(selector[k] == gateway.selector[k] for k in shared) and service.type != "ExternalName":
            return service
    return None


def _port(number: int, service: Service | None) -> int:
    """Istio's server port may be the gateway pod's port behind a Service port; a Gateway API
    listener port is what clients connect to."""
    if service is None or service.port(number) is not None:
        return number
    for port in service.ports:
        if port.target_port == number:
            return port.port
    return number


def _deployment_note(build: Build, gateway: Gateway, service: Service | None) -> None:
    selector = ",".join(f"{k}={v}" for k, v in sorted((gateway.selector or {}).items())) or "(none)"
    text = (f"Gateway {gateway.name}: a Gateway API Gateway of class {GATEWAY_CLASS} gets its own deployment and "
            f"Service from Istio; the selector {selector} that picked existing gateway pods is not carried over")
    if service is not None:
        text += f", and clients move from Service {service.namespace}/{service.name} to the new one"
    build.losses.approximated(gateway.origin.at("spec", "selector"), text)


def _redirects(build: Build, gateway: Gateway, info: GatewayInfo) -> None:
    """httpsRedirect: every request to those listeners is redirected to https (301)."""
    sections = [listener.name for listener in info.listeners if listener.redirect]
    if not sections:
        return
    name = build.unique("HTTPRoute", gateway.namespace, f"{gateway.name}-https-redirect")
    spec = {
        "parentRefs": [{"name": gateway.name, "sectionName": section} for section in sections],
        "rules": [{"filters": [{"type": "RequestRedirect",
                                "requestRedirect": {"scheme": "https", "statusCode": 301}}]}],
    }
    build.emit(API, "HTTPRoute", name, gateway.namespace, spec, [source_of(gateway.origin)])
