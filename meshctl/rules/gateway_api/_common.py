"""What the Gateway API analysis rules (MSH300-MSH319) share: kinds, references, hostnames.

>>> intersection("*.example.com", "foo.example.com")
'foo.example.com'
>>> intersection("*.example.com", "*.foo.example.com")
'*.foo.example.com'
>>> intersection("foo.example.com", "bar.example.com") is None
True
>>> intersection("*", "*")
'*'
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from meshctl.model.objects import Backend, Gateway, Listener, ParentRef, Route
from meshctl.model.origin import Origin
from meshctl.rules.context import Analysis

GROUP = "gateway.networking.k8s.io"
CORE_GROUPS = ("", "core")

# Gateway API routes (a Linkerd policy.linkerd.io HTTPRoute is the Linkerd rules' concern)
ROUTE_KINDS = frozenset({"HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute"})
# routes that carry `hostnames`
HOSTNAME_KINDS = frozenset({"HTTPRoute", "GRPCRoute", "TLSRoute"})
# listener protocols whose `hostname` selects requests (ignored for TCP and UDP)
HOSTNAME_PROTOCOLS = frozenset({"HTTP", "HTTPS", "TLS"})

# The route kinds a listener admits when `allowedRoutes.kinds` is empty, by protocol
# (the Gateway API's defaults; TLS listeners take TLSRoutes, and TCPRoutes when they
# terminate). Other protocols are implementation-specific and never judged.
DEFAULT_KINDS: dict[str, frozenset[str]] = {
    "HTTP": frozenset({"HTTPRoute", "GRPCRoute"}),
    "HTTPS": frozenset({"HTTPRoute", "GRPCRoute"}),
    "TLS": frozenset({"TLSRoute", "TCPRoute"}),
    "TCP": frozenset({"TCPRoute"}),
    "UDP": frozenset({"UDPRoute"}),
}

# The label the API server puts on every Namespace (selectors often use it).
NAME_LABEL = "kubernetes.io/metadata.name"


def by_position(origin: Origin) -> tuple[str, int, int]:
    """A sort key that keeps output independent of the order the inputs were given in."""
    doc = origin.doc
    return doc.file, doc.index, -1 if doc.item is None else doc.item


def gateway_api_routes(routes: list[Route]) -> Iterator[Route]:
    for route in routes:
        if route.source_kind in ROUTE_KINDS:
            yield route


def is_gateway_parent(parent: ParentRef) -> bool:
    return parent.kind == "Gateway" and parent.group == GROUP


def is_service_parent(parent: ParentRef) -> bool:
    """A GAMMA parent: kind Service in the core group (``""``; Linkerd also reads ``core``)."""
    return parent.kind == "Service" and parent.group in CORE_GROUPS


def is_core_service(backend: Backend) -> bool:
    return backend.kind == "Service"


def gateway_api_gateways(gateways: list[Gateway]) -> Iterator[Gateway]:
    for gateway in gateways:
        if gateway.source_kind == "Gateway":
            yield gateway


def listener_label(listener: Listener) -> str:
    host = listener.hosts[0] if listener.hosts else "*"
    name = listener.name or "?"
    shown = f"{name!r} (port {listener.port}"
    if listener.protocol in HOSTNAME_PROTOCOLS:
        shown += f", hostname {host!r}" if host != "*" else ", any hostname"
    return shown + ")"


def selected_listeners(gateway: Gateway, parent: ParentRef) -> list[Listener]:
    """The listeners a parentRef's ``sectionName`` and ``port`` select (all when neither is set)."""
    return [
        listener
        for listener in gateway.listeners
        if (parent.section is None or listener.name == parent.section)
        and (parent.port is None or listener.port == parent.port)
    ]


def listener_hostname(listener: Listener) -> str:
    """The hostname a listener matches on; ``*`` when it has none or does not match on one."""
    if listener.protocol not in HOSTNAME_PROTOCOLS or not listener.hosts:
        return "*"
    return listener.hosts[0].lower()


