"""Gateway API Gateways -> Istio Gateways, and which listeners a route attaches to.

A Gateway of any class becomes an Istio Gateway of the same name and namespace, served by
the mesh's ingress gateway pods (``selector: {istio: ingressgateway}``, from the mesh
config)::

    listeners:                                      servers:
    - {name: https, port: 443, protocol: HTTPS,     - port: {number: 443, name: https, protocol: HTTPS}
       hostname: shop.example.com,           ->       hosts: [./shop.example.com]
       tls: {certificateRefs: [{name: shop-cert}]},   tls: {mode: SIMPLE, credentialName: shop-cert}
       allowedRoutes: {namespaces: {from: Same}}}

``allowedRoutes.namespaces`` becomes the ``namespace/`` part of the server hosts (``Same``:
``./``, ``All``: ``*/``, ``Selector``: the namespaces of the inputs it selects); a
``Passthrough`` TLS listener a ``PASSTHROUGH`` server. A route attaches to the listeners its
parentRef names (``sectionName``, ``port``) that take its kind and namespace, with the
hostnames both allow (Gateway API's intersection: ``*.example.com`` and ``a.example.com``
give ``a.example.com``).
"""

from __future__ import annotations

from dataclasses import dataclass

from meshctl.emit.istio.build import NETWORKING, Build, source_of
from meshctl.emit.manifests import Json
from meshctl.model import hosts
from meshctl.model.mesh import selects
from meshctl.model.objects import Gateway, Listener, ParentRef, Route

KINDS_BY_PROTOCOL = {
    "HTTP": ("HTTPRoute", "GRPCRoute"), "HTTPS": ("HTTPRoute", "GRPCRoute"),
    "TLS": ("TLSRoute", "TCPRoute"), "TCP": ("TCPRoute",), "UDP": ("UDPRoute",),
}
NAME_LABEL = "kubernetes.io/metadata.name"
ISTIO_CLASSES = ("istio-waypoint", "istio-east-west", "istio-remote")  # Istio's own proxies, not ingress


def istio_native(gateway: Gateway) -> bool:
    """A waypoint or east-west Gateway: Istio reads it as it is, there is nothing to translate."""
    return gateway.class_name in ISTIO_CLASSES


@dataclass(frozen=True)
class Attachment:
    gateway: Gateway
    listener: Listener
    hostnames: tuple[str, ...]  # what the route serves on this listener ("*": any)


def intersection(listener: str | None, route: str) -> str | None:
    """The hostnames a listener and a route hostname both allow (None: no overlap)."""
    if listener in (None, "", "*"):
        return route
    if route == "*" or hosts.matches(route, listener):
        return listener
    if hosts.matches(listener, route):
        return route
    return None


def find_gateway(build: Build, parent: ParentRef) -> Gateway | None:
    for gateway in build.mesh.gateways_named(parent.namespace, parent.name):
        if gateway.source_kind == "Gateway":
            return gateway
    return None


def _namespace_allowed(build: Build, gateway: Gateway, listener: Listener, namespace: str) -> bool:
    if listener.allowed_namespaces == "All":
        return True
    if listener.allowed_namespaces == "Selector":
        found = build.mesh.namespaces.get(namespace)
        labels = {**(found.labels if found else {}), NAME_LABEL: namespace}
        return listener.allowed_selector is not None and selects(listener.allowed_selector, labels)
    return namespace == gateway.namespace


def _kind_allowed(listener: Listener, kind: str) -> bool:
    if listener.allowed_kinds:
        return kind in listener.allowed_kinds
    return kind in KINDS_BY_PROTOCOL.get(listener.protocol, ())


def attachments(build: Build, route: Route, parent: ParentRef) -> list[Attachment]:
    """The listeners of the parent Gateway the route attaches to (reported when none)."""
    gateway = find_gateway(build, parent)
    if gateway is None:
        build.losses.dropped(parent.origin, f"Gateway {parent.namespace}/{parent.name} is not among the inputs; "
                             "the route is not translated for it")
        return []
    if istio_native(gateway):
        build.losses.approximated(parent.origin, f"Gateway {gateway.namespace}/{gateway.name} is an Istio "
                                  f"{gateway.class_name} proxy, not an ingress; the route is kept out of the "
                                  "translation (Istio reads it as it is)")
        return []
    out = []
    for listener in gateway.listeners:
        if parent.section is not None and listener.name != parent.section:
            continue
        if parent.port is not None and listener.port != parent.port:
            continue
        if not _kind_allowed(listener, route.source_kind) or not _namespace_allowed(build, gateway, listener,
                                                                                     route.namespace):
            continue
        wanted_hosts = route.hosts or ("*",)
        listener_host = listener.hosts[0] if listener.hosts else "*"
        names = tuple(dict.fromkeys(h for h in (intersection(listener_host, r) for r in wanted_hosts) if h))
        if names:
            out.append(Attachment(gateway, listener, names))
    if not out:
        build.losses.approximated(parent.origin, f"no listener of Gateway {gateway.namespace}/{gateway.name} "
                                  "accepts this route (section, port, kind, namespace or hostnames), in the "
                                  "source either; nothing is emitted for it")
    return out


