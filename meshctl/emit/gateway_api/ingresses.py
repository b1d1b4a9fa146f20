"""Kubernetes Ingresses -> Gateway API Gateways and HTTPRoutes (``--from ingress``).

``meshctl.emit.ingress.convert`` already made Gateway API-shaped model objects of the
Ingresses (one Gateway per namespace and class, one route per Ingress rule, the
controller's reading of paths and ingress-nginx annotations made explicit); this module
writes them::

    Gateway nginx (web): gatewayClassName nginx
      listeners: [{name: http, port: 80, protocol: HTTP},
                  {name: https-shop-example-com, port: 443, protocol: HTTPS, hostname: shop.example.com,
                   tls: {mode: Terminate, certificateRefs: [{kind: Secret, name: shop-cert}]}}]
    HTTPRoute shop-shop-example-com (web): parentRefs [{name: nginx, sectionName: https-shop-example-com}]
      hostnames [shop.example.com]
      rules: [{matches: [{path: {type: PathPrefix, value: /api}}], backendRefs: [{name: api, port: 8080}]}]

An HTTPRoute holds at most 16 rules: a longer Ingress rule is written as several routes
for the same host, which Gateway API merges by the same precedence. Backend ports given
by name arrive resolved to the Service's numbers (backendRefs take numbers only).
"""

from __future__ import annotations

import re

from meshctl.emit.gateway_api.context import API, TARGET, Build, named, source_of
from meshctl.emit.gateway_api.filters import cors_filter
from meshctl.emit.ingress.canary import contributors
from meshctl.emit.ingress.convert import convert
from meshctl.emit.manifests import Json
from meshctl.emit.sources import family_of, wanted
from meshctl.model.objects import (
    Backend,
    Gateway,
    MatchType,
    RequestMatch,
    Route,
    RouteRule,
    StringMatch,
)
from meshctl.model.origin import Origin
from meshctl.model.traffic import Rewrite, StickySession

MAX_RULES = 16
UPSTREAM_VHOST = "nginx.ingress.kubernetes.io/upstream-vhost"
SESSION_PATH = "nginx.ingress.kubernetes.io/session-cookie-path"
MAX_TIMEOUT = 99999 * 3600 + 59 * 60 + 59  # seconds
_DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
PATH_TYPES = {MatchType.EXACT: "Exact", MatchType.PREFIX: "PathPrefix", MatchType.REGEX: "RegularExpression"}
HEADER_TYPES = {MatchType.EXACT: "Exact", MatchType.REGEX: "RegularExpression"}


def translate_ingresses(build: Build) -> None:
    view = convert(build.mesh, build.losses, lambda o: _selected(build, o))
    for gateway in view.gateways:
        origins = view.sources[(gateway.namespace, gateway.name)]
        build.counts["Ingress"] += len(origins)
        _gateway(build, gateway, [source_of(o) for o in origins])
    for route in view.routes:
        _routes(build, route)


def _selected(build: Build, origin: Origin) -> bool:
    return family_of(origin) == "ingress" and named(origin) and wanted(origin, build.options.source, TARGET)


# -- Gateways -------------------------------------------------------------------------------
def _gateway(build: Build, gateway: Gateway, sources: list[str]) -> None:
    class_name = gateway.class_name
    if class_name is None:
        class_name = "default"
        build.losses.approximated(gateway.origin, "these Ingresses name no class and no IngressClass is the "
                                  "default; gatewayClassName is written as 'default': set the GatewayClass to use")
    elif class_name != build.mesh.mesh_config.ingress_class:
        build.losses.approximated(gateway.origin, f"gatewayClassName {class_name!r}: the Ingress controller of that "
                                  "class may not implement Gateway API; install an implementation and a "
                                  "GatewayClass of this name, or change gatewayClassName")
    listeners = []
    for listener in gateway.listeners:
        out: Json = {"name": listener.name, "port": listener.port, "protocol": listener.protocol}
        if listener.hosts[0] != "*":
            out["hostname"] = listener.hosts[0]
        if listener.credential_names:
            out["tls"] = {"mode": "Terminate", "certificateRefs": [
                {"kind": "Secret", "name": ref.split("/", 1)[1]} for ref in listener.credential_names]}
        listeners.append(out)
    build.emit(API, "Gateway", gateway.name, gateway.namespace,
               {"gatewayClassName": class_name, "listeners": listeners[:64]}, sources)


# -- HTTPRoutes -----------------------------------------------------------------------------
def _routes(build: Build, route: Route) -> None:
    rules = [r for r in (_rule(build, route, rule) for rule in route.rules) if r is not None]
    for part in range(0, max(len(rules), 1), MAX_RULES):
        name = route.name if part == 0 else f"{route.name}-{part // MAX_RULES + 1}"
        spec: Json = {"parentRefs": [_parent(p.name, p.section) for p in route.parents]}
        if route.hosts:
            spec["hostnames"] = list(route.hosts)
        spec["rules"] = rules[part:part + MAX_RULES]
        build.emit(API, "HTTPRoute", build.unique("HTTPRoute", route.namespace, name), route.namespace, spec,
                   [source_of(o) for o in contributors(route)])


def _parent(name: str, section: str | None) -> Json:
    out: Json = {"name": name}
    if section:
        out["sectionName"] = section
    return out


