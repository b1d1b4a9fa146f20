"""One Ingress path -> one Gateway API-shaped route rule, with what the annotations add.

Before: ``{path: /api, pathType: Prefix, backend: api:8080}`` of an Ingress whose
ingress-nginx annotations say ``rewrite-target: /`` and ``proxy-read-timeout: "30"``.
After: ``RouteRule(matches=(PathPrefix /api,), backends=(api:8080,),
rewrite=Rewrite(full_path="/"), timeout="30s")``, and the losses (the read timeout is
approximated). Paths are read as the controller reads them (``_path``); redirects,
rewrites, ``upstream-vhost``, timeouts, CORS and cookie affinity follow ingress-nginx;
ports given by name are resolved against the Service (``numbered``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import urlsplit

from meshctl.emit.ingress import nginx
from meshctl.emit.ingress.reading import Reading, controller_name
from meshctl.emit.losses import Losses
from meshctl.lower.ingress import backend_port
from meshctl.model.mesh import MeshModel
from meshctl.model.objects import (
    Backend,
    MatchType,
    RequestMatch,
    Route,
    RouteRule,
    StringMatch,
)
from meshctl.model.origin import Origin
from meshctl.model.traffic import Cors, OriginMatch, Redirect, Rewrite, StickySession
from meshctl.rules.values.msh022_invalid_regex import regex_problem

REDIRECT_CODES = (301, 302, 303, 307, 308)
REDIRECT_SUFFIX = "-redirect"  # the name of a host's route that redirects to HTTPS
REGEX_CHARS = re.compile(r"[\\^$.|?*+()\[\]{}]")
_NGINX_VARIABLE = re.compile(r"\$\{?(\w+)\}?")
# ingress-nginx's documented rewrite pattern: /prefix(/|$)(.*) with /$2 (or /prefix/?(.*) with /$1)
_PREFIX_REWRITE = re.compile(r"^(?P<stem>/[^\\^$.|?*+()\[\]{}]*?)(?P<sep>\(/\|\$\)|/\?)\(\.\*\)$")


def path_rule(losses: Losses, reading: Reading, rule: RouteRule,
              regex_by: Reading | None = None) -> RouteRule | None:
    """``regex_by``: the Ingress whose use-regex (or rewrite-target) makes ingress-nginx read
    every path of this rule's host as a case-insensitive regular expression, if one does.
    None for a path no route can match as its controller does (a regex RE2 rejects)."""
    lowered = rule.matches[0]
    path = _path(losses, reading, lowered, regex_by)
    problem = regex_problem(path.value) if path is not None and path.type is MatchType.REGEX else None
    if problem:
        losses.dropped(lowered.origin.at("path"), f"read as a regular expression by ingress-nginx, and {problem}; "
                       "the path is not translated")
        return None
    backends = service_backends(losses, rule)
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
    match = request_match(path, lowered.origin)
    out = rule_with_match(match, () if redirect else backends, redirect, rewrite, timeout, rule.origin)
    if redirect is not None:
        return out
    return replace(out, cors=_cors(losses, reading) if settings.cors else None,
                   session=_session(losses, reading) if settings.affinity else None)


def _session(losses: Losses, reading: Reading) -> StickySession:
    """affinity: cookie — ingress-nginx sets a cookie naming the pod that served the client's
    first request and sends the next ones there while it is up."""
    affinity = reading.settings.affinity
    assert affinity is not None
    where = reading.at(nginx.PREFIX + "affinity")
    if affinity.persistent:
        losses.approximated(reading.at(nginx.PREFIX + "affinity-mode"), "persistent: ingress-nginx never moves a "
                            "client to another pod while its pod is up; a consistent hash may move some when pods "
                            "are added")
    return StickySession(cookie=affinity.cookie, max_age=affinity.max_age, path=affinity.path, origin=where)


def _cors(losses: Losses, reading: Reading) -> Cors:
    """enable-cors: ingress-nginx answers a preflight from an allowed origin itself and adds the
    CORS headers to the responses, echoing the request's Origin (also for ``*``)."""
    settings = reading.settings.cors
    assert settings is not None
    where = reading.at(nginx.PREFIX + "enable-cors")
    for origin in settings.origins:
        if "*." in origin:
            losses.approximated(reading.at(nginx.PREFIX + "cors-allow-origin"), f"{origin!r}: ingress-nginx's '*.' "
                                "takes one DNS label; Gateway API's takes one or more, Istio's regular expression "
                                "any text")
    return Cors(
        allow_origins=tuple(OriginMatch("exact", o) for o in settings.origins), allow_methods=settings.methods,
        allow_headers=settings.headers, expose_headers=settings.expose, max_age=f"{settings.max_age}s",
        allow_credentials=settings.credentials, unmatched_preflights=None, origin=where,
    )


