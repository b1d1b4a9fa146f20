"""Ingresses -> Gateway API Gateways and HTTPRoutes, as model objects both back-ends render.

Kubernetes Ingress and Gateway API share their routing semantics: a ``Prefix`` path and a
``PathPrefix`` match whole segments and ignore a trailing ``/``; among the paths that
match, the exact one, else the longest, wins; routes for one host merge across objects.
So the Ingresses are converted once into Gateway API-shaped model objects
(``source_kind`` ``Gateway`` and ``HTTPRoute``, origins at the Ingress fields they come
from): ``--to gateway-api`` writes them, ``--to istio`` feeds them to the passes that
compile Gateway API to Istio. Before::

    Ingress shop (web), class nginx, tls [{hosts: [shop.example.com], secretName: shop-cert}]
      rules: shop.example.com: Prefix /api -> api:8080

After::

    Gateway nginx (web), gatewayClassName nginx
      listeners: http (80), https-shop-example-com (443, shop.example.com, certificateRefs shop-cert)
    HTTPRoute shop-shop-example-com: hostnames [shop.example.com], parent https-shop-example-com
      rules: PathPrefix /api -> api:8080
    HTTPRoute shop-shop-example-com-redirect: hostnames [shop.example.com], parent http
      rules: RequestRedirect scheme https 308         (ingress-nginx's ssl-redirect)

One Gateway per namespace and class (what a controller serves as one entry point). One
HTTPRoute per Ingress rule. What Ingress leaves to the controller is read as that
controller reads it: ``ImplementationSpecific`` paths (ingress-nginx: a string prefix, or
a case-insensitive regular expression once any Ingress of the host sets ``use-regex``;
Istio: exact unless it ends in ``/*`` or ``.*``), and for ingress-nginx its annotations
(``nginx.py``): rewrites, redirects, ``app-root``, ``ssl-redirect``, the read timeout,
``upstream-vhost``, CORS, cookie affinity and canaries (weights, headers and cookies become
weighted backends and header matches of the main Ingress's rules). ``spec.defaultBackend`` answers what no path matches: a catch-all rule on
every host of the Ingress and a route for any other host. Everything else is reported
where it is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from meshctl.emit.ingress import nginx
from meshctl.emit.ingress.canary import apply_canaries
from meshctl.emit.ingress.order import istio_shadowed, regex_behind_prefixes
from meshctl.emit.ingress.reading import Reading, read_ingress
from meshctl.emit.ingress.rules import (
    REDIRECT_SUFFIX,
    is_https_redirect,
    numbered,
    path_rule,
    request_match,
    rule_with,
    rule_with_match,
    service_backends,
)
from meshctl.emit.losses import Losses
from meshctl.lower.ingress import (
    class_of,
    ingress_routes,
    ingresses,
    is_default_backend,
    routes_of,
)
from meshctl.model import hosts
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import (
    Gateway,
    Listener,
    MatchType,
    ParentRef,
    Route,
    RouteRule,
    StringMatch,
)
from meshctl.model.origin import Origin
from meshctl.model.traffic import Redirect

GROUP = "gateway.networking.k8s.io"


@dataclass
class IngressView:
    """The converted objects, and the Ingresses each Gateway stands for."""

    gateways: list[Gateway] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    sources: dict[tuple[str, str], list[Origin]] = field(default_factory=dict)  # Gateway (ns, name) -> Ingresses


def convert(mesh: MeshModel, losses: Losses, wanted: Callable[[Origin], bool]) -> IngressView:
    view = IngressView()
    index = ingress_routes(mesh)
    readings = [read_ingress(mesh, losses, g) for g in sorted(ingresses(mesh), key=lambda g: (g.namespace, g.name))
                if wanted(g.origin)]
    canaries = [r for r in readings if r.settings.canary is not None]
    mains = [r for r in readings if r.settings.canary is None]
    groups: dict[tuple[str, str | None], list[Reading]] = {}
    for reading in mains:
        groups.setdefault((reading.ingress.namespace, class_of(mesh, reading.ingress).name), []).append(reading)
    taken = {(g.namespace, g.name) for g in mesh.gateways if g.source_kind != "Ingress"}  # not the Ingresses
    shadowed = istio_shadowed(losses, mains, index)
    regex_hosts = _regex_hosts(mesh, mains, index)
    for (namespace, class_name), members in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        name = _unique(class_name or "ingress", namespace, taken)
        gateway = _gateway(mesh, losses, name, namespace, class_name, members)
        view.gateways.append(gateway)
        view.sources[(namespace, name)] = [m.ingress.origin for m in members]
        regex_by = {host: by for (cls, host), by in regex_hosts.items() if cls == class_name}
        for reading in members:
            lowered = _without(routes_of(index, reading.ingress), shadowed)
            view.routes.extend(_routes(losses, reading, gateway, lowered, regex_by))
    view.routes = _one_redirect_per_host(apply_canaries(losses, view.routes, canaries, index))
    view.routes = [numbered(mesh, losses, route) for route in view.routes]
    regex_behind_prefixes(losses, view.routes)
    return view


def _regex_hosts(mesh: MeshModel, mains: list[Reading],
                 index: dict[int, list[Route]]) -> dict[tuple[str | None, str], Reading]:
    """The hosts (by class) whose every path ingress-nginx reads as a case-insensitive regular
    expression, each with the first Ingress that asks for it by use-regex or rewrite-target:
    the location modifier is one per host, whichever Ingress a path comes from."""
    out: dict[tuple[str | None, str], Reading] = {}
    for reading in mains:
        if reading.controller == "nginx" and reading.settings.use_regex:
            class_name = class_of(mesh, reading.ingress).name
            for route in routes_of(index, reading.ingress):
                if not is_default_backend(route):
                    out.setdefault((class_name, route.hosts[0] if route.hosts else "*"), reading)
    return out


def _without(routes: list[Route], shadowed: set[Origin]) -> list[Route]:
    """The Ingress rules without the paths Istio never reaches (a rule left with none goes)."""
    out = []
    for route in routes:
        kept = tuple(rule for rule in route.rules if rule.origin not in shadowed)
        if kept or not route.rules:
            out.append(replace(route, rules=kept))
    return out


def _one_redirect_per_host(routes: list[Route]) -> list[Route]:
    """Several Ingresses of a host each ask for the same redirect to HTTPS: keep the first."""
    seen: set[tuple[str, str, tuple[str, ...]]] = set()
    out = []
    for route in routes:
        if is_https_redirect(route):
            key = (route.namespace, route.parents[0].name, route.hosts)
            if key in seen:
                continue
            seen.add(key)
        out.append(route)
    return out


def _unique(base: str, namespace: str, taken: set[tuple[str, str]]) -> str:
    name, n = base, 1
    while (namespace, name) in taken:
        n += 1
        name = f"{base}-{n}"
    taken.add((namespace, name))
    return name


def _gateway(mesh: MeshModel, losses: Losses, name: str, namespace: str, class_name: str | None,
             members: list[Reading]) -> Gateway:
    first = members[0].ingress
    http = Listener(name="http", port=80, protocol="HTTP", hosts=("*",), tls_mode=None, credential_names=(),
                    allowed_namespaces="Same", allowed_selector=None, allowed_kinds=(), origin=first.origin.at("spec"))
    secure: dict[str, Listener] = {}
    for reading in members:
        for listener in reading.ingress.listeners:
            if listener.protocol == "HTTPS":
                _tls_listeners(losses, listener, secure)
    found = class_of(mesh, first)
    where = found.origin if found.origin.doc is first.origin.doc else first.origin
    return Gateway(source_kind="Gateway", name=name, namespace=namespace, selector=None, class_name=class_name,
                   listeners=(http, *sorted(secure.values(), key=lambda li: li.name or "")), annotations={},
                   origin=where)


def _tls_listeners(losses: Losses, tls: Listener, secure: dict[str, Listener]) -> None:
    if tls.secret_name is None:
        losses.dropped(tls.origin, "a tls entry without secretName is served with the controller's default "
                       "certificate; a Gateway listener needs certificateRefs, so no HTTPS listener is written for "
                       f"{', '.join(tls.hosts)}")
        return
    for host in tls.hosts:
        name = "https" if host == "*" else f"https-{_slug(host)}"
        ref = f"{tls.origin.doc.namespace or 'default'}/{tls.secret_name}"
        known = secure.get(name)
        if known is not None:
            if known.credential_names != (ref,):
                losses.approximated(tls.origin.at("secretName"), f"host {host} already has TLS Secret "
                                    f"{known.credential_names[0].split('/')[1]} on this Gateway; this one is not used")
            continue
        secure[name] = Listener(
            name=name, port=443, protocol="HTTPS", hosts=(host,), tls_mode="Terminate", credential_names=(ref,),
            allowed_namespaces="Same", allowed_selector=None, allowed_kinds=(), origin=tls.origin,
        )


def _slug(host: str) -> str:
    return host.replace("*", "wildcard").replace(".", "-")


def _covering(gateway: Gateway, host: str) -> list[Listener]:
    """The HTTPS listeners that take requests for ``host``."""
    out = []
    for listener in gateway.listeners:
        pattern = listener.hosts[0]
        if listener.protocol == "HTTPS" and (pattern == host or (host != "*" and hosts.matches(pattern, host))):
            out.append(listener)
    return out


def _routes(losses: Losses, reading: Reading, gateway: Gateway, lowered: list[Route],
            regex_by: dict[str, Reading]) -> list[Route]:
    rules = [r for r in lowered if not is_default_backend(r)]
    default = next((r for r in lowered if is_default_backend(r)), None)
    if default is not None and reading.controller == "istio":
        losses.dropped(default.origin, "Istio's ingress controller ignores spec.defaultBackend (requests no path "
                       "matches get 404); not translated, to keep that")
        default = None
    default_backends = service_backends(losses, default.rules[0]) if default is not None else ()
    out: list[Route] = []
    served: set[str] = set()
    for route in rules:
        host = route.hosts[0] if route.hosts else "*"
        served.add(host)
        if not route.rules:
            losses.dropped(route.origin, "a rule without http paths sends nothing anywhere; not translated")
            continue
        converted = [r for r in (path_rule(losses, reading, rule, regex_by.get(host)) for rule in route.rules) if r]
        if default is not None and not any(_catch_all(r) for r in converted):
            converted.append(rule_with(default.rules[0], default_backends))
        if not converted:
            continue
        out.extend(_attach(losses, reading, gateway, route, host, converted))
    if default is not None and "*" not in served:
        rule = rule_with(default.rules[0], default_backends)
        out.extend(_attach(losses, reading, gateway, default, "*", [rule]))
    return out


def _attach(losses: Losses, reading: Reading, gateway: Gateway, route: Route, host: str,
            rules: list[RouteRule]) -> list[Route]:
    """The route for ``host`` on the listeners that serve it, and ingress-nginx's redirect to HTTPS
    (on by default for every path of a host that has TLS, from any Ingress of the class)."""
    settings = reading.settings
    http = gateway.listeners[0]
    secure = _covering(gateway, host)
    redirect = reading.controller == "nginx" and (settings.force_ssl_redirect or (
        host != "*" and bool(secure) and settings.ssl_redirect is not False))
    if redirect and not secure:  # only force-ssl-redirect asks for it without TLS
        losses.approximated(reading.at(nginx.PREFIX + "force-ssl-redirect"), f"ingress-nginx redirects {host} to "
                            "HTTPS, but this Gateway has no HTTPS listener for it; served over HTTP instead")
        redirect = False
    if settings.app_root:
        rules.insert(0, _app_root(reading))
    name = f"{reading.ingress.name}-{_slug(host)}" if host != "*" else reading.ingress.name
    serving = secure if redirect else [http, *secure]
    main = _route(route, name, host, gateway, serving, rules)
    if not redirect:
        return [main]
    where = reading.at(nginx.PREFIX + ("force-ssl-redirect" if settings.force_ssl_redirect else "ssl-redirect"))
    if not settings.force_ssl_redirect and settings.ssl_redirect is None:
        where = route.origin
    to_https = Redirect(uri=None, authority=None, scheme="https", port=None, derive_port=False,
                        code=nginx.REDIRECT_CODE, origin=where)
    rule = rule_with(rules[0], (), redirect=to_https, origin=where)
    return [main, _route(route, f"{name}{REDIRECT_SUFFIX}", host, gateway, [http], [rule])]


def _route(source: Route, name: str, host: str, gateway: Gateway, listeners: list[Listener],
           rules: list[RouteRule]) -> Route:
    parents = tuple(ParentRef("Gateway", GROUP, gateway.name, gateway.namespace, li.name, None, source.origin)
                    for li in listeners)
    return Route(
        source_kind="HTTPRoute", api_version=f"{GROUP}/v1", name=name, namespace=source.namespace,
        hosts=(host,) if host != "*" else (), host_origins=source.host_origins, parents=parents, export_to=(),
        rules=tuple(replace(r, index=i) for i, r in enumerate(rules)), annotations={}, origin=source.origin,
    )


def _catch_all(rule: RouteRule) -> bool:
    return not rule.matches or all(m.path is None or (m.path.type is MatchType.PREFIX and m.path.value.rstrip("/")
                                                      == "") for m in rule.matches)


def _app_root(reading: Reading) -> RouteRule:
    where = reading.at(nginx.PREFIX + "app-root")
    match = request_match(StringMatch(MatchType.EXACT, "/"), where)
    root = Redirect(uri=reading.settings.app_root, authority=None, scheme=None, port=None, derive_port=False,
                    code=302, origin=where)
    return rule_with_match(match, (), root, None, None, where)
