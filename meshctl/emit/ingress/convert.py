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
a case-insensitive regular expression with ``use-regex``; Istio: exact unless it ends in
``/*`` or ``.*``), and for ingress-nginx its annotations (``nginx.py``): rewrites,
redirects, ``app-root``, ``ssl-redirect``, the read timeout, ``upstream-vhost`` and canaries
(weights, headers and cookies become weighted backends and header matches of the main
Ingress's rules). ``spec.defaultBackend`` answers what no path matches: a catch-all rule on
every host of the Ingress and a route for any other host. Everything else is reported
where it is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from meshctl.emit.ingress import nginx
from meshctl.emit.losses import Losses
from meshctl.lower.ingress import (
    ISTIO_CONTROLLER,
    class_of,
    ingress_routes,
    ingresses,
    is_default_backend,
    routes_of,
)
from meshctl.model import hosts
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import (
    Backend,
    Gateway,
    Listener,
    MatchType,
    ParentRef,
    RequestMatch,
    Route,
    RouteRule,
    StringMatch,
)
from meshctl.model.origin import Origin
from meshctl.model.traffic import Redirect, Rewrite

GROUP = "gateway.networking.k8s.io"
NGINX_CONTROLLER = "k8s.io/ingress-nginx"
REDIRECT_CODES = (301, 302, 303, 307, 308)
REDIRECT_SUFFIX = "-redirect"  # the route of a host's redirect to HTTPS
_REGEX_CHARS = re.compile(r"[\\^$.|?*+()\[\]{}]")
_NGINX_VARIABLE = re.compile(r"\$\{?(\w+)\}?")
# ingress-nginx's documented rewrite pattern: /prefix(/|$)(.*) with /$2 (or /prefix/?(.*) with /$1)
_PREFIX_REWRITE = re.compile(r"^(?P<stem>/[^\\^$.|?*+()\[\]{}]*?)(?P<sep>\(/\|\$\)|/\?)\(\.\*\)$")


@dataclass
class IngressView:
    """The converted objects, and the Ingresses each Gateway stands for."""

    gateways: list[Gateway] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    sources: dict[tuple[str, str], list[Origin]] = field(default_factory=dict)  # Gateway (ns, name) -> Ingresses


@dataclass(frozen=True)
class Reading:
    """How one Ingress is read: by which controller, with which annotations."""

    ingress: Gateway
    controller: str  # nginx | istio | other
    settings: nginx.Nginx

    def at(self, annotation: str) -> Origin:
        return self.ingress.origin.at("metadata", "annotations", annotation)


def convert(mesh: MeshModel, losses: Losses, wanted: Callable[[Origin], bool]) -> IngressView:
    view = IngressView()
    index = ingress_routes(mesh)
    readings = [_reading(mesh, losses, g) for g in sorted(ingresses(mesh), key=lambda g: (g.namespace, g.name))
                if wanted(g.origin)]
    canaries = [r for r in readings if r.settings.canary is not None]
    mains = [r for r in readings if r.settings.canary is None]
    groups: dict[tuple[str, str | None], list[Reading]] = {}
    for reading in mains:
        groups.setdefault((reading.ingress.namespace, class_of(mesh, reading.ingress).name), []).append(reading)
    taken = {(g.namespace, g.name) for g in mesh.gateways if g.source_kind != "Ingress"}  # not the Ingresses
    shadowed = _istio_shadowed(losses, mains, index)
    for (namespace, class_name), members in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        name = _unique(class_name or "ingress", namespace, taken)
        gateway = _gateway(mesh, losses, name, namespace, class_name, members)
        view.gateways.append(gateway)
        view.sources[(namespace, name)] = [m.ingress.origin for m in members]
        for reading in members:
            lowered = [replace(r, rules=tuple(x for x in r.rules if x.origin not in shadowed))
                       for r in routes_of(index, reading.ingress)]
            kept = [r for r, was in zip(lowered, routes_of(index, reading.ingress)) if r.rules or not was.rules]
            view.routes.extend(_routes(losses, reading, gateway, kept))
    view.routes = _one_redirect_per_host(_apply_canaries(losses, view.routes, canaries, index))
    view.routes = [_numbered(mesh, losses, route) for route in view.routes]
    _regex_behind_prefixes(losses, view.routes)
    return view


def _istio_shadowed(losses: Losses, readings: list[Reading], index: dict[int, list[Route]]) -> set[Origin]:
    """The paths Istio's ingress controller never reaches: it orders the paths of a host (from
    all its Ingresses) by written length, so a Prefix ``/p/`` (or ``/p/*``) comes before, and
    takes every request of, an exact or Prefix ``/p``, which Kubernetes precedence would pick.
    They are left out, reported, so the translation routes as Istio does."""
    by_host: dict[str, list[tuple[RouteRule, str]]] = {}
    for reading in readings:
        if reading.controller != "istio":
            continue
        for route in routes_of(index, reading.ingress):
            if not is_default_backend(route):
                by_host.setdefault(route.hosts[0] if route.hosts else "*", []).extend(
                    (rule, f"Ingress/{route.namespace}/{reading.ingress.name}") for rule in route.rules)
    out: set[Origin] = set()
    for host, rules in by_host.items():
        for rule, _ in rules:
            written, _, stem = _istio_path(rule)
            for other, source in rules:
                o_written, o_prefix, o_stem = _istio_path(other)
                if o_prefix and len(o_written) > len(written) and (
                        stem == o_stem or stem.startswith(o_stem + "/") or not o_stem):
                    losses.dropped(rule.origin, f"Istio orders the paths of host {host} by written length: "
                                   f"{o_written!r} of {source} comes first and takes every request of this path; "
                                   "not translated, to keep that")
                    out.add(rule.origin)
                    break
    return out


def _istio_path(rule: RouteRule) -> tuple[str, bool, str]:
    """(the path as written, whether Istio reads it as a prefix, its exact path or prefix stem)."""
    match = rule.matches[0] if rule.matches else None
    if match is None or match.path is None:
        return "", True, ""
    value = match.path.value
    if match.path_type == "Prefix":
        return value, True, value.rstrip("/")
    if match.path_type == "ImplementationSpecific" and value.endswith(("/*", ".*")):
        return value, True, value[:-2]
    return value, False, value


def _one_redirect_per_host(routes: list[Route]) -> list[Route]:
    """Several Ingresses of a host each ask for the same redirect to HTTPS: keep the first."""
    seen: set[tuple[str, str, tuple[str, ...]]] = set()
    out = []
    for route in routes:
        if route.name.endswith(REDIRECT_SUFFIX):
            key = (route.namespace, route.parents[0].name, route.hosts)
            if key in seen:
                continue
            seen.add(key)
        out.append(route)
    return out


# -- how an Ingress is read -------------------------------------------------------------------
def _reading(mesh: MeshModel, losses: Losses, ingress: Gateway) -> Reading:
    found = class_of(mesh, ingress)
    if found.controller == NGINX_CONTROLLER or (found.controller is None and found.name == "nginx"):
        controller = "nginx"
    elif found.controller == ISTIO_CONTROLLER or (found.controller is None and found.name == mesh.mesh_config.ingress_class):
        controller = "istio"
    else:
        controller = "other"
    settings = nginx.read(ingress)
    reading = Reading(ingress, controller, settings)
    if controller != "nginx":
        for key in sorted(k for k in ingress.annotations if k.startswith(nginx.PREFIX)):
            losses.dropped(reading.at(key), f"read by ingress-nginx only, and this Ingress's class is "
                           f"{found.name or '(none)'}; not translated")
        reading = Reading(ingress, controller, nginx.Nginx(unread=tuple(
            (k, why) for k, why in settings.unread if not k.startswith(nginx.PREFIX))))
    for key, why in reading.settings.unread:
        losses.dropped(reading.at(key), f"{why}; not translated")
    for key, why in reading.settings.bad:
        losses.dropped(reading.at(key), why)
    return reading


def _unique(base: str, namespace: str, taken: set[tuple[str, str]]) -> str:
    name, n = base, 1
    while (namespace, name) in taken:
        n += 1
        name = f"{base}-{n}"
    taken.add((namespace, name))
    return name


# -- the Gateway of one namespace and class -------------------------------------------------
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


# -- the routes of one Ingress ----------------------------------------------------------------
def _routes(losses: Losses, reading: Reading, gateway: Gateway, lowered: list[Route]) -> list[Route]:
    rules = [r for r in lowered if not is_default_backend(r)]
    default = next((r for r in lowered if is_default_backend(r)), None)
    if default is not None and reading.controller == "istio":
        losses.dropped(default.origin, "Istio's ingress controller ignores spec.defaultBackend (requests no path "
                       "matches get 404); not translated, to keep that")
        default = None
    default_backends = _service_backends(losses, default.rules[0]) if default is not None else ()
    out: list[Route] = []
    served: set[str] = set()
    for route in rules:
        host = route.hosts[0] if route.hosts else "*"
        served.add(host)
        if not route.rules:
            losses.dropped(route.origin, "a rule without http paths sends nothing anywhere; not translated")
            continue
        converted = [_rule(losses, reading, rule) for rule in route.rules]
        if default is not None and not any(_catch_all(r) for r in converted):
            converted.append(_rule_with(default.rules[0], (), default_backends))
        out.extend(_attach(losses, reading, gateway, route, host, converted))
    if default is not None and "*" not in served:
        rule = _rule_with(default.rules[0], (), default_backends)
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
        rules.insert(0, _app_root(reading, rules[0].origin))
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
    rule = _rule_with(rules[0], (), (), redirect=to_https, origin=where)
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


def _app_root(reading: Reading, origin: Origin) -> RouteRule:
    where = reading.at(nginx.PREFIX + "app-root")
    match = _match(StringMatch(MatchType.EXACT, "/"), where)
    root = Redirect(uri=reading.settings.app_root, authority=None, scheme=None, port=None, derive_port=False,
                    code=302, origin=where)
    return _rule_with_match(match, (), root, None, None, where)


# -- one path ---------------------------------------------------------------------------------
def _rule(losses: Losses, reading: Reading, rule: RouteRule) -> RouteRule:
    lowered = rule.matches[0]
    path = _path(losses, reading, lowered)
    backends = _service_backends(losses, rule)
    settings = reading.settings
    redirect = _redirect(losses, reading) if settings.redirect else None
    rewrite = None
    if settings.rewrite_target is not None and redirect is None:
        path, rewrite = _rewrite(losses, reading, path, lowered)
    authority = _vhost(losses, reading, backends) if settings.upstream_vhost and redirect is None else None
    if authority:
        rewrite = replace(rewrite, authority=authority) if rewrite else Rewrite(
            uri=None, regex=None, authority=authority, origin=reading.at(nginx.PREFIX + "upstream-vhost"))
    timeout = _timeout(losses, reading)
    match = _match(path, lowered.origin)
    return _rule_with_match(match, () if redirect else backends, redirect, rewrite, timeout, rule.origin)


def _path(losses: Losses, reading: Reading, match: RequestMatch) -> StringMatch | None:
    path, kind = match.path, match.path_type
    if path is None or kind in ("Exact", "Prefix") and not (reading.settings.use_regex and _is_regex(path.value)):
        return path
    value = path.value
    where = match.origin.at("path")
    if reading.controller == "istio":
        if value.endswith(("/*", ".*")):
            stem = value[:-1] if value.endswith("/*") else value[:-2]
            losses.approximated(where, f"Istio reads {value!r} as the string prefix {stem!r}; PathPrefix "
                                f"{stem.rstrip('/') or '/'!r} matches whole segments (with and without the "
                                "trailing /)")
            return StringMatch(MatchType.PREFIX, stem)
        return StringMatch(MatchType.EXACT, value)
    if reading.controller == "nginx" and reading.settings.use_regex and _is_regex(value):
        return StringMatch(MatchType.REGEX, f"(?i){value}.*")
    losses.approximated(where, f"{kind or 'ImplementationSpecific'} path {value!r}: {_controller_name(reading)} "
                        "reads it as a string prefix "
                        f"(it also takes {value.rstrip('/')}x...); PathPrefix matches whole segments")
    return StringMatch(MatchType.PREFIX, value)


def _controller_name(reading: Reading) -> str:
    return {"nginx": "ingress-nginx", "istio": "Istio"}.get(reading.controller, "the controller")


def _is_regex(value: str) -> bool:
    return bool(_REGEX_CHARS.search(value))


def _rewrite(losses: Losses, reading: Reading, path: StringMatch | None,
             lowered: RequestMatch) -> tuple[StringMatch | None, Rewrite]:
    """rewrite-target replaces the whole path with the target, ``$n`` being the path regex's groups."""
    target = reading.settings.rewrite_target or "/"
    where = reading.at(nginx.PREFIX + "rewrite-target")
    if "$" not in target:
        return path, Rewrite(uri=None, regex=None, authority=None, origin=where, full_path=target)
    written = lowered.path.value if lowered.path else "/"
    shape = _PREFIX_REWRITE.match(written)
    if shape and target == f"/${2 if shape['sep'] != '/?' else 1}":
        stem = shape["stem"].rstrip("/") or "/"
        if shape["sep"] == "/?":
            losses.approximated(lowered.origin.at("path"), f"{written!r} also matched {stem}x...; PathPrefix "
                                f"{stem!r} matches whole segments")
        return StringMatch(MatchType.PREFIX, stem), Rewrite(uri="/", regex=None, authority=None, origin=where)
    pattern = f"(?i)^{written}.*$" if not written.startswith("^") else f"(?i){written}.*$"
    substitution = re.sub(r"\$(\d)", r"\\\1", target)
    return path, Rewrite(uri=None, regex=(pattern, substitution), authority=None, origin=where)


def _redirect(losses: Losses, reading: Reading) -> Redirect | None:
    assert reading.settings.redirect is not None
    url, code, annotation = reading.settings.redirect
    where = reading.at(annotation)
    parts = urlsplit(url)
    if code not in REDIRECT_CODES:  # 300, 304, 305, 306: nginx sends them, routes cannot
        written = 301 if code < 303 else 308
        losses.approximated(reading.at(f"{annotation}-code"), f"redirect code {code} is not one a route can "
                            f"send; written as {written}")
        code = written
    losses.approximated(where, "ingress-nginx's redirect drops the request's query string; a route redirect "
                        "keeps it")
    if parts.query or parts.fragment:
        losses.dropped(where, f"the query or fragment of {url!r} is not carried over (a route redirect sets the "
                       "scheme, host, port and path only)")
    try:
        port = parts.port
    except ValueError:
        port = None
    return Redirect(uri=parts.path or "/", authority=parts.hostname, scheme=parts.scheme or None, port=port,
                    derive_port=False, code=code, origin=where)


def _vhost(losses: Losses, reading: Reading, backends: tuple[Backend, ...]) -> str | None:
    """upstream-vhost, with the variables ingress-nginx sets in every location ($namespace, and
    $service_name, $service_port of its backend) filled in: the Linkerd docs' ``$service_name.$namespace...``."""
    value = reading.settings.upstream_vhost or ""
    known = {"namespace": reading.ingress.namespace}
    if len(backends) == 1:
        known["service_name"] = backends[0].host
        known["service_port"] = str(backends[0].port or backends[0].port_name or "")
    unknown = sorted({name for name in _NGINX_VARIABLE.findall(value) if name not in known})
    if unknown:
        losses.dropped(reading.at(nginx.PREFIX + "upstream-vhost"), f"nginx variable(s) "
                       f"{', '.join('$' + name for name in unknown)} have no value outside nginx; the Host header "
                       "is not rewritten")
        return None
    return _NGINX_VARIABLE.sub(lambda m: known[m[1]], value)


def _timeout(losses: Losses, reading: Reading) -> str | None:
    settings = reading.settings
    if settings.send_timeout is not None:
        losses.dropped(reading.at(nginx.PREFIX + "proxy-send-timeout"), "the time between two writes to the "
                       "backend has no route equivalent; not translated")
    if settings.read_timeout is None:
        return None
    losses.approximated(reading.at(nginx.PREFIX + "proxy-read-timeout"), "ingress-nginx times out between two "
                        f"reads from the backend; the route timeout of {settings.read_timeout}s bounds the whole "
                        "response")
    return f"{settings.read_timeout}s"


def _service_backends(losses: Losses, rule: RouteRule) -> tuple[Backend, ...]:
    out = []
    for backend in rule.backends:
        if backend.kind != "Service":
            losses.dropped(backend.origin, f"a {backend.kind} resource backend is controller-specific; not "
                           "translated (the path gets no backend)")
        else:
            out.append(backend)
    return tuple(out)


# -- building rules ---------------------------------------------------------------------------
def _match(path: StringMatch | None, origin: Origin, headers: tuple[tuple[str, StringMatch], ...] = ()) -> RequestMatch:
    return RequestMatch(path=path, method=None, authority=None, scheme=None, headers=headers, query_params=(),
                        port=None, source_labels={}, source_namespace=None, gateways=(), origin=origin)


def _rule_with_match(match: RequestMatch | None, backends: tuple[Backend, ...], redirect: Redirect | None,
                     rewrite: Rewrite | None, timeout: str | None, origin: Origin) -> RouteRule:
    return RouteRule(
        name=None, index=0, protocol="http", matches=(match,) if match is not None else (), backends=backends,
        mirrors=(), redirect=redirect, direct_response=None, delegate=None, timeout=timeout, retry=None,
        fault=None, rewrite=rewrite, header_changes=None, cors=None, sni_hosts=(), jwt_claim_matches=False,
        filters=(), origin=origin,
    )


def _rule_with(template: RouteRule, matches: tuple[RequestMatch, ...], backends: tuple[Backend, ...],
               redirect: Redirect | None = None, origin: Origin | None = None) -> RouteRule:
    """A rule without path conditions (a default backend or a redirect)."""
    return replace(template, matches=matches, backends=backends, redirect=redirect, rewrite=None, timeout=None,
                   origin=origin or template.origin)


# -- canaries ---------------------------------------------------------------------------------
def _apply_canaries(losses: Losses, routes: list[Route], canaries: list[Reading],
                    index: dict[int, list[Route]]) -> list[Route]:
    """Merge each canary Ingress path into the main rule of the same host and path."""
    for reading in canaries:
        canary = reading.settings.canary
        assert canary is not None
        for lowered in routes_of(index, reading.ingress):
            if is_default_backend(lowered):
                continue
            host = lowered.hosts[0] if lowered.hosts else "*"
            for rule in lowered.rules:
                key = (host, _path_key(rule.matches[0].path))
                hit = _find_main(routes, reading.ingress.namespace, key)
                if hit is None:
                    losses.dropped(rule.origin, f"ingress-nginx ignores a canary path without a main Ingress for "
                                   f"{host} {key[1] or '/'}; not translated")
                    continue
                at, position = hit
                routes[at] = _with_canary(routes[at], position, reading, rule)
    return routes


def _path_key(path: StringMatch | None) -> str:
    return "" if path is None else path.value.rstrip("/") if path.type is MatchType.PREFIX else path.value


def _find_main(routes: list[Route], namespace: str, key: tuple[str, str]) -> tuple[int, int] | None:
    host, path = key
    order = sorted(range(len(routes)), key=lambda i: routes[i].namespace != namespace)
    for i in order:
        route = routes[i]
        if (route.hosts[0] if route.hosts else "*") != host or route.name.endswith(REDIRECT_SUFFIX):
            continue
        for j, rule in enumerate(route.rules):
            if rule.matches and not rule.matches[0].headers and _path_key(rule.matches[0].path) == path:
                return i, j
    return None


def _with_canary(route: Route, position: int, reading: Reading, canary_rule: RouteRule) -> Route:
    canary = reading.settings.canary
    assert canary is not None
    main = route.rules[position]
    target = tuple(replace(b, weight=None) for b in canary_rule.backends)
    match = main.matches[0]
    where = reading.ingress.origin.at("metadata", "annotations")
    added: list[RouteRule] = []
    if canary.header:
        name = canary.header
        if canary.header_value or canary.header_pattern:
            kind = MatchType.EXACT if canary.header_value else MatchType.REGEX
            # ingress-nginx searches the header for the pattern (ngx.re.match); routes match the whole value
            value = canary.header_value or f".*(?:{canary.header_pattern}).*"
            added.append(replace(main, matches=(replace(match, headers=((name, StringMatch(kind, value)),)),),
                                 backends=target, origin=where.at(nginx.PREFIX + "canary-by-header")))
        else:
            for value, backends in (("always", target), ("never", main.backends)):
                added.append(replace(main, matches=(replace(match, headers=((name, StringMatch(MatchType.EXACT,
                                     value)),)),), backends=backends, origin=where.at(nginx.PREFIX + "canary-by-header")))
    if canary.cookie:
        for value, backends in (("always", target), ("never", main.backends)):
            cookie = StringMatch(MatchType.REGEX, f"(.*; *)?{re.escape(canary.cookie)}={value}(;.*)?")
            added.append(replace(main, matches=(replace(match, headers=(("cookie", cookie),)),), backends=backends,
                                 origin=where.at(nginx.PREFIX + "canary-by-cookie")))
    weighted = main
    if canary.weight > 0:
        share = min(canary.weight, canary.total)
        weights = [replace(b, weight=canary.total - share) for b in main.backends[:1]] + [
            replace(b, weight=share) for b in target]
        weighted = replace(main, backends=tuple(weights))
    rules = list(route.rules)
    rules[position] = weighted
    rules[position:position] = added
    return replace(route, rules=tuple(replace(r, index=i) for i, r in enumerate(rules)))


def _regex_behind_prefixes(losses: Losses, routes: list[Route]) -> None:
    """ingress-nginx tries a host's regular expression paths longest first, before a shorter ``/``;
    Istio (and Gateway API implementations that rank RegularExpression last) tries every PathPrefix
    of the host first. Report each expression a PathPrefix of its host (the default backend's
    catch-all, ``/``, a shorter stem) takes requests from."""
    stems: dict[tuple[str, str], set[str]] = {}
    for route in routes:
        if route.name.endswith(REDIRECT_SUFFIX):
            continue
        for rule in route.rules:
            for match in rule.matches or (None,):
                if match is None or not match.headers and (match.path is None or match.path.type is MatchType.PREFIX):
                    stem = "" if match is None or match.path is None else match.path.value.rstrip("/")
                    stems.setdefault((route.namespace, route.hosts[0] if route.hosts else "*"), set()).add(stem)
    for route in routes:
        for rule in route.rules:
            for match in rule.matches:
                if match.path is None or match.path.type is not MatchType.REGEX:
                    continue
                written = match.path.value.removeprefix("(?i)").removeprefix("^")
                literal = _REGEX_CHARS.split(written, maxsplit=1)[0]
                hiding = sorted(s for s in stems.get((route.namespace, route.hosts[0] if route.hosts else "*"), ())
                                if literal == s or literal.startswith(s + "/"))
                if hiding:
                    losses.approximated(match.origin.at("path"), f"PathPrefix {hiding[-1] or '/'!r} of this host "
                                        "comes first in Istio (every PathPrefix is tried before a regular expression), "
                                        "so it takes the requests this path matches; ingress-nginx tried the longer "
                                        "expression first")


def _numbered(mesh: MeshModel, losses: Losses, route: Route) -> Route:
    """Backend ports given by name, resolved against the Service as the controllers do (a
    backendRef and an Istio destination take a number); a name no known Service port has
    is left out."""
    rules = []
    for rule in route.rules:
        backends = []
        for backend in rule.backends:
            if backend.port is None and backend.port_name is not None:
                service = mesh.service(backend.host, route.namespace)
                port = next((p.port for p in service.ports if p.name == backend.port_name), None) if service else None
                if port is None:
                    losses.dropped(backend.origin, f"port {backend.port_name!r} is a name, a route names ports by "
                                   f"number, and Service {backend.host} with a port of that name is not among the "
                                   "inputs; the backend is not translated")
                    continue
                backend = replace(backend, port=port)
            backends.append(backend)
        rules.append(replace(rule, backends=tuple(backends)))
    return replace(route, rules=tuple(rules))