def route_hostnames(route: Route) -> tuple[str, ...]:
    """The route's hostnames, lower-cased; ``("*",)`` for a route that sets none."""
    if route.source_kind not in HOSTNAME_KINDS or not route.hosts:
        return ("*",)
    return tuple(h.lower() for h in route.hosts)


def intersection(listener: str, route: str) -> str | None:
    """The Gateway API intersection of a listener and a route hostname: the more specific
    of the two, or None when no request host matches both.

    A wildcard ``*.example.com`` matches one or more labels before ``.example.com``
    (``a.example.com``, ``a.b.example.com``), never ``example.com`` itself.
    """
    if listener == "*":
        return route
    if route == "*" or listener == route:
        return listener
    l_wild, r_wild = listener.startswith("*."), route.startswith("*.")
    if l_wild and route.endswith(listener[1:]):
        return route
    if r_wild and listener.endswith(route[1:]):
        return listener
    return None


def effective_hostnames(listener: Listener, route: Route) -> list[str]:
    """The hostnames the route serves on the listener (empty: it is not accepted there)."""
    if route.source_kind not in HOSTNAME_KINDS:
        return ["*"]
    lhost = listener_hostname(listener)
    found = []
    for rhost in route_hostnames(route):
        both = intersection(lhost, rhost)
        if both is not None and both not in found:
            found.append(both)
    return found


def kind_admitted(listener: Listener, kind: str) -> bool | None:
    """Does the listener take routes of ``kind``? None: its protocol is implementation-specific."""
    explicit = [k for k in listener.allowed_kinds if k]
    if explicit and kind not in explicit:
        return False
    # a kind listed for a protocol that cannot carry it is refused too (InvalidRouteKinds)
    defaults = DEFAULT_KINDS.get(listener.protocol)
    return None if defaults is None else kind in defaults


def services_unknown(ctx: Analysis, namespace: str) -> bool:
    """Are the Services of ``namespace`` outside the inputs (open world)?

    True when the namespace is outside the inputs, and also when the inputs hold a
    Namespace object for it but no Service or workload in it: manifests that create a
    namespace for routes and Gateways while the applications live elsewhere (the Gateway
    API examples) say nothing about which Services it has.
    """
    if ctx.outside_inputs(namespace):
        return True
    services, workloads = ctx.mesh.services_in(namespace), ctx.mesh.workloads_in(namespace)
    return not ctx.closed_world and not services and not workloads


def missing_service(ctx: Analysis, namespace: str, name: str) -> tuple[bool, str]:
    """Is a missing Service ``namespace/name`` an error, and the hint that shows why.

    Unresolved (False) when the namespace's Services are not among the inputs
    (``services_unknown``), and also when the inputs only mention the namespace through
    some of its Services (no Namespace object: documentation snippets, a repository
    holding one team's part) and nothing shows a mistake; a Service of a close name
    shows one. With a Namespace object the inputs own the namespace, and with
    --closed-world everything is known.
    """
    if services_unknown(ctx, namespace):
        return False, ""
    close = close_service(ctx, namespace, name)
    hint = f"; did you mean {close!r}?" if close else ""
    return bool(close) or ctx.closed_world or namespace in ctx.mesh.namespaces, hint


def close_service(ctx: Analysis, namespace: str, name: str) -> str | None:
    """The Service of ``namespace`` whose name is closest to ``name`` (a likely typo)."""
    names: dict[str, list[str]] = ctx.memo("gateway_api.service_names", dict)
    if namespace not in names:
        names[namespace] = sorted({s.name for s in ctx.mesh.services_in(namespace)})
    # a typo keeps the length within a few characters: skip the others before difflib
    candidates = [n for n in names[namespace] if abs(len(n) - len(name)) <= max(2, len(name) // 4)]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.8)
    return close[0] if close else None
