"""One Gateway API / Linkerd route rule -> the Istio ``http[]`` entries it becomes.

Each match of a rule is an ``Entry`` (``matches.py`` orders them); this module writes the
entry's body from what the rule does::

    backendRefs (weights)        -> route[].destination + weight (shares of 100)
    RequestHeaderModifier        -> headers.request.{set,add,remove}
    ResponseHeaderModifier       -> headers.response.{set,add,remove}
    backendRef filters           -> route[].headers
    RequestRedirect              -> redirect (redirectCode written: Gateway API's 302, not Istio's 301)
    URLRewrite                   -> rewrite.authority, rewrite.uri (prefix) or uriRegexRewrite (full path)
    RequestMirror                -> mirrors[] with percentage
    CORS                         -> corsPolicy
    timeouts.request             -> timeout
    retry (experimental)         -> retries (Istio adds connect-failure,refused-stream,unavailable,cancelled)

Backends that cannot be reached (not a Service, or another namespace without a
ReferenceGrant) get HTTP 500 in Gateway API: their share becomes a ``fault.abort`` of 500
with that percentage. A rule without backends is a 500 for Istio and is sent to the parent
Service by Linkerd; each reading is kept. A ``ReplacePrefixMatch`` keeps Gateway API's
segment semantics: ``/api`` -> ``/v2`` rewrites ``/api`` to ``/v2`` and ``/api/x`` to
``/v2/x``, so the exact and the prefix part of the match get an entry each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from meshctl.emit.istio.annotations import Resilience
from meshctl.emit.istio.build import Build
from meshctl.emit.istio.destinations import destination, host_destination, is_service
from meshctl.emit.istio.matches import EXACT, UNDER, WHOLE, Entry, is_prefix, istio_matches, stem
from meshctl.emit.istio.values import istio_duration, proportional, shares
from meshctl.emit.manifests import Json
from meshctl.model.objects import Backend, Route, RouteRule, Service
from meshctl.model.traffic import Cors, HeaderOps

UNSUPPORTED_FILTERS = {
    "ExtensionRef": "an ExtensionRef filter is implementation-specific; Istio's VirtualService has no equivalent",
    "ExternalAuth": "an ExternalAuth filter needs an Istio CUSTOM AuthorizationPolicy and an extension provider",
}
KNOWN_FILTERS = ("RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect", "URLRewrite",
                 "RequestMirror", "CORS")
LINKERD_FILTERS = ("RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect")
ISTIO_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled"


@dataclass(frozen=True)
class RuleContext:
    """What the rules of one route share when they are written for one parent."""

    route: Route
    source: str
    parent: Service | None  # the Service a mesh route is attached to
    parent_port: int | None
    linkerd: bool  # read as Linkerd reads it (else as Istio reads Gateway API)
    resilience: Resilience


def report_filters(build: Build, ctx: RuleContext) -> None:
    """Filters no target field carries; under Linkerd, filters that made it ignore the route."""
    ignored = []
    for rule in ctx.route.rules:
        for j, kind in enumerate(rule.filters):
            where = rule.origin.at("filters", j)
            if kind in UNSUPPORTED_FILTERS:
                build.losses.dropped(where, f"{UNSUPPORTED_FILTERS[kind]}; not translated")
            elif kind not in KNOWN_FILTERS:
                build.losses.dropped(where, f"filter type {kind!r} has no VirtualService equivalent; not translated")
            if kind not in LINKERD_FILTERS:
                ignored.append(kind)
    if ctx.linkerd and ignored:
        build.losses.approximated(ctx.route.origin, f"Linkerd ignores this whole route (it has a "
                                  f"{', '.join(sorted(set(ignored)))} filter); Istio applies the translated rules")


def http_entries(build: Build, ctx: RuleContext, entry: Entry) -> list[Json]:
    """The ``http[]`` entries of one match, most often one."""
    rule = entry.rule
    grpc = rule.protocol == "grpc"
    variants = istio_matches(entry.match, entry.port, grpc)
    path_dependent = (rule.rewrite is not None and rule.rewrite.uri is not None) or (
        rule.redirect is not None and rule.redirect.prefix is not None)
    if path_dependent and not grpc and is_prefix(entry.match.path if entry.match else None):
        root = stem(entry.match.path if entry.match else None)
        if not root:  # everything: "/" itself, then every path below it
            rest = {k: v for k, v in variants[0][1].items() if k != "uri"}
            variants = [(EXACT, {"uri": {"exact": "/"}, **rest}), (UNDER, {"uri": {"prefix": "/"}, **rest})]
        out = []
        for part, match in variants:
            body = _body(build, ctx, rule, part)
            out.append({"match": [match], **body} if match else body)
        return out
    body = _body(build, ctx, rule, WHOLE)
    matches = [m for _, m in variants if m]
    return [{"match": matches, **body} if matches else body]


def compact(entries: list[Json]) -> list[Json]:
    """Adjacent entries that do the same thing become one with all their matches (first
    match wins either way, so nothing changes but the length)."""
    out: list[Json] = []
    for entry in entries:
        if out and "match" in entry and "match" in out[-1] and _rest(out[-1]) == _rest(entry):
            out[-1] = {"match": out[-1]["match"] + entry["match"], **_rest(entry)}
        else:
            out.append(entry)
    return out


def _rest(entry: Json) -> Json:
    return {k: v for k, v in entry.items() if k != "match"}


def _body(build: Build, ctx: RuleContext, rule: RouteRule, part: str) -> Json:
    out: Json = {}
    if rule.name:
        out["name"] = rule.name
    if rule.redirect is not None:
        out["redirect"] = _redirect(build, rule, part)
    else:
        _route(build, ctx, rule, out)
    if rule.header_changes:
        out["headers"] = headers(rule.header_changes)
    if rule.rewrite is not None and rule.redirect is None:
        rewrite = _rewrite(build, rule, part)
        if rewrite:
            out["rewrite"] = rewrite
    if rule.mirrors and rule.redirect is None:
        mirrors = [m for m in (_mirror(build, ctx, b) for b in rule.mirrors) if m]
        if mirrors:
            out["mirrors"] = mirrors
    if rule.cors is not None:
        out["corsPolicy"] = cors(rule.cors)
    timeout = _timeout(build, ctx, rule)
    if timeout:
        out["timeout"] = timeout
    retries = _retries(ctx, rule)
    if retries is not None:
        out["retries"] = retries
    return out


# -- where the request goes ---------------------------------------------------------------
def reachable(build: Build, ctx: RuleContext, backend: Backend) -> str | None:
    """Why a backend cannot receive traffic (None: it can)."""
    if not is_service(backend):
        if ctx.linkerd and backend.kind.startswith("EgressNetwork"):
            return "an EgressNetwork backend has no VirtualService equivalent (use a ServiceEntry)"
        return f"a {backend.kind} backend is not a Service"
    ns = backend.fqdn.split(".")[1] if backend.fqdn.count(".") >= 2 else ctx.route.namespace
    if not ctx.linkerd and ns != ctx.route.namespace and not granted(build, ctx.route, ns, backend.host):
        return f"no ReferenceGrant in namespace {ns} lets {ctx.route.source_kind}s of {ctx.route.namespace} use it"
    return None


def granted(build: Build, route: Route, namespace: str, name: str) -> bool:
    kind = "HTTPRoute" if route.source_kind == "LinkerdHTTPRoute" else route.source_kind
    for grant in build.mesh.reference_grants:
        if grant.namespace != namespace:
            continue
        if not any(g == "gateway.networking.k8s.io" and k == kind and n == route.namespace for g, k, n in grant.from_):
            continue
        if any(g in ("", "core") and k == "Service" and (to is None or to == name) for g, k, to in grant.to):
            return True
    return False


def _route(build: Build, ctx: RuleContext, rule: RouteRule, out: Json) -> None:
    backends = list(rule.backends)
    if not backends:
        if ctx.linkerd and ctx.parent is not None:
            build.losses.approximated(rule.origin, "a rule without backendRefs goes to the parent Service in "
                                      "Linkerd (Istio would answer 500); the parent Service is written explicitly")
            port = ctx.parent_port if ctx.parent_port is not None else (
                ctx.parent.ports[0].port if len(ctx.parent.ports) == 1 else None)
            out["route"] = [{"destination": host_destination(ctx.parent.fqdn, port)}]
        else:
            out["directResponse"] = {"status": 500}
        return
    valid: list[tuple[Json, Decimal, Backend]] = []
    invalid = Decimal(0)
    for backend in backends:
        weight = Decimal(backend.weight if backend.weight is not None else 1)
        problem = reachable(build, ctx, backend)
        if problem is not None:
            build.losses.dropped(backend.origin, f"{problem}; its share of the requests gets HTTP 500 as in "
                                 "Gateway API")
            invalid += weight
            continue
        if weight == 0:
            continue
        dest: Json = {"destination": destination(build, backend, ctx.parent, ctx.source)}
        if backend.headers:
            dest["headers"] = headers(backend.headers)
        valid.append((dest, weight, backend))
    total = sum((w for _, w, _ in valid), Decimal(0)) + invalid
    if not valid:
        out["directResponse"] = {"status": 500}
        return
    if invalid:
        out["fault"] = {"abort": {"httpStatus": 500, "percentage": {"value": float(invalid * 100 / total)}}}
    weights = [w for _, w, _ in valid]
    if len(valid) > 1:
        rounded = shares(weights)
        if not proportional(weights, rounded):
            build.losses.approximated(rule.origin, "weights " + ":".join(str(w) for w in weights)
                                      + " are written as shares of 100: " + "/".join(map(str, rounded)))
        for (dest, _, _), share in zip(valid, rounded):
            dest["weight"] = share
    out["route"] = [d for d, _, _ in valid]


def _mirror(build: Build, ctx: RuleContext, backend: Backend) -> Json | None:
    problem = reachable(build, ctx, backend)
    if problem is not None:
        build.losses.dropped(backend.origin, f"{problem}; the mirror is not translated")
        return None
    out: Json = {"destination": destination(build, backend, None, ctx.source)}
    if backend.percent is not None and backend.percent < 100:
        out["percentage"] = {"value": backend.percent}
    return out


# -- what else the rule does --------------------------------------------------------------
def headers(ops: HeaderOps) -> Json:
    out: Json = {}
    for side, set_, add, remove in (("request", ops.request_set, ops.request_add, ops.request_remove),
                                    ("response", ops.response_set, ops.response_add, ops.response_remove)):
        part: Json = {}
        if set_:
            part["set"] = dict(set_)
        if add:
            part["add"] = dict(add)
        if remove:
            part["remove"] = list(remove)
        if part:
            out[side] = part
    return out


def _redirect(build: Build, rule: RouteRule, part: str) -> Json:
    redirect = rule.redirect
    assert redirect is not None
    out: Json = {}
    if redirect.uri is not None:
        out["uri"] = redirect.uri
    elif redirect.prefix is not None:
        out["uri"] = redirect.prefix or "/"
        if part == UNDER:
            build.losses.dropped(redirect.origin, "a VirtualService redirect replaces the whole path (Istio 1.31 "
                                 "adds prefix redirects): every path below the prefix now redirects to "
                                 f"{redirect.prefix or '/'!r}; keep the HTTPRoute for Istio to read if that matters")
    if redirect.authority:
        out["authority"] = redirect.authority
    if redirect.scheme:
        out["scheme"] = redirect.scheme
    if redirect.port is not None:
        out["port"] = redirect.port
    elif redirect.scheme:
        out["derivePort"] = "FROM_PROTOCOL_DEFAULT"  # Gateway API: the scheme's well-known port
    out["redirectCode"] = redirect.code or 302
    return out


def _rewrite(build: Build, rule: RouteRule, part: str) -> Json:
    rewrite = rule.rewrite
    assert rewrite is not None
    out: Json = {}
    if rewrite.full_path is not None:
        out["uriRegexRewrite"] = {"match": "^/.*$", "rewrite": rewrite.full_path}
    elif rewrite.uri is not None:
        if part == UNDER:
            out["uri"] = rewrite.uri.rstrip("/") + "/"
        else:
            out["uri"] = rewrite.uri or "/"
            if part == WHOLE:
                build.losses.approximated(rewrite.origin, "ReplacePrefixMatch on a match that is not a path prefix "
                                          "replaces the whole path")
    if rewrite.regex is not None:
        out["uriRegexRewrite"] = {"match": rewrite.regex[0], "rewrite": rewrite.regex[1]}
    if rewrite.authority:
        out["authority"] = rewrite.authority
    return out


def _origin_match(value: str) -> Json:
    if value == "*":
        return {"regex": ".*"}
    if "*" in value:
        return {"regex": ".*".join(re.escape(p) for p in value.split("*"))}
    return {"exact": value}


def cors(policy: Cors) -> Json:
    out: Json = {}
    if policy.allow_origins:
        out["allowOrigins"] = [_origin_match(o.value) if o.type == "exact" else {o.type: o.value}
                               for o in policy.allow_origins]
    if policy.allow_methods:
        out["allowMethods"] = list(policy.allow_methods)
    if policy.allow_headers:
        out["allowHeaders"] = list(policy.allow_headers)
    if policy.expose_headers:
        out["exposeHeaders"] = list(policy.expose_headers)
    if policy.max_age:
        out["maxAge"] = policy.max_age
    if policy.allow_credentials is not None:
        out["allowCredentials"] = policy.allow_credentials
    return out


def _timeout(build: Build, ctx: RuleContext, rule: RouteRule) -> str | None:
    field = istio_duration(rule.timeout) if rule.timeout else None
    if rule.timeout and field is None:
        build.losses.dropped(rule.origin.at("timeouts", "request"), f"timeouts.request {rule.timeout!r} is not a "
                             "duration; not translated")
    if ctx.linkerd and ctx.resilience.timeout:
        return ctx.resilience.timeout  # the annotation wins over the field in Linkerd
    return field


def _retries(ctx: RuleContext, rule: RouteRule) -> Json | None:
    if ctx.linkerd:
        return ctx.resilience.retries
    retry = rule.retry
    if retry is None:
        return None
    out: Json = {"attempts": retry.attempts if retry.attempts is not None else 2}
    codes = [c.strip() for c in (retry.retry_on or "").split(",") if c.strip()]
    out["retryOn"] = ",".join([ISTIO_RETRY_ON, *codes])
    if retry.per_try_timeout:
        out["perTryTimeout"] = retry.per_try_timeout
    if retry.backoff:
        out["backoff"] = retry.backoff
    return out


def stream_routes(build: Build, ctx: RuleContext, rule: RouteRule) -> list[Json]:
    """The weighted destinations of a TCPRoute or TLSRoute rule (no HTTP 500 here: a share
    for an unreachable backend is left out and reported)."""
    valid: list[tuple[Json, Decimal]] = []
    for backend in rule.backends:
        problem = reachable(build, ctx, backend)
        if problem is not None:
            build.losses.dropped(backend.origin, f"{problem}; its connections are not routed")
            continue
        weight = Decimal(backend.weight if backend.weight is not None else 1)
        if weight:
            valid.append(({"destination": destination(build, backend, ctx.parent, ctx.source)}, weight))
    if len(valid) > 1:
        for (dest, _), share in zip(valid, shares([w for _, w in valid])):
            dest["weight"] = share
    return [d for d, _ in valid]