def _rule(build: Build, route: Route, rule: RouteRule) -> Json | None:
    out: Json = {}
    matches = [_match(build, m) for m in rule.matches]
    if matches and matches != [{}]:
        out["matches"] = matches
    filters = _filters(build, rule)
    if filters:
        out["filters"] = filters
    refs = [_backend(b) for b in rule.backends]
    if refs:
        out["backendRefs"] = refs
    if rule.timeout:
        out["timeouts"] = {"request": rule.timeout}
    if rule.session is not None:
        session = _session(build, rule.session)
        if session is not None:
            out["sessionPersistence"] = session
    return out


def _session(build: Build, session: StickySession) -> Json | None:
    """ingress-nginx's cookie affinity as sessionPersistence (experimental channel)."""
    where = session.origin
    if not build.experimental:
        build.losses.dropped(where, "cookie affinity is sessionPersistence, which is in Gateway API's experimental "
                             "channel only (--gateway-api-channel experimental); not translated")
        return None
    build.losses.approximated(where, "sessionPersistence is Extended support (not every implementation has it), "
                              "and the implementation writes its own cookie value")
    out: Json = {"sessionName": session.cookie[:128], "type": "Cookie"}
    if session.max_age:
        if session.max_age > MAX_TIMEOUT:
            build.losses.approximated(where, f"a cookie lifetime of {session.max_age}s is longer than a Gateway API "
                                      f"duration can say; written as {_duration(MAX_TIMEOUT)}")
        out["absoluteTimeout"] = _duration(min(session.max_age, MAX_TIMEOUT))
        out["cookieConfig"] = {"lifetimeType": "Permanent"}
    if session.path is not None:
        build.losses.dropped(Origin(where.doc, ("metadata", "annotations", SESSION_PATH)), "sessionPersistence has "
                             "no cookie path; the implementation picks it")
    return out


def _duration(seconds: int) -> str:
    """Seconds as a Gateway API duration (at most 5 digits per unit: up to ``MAX_TIMEOUT``)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if n)
    return text or "0s"


def _match(build: Build, match: RequestMatch) -> Json:
    out: Json = {}
    if match.path is not None:
        out["path"] = {"type": PATH_TYPES[match.path.type], "value": match.path.value}
        if match.path.type is MatchType.REGEX:
            build.losses.approximated(match.origin.at("path"), "ingress-nginx matched this path as a case-"
                                      "insensitive PCRE prefix; written as RegularExpression "
                                      f"{match.path.value!r} (RE2, whole path, as Istio and Envoy Gateway read it; "
                                      "regular expressions are implementation-specific in Gateway API)")
    if match.headers:
        out["headers"] = [_header(name, m) for name, m in match.headers]
    return out


def _header(name: str, match: StringMatch) -> Json:
    return {"type": HEADER_TYPES[match.type], "name": name, "value": match.value}


def _filters(build: Build, rule: RouteRule) -> list[Json]:
    out: list[Json] = []
    if rule.redirect is not None:
        redirect = rule.redirect
        spec: Json = {}
        if redirect.scheme:
            spec["scheme"] = redirect.scheme
        if redirect.authority:
            spec["hostname"] = redirect.authority
        if redirect.uri is not None:
            spec["path"] = {"type": "ReplaceFullPath", "replaceFullPath": redirect.uri}
        if redirect.port is not None:
            spec["port"] = redirect.port
        spec["statusCode"] = redirect.code or 302
        out.append({"type": "RequestRedirect", "requestRedirect": spec})
    if rule.rewrite is not None:
        rewrite = rule.rewrite
        spec = {}
        hostname = _hostname(build, rewrite) if rewrite.authority else None
        if hostname:
            spec["hostname"] = hostname
        if rewrite.full_path is not None:
            spec["path"] = {"type": "ReplaceFullPath", "replaceFullPath": rewrite.full_path}
        elif rewrite.uri is not None:
            spec["path"] = {"type": "ReplacePrefixMatch", "replacePrefixMatch": rewrite.uri}
        elif rewrite.regex is not None:
            build.losses.dropped(rewrite.origin, "Gateway API rewrites have no regular expression captures; the "
                                 "path is forwarded unchanged (--to istio keeps it as uriRegexRewrite)")
        if spec:
            out.append({"type": "URLRewrite", "urlRewrite": spec})
    if rule.cors is not None:
        cors = cors_filter(build, rule.cors)
        if cors is not None:
            out.append(cors)
    return out


def _hostname(build: Build, rewrite: Rewrite) -> str | None:
    """upstream-vhost as a URLRewrite hostname: a DNS name, without a port."""
    authority = rewrite.authority or ""
    where = Origin(rewrite.origin.doc, ("metadata", "annotations", UPSTREAM_VHOST))
    host, colon, port = authority.rpartition(":")
    if colon and port.isdigit():
        build.losses.approximated(where, f"the Host header is written as {host!r}: a URLRewrite hostname takes no "
                                  f"port (ingress-nginx sent {authority!r})")
        authority = host
    if not _DNS_NAME.match(authority):
        build.losses.dropped(where, f"{authority!r} is not a host name a URLRewrite can set; the Host header is not "
                             "rewritten")
        return None
    return authority


def _backend(backend: Backend) -> Json:
    """A Service backend; ports given by name were resolved to numbers by the conversion."""
    out: Json = {"name": backend.host, "port": backend.port}
    if backend.weight is not None:
        out["weight"] = backend.weight
    return out