def _path(losses: Losses, reading: Reading, match: RequestMatch, regex_by: Reading | None) -> StringMatch | None:
    path, kind = match.path, match.path_type
    if path is None:
        return path
    value = path.value
    where = match.origin.at("path")
    regex = regex_by is not None  # only ingress-nginx Ingresses ask for it
    if regex and is_regex(value):
        return StringMatch(MatchType.REGEX, f"(?i){value}.*")
    if kind in ("Exact", "Prefix"):
        beyond = _variants(value, exact=kind == "Exact")
        if regex_by is not None and beyond:
            losses.approximated(where, f"{_regex_cause(regex_by)} makes ingress-nginx match every path of this host "
                                f"as a case-insensitive regular expression: {kind} {value!r} is read as "
                                f"'^{value}', which also takes {beyond}; "
                                f"{'PathExact' if kind == 'Exact' else 'PathPrefix'} does not")
        return path
    if reading.controller == "istio":
        if value.endswith(("/*", ".*")):
            stem = value[:-1] if value.endswith("/*") else value[:-2]
            losses.approximated(where, f"Istio reads {value!r} as the string prefix {stem!r}; PathPrefix "
                                f"{stem.rstrip('/') or '/'!r} matches whole segments (with and without the "
                                "trailing /)")
            return StringMatch(MatchType.PREFIX, stem)
        return StringMatch(MatchType.EXACT, value)
    beyond = _variants(value, folded=regex)
    if beyond:
        how = "a case-insensitive string prefix" if regex else "a string prefix"
        losses.approximated(where, f"{kind or 'ImplementationSpecific'} path {value!r}: {controller_name(reading)} "
                            f"reads it as {how} (it also takes {beyond}); PathPrefix matches whole segments"
                            + (", case-sensitively" if regex else ""))
    return StringMatch(MatchType.PREFIX, value)


def _regex_cause(reading: Reading) -> str:
    annotation = "use-regex" if nginx.PREFIX + "use-regex" in reading.ingress.annotations else "rewrite-target"
    return f"{annotation} on Ingress {reading.ingress.namespace}/{reading.ingress.name}"


def _variants(value: str, *, folded: bool = True, exact: bool = False) -> str:
    """What the string prefix ``value`` (``folded``: case-insensitive) takes that a
    case-sensitive, segment-wise match (``exact``: an exact one) does not, by example."""
    found = [value.upper()] if folded and value.upper() != value else []
    if exact or not value.endswith("/"):
        found.append(f"{value}x...")
    return " and ".join(found)


def is_regex(value: str) -> bool:
    return bool(REGEX_CHARS.search(value))


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


def service_backends(losses: Losses, rule: RouteRule) -> tuple[Backend, ...]:
    out = []
    for backend in rule.backends:
        if backend.kind != "Service":
            losses.dropped(backend.origin, f"a {backend.kind} resource backend is controller-specific; not "
                           "translated (the path gets no backend)")
        else:
            out.append(backend)
    return tuple(out)


def request_match(path: StringMatch | None, origin: Origin, headers: tuple[tuple[str, StringMatch], ...] = ()) -> RequestMatch:
    return RequestMatch(path=path, method=None, authority=None, scheme=None, headers=headers, query_params=(),
                        port=None, source_labels={}, source_namespace=None, gateways=(), origin=origin)


def rule_with_match(match: RequestMatch | None, backends: tuple[Backend, ...], redirect: Redirect | None,
                     rewrite: Rewrite | None, timeout: str | None, origin: Origin) -> RouteRule:
    return RouteRule(
        name=None, index=0, protocol="http", matches=(match,) if match is not None else (), backends=backends,
        mirrors=(), redirect=redirect, direct_response=None, delegate=None, timeout=timeout, retry=None,
        fault=None, rewrite=rewrite, header_changes=None, cors=None, sni_hosts=(), jwt_claim_matches=False,
        filters=(), origin=origin,
    )


def rule_with(template: RouteRule, backends: tuple[Backend, ...], redirect: Redirect | None = None,
              origin: Origin | None = None) -> RouteRule:
    """A rule without path conditions (a default backend or a redirect)."""
    return replace(template, matches=(), backends=backends, redirect=redirect, rewrite=None, timeout=None, cors=None,
                   session=None, origin=origin or template.origin)


def numbered(mesh: MeshModel, losses: Losses, route: Route) -> Route:
    """Backend ports given by name, resolved against the Service as the controllers do (a
    backendRef and an Istio destination take a number); a name no known Service port has
    is left out."""
    rules = []
    for rule in route.rules:
        backends = []
        for backend in rule.backends:
            port = backend_port(mesh, backend)
            if port is None and backend.port_name is not None:
                losses.dropped(backend.origin, f"port {backend.port_name!r} is a name, a route names ports by "
                               f"number, and Service {backend.host} with a port of that name is not among the "
                               "inputs; the backend is not translated")
                continue
            backends.append(replace(backend, port=port))
        rules.append(replace(rule, backends=tuple(backends)))
    return replace(route, rules=tuple(rules))


def is_https_redirect(route: Route) -> bool:
    """A host's route that only redirects to HTTPS (ingress-nginx's ssl-redirect), told by what
    it does: one rule, no match, a redirect that changes the scheme and nothing else (a
    permanent- or temporal-redirect always sets a path)."""
    if len(route.rules) != 1:
        return False
    rule = route.rules[0]
    redirect = rule.redirect
    return (not rule.matches and redirect is not None and redirect.scheme == "https" and redirect.uri is None
            and redirect.authority is None)