def istio_gateway_name(build: Build, gateway: Gateway) -> str:
    names = build.gateway_names
    key = (gateway.namespace, gateway.name)
    if key not in names:
        names[key] = build.unique("Gateway", gateway.namespace, gateway.name)
    return names[key]


def translate_gateways(build: Build) -> None:
    for gateway in sorted(build.mesh.gateways, key=lambda g: (g.namespace, g.name)):
        if gateway.source_kind != "Gateway" or not build.wanted(gateway.origin):
            continue
        if istio_native(gateway):
            build.losses.approximated(gateway.origin.at("spec", "gatewayClassName"), f"an {gateway.class_name} "
                                      "Gateway is Istio's own proxy; Istio reads it as it is, nothing is emitted")
            continue
        servers = [s for s in (_server(build, gateway, listener) for listener in gateway.listeners) if s]
        selector = {"istio": build.mesh.mesh_config.ingress_selector}
        ingresses = (gateway.namespace, gateway.name) in build.made_from
        replaced = "the Gateway's own deployment, Service and addresses"
        if ingresses:
            replaced = ("Istio's Ingress conversion" if gateway.class_name == build.mesh.mesh_config.ingress_class
                        else f"the {gateway.class_name} class's controller" if gateway.class_name
                        else "the Ingress controller")
        build.losses.approximated(
            gateway.origin, f"served by the pods labelled istio={selector['istio']} (the mesh's ingress gateway) "
            f"instead of {replaced}; a TLS Secret must be readable by those pods (Istio looks credentialName up in "
            "their namespace)")
        if gateway.class_name not in (None, build.mesh.mesh_config.ingress_class) and not ingresses:
            build.losses.approximated(gateway.origin.at("spec", "gatewayClassName"),
                                      f"gatewayClassName {gateway.class_name!r}: the Gateway is now Istio's")
        build.emit(NETWORKING, "Gateway", istio_gateway_name(build, gateway), gateway.namespace,
                   {"selector": selector, "servers": servers},
                   build.made_from.get((gateway.namespace, gateway.name))
                   or [source_of("Gateway", gateway.namespace, gateway.name)])


def _server(build: Build, gateway: Gateway, listener: Listener) -> Json | None:
    protocol = listener.protocol
    if protocol not in ("HTTP", "HTTPS", "TLS", "TCP"):
        build.losses.dropped(listener.origin, f"an Istio Gateway has no {protocol} servers; the listener is not "
                             "translated")
        return None
    host = listener.hosts[0] if listener.hosts else "*"
    server: Json = {
        "port": {"number": listener.port, "name": listener.name or f"{protocol.lower()}-{listener.port}",
                 "protocol": protocol},
        "hosts": _server_hosts(build, gateway, listener, host),
    }
    if protocol in ("HTTPS", "TLS"):
        tls = _tls(build, gateway, listener)
        if tls is None:
            return None
        server["tls"] = tls
    return server


def _server_hosts(build: Build, gateway: Gateway, listener: Listener, host: str) -> list[str]:
    if listener.allowed_namespaces == "All":
        return [host]
    if listener.allowed_namespaces == "Selector":
        known = sorted(ns for ns in set(build.mesh.namespaces) | build.mesh.mentioned_namespaces
                       if _namespace_allowed(build, gateway, listener, ns))
        if known:
            return [f"{ns}/{host}" for ns in known]
        build.losses.approximated(listener.origin.at("allowedRoutes"), "no namespace of the inputs matches the "
                                  "allowedRoutes selector; the server accepts VirtualServices of every namespace")
        return [host]
    return [f"./{host}"]


def _tls(build: Build, gateway: Gateway, listener: Listener) -> Json | None:
    if listener.tls_mode == "Passthrough":
        if listener.protocol != "TLS":
            build.losses.dropped(listener.origin, "TLS Passthrough needs protocol TLS; the listener is not translated")
            return None
        return {"mode": "PASSTHROUGH"}
    names = [ref.split("/", 1)[1] if ref.startswith(f"{gateway.namespace}/") else ref.split("/", 1)[-1]
             for ref in listener.credential_names]
    for ref in listener.credential_names:
        if not ref.startswith(f"{gateway.namespace}/"):
            build.losses.approximated(listener.origin.at("tls", "certificateRefs"),
                                      f"certificateRef {ref} is in another namespace; Istio's credentialName names "
                                      "a Secret of the gateway pods' namespace")
    if not names:
        build.losses.dropped(listener.origin.at("tls"), "a terminating TLS listener without certificateRefs; the "
                             "listener is not translated")
        return None
    tls: Json = {"mode": "SIMPLE"}
    if len(names) == 1:
        tls["credentialName"] = names[0]
    else:
        tls["credentialNames"] = names[:2]
        if len(names) > 2:
            build.losses.dropped(listener.origin.at("tls", "certificateRefs", 2),
                                 "an Istio server takes at most two certificates; the others are not translated")
    return tls
